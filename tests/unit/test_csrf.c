/*
 * test_csrf.c - the admin forms' tokens (web/csrf.c): made for one user at
 * one time, accepted within WEB_CSRF_TTL_S, refused in every other case.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bounds.h"
#include "csrf.h"

static const uint64_t T0 = 1795600000; /* seconds */

static void round_trip(void **state)
{
	struct csrf c;
	char tok[CSRF_TOKEN_MAX];

	(void)state;
	assert_int_equal(csrf_init(&c), 0);
	csrf_make(&c, "admin", T0, tok);
	assert_int_equal(strlen(tok), 16 + 1 + 64);
	assert_true(csrf_check(&c, "admin", tok, T0));
	assert_true(csrf_check(&c, "admin", tok, T0 + WEB_CSRF_TTL_S));
	/* a clock stepped back a little */
	assert_true(csrf_check(&c, "admin", tok, T0 - 30));
	csrf_wipe(&c);
}

static void refusals(void **state)
{
	struct csrf c, other;
	char tok[CSRF_TOKEN_MAX], bad[CSRF_TOKEN_MAX];

	(void)state;
	assert_int_equal(csrf_init(&c), 0);
	assert_int_equal(csrf_init(&other), 0);
	csrf_make(&c, "admin", T0, tok);

	assert_false(csrf_check(&c, "admin", tok, T0 + WEB_CSRF_TTL_S + 1)); /* expired */
	assert_false(csrf_check(&c, "admin", tok, T0 - 3600));  /* from the future */
	assert_false(csrf_check(&c, "admin2", tok, T0));        /* another user */
	assert_false(csrf_check(&other, "admin", tok, T0));     /* another process key */
	assert_false(csrf_check(&c, "admin", NULL, T0));
	assert_false(csrf_check(&c, "admin", "", T0));
	assert_false(csrf_check(&c, "admin", "x", T0));

	/* one flipped hex digit of the MAC */
	memcpy(bad, tok, sizeof(bad));
	bad[40] = bad[40] == '0' ? '1' : '0';
	assert_false(csrf_check(&c, "admin", bad, T0));
	/* a later time stamp with the old MAC */
	memcpy(bad, tok, sizeof(bad));
	bad[15] = bad[15] == 'f' ? 'e' : (char)(bad[15] + 1);
	assert_false(csrf_check(&c, "admin", bad, T0));
	/* upper-case hex, a missing dot, a token one byte short or long */
	memcpy(bad, tok, sizeof(bad));
	bad[16] = '-';
	assert_false(csrf_check(&c, "admin", bad, T0));
	memcpy(bad, tok, sizeof(bad));
	bad[strlen(bad) - 1] = 0;
	assert_false(csrf_check(&c, "admin", bad, T0));
	memcpy(bad, tok, sizeof(bad));
	strcat(bad, "0");
	assert_false(csrf_check(&c, "admin", bad, T0));
	memcpy(bad, tok, sizeof(bad));
	bad[0] = 'X';
	assert_false(csrf_check(&c, "admin", bad, T0));
	csrf_wipe(&c);
	csrf_wipe(&other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
