/*
 * test_persona.c - the persona table and its routing index: a persona is
 * always found by its primary name (short_id); by its hostname only when
 * no other persona has that hostname, it is nobody's primary name, and it
 * fits the 16-byte IPMI user name field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "persona.h"

static struct persona *add(struct persona_table *t, const char *dev, const char *user,
                           const char *host)
{
	struct persona *p = persona_add(t, dev);
	assert_non_null(p);
	snprintf(p->user, sizeof(p->user), "%s", user);
	snprintf(p->short_id, sizeof(p->short_id), "%s", user);
	snprintf(p->hostname, sizeof(p->hostname), "%s", host);
	return p;
}

static struct persona *by(struct persona_table *t, const char *name)
{
	return persona_by_user(t, (const uint8_t *)name, strlen(name));
}

static void test_short_id_always_routes(void **state)
{
	struct persona_table *t = persona_table_new();
	struct persona *a = add(t, "dev-a", "a1b2c3d4", "web-1");
	struct persona *b = add(t, "dev-b", "e5f6a7b8", "web-1");   /* same hostname */
	persona_table_reindex(t);
	assert_ptr_equal(by(t, "a1b2c3d4"), a);
	assert_ptr_equal(by(t, "e5f6a7b8"), b);
	/* a duplicated hostname routes to nobody */
	assert_null(by(t, "web-1"));
	assert_false(a->hostname_routes);
	assert_false(b->hostname_routes);
	/* names are compared with their length: no prefix or NUL games */
	assert_null(persona_by_user(t, (const uint8_t *)"a1b2c3d", 7));
	assert_null(persona_by_user(t, (const uint8_t *)"a1b2c3d4\0", 9));
	assert_null(persona_by_user(t, (const uint8_t *)"", 0));
	persona_table_free(t);
}

static void test_hostname_when_unique_and_short(void **state)
{
	struct persona_table *t = persona_table_new();
	struct persona *a = add(t, "dev-a", "aaaa1111", "db-primary");
	struct persona *b = add(t, "dev-b", "bbbb2222", "exactly-16-bytes");
	struct persona *c = add(t, "dev-c", "cccc3333", "seventeen-bytes-x");
	persona_table_reindex(t);
	assert_ptr_equal(by(t, "db-primary"), a);
	assert_true(a->hostname_routes);
	assert_ptr_equal(by(t, "exactly-16-bytes"), b);
	assert_true(b->hostname_routes);
	assert_null(by(t, "seventeen-bytes-x"));
	assert_false(c->hostname_routes);
	assert_ptr_equal(by(t, "cccc3333"), c);
	/* the duplicate appears later: the hostname stops routing */
	struct persona *d = add(t, "dev-d", "dddd4444", "db-primary");
	persona_table_reindex(t);
	assert_null(by(t, "db-primary"));
	assert_false(a->hostname_routes);
	/* it goes away again: routing comes back */
	persona_remove(t, d);
	assert_ptr_equal(by(t, "db-primary"), a);
	persona_table_free(t);
}

static void test_primary_name_wins_over_hostname(void **state)
{
	struct persona_table *t = persona_table_new();
	/* b's hostname is a's short_id: the short_id must keep routing to a */
	struct persona *a = add(t, "dev-a", "abcd0001", "alpha");
	struct persona *b = add(t, "dev-b", "abcd0002", "abcd0001");
	persona_table_reindex(t);
	assert_ptr_equal(by(t, "abcd0001"), a);
	assert_false(b->hostname_routes);
	assert_ptr_equal(by(t, "alpha"), a);
	persona_table_free(t);
}

static void test_many_personas(void **state)
{
	struct persona_table *t = persona_table_new();
	char u[17], h[32], d[40];
	for (int i = 0; i < 3000; i++) {
		snprintf(u, sizeof(u), "id%06d", i);
		snprintf(h, sizeof(h), "host-%d", i);
		snprintf(d, sizeof(d), "device-%d", i);
		add(t, d, u, h);
	}
	persona_table_reindex(t);
	assert_int_equal(persona_count(t), 3000);
	for (int i = 0; i < 3000; i += 97) {
		snprintf(u, sizeof(u), "id%06d", i);
		snprintf(h, sizeof(h), "host-%d", i);
		snprintf(d, sizeof(d), "device-%d", i);
		struct persona *p = persona_by_device(t, d);
		assert_non_null(p);
		assert_ptr_equal(by(t, u), p);
		assert_ptr_equal(by(t, h), p);
	}
	assert_null(by(t, "id999999"));
	persona_table_free(t);
}

static void test_slot_reuse_bumps_generation(void **state)
{
	struct persona_table *t = persona_table_new();
	struct persona *a = add(t, "dev-a", "aaaa", "");
	uint32_t slot = a->slot, gen = a->generation;
	persona_remove(t, a);
	struct persona *b = add(t, "dev-b", "bbbb", "");
	assert_int_equal(b->slot, slot);
	assert_true(b->generation != gen);
	persona_table_reindex(t);
	assert_null(by(t, "aaaa"));
	persona_table_free(t);
}

static void test_derived_ids_stable(void **state)
{
	struct persona_table *t = persona_table_new();
	struct persona *a = add(t, "3f9a6b2e-0000-4000-8000-000000000001", "x", "");
	struct persona *b = add(t, "3f9a6b2e-0000-4000-8000-000000000001", "y", "");
	struct persona *c = add(t, "3f9a6b2e-0000-4000-8000-000000000002", "z", "");
	assert_memory_equal(a->guid, b->guid, 16);
	assert_memory_not_equal(a->guid, c->guid, 16);
	/* RFC 4122 version 5 and variant, in IPMI's reversed byte order */
	assert_int_equal(a->guid[15 - 6] >> 4, 5);
	assert_int_equal(a->guid[15 - 8] & 0xC0, 0x80);
	/* MAC: locally administered unicast */
	assert_int_equal(a->mac[0], 0x02);
	persona_table_free(t);
}

/* The audit ring keeps the newest PERSONA_EVENTS, read newest first. */
static void test_events_newest_first(void **state)
{
	struct persona_table *t = persona_table_new();
	struct persona *a = add(t, "dev-a", "aaaa", "");
	char what[16];

	assert_int_equal(persona_event_count(a), 0);
	persona_log_event(a, "e0", "", 0);
	assert_int_equal(persona_event_count(a), 1);
	assert_string_equal(persona_event_newest(a, 0)->what, "e0");
	for (unsigned i = 1; i < PERSONA_EVENTS + 4; i++) {
		snprintf(what, sizeof(what), "e%u", i);
		persona_log_event(a, what, "", 0);
	}
	assert_int_equal(persona_event_count(a), PERSONA_EVENTS);
	snprintf(what, sizeof(what), "e%u", PERSONA_EVENTS + 3);
	assert_string_equal(persona_event_newest(a, 0)->what, what);
	assert_string_equal(persona_event_newest(a, PERSONA_EVENTS - 1)->what, "e4");
	persona_record_action(a, "power off", "", 0);
	assert_string_equal(persona_event_newest(a, 0)->what, "power off");
	assert_true(a->last_action_wall_ms == persona_event_newest(a, 0)->wall_ms);
	persona_table_free(t);
}

/* A persona whose user name comes from a tag (ipmi.user), not its short ID. */
static struct persona *add_named(struct persona_table *t, const char *dev, const char *sid,
                                 const char *user)
{
	struct persona *p = add(t, dev, sid, "");
	snprintf(p->user, sizeof(p->user), "%s", user);
	return p;
}

static void test_claimed_name_stays_with_its_device(void **state)
{
	struct persona_table *t = persona_table_new();
	/* b, listed first, claims a's short ID by a tag: in either order,
	 * the name keeps routing to a, never to b. */
	struct persona *b = add_named(t, "dev-b", "bbbb2222", "aaaa1111");
	struct persona *a = add(t, "dev-a", "aaaa1111", "");
	(void)state;
	persona_table_reindex(t);
	assert_ptr_equal(by(t, "aaaa1111"), a);
	assert_false(a->name_clash);
	assert_true(b->name_clash);
	assert_null(by(t, "bbbb2222")); /* b's short ID is not its routing name */

	/* Two tags claiming one name that is nobody's short ID: neither
	 * routes, and the name is not up for a hostname either. */
	struct persona *c = add_named(t, "dev-c", "cccc3333", "shared");
	struct persona *d = add_named(t, "dev-d", "dddd4444", "shared");
	struct persona *e = add(t, "dev-e", "eeee5555", "shared");
	persona_table_reindex(t);
	assert_null(by(t, "shared"));
	assert_true(c->name_clash);
	assert_true(d->name_clash);
	assert_false(e->hostname_routes);
	assert_ptr_equal(by(t, "aaaa1111"), a);

	/* f is routed by a tag name, g's tag spells f's short ID: the short
	 * ID is f's identity even unrouted, so it goes to nobody, never to g. */
	struct persona *f = add_named(t, "dev-f", "ffff6666", "f-custom");
	struct persona *g = add_named(t, "dev-g", "gggg7777", "ffff6666");
	persona_table_reindex(t);
	assert_ptr_equal(by(t, "f-custom"), f);
	assert_null(by(t, "ffff6666"));
	assert_true(g->name_clash);
	assert_false(f->name_clash);

	/* The clash ends when one claimant goes: the other routes again. */
	persona_remove(t, d);
	assert_ptr_equal(by(t, "shared"), c);
	assert_false(c->name_clash);
	persona_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_short_id_always_routes),
		cmocka_unit_test(test_hostname_when_unique_and_short),
		cmocka_unit_test(test_primary_name_wins_over_hostname),
		cmocka_unit_test(test_many_personas),
		cmocka_unit_test(test_slot_reuse_bumps_generation),
		cmocka_unit_test(test_derived_ids_stable),
		cmocka_unit_test(test_events_newest_first),
		cmocka_unit_test(test_claimed_name_stays_with_its_device),
	};
	return cmocka_run_group_tests_name("persona", tests, NULL, NULL);
}
