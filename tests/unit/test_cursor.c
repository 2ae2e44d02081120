/*
 * test_cursor.c - the bounded reader and writer (appliance/cursor.c):
 * every operation, byte order, the sticky error, sub-cursors, sizes that
 * would wrap an "off + n" sum, reserve and patch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cursor.h"

static const uint8_t bytes[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                                 0x09, 0x0a };

static void test_readers_byte_order(void **state)
{
	struct cur c = cur_make(bytes, sizeof(bytes));
	assert_int_equal(cur_u8(&c), 0x01);
	assert_int_equal(cur_le16(&c), 0x0302);
	assert_int_equal(cur_be16(&c), 0x0405);
	assert_int_equal(cur_remaining(&c), 5);
	c = cur_make(bytes, sizeof(bytes));
	assert_int_equal(cur_le32(&c), 0x04030201u);
	assert_int_equal(cur_be32(&c), 0x05060708u);
	assert_true(cur_ok(&c));
	assert_false(cur_done(&c));
	cur_skip(&c, 2);
	assert_true(cur_done(&c));
	assert_int_equal(cur_remaining(&c), 0);
}

static void test_bytes_view_rest(void **state)
{
	struct cur c = cur_make(bytes, sizeof(bytes));
	uint8_t out[4];
	cur_bytes(&c, out, 3);
	assert_memory_equal(out, bytes, 3);
	const uint8_t *v = cur_view(&c, 2);
	assert_ptr_equal(v, bytes + 3);
	size_t n;
	const uint8_t *r = cur_rest(&c, &n);
	assert_ptr_equal(r, bytes + 5);
	assert_int_equal(n, 5);
	assert_true(cur_done(&c));
	/* rest of nothing is an empty, valid view */
	r = cur_rest(&c, &n);
	assert_int_equal(n, 0);
	assert_true(cur_ok(&c));
	/* zero-length reads at the end are fine */
	cur_bytes(&c, out, 0);
	assert_non_null(cur_view(&c, 0));
	assert_true(cur_ok(&c));
}

static void test_short_read_is_sticky(void **state)
{
	struct cur c = cur_make(bytes, 3);
	uint8_t out[8];
	memset(out, 0xAA, sizeof(out));
	assert_int_equal(cur_le32(&c), 0);   /* short */
	assert_false(cur_ok(&c));
	assert_int_equal(cur_remaining(&c), 0);
	/* after the error everything yields zero or empty, even what fits */
	assert_int_equal(cur_u8(&c), 0);
	assert_int_equal(cur_le16(&c), 0);
	assert_int_equal(cur_be16(&c), 0);
	assert_int_equal(cur_be32(&c), 0);
	assert_null(cur_view(&c, 1));
	cur_bytes(&c, out, 4);
	assert_memory_equal(out, "\0\0\0\0", 4); /* zero-filled on a short read */
	assert_int_equal(out[4], 0xAA);
	size_t n = 99;
	assert_null(cur_rest(&c, &n));
	assert_int_equal(n, 0);
	assert_false(cur_done(&c));
	/* each reader alone also fails short */
	c = cur_make(bytes, 1);
	assert_int_equal(cur_le16(&c), 0);
	assert_false(cur_ok(&c));
	c = cur_make(bytes, 3);
	assert_int_equal(cur_be32(&c), 0);
	assert_false(cur_ok(&c));
	c = cur_make(bytes, 0);
	assert_int_equal(cur_u8(&c), 0);
	assert_false(cur_ok(&c));
}

static void test_no_wrap_on_huge_n(void **state)
{
	struct cur c = cur_make(bytes, sizeof(bytes));
	cur_u8(&c);
	/* off + n would wrap to a small number; the check is n > len - off */
	assert_null(cur_view(&c, SIZE_MAX));
	assert_false(cur_ok(&c));
	c = cur_make(bytes, sizeof(bytes));
	cur_u8(&c);
	cur_skip(&c, SIZE_MAX - 0);
	assert_false(cur_ok(&c));
	c = cur_make(bytes, sizeof(bytes));
	cur_skip(&c, 5);
	struct cur s = cur_sub(&c, SIZE_MAX - 3);
	assert_false(cur_ok(&c));
	assert_false(cur_ok(&s));
	assert_int_equal(cur_remaining(&s), 0);

	uint8_t buf[8];
	struct wcur w = wcur_make(buf, sizeof(buf));
	wcur_u8(&w, 1);
	assert_null(wcur_claim(&w, SIZE_MAX));
	assert_false(wcur_ok(&w));
	w = wcur_make(buf, sizeof(buf));
	wcur_u8(&w, 1);
	wcur_fill(&w, 0, SIZE_MAX);
	assert_false(wcur_ok(&w));
	assert_int_equal(wcur_len(&w), 1);
}

static void test_sub_cursor(void **state)
{
	struct cur c = cur_make(bytes, sizeof(bytes));
	cur_u8(&c);
	struct cur s = cur_sub(&c, 4);
	assert_true(cur_ok(&c));
	assert_int_equal(cur_remaining(&s), 4);
	assert_int_equal(cur_u8(&c), 0x06);   /* parent advanced past the child */
	assert_int_equal(cur_be32(&s), 0x02030405u);
	assert_true(cur_done(&s));
	/* a read past the child's end fails the child only */
	assert_int_equal(cur_u8(&s), 0);
	assert_false(cur_ok(&s));
	assert_true(cur_ok(&c));
	/* a child longer than what is left fails both */
	struct cur big = cur_sub(&c, 5);
	assert_false(cur_ok(&big));
	assert_false(cur_ok(&c));
	/* an empty child is valid */
	c = cur_make(bytes, 2);
	s = cur_sub(&c, 0);
	assert_true(cur_ok(&s));
	assert_true(cur_done(&s));
}

static void test_writers(void **state)
{
	uint8_t buf[32];
	struct wcur w = wcur_make(buf, sizeof(buf));
	wcur_u8(&w, 0x11);
	wcur_le16(&w, 0x2233);
	wcur_be16(&w, 0x4455);
	wcur_le32(&w, 0x66778899u);
	wcur_be32(&w, 0xaabbccddu);
	wcur_bytes(&w, "xy", 2);
	wcur_fill(&w, 0xee, 3);
	static const uint8_t want[] = { 0x11, 0x33, 0x22, 0x44, 0x55, 0x99, 0x88, 0x77, 0x66,
	                                0xaa, 0xbb, 0xcc, 0xdd, 'x', 'y', 0xee, 0xee, 0xee };
	assert_true(wcur_ok(&w));
	assert_int_equal(wcur_len(&w), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(wcur_room(&w), sizeof(buf) - sizeof(want));
	uint8_t *p = wcur_claim(&w, 2);
	assert_ptr_equal(p, buf + sizeof(want));
	wcur_bytes(&w, NULL, 0);
	wcur_fill(&w, 0, 0);
	assert_true(wcur_ok(&w));
}

static void test_writer_overflow_sticky(void **state)
{
	uint8_t buf[6];
	memset(buf, 0x5a, sizeof(buf));
	struct wcur w = wcur_make(buf, 4);
	wcur_le16(&w, 0x0102);
	wcur_le32(&w, 0xffffffffu);      /* does not fit: nothing written */
	assert_false(wcur_ok(&w));
	assert_int_equal(wcur_len(&w), 2);
	assert_int_equal(wcur_room(&w), 0);
	assert_int_equal(buf[2], 0x5a);
	wcur_u8(&w, 1);                  /* would fit, but the error sticks */
	assert_int_equal(buf[2], 0x5a);
	assert_int_equal(wcur_len(&w), 2);
	assert_null(wcur_claim(&w, 1));
	/* each writer alone fails at the edge */
	w = wcur_make(buf, 3);
	wcur_be32(&w, 1);
	assert_false(wcur_ok(&w));
	w = wcur_make(buf, 1);
	wcur_be16(&w, 1);
	assert_false(wcur_ok(&w));
	w = wcur_make(buf, 0);
	wcur_u8(&w, 1);
	assert_false(wcur_ok(&w));
	w = wcur_make(buf, 2);
	wcur_bytes(&w, "abc", 3);
	assert_false(wcur_ok(&w));
	assert_int_equal(buf[4], 0x5a); /* buf beyond cap never touched */
}

static void test_reserve_and_patch(void **state)
{
	uint8_t buf[8];
	memset(buf, 0xff, sizeof(buf));
	struct wcur w = wcur_make(buf, sizeof(buf));
	wcur_u8(&w, 0xab);
	size_t at = wcur_reserve(&w, 2);
	assert_int_equal(at, 1);
	assert_int_equal(buf[1], 0);       /* reserved bytes are zeroed */
	assert_int_equal(buf[2], 0);
	size_t t = wcur_reserve(&w, 1);
	wcur_u8(&w, 0xcd);
	wcur_patch_le16(&w, at, 0x1234);
	wcur_patch_u8(&w, t, 0x77);
	assert_true(wcur_ok(&w));
	static const uint8_t want[] = { 0xab, 0x34, 0x12, 0x77, 0xcd };
	assert_memory_equal(buf, want, sizeof(want));
	/* patching beyond what was written is an error */
	wcur_patch_u8(&w, 5, 1);
	assert_false(wcur_ok(&w));
	w = wcur_make(buf, sizeof(buf));
	wcur_u8(&w, 0);
	wcur_patch_le16(&w, 0, 1);         /* needs 2 written bytes at 0 */
	assert_false(wcur_ok(&w));
	w = wcur_make(buf, sizeof(buf));
	wcur_u8(&w, 0);
	wcur_patch_le16(&w, SIZE_MAX, 1);
	assert_false(wcur_ok(&w));
	/* reserve without room: 0 and the error */
	w = wcur_make(buf, 2);
	wcur_u8(&w, 0);
	assert_int_equal(wcur_reserve(&w, 2), 0);
	assert_false(wcur_ok(&w));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_readers_byte_order),
		cmocka_unit_test(test_bytes_view_rest),
		cmocka_unit_test(test_short_read_is_sticky),
		cmocka_unit_test(test_no_wrap_on_huge_n),
		cmocka_unit_test(test_sub_cursor),
		cmocka_unit_test(test_writers),
		cmocka_unit_test(test_writer_overflow_sticky),
		cmocka_unit_test(test_reserve_and_patch),
	};
	return cmocka_run_group_tests_name("cursor", tests, NULL, NULL);
}
