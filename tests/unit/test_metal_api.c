/*
 * test_metal_api.c - Metal API answers into plain structs
 * (discovery/metal_api.c): DeviceList pages and their meta, Device, Error
 * bodies, and every malformed shape turned into an error that names the
 * field; request paths and bodies; the device state -> power mapping; the
 * retry backoff curve (discovery/api_queue.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api_queue.h"
#include "metal_api.h"

#define DEV(id, extra) "{\"id\":\"" id "\",\"short_id\":\"" id "\",\"state\":\"active\"" extra "}"

static int decode_page(const char *json, struct metal_page *p, char *why)
{
	return metal_decode_page(json, strlen(json), p, why, 200);
}

static void page_with_meta(void **state)
{
	(void)state;
	struct metal_page p;
	char why[200];
	const char *json =
		"{\"devices\":["
		"{\"id\":\"7e1c4b2a-3f5d-4a6b-8c7d-9e0f1a2b3c4d\",\"short_id\":\"7e1c4b2a\","
		"\"hostname\":\"web-da-01\",\"state\":\"active\","
		"\"tags\":[\"ipmi=enabled\",\"role=web\"],\"always_pxe\":false,"
		"\"ipxe_script_url\":null,\"operating_system\":{\"slug\":\"ubuntu_22_04\"},"
		"\"facility\":{\"code\":\"da11\",\"metro\":{\"code\":\"da\"}},"
		"\"metro\":{\"code\":\"da\"},\"plan\":{\"slug\":\"c3.small.x86\"},"
		"\"sos\":\"sos.da11.platformequinix.com\","
		"\"project\":{\"href\":\"/metal/v1/projects/5f3a2c1e-8b7d-4e6f-9a0b-1c2d3e4f5a6b\"},"
		"\"unknown_field\":[1,2,3]},"
		"{\"id\":\"c4d5e6f7-8a9b-4c0d-8e1f-2a3b4c5d6e7f\",\"state\":\"powering_off\","
		"\"always_pxe\":true,\"ipxe_script_url\":\"http://192.0.2.10/boot.ipxe\"}],"
		"\"meta\":{\"first\":{\"href\":\"/x\"},\"next\":{\"href\":\"/y\"},"
		"\"current_page\":1,\"last_page\":3,\"total\":250}}";

	assert_int_equal(decode_page(json, &p, why), 0);
	assert_int_equal(p.count, 2);
	assert_int_equal(p.last_page, 3);
	assert_int_equal(p.total, 250);
	assert_int_equal(p.current_page, 1);
	assert_true(p.has_next);
	const struct metal_device *d = &p.devices[0];
	assert_string_equal(d->id, "7e1c4b2a-3f5d-4a6b-8c7d-9e0f1a2b3c4d");
	assert_string_equal(d->short_id, "7e1c4b2a");
	assert_string_equal(d->hostname, "web-da-01");
	assert_string_equal(d->state, "active");
	assert_string_equal(d->os_slug, "ubuntu_22_04");
	assert_string_equal(d->facility, "da11");
	assert_string_equal(d->metro, "da");
	assert_string_equal(d->plan, "c3.small.x86");
	assert_string_equal(d->sos, "sos.da11.platformequinix.com");
	assert_string_equal(d->project_id, "5f3a2c1e-8b7d-4e6f-9a0b-1c2d3e4f5a6b");
	assert_false(d->always_pxe);
	assert_null(d->ipxe_script_url);
	assert_int_equal(d->tag_count, 2);
	const char *t = metal_device_tag(d, NULL);
	assert_string_equal(t, "ipmi=enabled");
	t = metal_device_tag(d, t);
	assert_string_equal(t, "role=web");
	assert_null(metal_device_tag(d, t));
	d = &p.devices[1];
	assert_string_equal(d->short_id, "");
	assert_string_equal(d->state, "powering_off");
	assert_true(d->always_pxe);
	assert_string_equal(d->ipxe_script_url, "http://192.0.2.10/boot.ipxe");
	assert_int_equal(d->tag_count, 0);
	assert_null(metal_device_tag(d, NULL));
	metal_page_clear(&p);
	assert_null(p.devices);
	assert_int_equal(p.count, 0);
}

static void last_page_and_empty(void **state)
{
	(void)state;
	struct metal_page p;
	char why[200];
	assert_int_equal(decode_page("{\"devices\":[],\"meta\":{\"last_page\":1,\"total\":0}}",
	                             &p, why), 0);
	assert_int_equal(p.count, 0);
	assert_false(p.has_next);
	assert_int_equal(p.last_page, 1);
	metal_page_clear(&p);
}

struct bad_case {
	const char *json;
	const char *why_contains;
};

static void malformed_pages(void **state)
{
	(void)state;
	static const struct bad_case cases[] = {
		{ "", "not valid JSON" },
		{ "{\"devices\":[", "not valid JSON" },
		{ "{\"devices\":[]}{,", "not valid JSON" },
		{ "[]", "expected a JSON object" },
		{ "null", "not valid JSON" },
		{ "{\"meta\":{\"last_page\":1,\"total\":0}}", "devices: missing" },
		{ "{\"devices\":{},\"meta\":{\"last_page\":1,\"total\":0}}", "devices: expected an array" },
		{ "{\"devices\":[]}", "meta: missing" },
		{ "{\"devices\":[],\"meta\":[]}", "meta: expected an object" },
		{ "{\"devices\":[],\"meta\":{\"total\":0}}", "meta.last_page: missing" },
		{ "{\"devices\":[],\"meta\":{\"last_page\":\"2\",\"total\":0}}", "meta.last_page: expected an integer" },
		{ "{\"devices\":[],\"meta\":{\"last_page\":0,\"total\":0}}", "outside" },
		{ "{\"devices\":[],\"meta\":{\"last_page\":1000000,\"total\":0}}", "outside" },
		{ "{\"devices\":[],\"meta\":{\"last_page\":1,\"total\":-1}}", "meta.total" },
		{ "{\"devices\":[],\"meta\":{\"last_page\":1,\"total\":1.5}}", "meta.total: expected an integer" },
		{ "{\"devices\":[7],\"meta\":{\"last_page\":1,\"total\":1}}", "devices[0]: expected an object" },
		{ "{\"devices\":[{\"state\":\"active\"}],\"meta\":{\"last_page\":1,\"total\":1}}", "devices[0].id: missing" },
		{ "{\"devices\":[{\"id\":7,\"state\":\"active\"}],\"meta\":{\"last_page\":1,\"total\":1}}", "devices[0].id: expected a string" },
		{ "{\"devices\":[{\"id\":\"\",\"state\":\"active\"}],\"meta\":{\"last_page\":1,\"total\":1}}", "devices[0].id: empty" },
		{ "{\"devices\":[{\"id\":\"../../etc\",\"state\":\"active\"}],\"meta\":{\"last_page\":1,\"total\":1}}", "unexpected character" },
		{ "{\"devices\":[{\"id\":\"a?b=c\",\"state\":\"active\"}],\"meta\":{\"last_page\":1,\"total\":1}}", "unexpected character" },
		{ "{\"devices\":[{\"id\":\"0123456789012345678901234567890123456789x\",\"state\":\"active\"}],\"meta\":{\"last_page\":1,\"total\":1}}", "longer than" },
		{ "{\"devices\":[" DEV("a", "") "," DEV("b", ",\"tags\":[\"x\",3]") "],\"meta\":{\"last_page\":1,\"total\":2}}", "devices[1].tags[1]: expected a string" },
		{ "{\"devices\":[" DEV("a", ",\"tags\":\"ipmi=enabled\"") "],\"meta\":{\"last_page\":1,\"total\":1}}", "tags: expected an array" },
		{ "{\"devices\":[{\"id\":\"a\"}],\"meta\":{\"last_page\":1,\"total\":1}}", "state: missing" },
		{ "{\"devices\":[{\"id\":\"a\",\"state\":\"Active!\"}],\"meta\":{\"last_page\":1,\"total\":1}}", "state: unexpected character" },
		{ "{\"devices\":[{\"id\":\"a\",\"state\":\"a_very_long_state_name_here\"}],\"meta\":{\"last_page\":1,\"total\":1}}", "state: longer than" },
		{ "{\"devices\":[" DEV("a", ",\"always_pxe\":\"yes\"") "],\"meta\":{\"last_page\":1,\"total\":1}}", "always_pxe: expected a boolean" },
		{ "{\"devices\":[" DEV("a", ",\"hostname\":42") "],\"meta\":{\"last_page\":1,\"total\":1}}", "hostname: expected a string" },
		{ "{\"devices\":[" DEV("a", ",\"plan\":\"c3\"") "],\"meta\":{\"last_page\":1,\"total\":1}}", "plan: expected an object" },
		{ "{\"devices\":[" DEV("a", ",\"plan\":{\"slug\":[]}") "],\"meta\":{\"last_page\":1,\"total\":1}}", "devices[0].plan.slug: expected a string" },
		{ "{\"devices\":[" DEV("a", ",\"ipxe_script_url\":{}") "],\"meta\":{\"last_page\":1,\"total\":1}}", "ipxe_script_url: expected a string" },
		{ "{\"devices\":[" DEV("a", ",\"ipxe_script_url\":\"http://x/\\n\"") "],\"meta\":{\"last_page\":1,\"total\":1}}", "control character" },
		{ "{\"devices\":[" DEV("a", ",\"project\":\"p\"") "],\"meta\":{\"last_page\":1,\"total\":1}}", "project: expected an object" },
		{ "{\"devices\":[{\"id\":\"a\",\"short_id\":\"x y\",\"state\":\"active\"}],\"meta\":{\"last_page\":1,\"total\":1}}", "short_id: unexpected character" },
		{ "{\"devices\":[" DEV("a", "") "],\"devices\":[],\"meta\":{\"last_page\":1,\"total\":1}}", "not valid JSON" },
		{ "{\"devices\":[{\"id\":\"a\\u0000b\",\"state\":\"active\"}],\"meta\":{\"last_page\":1,\"total\":1}}", "not valid JSON" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct metal_page p;
		char why[200] = "";
		int rc = decode_page(cases[i].json, &p, why);
		if (rc != -1 || !strstr(why, cases[i].why_contains))
			fail_msg("case %zu (%s): rc %d, why '%s', want '%s'", i, cases[i].json, rc,
			         why, cases[i].why_contains);
		assert_int_equal(p.count, 0);
		assert_null(p.devices);
	}
}

static void deep_nesting_and_huge(void **state)
{
	(void)state;
	/* Deep nesting is refused by the parser's depth limit, not the stack. */
	size_t n = 100000;
	char *s = malloc(2 * n + 1);
	memset(s, '[', n);
	memset(s + n, ']', n);
	s[2 * n] = 0;
	struct metal_page p;
	char why[200];
	assert_int_equal(decode_page(s, &p, why), -1);
	free(s);

	/* Too many devices on one page. */
	size_t cap = 1100 * 64 + 100;
	char *big = malloc(cap);
	size_t off = (size_t)snprintf(big, cap, "{\"devices\":[");
	for (int i = 0; i < 1001; i++)
		off += (size_t)snprintf(big + off, cap - off, "%s{\"id\":\"d%d\",\"state\":\"active\"}",
		                        i ? "," : "", i);
	snprintf(big + off, cap - off, "],\"meta\":{\"last_page\":2,\"total\":1001}}");
	assert_int_equal(decode_page(big, &p, why), -1);
	assert_non_null(strstr(why, "1001 devices on one page"));
	free(big);
}

static void display_strings_and_tags(void **state)
{
	(void)state;
	struct metal_device d;
	char why[200];
	char json[8192];
	char longname[300];
	char longtag[400];
	memset(longname, 'h', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	memset(longtag, 't', sizeof(longtag) - 1);
	longtag[sizeof(longtag) - 1] = 0;
	snprintf(json, sizeof(json),
	         "{\"id\":\"abc\",\"state\":\"inactive\",\"hostname\":\"%s\","
	         "\"facility\":{\"code\":\"da\\u0001\\u007f11\"},"
	         "\"tags\":[\"ipmi=enabled\",\"%s\",\"ipmi.port=auto\"],"
	         "\"project\":{\"href\":\"/metal/v1/projects/not a uuid\"}}",
	         longname, longtag);
	assert_int_equal(metal_decode_device(json, strlen(json), &d, why, sizeof(why)), 0);
	/* Cut to fit: it only shows, and at this length it cannot route. */
	assert_int_equal(strlen(d.hostname), MAX_HOSTNAME - 1);
	assert_string_equal(d.facility, "da??11");
	assert_int_equal(d.tag_count, 2);
	assert_int_equal(d.tags_dropped, 1);
	assert_string_equal(metal_device_tag(&d, NULL), "ipmi=enabled");
	assert_string_equal(metal_device_tag(&d, metal_device_tag(&d, NULL)), "ipmi.port=auto");
	assert_string_equal(d.project_id, ""); /* not an ID: ignored */
	metal_device_clear(&d);

	/* More tags than kept. */
	size_t off = (size_t)snprintf(json, sizeof(json), "{\"id\":\"x\",\"state\":\"active\",\"tags\":[");
	for (int i = 0; i < MAX_TAGS_PER_DEVICE + 5; i++)
		off += (size_t)snprintf(json + off, sizeof(json) - off, "%s\"t%d\"", i ? "," : "", i);
	snprintf(json + off, sizeof(json) - off, "]}");
	assert_int_equal(metal_decode_device(json, strlen(json), &d, why, sizeof(why)), 0);
	assert_int_equal(d.tag_count, MAX_TAGS_PER_DEVICE);
	assert_int_equal(d.tags_dropped, 5);
	metal_device_clear(&d);

	/* Nulls read as absent (the real API prints them). */
	const char *nulls = "{\"id\":\"x\",\"state\":\"active\",\"hostname\":null,\"tags\":null,"
	                    "\"plan\":null,\"always_pxe\":null,\"short_id\":null}";
	assert_int_equal(metal_decode_device(nulls, strlen(nulls), &d, why, sizeof(why)), 0);
	assert_string_equal(d.hostname, "");
	assert_int_equal(d.tag_count, 0);
	metal_device_clear(&d);

	/* A device answer that is a list is refused. */
	assert_int_equal(metal_decode_device("[1]", 3, &d, why, sizeof(why)), -1);
	/* A truncated one too. */
	const char *cut = "{\"id\":\"x\",\"state\":\"act";
	assert_int_equal(metal_decode_device(cut, strlen(cut), &d, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "not valid JSON"));
}

static void move_and_clear(void **state)
{
	(void)state;
	struct metal_device a, b;
	char why[200];
	const char *j = "{\"id\":\"x\",\"state\":\"active\",\"tags\":[\"ipmi=enabled\"],"
	                "\"ipxe_script_url\":\"https://boot.example/x.ipxe\"}";
	memset(&b, 0, sizeof(b));
	assert_int_equal(metal_decode_device(j, strlen(j), &a, why, sizeof(why)), 0);
	metal_device_move(&b, &a);
	assert_null(a.tags);
	assert_null(a.ipxe_script_url);
	assert_string_equal(b.ipxe_script_url, "https://boot.example/x.ipxe");
	metal_device_clear(&a);
	metal_device_clear(&b);
}

static void error_bodies(void **state)
{
	(void)state;
	char out[64];
	const char *e1 = "{\"errors\":[\"Device is already powered off\",\"second\"]}";
	metal_decode_error(e1, strlen(e1), out, sizeof(out));
	assert_string_equal(out, "Device is already powered off");
	const char *e2 = "{\"error\":\"Invalid authentication token\"}";
	metal_decode_error(e2, strlen(e2), out, sizeof(out));
	assert_string_equal(out, "Invalid authentication token");
	const char *e3 = "{\"errors\":[\"line\\nbreak\\u001b[31m\"]}";
	metal_decode_error(e3, strlen(e3), out, sizeof(out));
	assert_string_equal(out, "line?break?[31m");
	metal_decode_error("<html>502</html>", 16, out, sizeof(out));
	assert_string_equal(out, "");
	metal_decode_error(NULL, 0, out, sizeof(out));
	assert_string_equal(out, "");
	const char *e4 = "{\"errors\":[42]}";
	metal_decode_error(e4, strlen(e4), out, sizeof(out));
	assert_string_equal(out, "");
	char small[8];
	metal_decode_error(e1, strlen(e1), small, sizeof(small));
	assert_string_equal(small, "Device ");
}

static void paths_and_bodies(void **state)
{
	(void)state;
	char path[2048];
	assert_int_equal(metal_path_devices(path, sizeof(path),
	                                    "5f3a2c1e-8b7d-4e6f-9a0b-1c2d3e4f5a6b", 3, 100), 0);
	assert_non_null(strstr(path, "/projects/5f3a2c1e-8b7d-4e6f-9a0b-1c2d3e4f5a6b/devices?"));
	assert_non_null(strstr(path, "tag=ipmi%3Denabled"));
	assert_non_null(strstr(path, "&per_page=100&page=3&"));
	assert_non_null(strstr(path, "exclude=actions,"));
	assert_non_null(strstr(path, "ip_addresses"));
	assert_non_null(strstr(path, "plan.specs"));
	/* What is read must never be excluded. */
	assert_null(strstr(metal_exclude, "tags"));
	assert_null(strstr(metal_exclude, "state"));
	assert_null(strstr(metal_exclude, "hostname"));
	assert_null(strstr(metal_exclude, ",plan,"));
	char tiny[16];
	assert_int_equal(metal_path_devices(tiny, sizeof(tiny), "p", 1, 1), -1);
	assert_int_equal(metal_path_device(path, sizeof(path), "abc"), 0);
	assert_int_equal(strncmp(path, "/devices/abc?exclude=", 21), 0);
	assert_int_equal(metal_path_actions(path, sizeof(path), "abc"), 0);
	assert_string_equal(path, "/devices/abc/actions");

	char *b = metal_body_action("power_on");
	assert_string_equal(b, "{\"type\":\"power_on\"}");
	free(b);
	b = metal_body_boot(true, "http://boot.example/a.ipxe");
	assert_string_equal(b, "{\"always_pxe\":true,\"ipxe_script_url\":\"http://boot.example/a.ipxe\"}");
	free(b);
	b = metal_body_boot(true, "");
	assert_string_equal(b, "{\"always_pxe\":true}");
	free(b);
	b = metal_body_boot(false, NULL);
	assert_string_equal(b, "{\"always_pxe\":false}");
	free(b);
	/* JSON escaping of a configured URL. */
	b = metal_body_boot(true, "http://x/\"a\"");
	assert_string_equal(b, "{\"always_pxe\":true,\"ipxe_script_url\":\"http://x/\\\"a\\\"\"}");
	free(b);
}

static void state_mapping(void **state)
{
	(void)state;
	static const struct {
		const char *state;
		enum power_state power;
		bool transition, settled;
	} t[] = {
		{ "active", POWER_ON, false, true },
		{ "inactive", POWER_OFF, false, true },
		{ "powering_on", POWER_ON, true, false },
		{ "powering_off", POWER_OFF, true, false },
		{ "queued", POWER_ON, false, false },
		{ "provisioning", POWER_ON, false, false },
		{ "reinstalling", POWER_ON, false, false },
		{ "deprovisioning", POWER_ON, false, false },
		{ "failed", POWER_OFF, false, false },
		{ "deleted", POWER_OFF, false, false },
		{ "", POWER_UNKNOWN, false, false },
		{ "rebooting", POWER_UNKNOWN, false, false },
		{ "ACTIVE", POWER_UNKNOWN, false, false },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(metal_state_power(t[i].state), t[i].power);
		assert_int_equal(metal_state_transition(t[i].state), t[i].transition);
		assert_int_equal(metal_state_settled(t[i].state), t[i].settled);
	}
}

static void backoff_curve(void **state)
{
	(void)state;
	uint64_t prev_max = 0;
	for (unsigned n = 1; n <= 12; n++) {
		uint64_t lo = api_backoff_ms(n, 0.0), hi = api_backoff_ms(n, 0.999999);
		assert_true(lo <= hi);
		assert_true(hi <= API_BACKOFF_MAX_MS);
		assert_true(lo >= API_BACKOFF_BASE_MS / 2);
		/* Jitter spans half the step. */
		if (n <= 5)
			assert_true(hi - lo >= lo / 2);
		assert_true(hi >= prev_max / 2);
		prev_max = hi;
	}
	assert_int_equal(api_backoff_ms(1, 0.0), API_BACKOFF_BASE_MS / 2);
	assert_int_equal(api_backoff_ms(2, 0.0), API_BACKOFF_BASE_MS);
	assert_int_equal(api_backoff_ms(3, 0.0), API_BACKOFF_BASE_MS * 2);
	assert_int_equal(api_backoff_ms(40, 0.0), API_BACKOFF_MAX_MS / 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(page_with_meta),
		cmocka_unit_test(last_page_and_empty),
		cmocka_unit_test(malformed_pages),
		cmocka_unit_test(deep_nesting_and_huge),
		cmocka_unit_test(display_strings_and_tags),
		cmocka_unit_test(move_and_clear),
		cmocka_unit_test(error_bodies),
		cmocka_unit_test(paths_and_bodies),
		cmocka_unit_test(state_mapping),
		cmocka_unit_test(backoff_curve),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
