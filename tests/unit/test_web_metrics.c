/*
 * test_web_metrics.c - the Prometheus exposition behind /metrics
 * (web/metrics.c) and the engine's bounded per-command counters
 * (engine_count_request).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "discovery.h"
#include "engine.h"
#include "ipmi.h"
#include "metrics.h"
#include "persona.h"
#include "wbuf.h"

static char *render(const struct metrics_input *in)
{
	struct wbuf b;
	size_t len;
	wbuf_init(&b, 1 << 20);
	metrics_render(in, &b);
	assert_true(wbuf_ok(&b));
	return wbuf_take(&b, &len);
}

static void has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return;
	fail_msg("line not found: %s\n--- in ---\n%s", line, text);
}

/* Every sample line belongs to a family announced by HELP and TYPE before
 * it, and every name starts with metalbmc_. */
static void well_formed(const char *text)
{
	char family[128] = "";
	const char *p = text;

	while (*p) {
		const char *eol = strchr(p, '\n');
		assert_non_null(eol);
		size_t n = (size_t)(eol - p);
		char line[512];
		assert_true(n < sizeof(line));
		memcpy(line, p, n);
		line[n] = 0;
		if (strncmp(line, "# HELP ", 7) == 0) {
			assert_int_equal(strncmp(line + 7, "metalbmc_", 9), 0);
			sscanf(line + 7, "%127s", family);
		} else if (strncmp(line, "# TYPE ", 7) == 0) {
			char name[128], type[32];
			assert_int_equal(sscanf(line + 7, "%127s %31s", name, type), 2);
			assert_string_equal(name, family);
			assert_true(!strcmp(type, "counter") || !strcmp(type, "gauge"));
		} else {
			size_t fl = strlen(family);
			assert_true(fl > 0);
			assert_int_equal(strncmp(line, family, fl), 0);
			assert_true(line[fl] == ' ' || line[fl] == '{');
			const char *sp = strrchr(line, ' ');
			assert_non_null(sp);
			char *end;
			strtod(sp + 1, &end);
			assert_true(*end == 0 && end > sp + 1);
		}
		p = eol + 1;
	}
}

static void exposition(void **state)
{
	struct engine_stats st;
	struct persona_table *t = persona_table_new();
	struct persona *a, *b, *c;
	char *text;

	(void)state;
	memset(&st, 0, sizeof(st));
	st.sessions_opened = 7;
	st.login_failures = 3;
	st.dropped_auth = 2;
	engine_count_request(&st, 0x00, 0x02, CC_OK);       /* chassis_control */
	engine_count_request(&st, 0x00, 0x02, CC_OK);
	engine_count_request(&st, 0x00, 0x02, CC_NOT_SUPPORTED_NOW);
	engine_count_request(&st, 0x06, 0x01, CC_OK);       /* get_device_id */
	engine_count_request(&st, 0x2c, 0x77, CC_INVALID_COMMAND);
	engine_count_request(&st, 0x30, 0x01, CC_INVALID_COMMAND);

	a = persona_add(t, "dev-a");
	b = persona_add(t, "dev-b");
	c = persona_add(t, "dev-c");
	persona_set_power(a, POWER_ON, 1);
	persona_set_power(b, POWER_OFF, 1);
	c->enabled = false;

	struct metrics_input in = { .engine = &st, .sessions_open = 4, .personas = t,
	                            .start_wall_s = 1795600000 };
	text = render(&in);
	well_formed(text);
	has_line(text, "metalbmc_sessions_open 4");
	has_line(text, "metalbmc_sessions_opened_total 7");
	has_line(text, "metalbmc_login_failures_total 3");
	has_line(text, "metalbmc_personas{power=\"on\"} 1");
	has_line(text, "metalbmc_personas{power=\"off\"} 1");
	has_line(text, "metalbmc_personas{power=\"unknown\"} 1");
	has_line(text, "metalbmc_personas_disabled 1");
	has_line(text, "metalbmc_start_time_seconds 1795600000");
	has_line(text, "metalbmc_datagrams_dropped_total{reason=\"auth\"} 2");
	has_line(text, "metalbmc_ipmi_requests_total{netfn=\"0x00\",cmd=\"0x02\","
	               "command=\"chassis_control\",cc=\"0x00\"} 2");
	has_line(text, "metalbmc_ipmi_requests_total{netfn=\"0x00\",cmd=\"0x02\","
	               "command=\"chassis_control\",cc=\"0xd5\"} 1");
	has_line(text, "metalbmc_ipmi_requests_total{netfn=\"0x06\",cmd=\"0x01\","
	               "command=\"get_device_id\",cc=\"0x00\"} 1");
	/* commands outside the table share one series */
	has_line(text, "metalbmc_ipmi_requests_total{netfn=\"\",cmd=\"\","
	               "command=\"unknown\",cc=\"0xc1\"} 2");
	assert_null(strstr(text, "0x2c"));
	/* sorted by key: chassis (netfn 0) before app (netfn 6) */
	assert_true(strstr(text, "chassis_control") < strstr(text, "get_device_id"));
	free(text);
	persona_table_free(t);
}

static void discovery_series(void **state)
{
	struct engine_stats st;
	struct discovery_status ds;
	struct persona_table *t = persona_table_new();
	char *text;

	(void)state;
	memset(&st, 0, sizeof(st));
	memset(&ds, 0, sizeof(ds));
	ds.enabled = true;
	ds.personas = 12;
	ds.api_healthy = true;
	ds.api.by_class[2] = 40;
	ds.api.by_class[5] = 3;
	ds.api.by_class[0] = 1;
	ds.api.rate_limited = 2;
	ds.project_count = 2;
	snprintf(ds.projects[0].project_id, MAX_DEVICE_ID, "p-one");
	ds.projects[0].polls = 5;
	ds.projects[0].last_ok = true;
	ds.projects[0].last_duration_ms = 1234;
	ds.projects[0].last_ok_wall_ms = 1795600000123ull;
	ds.projects[0].devices = 9;
	snprintf(ds.projects[1].project_id, MAX_DEVICE_ID, "p\"two");
	ds.projects[1].polls = 1;

	struct metrics_input in = { .engine = &st, .personas = t, .disc = &ds };
	text = render(&in);
	well_formed(text);
	has_line(text, "metalbmc_metal_api_requests_total{status=\"2xx\"} 40");
	has_line(text, "metalbmc_metal_api_requests_total{status=\"5xx\"} 3");
	has_line(text, "metalbmc_metal_api_requests_total{status=\"none\"} 1");
	has_line(text, "metalbmc_metal_api_rate_limited_total 2");
	has_line(text, "metalbmc_metal_api_healthy 1");
	has_line(text, "metalbmc_personas_discovered 12");
	has_line(text, "metalbmc_polls_total{project=\"p-one\"} 5");
	has_line(text, "metalbmc_poll_ok{project=\"p-one\"} 1");
	has_line(text, "metalbmc_poll_ok{project=\"p\\\"two\"} 0");
	has_line(text, "metalbmc_poll_duration_seconds{project=\"p-one\"} 1.234");
	has_line(text, "metalbmc_poll_last_success_timestamp_seconds{project=\"p-one\"} 1795600000");
	has_line(text, "metalbmc_poll_devices{project=\"p-one\"} 9");
	free(text);

	/* without discovery, none of its series */
	in.disc = NULL;
	text = render(&in);
	assert_null(strstr(text, "metalbmc_poll"));
	assert_null(strstr(text, "metalbmc_metal_api"));
	free(text);
	persona_table_free(t);
}

static void counter_table_is_bounded(void **state)
{
	struct engine_stats st;
	size_t used = 0;
	uint64_t total = 0;

	(void)state;
	memset(&st, 0, sizeof(st));
	/* a client cycling through every netfn/cmd gets one "unknown" series */
	for (unsigned nf = 0; nf < 64; nf += 2)
		for (unsigned cmd = 0; cmd < 256; cmd++)
			engine_count_request(&st, (uint8_t)nf, (uint8_t)cmd, CC_INVALID_COMMAND);
	for (size_t i = 0; i < ENGINE_CMD_SLOTS; i++)
		used += st.by_cmd[i].used;
	assert_int_equal(used, 1);
	/* even every (netfn, cmd, cc) combination cannot write past the table:
	 * what finds no slot is counted as overflow, nothing is lost */
	for (unsigned nf = 0; nf < 64; nf += 2)
		for (unsigned cmd = 0; cmd < 256; cmd++)
			engine_count_request(&st, (uint8_t)nf, (uint8_t)cmd, CC_OK);
	for (size_t i = 0; i < ENGINE_CMD_SLOTS; i++)
		total += st.by_cmd[i].count;
	assert_int_equal(total + st.by_cmd_overflow, 2u * 32u * 256u);
	assert_true(st.by_cmd_overflow > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exposition),
		cmocka_unit_test(discovery_series),
		cmocka_unit_test(counter_table_is_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
