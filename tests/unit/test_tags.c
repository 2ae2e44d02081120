/*
 * test_tags.c - the ipmi tag grammar (discovery/tags.c): what turns a
 * persona on, what tunes it, and that every malformed ipmi tag is reported
 * and ignored without spoiling the others.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tags.h"

struct bad_log {
	unsigned n;
	char last_tag[300];
	char last_reason[200];
};

static void on_bad(void *arg, const char *tag, const char *reason)
{
	struct bad_log *b = arg;
	b->n++;
	snprintf(b->last_tag, sizeof(b->last_tag), "%s", tag);
	snprintf(b->last_reason, sizeof(b->last_reason), "%s", reason);
}

/* Packs a NULL-terminated list into the decoder's layout. */
static size_t pack(const char *const *tags, char *buf, size_t cap)
{
	size_t n = 0, off = 0;
	for (; tags[n]; n++) {
		size_t len = strlen(tags[n]) + 1;
		assert_true(off + len <= cap);
		memcpy(buf + off, tags[n], len);
		off += len;
	}
	return n;
}

static struct tag_config parse(const char *const *tags, struct bad_log *b)
{
	char buf[4096];
	struct tag_config tc;
	size_t n = pack(tags, buf, sizeof(buf));
	memset(b, 0, sizeof(*b));
	tags_parse(buf, n, &tc, on_bad, b);
	return tc;
}

static void enabled_alone(void **state)
{
	struct bad_log b;
	(void)state;
	const char *t[] = { "role=web", "ipmi=enabled", "env=prod", NULL };
	struct tag_config tc = parse(t, &b);
	assert_true(tc.enabled);
	assert_int_equal(tc.port_mode, TAG_PORT_NONE);
	assert_string_equal(tc.address, "");
	assert_string_equal(tc.user, "");
	assert_string_equal(tc.backend, "metal");
	assert_int_equal(b.n, 0);
	assert_int_equal(tc.malformed, 0);
}

static void not_enabled(void **state)
{
	struct bad_log b;
	(void)state;
	const char *none[] = { "role=web", NULL };
	assert_false(parse(none, &b).enabled);
	/* Close but not ours: the server-side filter is exact, so are we. */
	const char *close[] = { "IPMI=enabled", "ipmi =enabled", "ipmitool=enabled", NULL };
	assert_false(parse(close, &b).enabled);
	assert_int_equal(b.n, 0);
	/* An explicit off wins, in either order. */
	const char *off1[] = { "ipmi=enabled", "ipmi=disabled", NULL };
	const char *off2[] = { "ipmi=disabled", "ipmi=enabled", NULL };
	assert_false(parse(off1, &b).enabled);
	assert_false(parse(off2, &b).enabled);
	assert_int_equal(b.n, 0);
	const char *bad[] = { "ipmi=yes", NULL };
	struct tag_config tc = parse(bad, &b);
	assert_false(tc.enabled);
	assert_int_equal(b.n, 1);
	assert_string_equal(b.last_tag, "ipmi=yes");
}

static void ports(void **state)
{
	struct bad_log b;
	(void)state;
	const char *a[] = { "ipmi=enabled", "ipmi.port=auto", NULL };
	struct tag_config tc = parse(a, &b);
	assert_int_equal(tc.port_mode, TAG_PORT_AUTO);
	assert_int_equal(b.n, 0);

	const char *f[] = { "ipmi=enabled", "ipmi.port=6231", NULL };
	tc = parse(f, &b);
	assert_int_equal(tc.port_mode, TAG_PORT_FIXED);
	assert_int_equal(tc.port, 6231);

	const char *edge[] = { "ipmi.port=65535", NULL };
	tc = parse(edge, &b);
	assert_int_equal(tc.port, 65535);
	assert_int_equal(b.n, 0);

	static const char *const bad[] = { "ipmi.port=0", "ipmi.port=65536", "ipmi.port=-1",
	                                   "ipmi.port=", "ipmi.port=12a", "ipmi.port=0623",
	                                   "ipmi.port=999999", "ipmi.port=AUTO",
	                                   "ipmi.port= 623", NULL };
	for (size_t i = 0; bad[i]; i++) {
		const char *one[] = { "ipmi=enabled", bad[i], NULL };
		tc = parse(one, &b);
		assert_true(tc.enabled);                 /* the rest still applies */
		assert_int_equal(tc.port_mode, TAG_PORT_NONE);
		assert_int_equal(b.n, 1);
		assert_string_equal(b.last_tag, bad[i]);
		assert_int_equal(tc.malformed, 1);
	}
}

static void addresses(void **state)
{
	struct bad_log b;
	(void)state;
	const char *v4[] = { "ipmi.address=127.0.0.2", NULL };
	assert_string_equal(parse(v4, &b).address, "127.0.0.2");
	const char *v6[] = { "ipmi.address=fd00::17", NULL };
	assert_string_equal(parse(v6, &b).address, "fd00::17");
	assert_int_equal(b.n, 0);

	static const char *const bad[] = { "ipmi.address=0.0.0.0", "ipmi.address=::",
	                                   "ipmi.address=224.0.0.1", "ipmi.address=ff02::1",
	                                   "ipmi.address=255.255.255.255",
	                                   "ipmi.address=example.com", "ipmi.address=10.0.0.1:623",
	                                   "ipmi.address=[::1]", "ipmi.address=", NULL };
	for (size_t i = 0; bad[i]; i++) {
		const char *one[] = { bad[i], NULL };
		struct tag_config tc = parse(one, &b);
		assert_string_equal(tc.address, "");
		assert_int_equal(b.n, 1);
	}
}

static void users_and_backend(void **state)
{
	struct bad_log b;
	(void)state;
	const char *u[] = { "ipmi.user=node-07", "ipmi.backend=metal", NULL };
	struct tag_config tc = parse(u, &b);
	assert_string_equal(tc.user, "node-07");
	assert_string_equal(tc.backend, "metal");
	assert_int_equal(b.n, 0);

	const char *sixteen[] = { "ipmi.user=abcdefghijklmnop", NULL };
	assert_string_equal(parse(sixteen, &b).user, "abcdefghijklmnop");
	static const char *const bad[] = { "ipmi.user=abcdefghijklmnopq", "ipmi.user=",
	                                   "ipmi.user=a b", "ipmi.user=\xc3\xa9t\xc3\xa9",
	                                   "ipmi.user=x/y", "ipmi.backend=ssh",
	                                   "ipmi.backend=", NULL };
	for (size_t i = 0; bad[i]; i++) {
		const char *one[] = { bad[i], NULL };
		tc = parse(one, &b);
		assert_string_equal(tc.user, "");
		assert_string_equal(tc.backend, "metal");
		assert_int_equal(b.n, 1);
	}
}

static void unknown_and_duplicate(void **state)
{
	struct bad_log b;
	(void)state;
	const char *t[] = { "ipmi=enabled", "ipmi.colour=blue", "ipmi.port", "ipmi.=x",
	                    "ipmi.port=700", "ipmi.port=800", "ipmi.user=one",
	                    "ipmi.user=two", NULL };
	struct tag_config tc = parse(t, &b);
	assert_true(tc.enabled);
	/* The first of a repeated key counts. */
	assert_int_equal(tc.port_mode, TAG_PORT_FIXED);
	assert_int_equal(tc.port, 700);
	assert_string_equal(tc.user, "one");
	assert_int_equal(b.n, 5);
	assert_int_equal(tc.malformed, 5);
	assert_string_equal(b.last_tag, "ipmi.user=two");
	/* A malformed first try does not use up the key. */
	const char *retry[] = { "ipmi.port=x", "ipmi.port=900", NULL };
	tc = parse(retry, &b);
	assert_int_equal(tc.port, 900);
	assert_int_equal(b.n, 1);
}

static void without_callback_and_equality(void **state)
{
	(void)state;
	char buf[64];
	const char *t[] = { "ipmi=enabled", "ipmi.port=bogus", NULL };
	size_t n = pack(t, buf, sizeof(buf));
	struct tag_config a, c;
	tags_parse(buf, n, &a, NULL, NULL);
	assert_true(a.enabled);
	assert_int_equal(a.malformed, 1);
	tags_parse(buf, n, &c, NULL, NULL);
	assert_true(tag_config_equal(&a, &c));
	c.port_mode = TAG_PORT_AUTO;
	assert_false(tag_config_equal(&a, &c));
	tags_parse(NULL, 0, &c, NULL, NULL);
	assert_false(c.enabled);
}

static void allow_list(void **state)
{
	struct bad_log b;
	(void)state;
	const char *ok[] = { "ipmi=enabled", "ipmi.allow=10.0.0.0/8, 192.0.2.7,2001:db8::/32", NULL };
	struct tag_config tc = parse(ok, &b);
	assert_string_equal(tc.allow, "10.0.0.0/8, 192.0.2.7,2001:db8::/32");
	assert_int_equal(b.n, 0);
	assert_false(tc.allow_bad);
	/* a bad entry spoils the tag (reported) and shuts the persona to
	 * every source: meant to narrow, it must not open it to all */
	const char *bad[] = { "ipmi=enabled", "ipmi.allow=10.0.0.0/8,nope", NULL };
	tc = parse(bad, &b);
	assert_true(tc.enabled);
	assert_string_equal(tc.allow, "");
	assert_true(tc.allow_bad);
	assert_int_equal(b.n, 1);
	assert_string_equal(b.last_tag, "ipmi.allow=10.0.0.0/8,nope");
	const char *empty[] = { "ipmi=enabled", "ipmi.allow=", NULL };
	tc = parse(empty, &b);
	assert_string_equal(tc.allow, "");
	assert_true(tc.allow_bad);
	assert_int_equal(b.n, 1);
	const char *none[] = { "ipmi=enabled", NULL };
	struct tag_config open_tc = parse(none, &b);
	assert_false(tag_config_equal(&tc, &open_tc)); /* fixing it is a change */
	/* the first one counts; a change is a change */
	const char *two[] = { "ipmi.allow=127.0.0.2", "ipmi.allow=127.0.0.3", NULL };
	struct tag_config a = parse(two, &b);
	assert_string_equal(a.allow, "127.0.0.2");
	const char *other[] = { "ipmi.allow=127.0.0.3", NULL };
	struct tag_config c = parse(other, &b);
	assert_false(tag_config_equal(&a, &c));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(enabled_alone),
		cmocka_unit_test(not_enabled),
		cmocka_unit_test(ports),
		cmocka_unit_test(addresses),
		cmocka_unit_test(users_and_backend),
		cmocka_unit_test(unknown_and_duplicate),
		cmocka_unit_test(without_callback_and_equality),
		cmocka_unit_test(allow_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
