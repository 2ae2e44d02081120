/*
 * metrics.c - /metrics in the Prometheus text format; see metrics.h.
 */
#include "metrics.h"
#include "cmd.h"
#include "discovery.h"
#include "escape.h"
#include "web_priv.h"

#include <stdlib.h>
#include <string.h>

static void family(struct wbuf *b, const char *name, const char *type, const char *help)
{
	wbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample(struct wbuf *b, const char *name, uint64_t v)
{
	wbuf_printf(b, "%s %llu\n", name, (unsigned long long)v);
}

static void counter(struct wbuf *b, const char *name, const char *help, uint64_t v)
{
	family(b, name, "counter", help);
	sample(b, name, v);
}

static void gauge(struct wbuf *b, const char *name, const char *help, uint64_t v)
{
	family(b, name, "gauge", help);
	sample(b, name, v);
}

static int by_key(const void *a, const void *b)
{
	const struct engine_cmd_count *x = a, *y = b;
	uint32_t kx = (uint32_t)x->netfn_cmd << 8 | x->cc;
	uint32_t ky = (uint32_t)y->netfn_cmd << 8 | y->cc;
	return (kx > ky) - (kx < ky);
}

static void requests_by_command(struct wbuf *b, const struct engine_stats *st)
{
	struct engine_cmd_count rows[ENGINE_CMD_SLOTS];
	size_t n = 0;

	for (size_t i = 0; i < ENGINE_CMD_SLOTS; i++)
		if (st->by_cmd[i].used)
			rows[n++] = st->by_cmd[i];
	qsort(rows, n, sizeof(rows[0]), by_key);
	family(b, "metalbmc_ipmi_requests_total", "counter",
	       "IPMI requests answered, by network function, command and completion code.");
	for (size_t i = 0; i < n; i++) {
		const struct engine_cmd_count *c = &rows[i];
		if (c->netfn_cmd == ENGINE_CMD_UNKNOWN) {
			wbuf_printf(b, "metalbmc_ipmi_requests_total{netfn=\"\",cmd=\"\","
			               "command=\"unknown\",cc=\"0x%02x\"} %llu\n",
			            c->cc, (unsigned long long)c->count);
			continue;
		}
		uint8_t netfn = (uint8_t)(c->netfn_cmd >> 8), cmd = (uint8_t)c->netfn_cmd;
		const struct cmd_def *d = cmd_lookup(netfn, cmd);
		wbuf_printf(b, "metalbmc_ipmi_requests_total{netfn=\"0x%02x\",cmd=\"0x%02x\","
		               "command=\"", netfn, cmd);
		esc_prom_label(b, d && d->name ? d->name : "unknown");
		wbuf_printf(b, "\",cc=\"0x%02x\"} %llu\n", c->cc, (unsigned long long)c->count);
	}
	counter(b, "metalbmc_ipmi_requests_uncounted_total",
	        "IPMI requests answered whose command/code pair found no counter slot.",
	        st->by_cmd_overflow);
}

static void discovery_metrics(struct wbuf *b, const struct discovery_status *ds);

void metrics_render(const struct metrics_input *in, struct wbuf *b)
{
	const struct engine_stats *st = in->engine;
	uint64_t on = 0, off = 0, unknown = 0, disabled = 0;

	for (size_t i = 0; i < persona_capacity(in->personas); i++) {
		const struct persona *p = persona_at(in->personas, i);
		if (!p)
			continue;
		if (p->power == POWER_ON)
			on++;
		else if (p->power == POWER_OFF)
			off++;
		else
			unknown++;
		if (!p->enabled)
			disabled++;
	}
	family(b, "metalbmc_build_info", "gauge", "Version of the running appliance.");
	wbuf_printf(b, "metalbmc_build_info{version=\"%s\"} 1\n", METALBMC_VERSION);
	gauge(b, "metalbmc_start_time_seconds", "When the appliance started (Unix time).",
	      in->start_wall_s);

	family(b, "metalbmc_personas", "gauge", "Personas (virtual BMCs), by IPMI power state.");
	wbuf_printf(b, "metalbmc_personas{power=\"on\"} %llu\n", (unsigned long long)on);
	wbuf_printf(b, "metalbmc_personas{power=\"off\"} %llu\n", (unsigned long long)off);
	wbuf_printf(b, "metalbmc_personas{power=\"unknown\"} %llu\n",
	            (unsigned long long)unknown);
	gauge(b, "metalbmc_personas_disabled", "Personas switched off by an admin.", disabled);

	gauge(b, "metalbmc_sessions_open", "IPMI sessions open or being set up.",
	      in->sessions_open);
	counter(b, "metalbmc_sessions_opened_total", "IPMI sessions that completed the handshake.",
	        st->sessions_opened);
	counter(b, "metalbmc_sessions_closed_total", "IPMI sessions closed by the console.",
	        st->sessions_closed);
	counter(b, "metalbmc_sessions_expired_total", "IPMI sessions ended by a timeout.",
	        st->sessions_expired);
	counter(b, "metalbmc_login_failures_total", "Failed IPMI logins (wrong password or user).",
	        st->login_failures);
	requests_by_command(b, st);
	counter(b, "metalbmc_ipmi_retransmits_answered_total",
	        "Retransmitted IPMI requests answered from the response cache.",
	        st->retransmits_answered);

	counter(b, "metalbmc_datagrams_received_total", "UDP datagrams received.",
	        st->rx_datagrams);
	counter(b, "metalbmc_datagrams_sent_total", "UDP datagrams sent.", st->tx_datagrams);
	family(b, "metalbmc_datagrams_dropped_total", "counter",
	       "UDP datagrams dropped without an answer, by reason.");
	wbuf_printf(b, "metalbmc_datagrams_dropped_total{reason=\"malformed\"} %llu\n",
	            (unsigned long long)st->dropped_malformed);
	wbuf_printf(b, "metalbmc_datagrams_dropped_total{reason=\"auth\"} %llu\n",
	            (unsigned long long)st->dropped_auth);
	wbuf_printf(b, "metalbmc_datagrams_dropped_total{reason=\"throttled\"} %llu\n",
	            (unsigned long long)st->dropped_throttled);
	wbuf_printf(b, "metalbmc_datagrams_dropped_total{reason=\"source\"} %llu\n",
	            (unsigned long long)st->dropped_source);
	counter(b, "metalbmc_asf_pings_total", "RMCP presence pings answered.", st->asf_pings);

	if (in->disc)
		discovery_metrics(b, in->disc);
	if (in->web) {
		static const char *const cls[] = { "", "1xx", "2xx", "3xx", "4xx", "5xx" };
		family(b, "metalbmc_web_responses_total", "counter",
		       "Responses of the status page and API, by status class.");
		for (size_t i = 1; i < 6; i++)
			wbuf_printf(b, "metalbmc_web_responses_total{code=\"%s\"} %llu\n", cls[i],
			            (unsigned long long)in->web->by_class[i]);
		counter(b, "metalbmc_web_auth_failures_total",
		        "Requests to the page or API with wrong credentials.",
		        in->web->auth_failures);
		counter(b, "metalbmc_web_admin_actions_total",
		        "Admin actions accepted (valid form token).", in->web->admin_actions);
	}
}

/* One sample per project, the project ID as its label. */
static void per_project(struct wbuf *b, const char *name, const char *id, bool whole,
                        double v)
{
	wbuf_printf(b, "%s{project=\"", name);
	esc_prom_label(b, id);
	wbuf_puts(b, "\"} ");
	if (whole)
		wbuf_printf(b, "%llu\n", (unsigned long long)v);
	else
		wbuf_printf(b, "%.3f\n", v);
}

static void discovery_metrics(struct wbuf *b, const struct discovery_status *ds)
{
	static const char *const cls[] = { "none", "1xx", "2xx", "3xx", "4xx", "5xx" };
	const struct api_stats *a = &ds->api;

	family(b, "metalbmc_metal_api_requests_total", "counter",
	       "Metal API requests sent, by the class of the answer (none: no HTTP answer).");
	for (size_t i = 0; i < 6; i++)
		wbuf_printf(b, "metalbmc_metal_api_requests_total{status=\"%s\"} %llu\n", cls[i],
		            (unsigned long long)a->by_class[i]);
	counter(b, "metalbmc_metal_api_rate_limited_total", "Metal API answers 429 (rate limited).",
	        a->rate_limited);
	counter(b, "metalbmc_metal_api_retries_total", "Metal API requests repeated.", a->retries);
	counter(b, "metalbmc_metal_api_calls_failed_total",
	        "Metal API calls that gave up after their retries.", a->calls_failed);
	gauge(b, "metalbmc_metal_api_in_flight", "Metal API requests in flight.", a->in_flight);
	gauge(b, "metalbmc_metal_api_queued", "Metal API requests waiting.", a->queued);
	gauge(b, "metalbmc_metal_api_healthy", "1 when the last Metal API request succeeded.",
	      ds->api_healthy);
	gauge(b, "metalbmc_personas_discovered", "Personas that come from Metal devices.",
	      ds->personas);

	family(b, "metalbmc_polls_total", "counter", "Finished polls of a project, complete or not.");
	for (size_t i = 0; i < ds->project_count; i++)
		per_project(b, "metalbmc_polls_total", ds->projects[i].project_id, true,
		            ds->projects[i].polls);
	family(b, "metalbmc_poll_ok", "gauge", "1 when the project's last finished poll was complete.");
	for (size_t i = 0; i < ds->project_count; i++)
		per_project(b, "metalbmc_poll_ok", ds->projects[i].project_id, true,
		            ds->projects[i].last_ok);
	family(b, "metalbmc_poll_duration_seconds", "gauge",
	       "Duration of the project's last finished poll.");
	for (size_t i = 0; i < ds->project_count; i++)
		per_project(b, "metalbmc_poll_duration_seconds", ds->projects[i].project_id, false,
		            ds->projects[i].last_duration_ms / 1000.0);
	family(b, "metalbmc_poll_last_success_timestamp_seconds", "gauge",
	       "Start of the project's last complete poll (Unix time; 0: none yet).");
	for (size_t i = 0; i < ds->project_count; i++)
		per_project(b, "metalbmc_poll_last_success_timestamp_seconds",
		            ds->projects[i].project_id, true,
		            (double)(ds->projects[i].last_ok_wall_ms / 1000u));
	family(b, "metalbmc_poll_devices", "gauge",
	       "Devices tagged ipmi=enabled in the project's last complete poll.");
	for (size_t i = 0; i < ds->project_count; i++)
		per_project(b, "metalbmc_poll_devices", ds->projects[i].project_id, true,
		            ds->projects[i].devices);
}

void metrics_handler(struct web_req *r, struct web_reply *out)
{
	struct wbuf b;
	struct discovery_status ds;
	struct metrics_input in = {
		.engine = &r->w->d.engine->stats,
		.sessions_open = engine_sessions_active(r->w->d.engine),
		.personas = r->w->d.personas,
		.web = &r->w->stats,
		.disc = NULL,
		.start_wall_s = r->w->started_wall_ms / 1000u,
	};

	if (r->w->d.discovery) {
		discovery_get_status(r->w->d.discovery, &ds);
		in.disc = &ds;
	}
	wbuf_init(&b, WEB_MAX_RESPONSE);
	metrics_render(&in, &b);
	web_reply_buf(out, 200, "text/plain; version=0.0.4; charset=utf-8", &b);
}
