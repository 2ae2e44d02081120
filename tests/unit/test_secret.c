/*
 * test_secret.c - secret_random() of appliance/secret.c: small requests come
 * from a per-thread pool refilled from getrandom(), and no byte of it is ever
 * handed out twice (not across refills, not to two threads, not to a forked
 * child and its parent). The constant-time compares (secret_ct_equal,
 * secret_equals) and secret_wipe give the right answers.
 *
 * The checks compare 16-byte draws: two equal draws from a working CSPRNG
 * have probability 2^-128, so any equality is a served-twice bug.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "secret.h"

#define DRAWS 200 /* 16-byte draws: several refills of the pool */

static int cmp16(const void *a, const void *b) { return memcmp(a, b, 16); }

/* True when some two of the n 16-byte blocks at p are equal. */
static bool any_repeat(uint8_t (*p)[16], size_t n)
{
	qsort(p, n, 16, cmp16);
	for (size_t i = 1; i < n; i++)
		if (memcmp(p[i - 1], p[i], 16) == 0)
			return true;
	return false;
}

static void test_draws_never_repeat(void **state)
{
	static uint8_t got[DRAWS][16];
	(void)state;
	for (size_t i = 0; i < DRAWS; i++)
		assert_int_equal(secret_random(got[i], 16), 0);
	assert_false(any_repeat(got, DRAWS));
}

static void test_odd_sizes_do_not_overlap(void **state)
{
	/* 4-byte and 16-byte draws interleaved, as session IDs and IVs are: no
	 * 4-byte draw may reappear inside the 16-byte draws around it. (A
	 * chance match is 2^-32 per place looked at, about 5,000 places.) */
	static uint8_t got[DRAWS][16];
	uint8_t id[DRAWS][4];
	(void)state;
	for (size_t i = 0; i < DRAWS; i++) {
		assert_int_equal(secret_random(id[i], 4), 0);
		assert_int_equal(secret_random(got[i], 16), 0);
	}
	for (size_t i = 0; i < DRAWS; i++)
		for (size_t j = i ? i - 1 : 0; j <= i; j++)
			assert_null(memmem(got[j], 16, id[i], 4));
	assert_false(any_repeat(got, DRAWS));
}

static void test_large_request(void **state)
{
	uint8_t a[4096], b[4096], zero[64] = { 0 };
	(void)state;
	assert_int_equal(secret_random(a, sizeof(a)), 0);
	assert_int_equal(secret_random(b, sizeof(b)), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_memory_not_equal(a + sizeof(a) - 64, zero, 64); /* filled to the end */
}

static void *thread_draws(void *arg)
{
	uint8_t (*out)[16] = arg;
	for (size_t i = 0; i < DRAWS; i++)
		if (secret_random(out[i], 16) < 0)
			return (void *)1;
	return NULL;
}

static void test_threads_get_different_bytes(void **state)
{
	static uint8_t got[2 * DRAWS][16];
	pthread_t t;
	void *rc = (void *)1;
	(void)state;
	assert_int_equal(pthread_create(&t, NULL, thread_draws, got + DRAWS), 0);
	assert_null(thread_draws(got));
	assert_int_equal(pthread_join(t, &rc), 0);
	assert_null(rc);
	assert_false(any_repeat(got, 2 * DRAWS));
}

static void test_fork_child_gets_different_bytes(void **state)
{
	/* The parent's pool is warm; the child must not hand out the bytes the
	 * parent will hand out next. */
	uint8_t warm[16], parent[16], child[16];
	int fds[2], status = 0;
	(void)state;
	assert_int_equal(secret_random(warm, sizeof(warm)), 0);
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		uint8_t b[16];
		int ok = secret_random(b, sizeof(b)) == 0 &&
		         write(fds[1], b, sizeof(b)) == (ssize_t)sizeof(b);
		_exit(ok ? 0 : 1);
	}
	assert_int_equal(secret_random(parent, sizeof(parent)), 0);
	assert_int_equal(read(fds[0], child, sizeof(child)), (ssize_t)sizeof(child));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(fds[0]);
	close(fds[1]);
	assert_memory_not_equal(parent, child, sizeof(parent));
}

/* The IPMI password fields: cut to the field, zero padded, empty when unset. */
static void test_to_field(void **state)
{
	struct secret s = { 0 };
	uint8_t f[20];

	memset(f, 0xaa, sizeof(f));
	secret_to_field(&s, f, sizeof(f));
	for (size_t i = 0; i < sizeof(f); i++)
		assert_int_equal(f[i], 0);
	assert_int_equal(secret_set(&s, "short", 5), 0);
	memset(f, 0xaa, sizeof(f));
	secret_to_field(&s, f, 16);
	assert_memory_equal(f, "short\0\0\0\0\0\0\0\0\0\0\0", 16);
	assert_int_equal(f[16], 0xaa); /* nothing past the field */
	assert_int_equal(secret_set(&s, "0123456789abcdefXYZW-too-long", 29), 0);
	secret_to_field(&s, f, 20);
	assert_memory_equal(f, "0123456789abcdefXYZW", 20);
	secret_clear(&s);
}

/* secret_ct_equal: equal only when every byte is; a difference in any
 * single bit of any byte (first, middle, last) is seen; bytes past n are
 * not compared; n = 0 is equal. */
static void test_ct_equal(void **state)
{
	uint8_t a[48], b[48];

	(void)state;
	for (size_t i = 0; i < sizeof(a); i++)
		a[i] = (uint8_t)(i * 37 + 11);
	memcpy(b, a, sizeof(b));
	assert_true(secret_ct_equal(a, b, sizeof(a)));
	for (size_t i = 0; i < sizeof(a); i++) {
		for (unsigned bit = 0; bit < 8; bit++) {
			b[i] ^= (uint8_t)(1u << bit);
			assert_false(secret_ct_equal(a, b, sizeof(a)));
			assert_true(secret_ct_equal(a, b, i)); /* the prefix before it */
			b[i] ^= (uint8_t)(1u << bit);
		}
	}
	b[47] ^= 0xff;
	assert_true(secret_ct_equal(a, b, 47));
	assert_false(secret_ct_equal(a, b, 48));
	assert_true(secret_ct_equal(a, b, 0));
}

/* secret_equals: the whole secret and nothing else, never an unset one. */
static void test_secret_equals(void **state)
{
	struct secret s = { 0 };

	(void)state;
	assert_false(secret_equals(&s, "", 0));       /* unset matches nothing */
	assert_int_equal(secret_set(&s, "hunter2-Zq9", 11), 0);
	assert_true(secret_equals(&s, "hunter2-Zq9", 11));
	assert_false(secret_equals(&s, "hunter2-Zq8", 11)); /* last byte */
	assert_false(secret_equals(&s, "Hunter2-Zq9", 11)); /* first byte */
	assert_false(secret_equals(&s, "hunter2-Zq", 10));  /* a prefix */
	assert_false(secret_equals(&s, "hunter2-Zq9!", 12)); /* longer */
	assert_false(secret_equals(&s, "", 0));
	assert_int_equal(secret_set(&s, "", 0), 0);
	assert_true(secret_equals(&s, "", 0));        /* set, empty */
	assert_false(secret_equals(&s, "x", 1));
	secret_clear(&s);
	assert_false(secret_equals(&s, "", 0));
}

/* secret_wipe zeroes exactly the bytes it is given. */
static void test_wipe(void **state)
{
	uint8_t k[32];

	(void)state;
	memset(k, 0xa5, sizeof(k));
	secret_wipe(k + 1, 30);
	assert_int_equal(k[0], 0xa5);
	for (size_t i = 1; i < 31; i++)
		assert_int_equal(k[i], 0);
	assert_int_equal(k[31], 0xa5);
	secret_wipe(NULL, 4); /* harmless */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_draws_never_repeat),
		cmocka_unit_test(test_odd_sizes_do_not_overlap),
		cmocka_unit_test(test_large_request),
		cmocka_unit_test(test_threads_get_different_bytes),
		cmocka_unit_test(test_fork_child_gets_different_bytes),
		cmocka_unit_test(test_to_field),
		cmocka_unit_test(test_ct_equal),
		cmocka_unit_test(test_secret_equals),
		cmocka_unit_test(test_wipe),
	};
	return cmocka_run_group_tests_name("secret", tests, NULL, NULL);
}
