/*
 * page.c - the HTML: the personas table, one persona's page, the reveal
 * page, and the compiled-in script and style sheet.
 *
 * Markup goes out only through LIT(), which accepts nothing but a string
 * literal (the "" s "" concatenation does not compile otherwise); every
 * other string goes through H(), the one HTML escaping helper, or U() for
 * URL path segments. Numbers are printed with numeric formats only. The
 * page is complete without JavaScript; page.js only refreshes it.
 */
#include "web_priv.h"
#include "assets.h"
#include "discovery.h"
#include "escape.h"
#include "view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LIT(b, s) wbuf_puts((b), "" s "")
#define H(b, s) esc_html((b), (s))
#define U(b, s) esc_url((b), (s))
#define NUM(b, fmt, v) wbuf_printf((b), "" fmt "", (v))

/* refresh_ms: 0 for a page that does not refresh itself. */
static void head(struct wbuf *b, const char *title, unsigned refresh_ms)
{
	LIT(b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	       "<meta name=\"referrer\" content=\"no-referrer\">"
	       "<link rel=\"icon\" href=\"data:,\">"
	       "<link rel=\"stylesheet\" href=\"/static/page.css\">"
	       "<script src=\"/static/page.js\" defer></script><title>");
	H(b, title);
	LIT(b, " · metalbmc</title></head>\n");
	if (refresh_ms)
		wbuf_printf(b, "<body data-live=\"/api/v1/personas\" data-refresh-ms=\"%u\">\n",
		            refresh_ms);
	else
		LIT(b, "<body>\n");
	LIT(b, "<header class=\"top\"><a class=\"brand\" href=\"/\">metalbmc</a> "
	       "<span class=\"ver\">" METALBMC_VERSION "</span>"
	       "<nav><a href=\"/\">Personas</a> <a href=\"/api/v1/personas\">JSON</a> "
	       "<a href=\"/metrics\">Metrics</a></nav></header>\n<main>\n");
}

static void foot(struct wbuf *b)
{
	LIT(b, "</main>\n</body></html>\n");
}

static void badge(struct wbuf *b, const char *cls, const char *text)
{
	LIT(b, "<span class=\"badge ");
	H(b, cls);
	LIT(b, "\">");
	H(b, text);
	LIT(b, "</span>");
}

static void csrf_field(struct web_req *r, struct wbuf *b)
{
	char token[CSRF_TOKEN_MAX];

	csrf_make(&r->w->csrf, r->user, loop_wall_ms() / 1000u, token);
	LIT(b, "<input type=\"hidden\" name=\"csrf\" value=\"");
	H(b, token);
	LIT(b, "\">");
}

/* The header's discovery part: each project's last poll, the API's health.
 * page.js rebuilds the same rows from the JSON API's "projects". */
static void projects(struct web_req *r, struct wbuf *b)
{
	struct discovery_status ds;
	const char *cls, *label;
	char when[40];

	LIT(b, "<section class=\"projects\" id=\"projects\">");
	if (!r->w->d.discovery) {
		LIT(b, "<p class=\"note\">No Metal project is polled: these personas come "
		       "from the configuration file.</p></section>\n");
		return;
	}
	discovery_get_status(r->w->d.discovery, &ds);
	LIT(b, "<table><thead><tr><th>Metal project</th><th>Last poll</th><th>Result</th>"
	       "<th>Took</th><th>Tagged devices</th></tr></thead><tbody id=\"project-rows\">\n");
	for (size_t i = 0; i < ds.project_count; i++) {
		const struct discovery_project_status *ps = &ds.projects[i];
		view_project_badge(ps, &cls, &label);
		view_time(ps->last_poll_wall_ms, when, sizeof(when));
		LIT(b, "<tr data-project=\"");
		H(b, ps->project_id);
		LIT(b, "\"><td><code>");
		H(b, ps->project_id);
		LIT(b, "</code></td><td>");
		H(b, when[0] ? when : "-");
		LIT(b, "</td><td>");
		badge(b, cls, label);
		if (ps->polls && !ps->last_ok) {
			LIT(b, "<div class=\"sub\">");
			H(b, ps->last_result);
			LIT(b, "</div>");
		}
		LIT(b, "</td><td class=\"num\">");
		NUM(b, "%u ms", (unsigned)ps->last_duration_ms);
		LIT(b, "</td><td class=\"num\">");
		NUM(b, "%u", ps->devices);
		LIT(b, "</td></tr>\n");
	}
	view_api_badge(&ds, &cls, &label);
	LIT(b, "</tbody></table>\n<p class=\"api\" id=\"api\">Metal API ");
	badge(b, cls, label);
	NUM(b, " · %llu requests", (unsigned long long)ds.api.requests);
	NUM(b, " · %llu failed", (unsigned long long)ds.api.failures);
	if (ds.api.refusals)
		NUM(b, " · %llu refused", (unsigned long long)ds.api.refusals);
	if (ds.api.last_error[0]) {
		view_time(ds.api.last_error_wall_ms, when, sizeof(when));
		LIT(b, " · last error ");
		H(b, when);
		LIT(b, ": ");
		H(b, ds.api.last_error);
	}
	LIT(b, "</p></section>\n");
}

/* ---- the personas table --------------------------------------------- */

static bool matches(const struct persona *p, const struct view_persona *v,
                    const char *q)
{
	const char *fields[] = { p->hostname, p->short_id, p->device_id, p->metro,
	                         p->facility, p->metal_state, p->plan, p->user,
	                         v->power, v->backend, v->boot, v->listener,
	                         p->enabled ? "enabled" : "disabled" };
	if (!q || !q[0])
		return true;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strcasestr(fields[i], q))
			return true;
	return false;
}

static void persona_link(struct wbuf *b, const struct persona *p)
{
	LIT(b, "<a href=\"/personas/");
	U(b, p->device_id);
	LIT(b, "\">");
	H(b, p->hostname[0] ? p->hostname : p->device_id);
	LIT(b, "</a>");
}

static void row(struct wbuf *b, const struct persona *p, const struct view_persona *v)
{
	LIT(b, "<tr class=\"persona");
	if (!p->enabled)
		LIT(b, " disabled");
	LIT(b, "\" data-id=\"");
	H(b, p->device_id);
	LIT(b, "\">\n<td data-col=\"host\">");
	persona_link(b, p);
	if (!p->enabled) {
		LIT(b, " ");
		badge(b, "off", "disabled");
	}
	LIT(b, "<div class=\"sub\">");
	H(b, p->short_id);
	LIT(b, "</div></td>\n<td data-col=\"device\"><code>");
	H(b, p->device_id);
	LIT(b, "</code></td>\n<td data-col=\"location\">");
	H(b, p->metro[0] ? p->metro : "-");
	LIT(b, "<div class=\"sub\">");
	H(b, p->facility);
	LIT(b, "</div></td>\n<td data-col=\"state\">");
	badge(b, v->state_class, p->metal_state[0] ? p->metal_state : "unknown");
	LIT(b, "</td>\n<td data-col=\"power\">");
	badge(b, v->power_class, p->power_transition ? "changing" : v->power);
	LIT(b, "</td>\n<td data-col=\"reach\"><code>");
	if (strchr(v->host, ':')) { /* IPv6: [addr]:port */
		LIT(b, "[");
		H(b, v->host);
		LIT(b, "]");
	} else {
		H(b, v->host);
	}
	NUM(b, ":%u", (unsigned)v->port);
	LIT(b, "</code><div class=\"sub\">user <code>");
	H(b, v->user);
	LIT(b, "</code>");
	if (strcmp(v->reach_kind, "shared") != 0) {
		LIT(b, " · ");
		H(b, strcmp(v->reach_kind, "own_port") == 0 ? "own port" : "own address");
	}
	LIT(b, "</div></td>\n<td data-col=\"backend\">");
	H(b, v->backend);
	LIT(b, "</td>\n<td data-col=\"boot\">");
	H(b, v->boot);
	LIT(b, "</td>\n<td data-col=\"sessions\" class=\"num\">");
	NUM(b, "%u", p->sessions);
	LIT(b, "</td>\n<td data-col=\"last\">");
	if (p->last_action[0]) {
		H(b, p->last_action);
		LIT(b, "<div class=\"sub\">");
		H(b, v->last_when);
		LIT(b, " ");
		badge(b, p->last_action_cc ? "bad" : "ok", v->last_result);
		LIT(b, "</div>");
	} else {
		LIT(b, "<span class=\"sub\">none yet</span>");
	}
	LIT(b, "</td></tr>\n");
}

static void index_row(struct web_stream *s, struct persona *p, struct wbuf *b)
{
	struct view_persona v;

	view_persona(s->w->d.cfg, s->local_host, p, &v);
	if (!matches(p, &v, s->q))
		return;
	row(b, p, &v);
	s->rows++;
}

static void index_end(struct web_stream *s, struct wbuf *b)
{
	if (s->rows == 0)
		LIT(b, "<tr class=\"empty\"><td colspan=\"10\">No personas to show. Devices "
		       "tagged <code>ipmi=enabled</code> appear here within one poll.</td></tr>\n");
	LIT(b, "</tbody></table></div>\n<p class=\"help\">Each persona answers IPMI over "
	       "LAN (RMCP+). On the shared listener the user name picks the persona; one "
	       "with its own port or address takes the configured user name. Passwords are "
	       "never shown here: open a persona to reveal its derived password.</p>\n");
	foot(b);
}

/* The table is streamed (stream.c): a fleet of thousands of personas is
 * rendered a slice at a time, between which the loop serves IPMI. */
void page_index(struct web_req *r, struct web_reply *out)
{
	const struct config *c = r->w->d.cfg;
	const char *q = web_query(r, "q");
	struct web_stream *s = web_stream_new(r, index_row, index_end);
	struct wbuf *b;
	size_t n = persona_count(r->w->d.personas);
	char now[40];

	if (!s) {
		web_reply_text(out, 500, "out of memory\n");
		return;
	}
	snprintf(s->q, sizeof(s->q), "%s", q ? q : "");
	b = &s->out;
	/* Re-reading a big fleet costs the loop time: the page asks less
	 * often as the table grows (1 ms more per persona). */
	head(b, "Personas", WEB_REFRESH_MS + (unsigned)(n < 100000 ? n : 100000));
	view_time(loop_wall_ms(), now, sizeof(now));
	LIT(b, "<section class=\"summary\"><h1>Personas</h1><p><span id=\"count\">");
	NUM(b, "%zu", n);
	LIT(b, "</span> personas · IPMI on <code>");
	H(b, c->ipmi_listen[0].text);
	LIT(b, "</code> · <span id=\"updated\">as of ");
	H(b, now);
	LIT(b, "</span></p>");
	if (r->w->d.discovery) {
		LIT(b, "<form method=\"post\" action=\"/admin/poll\" class=\"inline\">");
		csrf_field(r, b);
		LIT(b, "<button type=\"submit\">Poll now</button></form>");
	}
	LIT(b, "</section>\n");
	projects(r, b);
	LIT(b, "<form class=\"filter\" method=\"get\" action=\"/\">"
	       "<label for=\"q\">Filter</label> <input id=\"q\" name=\"q\" type=\"search\" "
	       "placeholder=\"host, ID, metro, state, power\" autocomplete=\"off\" value=\"");
	H(b, s->q);
	LIT(b, "\"> <button type=\"submit\">Apply</button></form>\n"
	       "<div class=\"scroll\"><table id=\"personas\" class=\"personas\"><thead><tr>"
	       "<th>Host</th><th>Device ID</th><th>Metro / facility</th><th>Metal</th>"
	       "<th>Power</th><th>Reach (address, user)</th><th>Backend</th><th>Boot</th>"
	       "<th>Sessions</th><th>Last action</th></tr></thead>\n<tbody>\n");
	web_reply_stream(out, 200, "text/html; charset=utf-8", s);
}

/* ---- one persona ------------------------------------------------------ */

static void fact(struct wbuf *b, const char *name, const char *value, const char *id)
{
	LIT(b, "<dt>");
	H(b, name);
	LIT(b, "</dt><dd");
	if (id) {
		LIT(b, " id=\"");
		H(b, id);
		LIT(b, "\"");
	}
	LIT(b, ">");
	H(b, value[0] ? value : "-");
	LIT(b, "</dd>\n");
}

static void events_table(struct wbuf *b, const struct persona *p)
{
	unsigned total = persona_event_count(p);

	LIT(b, "<table id=\"events\" class=\"events\"><thead><tr><th>Time</th><th>Event</th>"
	       "<th>Source</th><th>Result</th></tr></thead><tbody>\n");
	for (unsigned k = 0; k < total; k++) {
		const struct persona_event *e = persona_event_newest(p, k);
		char when[40], res[64];
		view_time(e->wall_ms, when, sizeof(when));
		view_result(e->cc, res, sizeof(res));
		LIT(b, "<tr><td>");
		H(b, when);
		LIT(b, "</td><td>");
		H(b, e->what);
		LIT(b, "</td><td>");
		H(b, e->source[0] ? e->source : "-");
		LIT(b, "</td><td>");
		badge(b, e->cc ? "bad" : "ok", res);
		LIT(b, "</td></tr>\n");
	}
	if (total == 0)
		LIT(b, "<tr class=\"empty\"><td colspan=\"4\">No events yet.</td></tr>\n");
	LIT(b, "</tbody></table>\n");
}

static void admin_form(struct web_req *r, struct wbuf *b, const struct persona *p,
                       const char *action, const char *label, const char *cls)
{
	LIT(b, "<form method=\"post\" class=\"inline\" action=\"/personas/");
	U(b, p->device_id);
	LIT(b, "/");
	H(b, action);
	LIT(b, "\">");
	csrf_field(r, b);
	LIT(b, "<button type=\"submit\" class=\"");
	H(b, cls);
	LIT(b, "\">");
	H(b, label);
	LIT(b, "</button></form>\n");
}

void page_persona(struct web_req *r, struct web_reply *out)
{
	const struct config *c = r->w->d.cfg;
	struct persona *p = web_find_persona(r->w, r->arg);
	struct view_persona v;
	struct wbuf b;
	char num[32], names[80];

	if (!p) {
		web_reply_text(out, 404, "no such persona\n");
		return;
	}
	view_persona(c, r->local_host, p, &v);
	wbuf_init(&b, WEB_MAX_RESPONSE);
	head(&b, p->hostname[0] ? p->hostname : p->device_id, 0);
	LIT(&b, "<h1>");
	H(&b, p->hostname[0] ? p->hostname : p->device_id);
	LIT(&b, " ");
	badge(&b, v.power_class, v.power);
	if (!p->enabled) {
		LIT(&b, " ");
		badge(&b, "off", "disabled");
	}
	LIT(&b, "</h1>\n<dl class=\"facts\">\n");
	fact(&b, "Device ID", p->device_id, "device-id");
	fact(&b, "Short ID", p->short_id, NULL);
	fact(&b, "Project", p->project_id, NULL);
	fact(&b, "Plan", p->plan, NULL);
	fact(&b, "Metro", p->metro, NULL);
	fact(&b, "Facility", p->facility, NULL);
	fact(&b, "Metal state", p->metal_state, "metal-state");
	fact(&b, "Power (IPMI)", p->power_transition ? "changing" : v.power, "power");
	fact(&b, "Boot", v.boot, "boot");
	fact(&b, "Backend", v.backend, NULL);
	fact(&b, "Declared by", v.origin, NULL);
	snprintf(num, sizeof(num), "%u", p->sessions);
	fact(&b, "Open sessions", num, "sessions");
	fact(&b, "Admin switch", p->enabled ? "enabled" : "disabled", "enabled");
	struct discovery_device_info di;
	if (discovery_device_info(r->w->d.discovery, p, &di)) {
		fact(&b, "Operating system", di.os_slug, NULL);
		fact(&b, "always_pxe (Metal)", di.always_pxe ? "true" : "false", "always-pxe");
		fact(&b, "Request at the API",
		     di.action_pending ? "yes, waiting for the Metal API" : "none", NULL);
		fact(&b, "Serial console (SOS)", di.sos, NULL);
	}
	fact(&b, "Listener", v.listener, NULL);
	snprintf(names, sizeof(names), "%s%s%s", v.user,
	         !p->own_port && !p->own_address[0] && p->hostname_routes ? ", " : "",
	         !p->own_port && !p->own_address[0] && p->hostname_routes ? p->hostname : "");
	fact(&b, "IPMI user name", names, "user");
	LIT(&b, "</dl>\n<h2>Reach it</h2>\n<pre class=\"cmd\"><code id=\"ipmitool\">");
	H(&b, v.ipmitool);
	LIT(&b, "</code></pre>\n<p class=\"help\">Replace <code>-P &lt;password&gt;</code> "
	        "with <code>-E</code> to read the password from <code>IPMI_PASSWORD</code> "
	        "instead of the command line.");
	if (secret_present(&c->ipmi_password))
		LIT(&b, " Every persona takes the shared password from the appliance's "
		        "configuration (<code>ipmi.password</code>).");
	LIT(&b, "</p>\n<h2>Admin</h2>\n<div class=\"actions\">");
	if (p->enabled)
		admin_form(r, &b, p, "disable", "Disable this persona", "danger");
	else
		admin_form(r, &b, p, "enable", "Enable this persona", "");
	if (!secret_present(&c->ipmi_password))
		admin_form(r, &b, p, "reveal", "Reveal its IPMI password", "");
	LIT(&b, "</div>\n<p class=\"help\">Disabling closes its sessions and refuses new "
	        "logins until enabled again. Revealing the password is recorded below and "
	        "in the log.</p>\n<h2>Recent events</h2>\n");
	events_table(&b, p);
	foot(&b);
	web_reply_buf(out, 200, "text/html; charset=utf-8", &b);
}

void page_reveal(struct web_req *r, struct web_reply *out, struct persona *p,
                 const char *password)
{
	struct view_persona v;
	struct wbuf b;

	view_persona(r->w->d.cfg, r->local_host, p, &v);
	wbuf_init(&b, 64 * 1024);
	b.wipe = true;
	head(&b, "IPMI password", 0);
	LIT(&b, "<h1>IPMI password of ");
	H(&b, p->hostname[0] ? p->hostname : p->device_id);
	LIT(&b, "</h1>\n<dl class=\"facts\">\n");
	fact(&b, "User name", v.user, "user");
	LIT(&b, "<dt>Password</dt><dd><code id=\"password\">");
	H(&b, password);
	LIT(&b, "</code></dd>\n</dl>\n<p class=\"help\">This page is not cached and the "
	        "reveal was recorded. It is derived from the appliance's master secret and "
	        "the device ID, so it stays the same across restarts.</p>\n"
	        "<p><a href=\"/personas/");
	U(&b, p->device_id);
	LIT(&b, "\">Back to the persona</a></p>\n");
	foot(&b);
	web_reply_buf(out, 200, "text/html; charset=utf-8", &b);
	out->sensitive = true;
}

void page_asset(struct web_req *r, struct web_reply *out)
{
	for (size_t i = 0; i < web_assets_count; i++) {
		const struct web_asset *a = &web_assets[i];
		if (strcmp(a->path, r->path) != 0)
			continue;
		out->body = malloc(a->len + 1);
		if (!out->body) {
			web_reply_text(out, 500, "out of memory\n");
			return;
		}
		memcpy(out->body, a->data, a->len);
		out->len = a->len;
		out->status = 200;
		out->content_type = a->content_type;
		out->cacheable = true;
		return;
	}
	web_reply_text(out, 404, "not found\n");
}
