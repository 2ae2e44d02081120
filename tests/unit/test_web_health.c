/*
 * test_web_health.c - the /healthz decision (web/health.c) for the loop
 * part: a heartbeat within WEB_LOOP_STALL_MS is healthy, an older one is
 * a 503 that says the loop stalled. (The poll part needs a discovery
 * with real polls behind it: e2e_web_metal drives it through metal-sim.)
 *
 * The handler reads the monotonic clock itself, so the heartbeat is set
 * relative to it with a margin in the direction that cannot flip: the
 * clock only moves forward, so a heartbeat already past the limit stays
 * past it, and one a second inside stays inside for this test's span.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "web_priv.h"

struct health {
	unsigned status;
	char text[256];
};

static struct health healthz_with_heartbeat(uint64_t heartbeat_ms)
{
	struct web w;
	struct web_req r;
	struct web_reply out;
	struct health h;

	memset(&w, 0, sizeof(w));
	memset(&r, 0, sizeof(r));
	memset(&out, 0, sizeof(out));
	memset(&h, 0, sizeof(h));
	w.last_heartbeat_ms = heartbeat_ms;   /* no discovery: poll is "off" */
	r.w = &w;
	web_healthz(&r, &out);
	h.status = out.status;
	assert_non_null(out.body);
	assert_true(out.len < sizeof(h.text));
	memcpy(h.text, out.body, out.len);
	free(out.body);
	return h;
}

static void test_fresh_heartbeat_is_healthy(void **state)
{
	(void)state;
	struct health h = healthz_with_heartbeat(loop_clock_ms());
	assert_int_equal(h.status, 200);
	assert_string_equal(h.text, "ok\nloop: ok\npoll: off\n");
}

static void test_heartbeat_inside_the_window_is_healthy(void **state)
{
	(void)state;
	struct health h = healthz_with_heartbeat(loop_clock_ms() - (WEB_LOOP_STALL_MS - 1000));
	assert_int_equal(h.status, 200);
	assert_string_equal(h.text, "ok\nloop: ok\npoll: off\n");
}

static void test_stale_heartbeat_is_503(void **state)
{
	(void)state;
	struct health h = healthz_with_heartbeat(loop_clock_ms() - (WEB_LOOP_STALL_MS + 1));
	assert_int_equal(h.status, 503);
	assert_string_equal(h.text, "unhealthy\nloop: stalled\npoll: off\n");
}

static void test_long_stalled_loop_is_503(void **state)
{
	(void)state;
	/* A loop that never beat since start-up (heartbeat at time 0 of a
	 * clock that has run for longer than the window). */
	uint64_t now = loop_clock_ms();
	if (now <= WEB_LOOP_STALL_MS)
		skip();
	struct health h = healthz_with_heartbeat(0);
	assert_int_equal(h.status, 503);
	assert_non_null(strstr(h.text, "loop: stalled\n"));
}

static void test_heartbeat_ahead_of_the_clock_is_not_a_stall(void **state)
{
	(void)state;
	/* The heartbeat is the loop's cached time, never ahead of a later
	 * clock read; if it were, the unsigned lag must not wrap around
	 * into a huge number and report a stall. */
	struct health h = healthz_with_heartbeat(loop_clock_ms() + 10000);
	assert_int_equal(h.status, 200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fresh_heartbeat_is_healthy),
		cmocka_unit_test(test_heartbeat_inside_the_window_is_healthy),
		cmocka_unit_test(test_stale_heartbeat_is_503),
		cmocka_unit_test(test_long_stalled_loop_is_503),
		cmocka_unit_test(test_heartbeat_ahead_of_the_clock_is_not_a_stall),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
