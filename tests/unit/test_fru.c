/*
 * test_fru.c - the synthesized FRU image against the Platform Management
 * FRU Information Storage Definition v1.0: common header (section 8),
 * area lengths in multiples of 8 bytes, zero checksums, type/length
 * bytes (section 13) with fields cut at 63 bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fru.h"
#include "persona.h"

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	for (size_t i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

/* Walks an area's type/length fields up to the C1h end marker; returns
 * the fields found, copying field i into out[i]. */
static int fields(const uint8_t *area, size_t len, size_t first, char out[][80], int max)
{
	size_t o = first;
	int n = 0;
	while (o < len && area[o] != 0xC1) {
		assert_int_equal(area[o] & 0xC0, 0xC0); /* 8-bit ASCII + Latin 1 */
		size_t fl = area[o] & 0x3f;
		assert_true(o + 1 + fl <= len);
		if (n < max) {
			memcpy(out[n], area + o + 1, fl);
			out[n][fl] = 0;
		}
		n++;
		o += 1 + fl;
	}
	assert_true(o < len); /* the end marker is inside the area */
	return n;
}

static void check_image(const uint8_t *img, size_t n)
{
	assert_true(n > 8);
	assert_int_equal(n % 8, 0);
	assert_int_equal(img[0], 0x01);
	assert_int_equal(sum(img, 8), 0);
	size_t prev_end = 8;
	for (int a = 2; a <= 4; a++) {
		size_t off = (size_t)img[a] * 8;
		assert_int_equal(off, prev_end);          /* areas back to back */
		const uint8_t *area = img + off;
		size_t len = (size_t)area[1] * 8;
		assert_true(len >= 8);
		assert_true(off + len <= n);
		assert_int_equal(area[0], 0x01);
		assert_int_equal(sum(area, len), 0);       /* area checksum */
		prev_end = off + len;
	}
	assert_int_equal(prev_end, n);
	assert_int_equal(img[5], 0);                   /* no multirecord area */
}

static void test_image_layout(void **state)
{
	struct persona_table *t = persona_table_new();
	struct persona *p = persona_add(t, "0b8f1d7a-1111-4222-8333-944455556666");
	snprintf(p->short_id, sizeof(p->short_id), "0b8f1d7a");
	snprintf(p->hostname, sizeof(p->hostname), "worker-3");
	snprintf(p->plan, sizeof(p->plan), "c3.small.x86");
	snprintf(p->metro, sizeof(p->metro), "da");
	uint8_t img[FRU_MAX];
	size_t n = fru_build(p, img, sizeof(img));
	check_image(img, n);

	char f[8][80];
	const uint8_t *product = img + img[4] * 8;
	int k = fields(product, (size_t)product[1] * 8, 3, f, 8);
	assert_int_equal(k, 7);
	assert_string_equal(f[0], "Equinix Metal");
	assert_string_equal(f[1], "c3.small.x86");
	assert_string_equal(f[3], "da");
	assert_string_equal(f[4], "0b8f1d7a-1111-4222-8333-944455556666");
	assert_string_equal(f[5], "worker-3");
	const uint8_t *board = img + img[3] * 8;
	k = fields(board, (size_t)board[1] * 8, 6, f, 8);
	assert_int_equal(k, 5);
	assert_string_equal(f[2], "0b8f1d7a");
	const uint8_t *chassis = img + img[2] * 8;
	assert_int_equal(chassis[2], 0x17);
	persona_table_free(t);
}

static void test_long_fields_truncated(void **state)
{
	struct persona_table *t = persona_table_new();
	struct persona *p = persona_add(t, "d");
	memset(p->hostname, 'h', 100);
	p->hostname[100] = 0;
	memset(p->plan, 'p', sizeof(p->plan) - 1);
	uint8_t img[FRU_MAX];
	size_t n = fru_build(p, img, sizeof(img));
	check_image(img, n);
	char f[8][80];
	const uint8_t *product = img + img[4] * 8;
	fields(product, (size_t)product[1] * 8, 3, f, 8);
	assert_int_equal(strlen(f[5]), 63);
	assert_int_equal(f[5][62], 'h');
	/* the one-character device ID must not end the area early: C1h is
	 * the end-of-fields marker, never a field's type/length byte */
	assert_string_equal(f[4], "d ");
	assert_int_equal(fields(product, (size_t)product[1] * 8, 3, f, 8), 7);
	persona_table_free(t);
}

static void test_empty_fields_and_small_buffer(void **state)
{
	struct persona_table *t = persona_table_new();
	struct persona *p = persona_add(t, "");
	uint8_t img[FRU_MAX];
	size_t n = fru_build(p, img, sizeof(img));
	check_image(img, n);
	/* a buffer too small for the image: 0, never an overrun */
	for (size_t cap = 0; cap < n; cap++) {
		uint8_t *b = malloc(cap ? cap : 1);
		assert_int_equal(fru_build(p, b, cap), 0);
		free(b);
	}
	persona_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_image_layout),
		cmocka_unit_test(test_long_fields_truncated),
		cmocka_unit_test(test_empty_fields_and_small_buffer),
	};
	return cmocka_run_group_tests_name("fru", tests, NULL, NULL);
}
