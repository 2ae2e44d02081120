/*
 * The Metal API subset, under /metal/v1:
 *
 *   GET  /projects/{id}/devices   DeviceList, filtered and paged
 *   GET  /devices/{id}            Device
 *   PUT  /devices/{id}            DeviceUpdateInput -> Device
 *   POST /devices/{id}/actions    DeviceActionInput -> 202
 *   GET  /devices/{id}/events     EventList, newest first
 *
 * Called with sim->lock held and the token already checked; answers are
 * built here and sent by http.c.
 */
#include "metal_sim.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SEGMENTS 6

static const char *const list_filters[] = {
	/* Kept, in this order, in the Meta hrefs after page and per_page. */
	"tag", "search", "state", "metro", "facility", "hostname",
	"include", "exclude",
};

static const char *const action_types[] = {
	"power_on", "power_off", "reboot", "rescue", "reinstall",
};

/* ---- exclude -------------------------------------------------------------- */

/* The spec: "Excluded objects will return only the href attribute."  A
 * nested object carrying an href becomes {"href": ...}; anything else
 * (scalars, arrays, objects without href) is left out entirely, which is
 * the nearest thing to "only the href" it has.  Returns a new reference; the
 * stored device is never modified. */
static json_t *exclude_path(json_t *obj, char **path, size_t n)
{
	json_t *copy = json_copy(obj); /* shallow */
	json_t *child;

	if (copy == NULL || n == 0)
		return copy;
	child = json_object_get(copy, path[0]);
	if (child == NULL)
		return copy;
	if (n == 1) {
		json_t *h = json_is_object(child) ? json_object_get(child, "href") : NULL;

		if (json_is_string(h))
			json_object_set_new(copy, path[0], json_pack("{s:O}", "href", h));
		else
			json_object_del(copy, path[0]);
	} else if (json_is_object(child)) {
		json_object_set_new(copy, path[0], exclude_path(child, path + 1, n - 1));
	} else if (json_is_array(child)) {
		json_t *arr = json_array();

		for (size_t i = 0; arr != NULL && i < json_array_size(child); i++) {
			json_t *el = json_array_get(child, i);

			json_array_append_new(arr, json_is_object(el)
					      ? exclude_path(el, path + 1, n - 1)
					      : json_incref(el));
		}
		json_object_set_new(copy, path[0], arr);
	}
	return copy;
}

/* Applies ?exclude=a,b.c (dotted up to three levels, as the spec says) to a
 * device; returns a new reference. */
static json_t *device_view(json_t *dev, const char *exclude)
{
	char *list, *save = NULL;
	json_t *view = json_incref(dev);

	if (exclude == NULL || *exclude == '\0')
		return view;
	list = strdup(exclude);
	if (list == NULL)
		return view;
	for (char *item = strtok_r(list, ",", &save); item != NULL;
	     item = strtok_r(NULL, ",", &save)) {
		char *path[3], *dsave = NULL;
		size_t n = 0;
		json_t *next;

		for (char *part = strtok_r(item, ".", &dsave); part != NULL && n < 3;
		     part = strtok_r(NULL, ".", &dsave))
			path[n++] = part;
		if (n == 0)
			continue;
		next = exclude_path(view, path, n);
		json_decref(view);
		view = next;
		if (view == NULL)
			break;
	}
	free(list);
	return view;
}

/* ---- list filters --------------------------------------------------------- */

static const char *nested_str(json_t *dev, const char *obj, const char *key)
{
	return json_string_value(json_object_get(json_object_get(dev, obj), key));
}

static bool has_tag(json_t *dev, const char *tag)
{
	json_t *tags = json_object_get(dev, "tags");

	for (size_t i = 0; i < json_array_size(tags); i++) {
		const char *t = json_string_value(json_array_get(tags, i));

		if (t != NULL && strcmp(t, tag) == 0)
			return true;
	}
	return false;
}

static bool str_has(const char *s, const char *needle)
{
	return s != NULL && contains_ci(s, needle);
}

/* The spec's DeviceSearch: hostname, description, short_id, tags, plan
 * name/slug, facility code/name, OS name/slug, IP addresses. */
static bool search_matches(json_t *dev, const char *q)
{
	json_t *tags = json_object_get(dev, "tags");
	json_t *ips = json_object_get(dev, "ip_addresses");
	static const char *const flat[] = { "hostname", "description", "short_id" };
	static const char *const nested[][2] = {
		{ "plan", "name" },     { "plan", "slug" },
		{ "facility", "code" }, { "facility", "name" },
		{ "operating_system", "name" }, { "operating_system", "slug" },
	};

	for (size_t i = 0; i < sizeof(flat) / sizeof(flat[0]); i++)
		if (str_has(json_string_value(json_object_get(dev, flat[i])), q))
			return true;
	for (size_t i = 0; i < sizeof(nested) / sizeof(nested[0]); i++)
		if (str_has(nested_str(dev, nested[i][0], nested[i][1]), q))
			return true;
	for (size_t i = 0; i < json_array_size(tags); i++)
		if (str_has(json_string_value(json_array_get(tags, i)), q))
			return true;
	for (size_t i = 0; i < json_array_size(ips); i++)
		if (str_has(json_string_value(json_object_get(json_array_get(ips, i),
							      "address")), q))
			return true;
	return false;
}

static bool device_matches(json_t *dev, const struct query *q)
{
	const char *v;

	if ((v = query_get(q, "tag")) != NULL && !has_tag(dev, v))
		return false;
	if ((v = query_get(q, "state")) != NULL && *v != '\0') {
		const char *state = json_string_value(json_object_get(dev, "state"));

		if (state == NULL || strcmp(state, v) != 0)
			return false;
	}
	if ((v = query_get(q, "metro")) != NULL && *v != '\0' &&
	    !(nested_str(dev, "metro", "code") &&
	      strcasecmp(nested_str(dev, "metro", "code"), v) == 0))
		return false;
	if ((v = query_get(q, "facility")) != NULL && *v != '\0' &&
	    !(nested_str(dev, "facility", "code") &&
	      strcasecmp(nested_str(dev, "facility", "code"), v) == 0))
		return false;
	if ((v = query_get(q, "hostname")) != NULL &&
	    !str_has(json_string_value(json_object_get(dev, "hostname")), v))
		return false;
	if ((v = query_get(q, "search")) != NULL && *v != '\0' &&
	    !search_matches(dev, v))
		return false;
	return true;
}

static char *kept_filters(const struct query *q)
{
	struct strbuf sb;

	sb_init(&sb);
	sb_puts(&sb, "");
	for (size_t i = 0; i < sizeof(list_filters) / sizeof(list_filters[0]); i++) {
		const char *v = query_get(q, list_filters[i]);

		if (v == NULL)
			continue;
		sb_printf(&sb, "&%s=", list_filters[i]);
		sb_append_query_escaped(&sb, v);
	}
	return sb_steal(&sb);
}

/* ---- handlers ------------------------------------------------------------- */

static void list_devices(const struct sim_request *req, struct sim_project *p,
			 struct sim_reply *reply)
{
	struct paging pg;
	size_t total = 0, first, end;
	json_t *devices = json_array(), *meta, *answer;
	const char *exclude = query_get(&req->query, "exclude");
	char base[128], *keep;

	paging_read(&req->query, &pg);
	first = (size_t)(pg.page - 1) * (size_t)pg.per_page;
	end = first + (size_t)pg.per_page;
	for (size_t i = 0; devices != NULL && i < p->ndevices; i++) {
		struct sim_device *dev = p->devices[i];

		if (dev->deleted || !device_matches(dev->obj, &req->query))
			continue;
		if (total >= first && total < end)
			json_array_append_new(devices, device_view(dev->obj, exclude));
		total++;
	}
	snprintf(base, sizeof(base), SIM_API_PREFIX "/projects/%s/devices", p->id);
	keep = kept_filters(&req->query);
	meta = keep ? paging_meta(base, keep, &pg, total) : NULL;
	free(keep);
	answer = devices && meta ? json_pack("{s:o,s:o}", "devices", devices,
					     "meta", meta) : NULL;
	if (answer == NULL) {
		json_decref(devices);
		json_decref(meta);
	}
	reply_json(reply, 200, answer);
}

static void list_events(const struct sim_request *req, struct sim_device *dev,
			struct sim_reply *reply)
{
	struct paging pg;
	size_t total = json_array_size(dev->events), first;
	json_t *events = json_array(), *meta;
	char base[128];

	paging_read(&req->query, &pg);
	first = (size_t)(pg.page - 1) * (size_t)pg.per_page;
	/* Stored oldest first, served newest first. */
	for (size_t k = first; events != NULL && k < total &&
	     k < first + (size_t)pg.per_page; k++)
		json_array_append(events, json_array_get(dev->events, total - 1 - k));
	snprintf(base, sizeof(base), SIM_API_PREFIX "/devices/%s/events", dev->id);
	meta = paging_meta(base, "", &pg, total);
	if (events == NULL || meta == NULL) {
		json_decref(events);
		json_decref(meta);
		reply_json(reply, 500, NULL);
		return;
	}
	reply_json(reply, 200, json_pack("{s:o,s:o}", "events", events, "meta", meta));
}

static json_t *parse_body(const struct sim_request *req, struct sim_reply *reply)
{
	return request_object(req, reply, "Request body is required (a JSON object)");
}

/* RFC 1123 host names, dotted, as the API accepts for `hostname`. */
static bool valid_hostname(const char *h)
{
	size_t len = strlen(h), label = 0;

	if (len == 0 || len > 253)
		return false;
	for (const char *p = h; *p; p++) {
		bool alnum = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			     (*p >= '0' && *p <= '9');

		if (*p == '.') {
			if (label == 0 || p[-1] == '-')
				return false;
			label = 0;
		} else if (alnum || (*p == '-' && label > 0)) {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return label > 0 && h[len - 1] != '-';
}

struct update_field {
	const char *name;
	json_type type;  /* JSON_TRUE stands for boolean */
	bool show_value; /* print the new value in the event body */
};

static const struct update_field update_fields[] = {
	{ "always_pxe", JSON_TRUE, true },   { "ipxe_script_url", JSON_STRING, true },
	{ "tags", JSON_ARRAY, true },        { "hostname", JSON_STRING, true },
	{ "description", JSON_STRING, true }, { "locked", JSON_TRUE, true },
	{ "customdata", JSON_OBJECT, false }, { "userdata", JSON_STRING, false },
	{ "billing_cycle", JSON_STRING, true }, { "network_frozen", JSON_TRUE, true },
	{ "spot_instance", JSON_TRUE, true }, { "firmware_set_id", JSON_STRING, true },
};

static void add_error(json_t *errors, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void add_error(json_t *errors, const char *fmt, ...)
{
	char msg[256], *clean;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* A quoted value cut short may end inside a UTF-8 sequence. */
	clean = utf8_sanitize(msg, strlen(msg));
	json_array_append_new(errors, json_string(clean ? clean : "invalid input"));
	free(clean);
}

/* Collects every problem with a DeviceUpdateInput, as the API lists all
 * validation errors at once. */
static json_t *validate_update(json_t *in)
{
	json_t *errors = json_array();

	for (size_t i = 0; i < sizeof(update_fields) / sizeof(update_fields[0]); i++) {
		const struct update_field *f = &update_fields[i];
		json_t *v = json_object_get(in, f->name);
		bool ok;

		if (v == NULL)
			continue;
		ok = f->type == JSON_TRUE ? json_is_boolean(v) : json_typeof(v) == f->type;
		if (!ok) {
			add_error(errors, "%s must be %s", f->name,
				  f->type == JSON_TRUE ? "a boolean"
				  : f->type == JSON_STRING ? "a string"
				  : f->type == JSON_ARRAY ? "an array of strings"
				  : "an object");
			continue;
		}
		if (strcmp(f->name, "tags") == 0) {
			for (size_t k = 0; k < json_array_size(v); k++)
				if (!json_is_string(json_array_get(v, k))) {
					add_error(errors, "tags must be an array of strings");
					break;
				}
		} else if (strcmp(f->name, "hostname") == 0 &&
			   !valid_hostname(json_string_value(v))) {
			add_error(errors, "hostname '%.200s' is invalid",
				  json_string_value(v));
		} else if (strcmp(f->name, "ipxe_script_url") == 0 &&
			   json_string_length(v) > 0 &&
			   strncmp(json_string_value(v), "http://", 7) != 0 &&
			   strncmp(json_string_value(v), "https://", 8) != 0) {
			add_error(errors, "ipxe_script_url must be an http:// or https:// URL");
		} else if (strcmp(f->name, "spot_instance") == 0 && json_is_true(v)) {
			add_error(errors, "spot_instance can only be set to false");
		} else if (strcmp(f->name, "firmware_set_id") == 0 &&
			   !is_uuid(json_string_value(v))) {
			add_error(errors, "firmware_set_id must be a UUID");
		}
	}
	return errors;
}

static void update_device(struct sim *sim, const struct sim_request *req,
			  struct sim_device *dev, struct sim_reply *reply)
{
	json_t *in = parse_body(req, reply), *errors;
	bool changed = false;
	int64_t now = clock_now_ms();

	if (in == NULL)
		return;
	errors = validate_update(in);
	if (errors == NULL || json_array_size(errors) > 0) {
		json_decref(in);
		reply_json(reply, 422, errors ? json_pack("{s:o}", "errors", errors) : NULL);
		return;
	}
	json_decref(errors);
	for (size_t i = 0; i < sizeof(update_fields) / sizeof(update_fields[0]); i++) {
		const struct update_field *f = &update_fields[i];
		json_t *v = json_object_get(in, f->name);
		char body[512];

		if (v == NULL || json_equal(v, json_object_get(dev->obj, f->name)))
			continue;
		json_object_set(dev->obj, f->name, v);
		changed = true;
		if (f->show_value) {
			char *text = json_compact(v);

			snprintf(body, sizeof(body), "{{device}}: %s changed to %.400s",
				 f->name, text ? text : "?");
			free(text);
		} else {
			snprintf(body, sizeof(body), "{{device}}: %s updated", f->name);
		}
		events_record(sim, dev, "instance.update", body, now);
	}
	json_decref(in);
	if (changed) {
		char when[32];

		clock_format_iso(now, when);
		json_object_set_new(dev->obj, "updated_at", json_string(when));
	}
	reply_json(reply, 200, device_view(dev->obj, query_get(&req->query, "exclude")));
}

static void device_action(struct sim *sim, const struct sim_request *req,
			  struct sim_device *dev, struct sim_reply *reply)
{
	json_t *in = parse_body(req, reply), *type;
	const char *refusal = NULL;
	static const char *const bool_opts[] = { "force_delete", "deprovision_fast",
						 "preserve_data" };
	bool known = false;

	if (in == NULL)
		return;
	type = json_object_get(in, "type");
	if (type == NULL) {
		refusal = "type is required";
		goto out;
	}
	for (size_t i = 0; json_is_string(type) &&
	     i < sizeof(action_types) / sizeof(action_types[0]); i++)
		known |= strcmp(json_string_value(type), action_types[i]) == 0;
	if (!known) {
		refusal = "type must be one of power_on, power_off, reboot, rescue, reinstall";
		goto out;
	}
	for (size_t i = 0; i < sizeof(bool_opts) / sizeof(bool_opts[0]); i++) {
		json_t *v = json_object_get(in, bool_opts[i]);

		if (v != NULL && !json_is_boolean(v)) {
			refusal = "force_delete, deprovision_fast and preserve_data must be booleans";
			goto out;
		}
	}
	if (json_object_get(in, "operating_system") != NULL &&
	    !json_is_string(json_object_get(in, "operating_system"))) {
		refusal = "operating_system must be a string (an OS slug)";
		goto out;
	}
	refusal = lifecycle_start_action(sim, dev, json_string_value(type), in);
out:
	json_decref(in);
	if (refusal != NULL)
		reply_errors(reply, 422, refusal);
	else
		reply_empty(reply, 202);
}

/* ---- routing -------------------------------------------------------------- */

static bool method_is(const struct sim_request *req, const char *m)
{
	if (strcmp(m, "GET") == 0 && strcmp(req->method, "HEAD") == 0)
		return true;
	return strcmp(req->method, m) == 0;
}

static void method_not_allowed(struct sim_reply *reply, const char *allow)
{
	reply_errors(reply, 405, "Method not allowed");
	reply->allow = allow;
}

void api_handle(struct sim *sim, const struct sim_request *req,
		const char *path, struct sim_reply *reply)
{
	char *copy = strdup(path), *seg[MAX_SEGMENTS], *save = NULL;
	size_t n = 0;
	struct sim_device *dev = NULL;

	if (copy == NULL) {
		reply_errors(reply, 500, "Internal Server Error");
		return;
	}
	/* A trailing or doubled slash is a different route, as in the API. */
	if (path[0] != '/' || strstr(path, "//") != NULL ||
	    (path[1] != '\0' && path[strlen(path) - 1] == '/'))
		goto not_found;
	for (char *s = strtok_r(copy, "/", &save); s != NULL;
	     s = strtok_r(NULL, "/", &save)) {
		if (n == MAX_SEGMENTS)
			goto not_found;
		seg[n++] = s;
	}
	if (n == 3 && strcmp(seg[0], "projects") == 0 &&
	    strcmp(seg[2], "devices") == 0) {
		struct sim_project *p = store_find_project(&sim->store, seg[1]);

		if (p == NULL)
			goto not_found;
		if (!method_is(req, "GET"))
			method_not_allowed(reply, "GET, HEAD");
		else
			list_devices(req, p, reply);
		goto out;
	}
	if (n < 2 || n > 3 || strcmp(seg[0], "devices") != 0)
		goto not_found;
	dev = store_find_device(&sim->store, seg[1]);
	if (dev == NULL || dev->deleted)
		goto not_found;
	if (n == 2) {
		if (method_is(req, "GET"))
			reply_json(reply, 200, device_view(dev->obj,
					 query_get(&req->query, "exclude")));
		else if (method_is(req, "PUT"))
			update_device(sim, req, dev, reply);
		else
			method_not_allowed(reply, "GET, HEAD, PUT");
	} else if (strcmp(seg[2], "actions") == 0) {
		if (method_is(req, "POST"))
			device_action(sim, req, dev, reply);
		else
			method_not_allowed(reply, "POST");
	} else if (strcmp(seg[2], "events") == 0) {
		if (method_is(req, "GET"))
			list_events(req, dev, reply);
		else
			method_not_allowed(reply, "GET, HEAD");
	} else {
		goto not_found;
	}
	goto out;
not_found:
	reply_errors(reply, 404, "Not found");
out:
	free(copy);
}
