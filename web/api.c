/*
 * api.c - the JSON API (jansson): /api/v1/personas, /api/v1/personas/{id},
 * /api/v1/events. The page's script renders /api/v1/personas, so the
 * fields here and the table's columns say the same (view.c).
 *
 * No field carries a password, the API token or a key: a persona's
 * password is reachable only through the audited reveal form.
 */
#include "discovery.h"
#include "web_priv.h"
#include "escape.h"
#include "view.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* A string jansson accepts whatever the source held (valid UTF-8). */
static json_t *jstr(const char *s)
{
	char clean[512];
	return json_string(esc_utf8_clean(s, clean, sizeof(clean)));
}

static json_t *jtime(uint64_t wall_ms)
{
	char iso[40];
	if (!wall_ms)
		return json_null();
	view_time_iso(wall_ms, iso, sizeof(iso));
	return json_string(iso);
}

static json_t *event_json(const struct persona *p, const struct persona_event *e,
                          bool with_persona)
{
	char res[64];
	json_t *o = json_object();

	view_result(e->cc, res, sizeof(res));
	json_object_set_new(o, "at", jtime(e->wall_ms));
	json_object_set_new(o, "at_ms", json_integer((json_int_t)e->wall_ms));
	json_object_set_new(o, "what", jstr(e->what));
	json_object_set_new(o, "source", jstr(e->source));
	json_object_set_new(o, "cc", json_integer(e->cc));
	json_object_set_new(o, "result", jstr(res));
	if (with_persona) {
		json_object_set_new(o, "persona", jstr(p->device_id));
		json_object_set_new(o, "hostname", jstr(p->hostname));
	}
	return o;
}

static json_t *persona_json(struct web *w, const char *local_host, const struct persona *p,
                            bool events)
{
	struct view_persona v;
	json_t *o = json_object(), *boot = json_object(), *reach = json_object();
	char url[200];

	view_persona(w->d.cfg, local_host, p, &v);
	json_object_set_new(o, "id", jstr(p->device_id));
	json_object_set_new(o, "short_id", jstr(p->short_id));
	json_object_set_new(o, "hostname", jstr(p->hostname));
	json_object_set_new(o, "project_id", jstr(p->project_id));
	json_object_set_new(o, "plan", jstr(p->plan));
	json_object_set_new(o, "metro", jstr(p->metro));
	json_object_set_new(o, "facility", jstr(p->facility));
	json_object_set_new(o, "metal_state", jstr(p->metal_state));
	json_object_set_new(o, "state_class", json_string(v.state_class));
	json_object_set_new(o, "power", json_string(v.power));
	json_object_set_new(o, "power_class", json_string(v.power_class));
	json_object_set_new(o, "power_transition", json_boolean(p->power_transition));
	json_object_set_new(o, "enabled", json_boolean(p->enabled));
	json_object_set_new(o, "backend", jstr(v.backend));
	json_object_set_new(o, "origin", json_string(v.origin));
	json_object_set_new(o, "sessions", json_integer(p->sessions));

	json_object_set_new(boot, "device", jstr(v.boot_dev));
	json_object_set_new(boot, "override", json_boolean(v.boot_override));
	json_object_set_new(boot, "persistent", json_boolean(v.boot_persistent));
	json_object_set_new(boot, "efi", json_boolean(v.boot_efi));
	json_object_set_new(boot, "label", jstr(v.boot));
	json_object_set_new(o, "boot", boot);

	json_object_set_new(reach, "kind", json_string(v.reach_kind));
	json_object_set_new(reach, "listener", jstr(v.listener));
	json_object_set_new(reach, "host", jstr(v.host));
	json_object_set_new(reach, "port", json_integer(v.port));
	json_object_set_new(reach, "user", jstr(v.user));
	json_object_set_new(reach, "hostname_routes",
	                    json_boolean(!strcmp(v.reach_kind, "shared") && p->hostname_routes));
	json_object_set_new(reach, "ipmitool", jstr(v.ipmitool));
	json_object_set_new(o, "reach", reach);

	if (p->last_action[0]) {
		json_t *la = json_object();
		json_object_set_new(la, "what", jstr(p->last_action));
		json_object_set_new(la, "at", jtime(p->last_action_wall_ms));
		json_object_set_new(la, "display_time", jstr(v.last_when));
		json_object_set_new(la, "cc", json_integer(p->last_action_cc));
		json_object_set_new(la, "result", jstr(v.last_result));
		json_object_set_new(o, "last_action", la);
	} else {
		json_object_set_new(o, "last_action", json_null());
	}
	view_persona_path(p, url, sizeof(url));
	json_object_set_new(o, "url", json_string(url));
	struct discovery_device_info di;
	if (discovery_device_info(w->d.discovery, p, &di)) {
		json_t *m = json_object();
		json_object_set_new(m, "always_pxe", json_boolean(di.always_pxe));
		json_object_set_new(m, "pxe_once_pending", json_boolean(di.pxe_once));
		json_object_set_new(m, "action_pending", json_boolean(di.action_pending));
		json_object_set_new(m, "fast_refresh", json_boolean(di.fast_refresh));
		json_object_set_new(m, "os", jstr(di.os_slug));
		json_object_set_new(m, "sos", jstr(di.sos));
		json_object_set_new(m, "own_port_source", jstr(di.own_port_source));
		json_object_set_new(o, "metal", m);
	} else {
		json_object_set_new(o, "metal", json_null());
	}
	if (events) {
		json_t *arr = json_array();
		unsigned total = persona_event_count(p);
		for (unsigned k = 0; k < total; k++)
			json_array_append_new(arr, event_json(p, persona_event_newest(p, k), false));
		json_object_set_new(o, "events", arr);
	}
	return o;
}

/* The header's data: each project's last poll and the API's health. */
static void discovery_json(struct web_req *r, json_t *doc)
{
	struct discovery_status ds;
	json_t *projects = json_array(), *d = json_object(), *api = json_object();
	char when[40];

	discovery_get_status(r->w->d.discovery, &ds);
	for (size_t i = 0; i < ds.project_count; i++) {
		const struct discovery_project_status *ps = &ds.projects[i];
		json_t *o = json_object();
		json_object_set_new(o, "id", jstr(ps->project_id));
		json_object_set_new(o, "polling", json_boolean(ps->polling));
		json_object_set_new(o, "polls", json_integer(ps->polls));
		json_object_set_new(o, "last_ok", json_boolean(ps->last_ok));
		json_object_set_new(o, "last_poll_at", jtime(ps->last_poll_wall_ms));
		view_time(ps->last_poll_wall_ms, when, sizeof(when));
		json_object_set_new(o, "last_poll_display", jstr(when));
		json_object_set_new(o, "last_duration_ms", json_integer(ps->last_duration_ms));
		json_object_set_new(o, "last_ok_at", jtime(ps->last_ok_wall_ms));
		json_object_set_new(o, "consecutive_failures", json_integer(ps->consecutive_failures));
		json_object_set_new(o, "devices", json_integer(ps->devices));
		json_object_set_new(o, "last_result", jstr(ps->last_result));
		json_object_set_new(o, "added", json_integer(ps->added));
		json_object_set_new(o, "retired", json_integer(ps->retired));
		json_object_set_new(o, "updated", json_integer(ps->updated));
		const char *cls, *label;
		view_project_badge(ps, &cls, &label);
		json_object_set_new(o, "badge_class", json_string(cls));
		json_object_set_new(o, "badge", json_string(label));
		json_array_append_new(projects, o);
	}
	json_object_set_new(doc, "projects", projects);

	const char *acls, *alabel;
	view_api_badge(&ds, &acls, &alabel);
	json_object_set_new(api, "healthy", json_boolean(ds.api_healthy));
	json_object_set_new(api, "badge_class", json_string(acls));
	json_object_set_new(api, "badge", json_string(alabel));
	json_object_set_new(api, "requests", json_integer((json_int_t)ds.api.requests));
	json_object_set_new(api, "failures", json_integer((json_int_t)ds.api.failures));
	json_object_set_new(api, "refusals", json_integer((json_int_t)ds.api.refusals));
	json_object_set_new(api, "rate_limited", json_integer((json_int_t)ds.api.rate_limited));
	json_object_set_new(api, "calls_failed", json_integer((json_int_t)ds.api.calls_failed));
	json_object_set_new(api, "in_flight", json_integer(ds.api.in_flight));
	json_object_set_new(api, "queued", json_integer(ds.api.queued));
	json_object_set_new(api, "rate_limited_for_ms",
	                    json_integer((json_int_t)ds.rate_limited_for_ms));
	json_object_set_new(api, "last_status", json_integer(ds.api.last_status));
	json_object_set_new(api, "last_ok_at", jtime(ds.api.last_ok_wall_ms));
	json_object_set_new(api, "last_error", jstr(ds.api.last_error));
	json_object_set_new(api, "last_error_at", jtime(ds.api.last_error_wall_ms));
	json_object_set_new(d, "enabled", json_boolean(ds.enabled));
	json_object_set_new(d, "poll_interval_s", json_integer(ds.poll_interval_s));
	json_object_set_new(d, "next_poll_in_ms", json_integer((json_int_t)ds.next_poll_in_ms));
	json_object_set_new(d, "personas", json_integer((json_int_t)ds.personas));
	json_object_set_new(d, "api", api);
	json_object_set_new(doc, "discovery", d);
}

/* doc as compact ASCII JSON (malloc'd; NULL when it cannot be built),
 * releasing doc. */
static char *dump_json(json_t *doc)
{
	char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;

	json_decref(doc);
	return text;
}

static void reply_json(struct web_reply *out, unsigned status, json_t *doc)
{
	char *text = dump_json(doc);

	if (!text) {
		web_reply_text(out, 500, "cannot build the JSON document\n");
		return;
	}
	out->status = status;
	out->content_type = "application/json";
	out->len = strlen(text);
	out->body = text; /* jansson allocates with malloc by default */
}

static void list_row(struct web_stream *s, struct persona *p, struct wbuf *b)
{
	char *text = dump_json(persona_json(s->w, s->local_host, p, false));

	if (!text) {
		b->failed = true; /* ends the stream with an error */
		return;
	}
	if (s->rows++)
		wbuf_puts(b, ",");
	wbuf_puts(b, text);
	free(text);
}

static void list_end(struct web_stream *s, struct wbuf *b)
{
	(void)s;
	wbuf_puts(b, "]}");
}

/* Streamed (stream.c) like the page: the document's head is built here
 * with jansson, each persona is dumped as its slice comes. */
void api_personas(struct web_req *r, struct web_reply *out)
{
	struct web_stream *s = web_stream_new(r, list_row, list_end);
	json_t *doc = json_object(), *app = json_object();
	char now[40], *text;

	if (!s) {
		json_decref(doc);
		json_decref(app);
		web_reply_text(out, 500, "out of memory\n");
		return;
	}
	uint64_t wall = loop_wall_ms();
	view_time(wall, now, sizeof(now));
	json_object_set_new(doc, "generated_at", jtime(wall));
	json_object_set_new(doc, "display_time", json_string(now));
	json_object_set_new(app, "version", json_string(METALBMC_VERSION));
	json_object_set_new(app, "ipmi_listen", jstr(r->w->d.cfg->ipmi_listen[0].text));
	json_object_set_new(app, "sessions_open",
	                    json_integer((json_int_t)engine_sessions_active(r->w->d.engine)));
	json_object_set_new(app, "discovery", json_boolean(r->w->d.discovery != NULL));
	json_object_set_new(doc, "appliance", app);
	if (r->w->d.discovery) {
		discovery_json(r, doc);
	} else {
		json_object_set_new(doc, "projects", json_array());
		json_object_set_new(doc, "discovery", json_null());
	}
	text = dump_json(doc);
	size_t n = text ? strlen(text) : 0;
	if (n < 2 || text[n - 1] != '}') {
		free(text);
		wbuf_free(&s->out);
		web_reply_text(out, 500, "cannot build the JSON document\n");
		/* nothing was handed to MHD yet: free the stream here */
		free(s->order);
		free(s);
		return;
	}
	/* {"generated_at":...,"discovery":...} -> {...,"personas":[ */
	wbuf_append(&s->out, text, n - 1);
	wbuf_puts(&s->out, ",\"personas\":[");
	free(text);
	web_reply_stream(out, 200, "application/json", s);
}

void api_persona(struct web_req *r, struct web_reply *out)
{
	struct persona *p = web_find_persona(r->w, r->arg);

	if (!p) {
		json_t *err = json_object();
		json_object_set_new(err, "error", json_string("no such persona"));
		reply_json(out, 404, err);
		return;
	}
	reply_json(out, 200, persona_json(r->w, r->local_host, p, true));
}

struct event_ref {
	const struct persona *p;
	const struct persona_event *e;
};

static int newest_first(const void *a, const void *b)
{
	const struct event_ref *x = a, *y = b;
	return (x->e->wall_ms < y->e->wall_ms) - (x->e->wall_ms > y->e->wall_ms);
}

/* Min-heap on time: the oldest of the kept events on top. */
static void sift_down(struct event_ref *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < n && h[l].e->wall_ms < h[m].e->wall_ms)
			m = l;
		if (r < n && h[r].e->wall_ms < h[m].e->wall_ms)
			m = r;
		if (m == i)
			return;
		struct event_ref t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static void sift_up(struct event_ref *h, size_t i)
{
	while (i > 0 && h[(i - 1) / 2].e->wall_ms > h[i].e->wall_ms) {
		struct event_ref t = h[i];
		h[i] = h[(i - 1) / 2];
		h[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

/* The newest `limit` events of all personas: a bounded heap keeps the
 * newest seen so far, so a big fleet costs O(events x log limit), not a
 * sort of every event. */
void api_events(struct web_req *r, struct web_reply *out)
{
	const struct persona_table *t = r->w->d.personas;
	const char *ls = web_query(r, "limit");
	unsigned long limit = WEB_EVENTS_DEFAULT;
	size_t n = 0, cap;
	struct event_ref *heap;
	json_t *doc, *arr;

	if (ls) {
		char *end;
		limit = strtoul(ls, &end, 10);
		if (!ls[0] || *end || ls[0] == '-' || limit == 0 ||
		    limit > (unsigned long)MAX_PERSONAS * PERSONA_EVENTS) {
			web_reply_text(out, 400, "limit must be a whole number from 1\n");
			return;
		}
	}
	cap = persona_count(t) * PERSONA_EVENTS;
	if (cap > limit)
		cap = limit;
	heap = calloc(cap ? cap : 1, sizeof(*heap));
	if (!heap) {
		web_reply_text(out, 500, "out of memory\n");
		return;
	}
	for (size_t i = 0; i < persona_capacity(t); i++) {
		const struct persona *p = persona_at(t, i);
		if (!p)
			continue;
		unsigned total = persona_event_count(p);
		for (unsigned k = 0; k < total; k++) {
			struct event_ref ref = { p, persona_event_newest(p, k) };
			if (n < cap) {
				heap[n] = ref;
				sift_up(heap, n++);
			} else if (cap && ref.e->wall_ms > heap[0].e->wall_ms) {
				heap[0] = ref;
				sift_down(heap, n, 0);
			}
		}
	}
	qsort(heap, n, sizeof(*heap), newest_first);
	doc = json_object();
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, event_json(heap[i].p, heap[i].e, true));
	free(heap);
	json_object_set_new(doc, "events", arr);
	reply_json(out, 200, doc);
}
