/*
 * test_seq_window.c - the anti-replay window of appliance/session.c.
 *
 * IPMI v2.0 section 6.12.13: an RMCP+ session accepts sequence numbers up
 * to 15 ahead of the highest received and up to 16 behind it, each only
 * once; IPMI v1.5 sessions use 8 either way. Numbers are 32 bits and wrap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "session.h"

/* check, and mark when accepted, as the engine does */
static bool take(struct seq_window *w, uint32_t seq, uint32_t ahead, uint32_t behind)
{
	if (!seq_window_check(w, seq, ahead, behind))
		return false;
	seq_window_mark(w, seq);
	return true;
}

static void test_first_number_accepted(void **state)
{
	struct seq_window w = { 0 };
	assert_true(seq_window_check(&w, 12345, 15, 16));
	/* check alone changes nothing */
	assert_true(seq_window_check(&w, 999, 15, 16));
	assert_false(w.started);
	seq_window_mark(&w, 12345);
	assert_true(w.started);
	assert_int_equal(w.top, 12345);
}

static void test_rmcpp_ahead(void **state)
{
	struct seq_window w = { 0 };
	assert_true(take(&w, 100, 15, 16));
	assert_false(seq_window_check(&w, 100 + 16, 15, 16)); /* 16 ahead: too far */
	assert_true(seq_window_check(&w, 100 + 15, 15, 16));
	assert_true(take(&w, 100 + 15, 15, 16));
	assert_int_equal(w.top, 115);
	assert_true(take(&w, 116, 15, 16));
}

static void test_rmcpp_behind(void **state)
{
	struct seq_window w = { 0 };
	assert_true(take(&w, 100, 15, 16));
	assert_true(take(&w, 110, 15, 16));
	/* everything not yet seen up to 16 behind the top is accepted once */
	for (uint32_t s = 94; s < 110; s++) {
		if (s == 100)
			continue;
		assert_true(take(&w, s, 15, 16));
		assert_false(take(&w, s, 15, 16));
	}
	assert_false(take(&w, 100, 15, 16));   /* seen before */
	assert_false(take(&w, 93, 15, 16));    /* 17 behind */
	assert_int_equal(w.top, 110);
}

static void test_duplicates_refused(void **state)
{
	struct seq_window w = { 0 };
	assert_true(take(&w, 5, 15, 16));
	assert_false(take(&w, 5, 15, 16));     /* the top again */
	assert_true(take(&w, 7, 15, 16));
	assert_true(take(&w, 6, 15, 16));
	assert_false(take(&w, 6, 15, 16));
	assert_false(take(&w, 7, 15, 16));
	assert_false(take(&w, 5, 15, 16));
	/* a big jump forward forgets the old bitmap but not its horizon */
	assert_true(take(&w, 20, 15, 16));
	assert_false(take(&w, 7, 15, 16));
	assert_true(take(&w, 8, 15, 16));      /* 12 behind, never seen */
}

static void test_wrap_around(void **state)
{
	struct seq_window w = { 0 };
	assert_true(take(&w, 0xFFFFFFF8u, 15, 16));
	/* across 2^32: 0xFFFFFFF8 + 15 = 7 */
	assert_true(seq_window_check(&w, 7, 15, 16));
	assert_false(seq_window_check(&w, 8, 15, 16));
	assert_true(take(&w, 2, 15, 16));
	assert_int_equal(w.top, 2);
	/* behind the top, across the wrap */
	assert_true(take(&w, 0xFFFFFFFFu, 15, 16));
	assert_true(take(&w, 0xFFFFFFF2u, 15, 16)); /* 16 behind 2 */
	assert_false(take(&w, 0xFFFFFFF1u, 15, 16));
	assert_false(take(&w, 0xFFFFFFF8u, 15, 16)); /* seen */
	assert_false(take(&w, 0xFFFFFFFFu, 15, 16));
	assert_true(take(&w, 0, 15, 16));            /* the engine refuses 0 itself */
	assert_true(take(&w, 1, 15, 16));
}

static void test_far_numbers_refused(void **state)
{
	struct seq_window w = { 0 };
	assert_true(take(&w, 1000, 15, 16));
	assert_false(seq_window_check(&w, 1000 + 0x80000000u, 15, 16));
	assert_false(seq_window_check(&w, 1000 - 0x80000000u, 15, 16));
	assert_false(seq_window_check(&w, 0, 15, 16));
	assert_false(seq_window_check(&w, 2000, 15, 16));
	assert_int_equal(w.top, 1000);
}

static void test_v15_window(void **state)
{
	struct seq_window w = { 0 };
	assert_true(take(&w, 50, 8, 8));
	assert_false(seq_window_check(&w, 59, 8, 8));
	assert_true(take(&w, 58, 8, 8));
	assert_true(take(&w, 50 + 0, 8, 8) == false);
	assert_true(take(&w, 51, 8, 8));        /* 7 behind */
	assert_true(take(&w, 50, 8, 8) == false);
	assert_false(take(&w, 49, 8, 8));       /* 9 behind */
	/* v1.5 wraps the same way */
	struct seq_window v = { 0 };
	assert_true(take(&v, 0xFFFFFFFEu, 8, 8));
	assert_true(take(&v, 6, 8, 8));
	assert_true(take(&v, 0xFFFFFFFFu, 8, 8));
	assert_false(take(&v, 0xFFFFFFFDu, 8, 8)); /* 9 behind 6 */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_number_accepted),
		cmocka_unit_test(test_rmcpp_ahead),
		cmocka_unit_test(test_rmcpp_behind),
		cmocka_unit_test(test_duplicates_refused),
		cmocka_unit_test(test_wrap_around),
		cmocka_unit_test(test_far_numbers_refused),
		cmocka_unit_test(test_v15_window),
	};
	return cmocka_run_group_tests_name("seq_window", tests, NULL, NULL);
}
