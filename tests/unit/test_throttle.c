/*
 * test_throttle.c - per-source session-setup budget and failed-login
 * lock-out (appliance/throttle.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "bounds.h"
#include "throttle.h"

static struct sockaddr_storage v4(const char *ip)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *a = (struct sockaddr_in *)&ss;
	a->sin_family = AF_INET;
	a->sin_port = htons(1234);
	assert_int_equal(inet_pton(AF_INET, ip, &a->sin_addr), 1);
	return ss;
}

static struct sockaddr_storage v6(const char *ip)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
	a->sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, ip, &a->sin6_addr), 1);
	return ss;
}

#define SA(x) ((const struct sockaddr *)&(x))

static void test_burst_then_rate(void **state)
{
	struct throttle *t = throttle_new(10, 20);
	struct sockaddr_storage a = v4("127.0.0.1"), b = v4("127.0.0.2");
	uint64_t now = 5000;
	for (int i = 0; i < 20; i++)
		assert_int_equal(throttle_setup(t, SA(a), now), THROTTLE_OK);
	assert_int_equal(throttle_setup(t, SA(a), now), THROTTLE_RATE);
	/* another source has its own bucket */
	assert_int_equal(throttle_setup(t, SA(b), now), THROTTLE_OK);
	/* 10 per second: one token every 100 ms */
	assert_int_equal(throttle_setup(t, SA(a), now + 99), THROTTLE_RATE);
	assert_int_equal(throttle_setup(t, SA(a), now + 100), THROTTLE_OK);
	assert_int_equal(throttle_setup(t, SA(a), now + 100), THROTTLE_RATE);
	/* a long pause refills to the burst, not beyond */
	now += 1000000;
	for (int i = 0; i < 20; i++)
		assert_int_equal(throttle_setup(t, SA(a), now), THROTTLE_OK);
	assert_int_equal(throttle_setup(t, SA(a), now), THROTTLE_RATE);
	throttle_free(t);
}

static void test_lockout_backoff(void **state)
{
	struct throttle *t = throttle_new(1000, 1000);
	struct sockaddr_storage a = v4("10.1.2.3"), b = v4("10.1.2.4");
	uint64_t now = 1000;
	for (int i = 0; i < THROTTLE_FAIL_FREE; i++) {
		throttle_fail(t, SA(a), now);
		assert_int_equal(throttle_locked_for(t, SA(a), now), 0);
	}
	/* the first excess failure locks for 1 s, then 2, 4, ... */
	uint64_t want = 1000;
	for (int i = 0; i < 10; i++) {
		throttle_fail(t, SA(a), now);
		uint64_t got = throttle_locked_for(t, SA(a), now);
		assert_int_equal(got, want > THROTTLE_LOCK_MS_MAX ? THROTTLE_LOCK_MS_MAX : want);
		assert_int_equal(throttle_setup(t, SA(a), now), THROTTLE_LOCKED);
		want *= 2;
	}
	/* capped at THROTTLE_LOCK_MS_MAX however many failures */
	for (int i = 0; i < 70000; i++)
		throttle_fail(t, SA(a), now);
	assert_int_equal(throttle_locked_for(t, SA(a), now), THROTTLE_LOCK_MS_MAX);
	/* the neighbour is not locked */
	assert_int_equal(throttle_setup(t, SA(b), now), THROTTLE_OK);
	assert_int_equal(throttle_locked_for(t, SA(b), now), 0);
	/* the lock ends by itself */
	assert_int_equal(throttle_setup(t, SA(a), now + THROTTLE_LOCK_MS_MAX), THROTTLE_OK);
	throttle_free(t);
}

static void test_success_clears(void **state)
{
	struct throttle *t = throttle_new(10, 20);
	struct sockaddr_storage a = v4("10.0.0.1");
	for (int i = 0; i < THROTTLE_FAIL_FREE + 1; i++)
		throttle_fail(t, SA(a), 100);
	assert_true(throttle_locked_for(t, SA(a), 100) > 0);
	throttle_success(t, SA(a));
	assert_int_equal(throttle_locked_for(t, SA(a), 100), 0);
	/* and the count starts over: 5 more are free again */
	for (int i = 0; i < THROTTLE_FAIL_FREE; i++)
		throttle_fail(t, SA(a), 100);
	assert_int_equal(throttle_locked_for(t, SA(a), 100), 0);
	throttle_free(t);
}

static void test_source_keys(void **state)
{
	/* port does not matter; IPv6 is grouped per /64; v4-mapped is v4 */
	struct sockaddr_storage a = v4("192.0.2.1"), a2 = v4("192.0.2.1");
	((struct sockaddr_in *)&a2)->sin_port = htons(9);
	assert_true(throttle_source_key(SA(a)) == throttle_source_key(SA(a2)));
	struct sockaddr_storage b = v4("192.0.2.2");
	assert_true(throttle_source_key(SA(a)) != throttle_source_key(SA(b)));
	struct sockaddr_storage m = v6("::ffff:192.0.2.1");
	assert_true(throttle_source_key(SA(a)) == throttle_source_key(SA(m)));
	struct sockaddr_storage x = v6("2001:db8:1:2::1"), y = v6("2001:db8:1:2:ffff::9"),
	                        z = v6("2001:db8:1:3::1");
	assert_true(throttle_source_key(SA(x)) == throttle_source_key(SA(y)));
	assert_true(throttle_source_key(SA(x)) != throttle_source_key(SA(z)));

	struct throttle *t = throttle_new(10, 20);
	for (int i = 0; i < THROTTLE_FAIL_FREE + 1; i++)
		throttle_fail(t, SA(x), 100);
	assert_int_equal(throttle_setup(t, SA(y), 100), THROTTLE_LOCKED);
	assert_int_equal(throttle_setup(t, SA(z), 100), THROTTLE_OK);
	throttle_free(t);
}

static void test_spoofing_flood_keeps_lock(void **state)
{
	/* A locked attacker cannot free itself by flooding the table from
	 * spoofed addresses: eviction prefers entries without a lock. */
	struct throttle *t = throttle_new(10, 20);
	struct sockaddr_storage a = v4("203.0.113.7");
	for (int i = 0; i < THROTTLE_FAIL_FREE + 5; i++)
		throttle_fail(t, SA(a), 1000);
	for (unsigned i = 0; i < 4 * THROTTLE_SLOTS; i++) {
		char ip[32];
		snprintf(ip, sizeof(ip), "10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255, i & 255);
		struct sockaddr_storage s = v4(ip);
		(void)throttle_setup(t, SA(s), 1001);
	}
	assert_true(throttle_locked_for(t, SA(a), 1001) > 0);
	assert_int_equal(throttle_setup(t, SA(a), 1001), THROTTLE_LOCKED);
	throttle_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_then_rate),
		cmocka_unit_test(test_lockout_backoff),
		cmocka_unit_test(test_success_clears),
		cmocka_unit_test(test_source_keys),
		cmocka_unit_test(test_spoofing_flood_keeps_lock),
	};
	return cmocka_run_group_tests_name("throttle", tests, NULL, NULL);
}
