/*
 * test_web_form.c - reading the admin forms' bodies
 * (application/x-www-form-urlencoded, web/admin.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "web_priv.h"

static int get(const char *body, const char *key, char *out, size_t cap)
{
	return admin_form_value(body, strlen(body), key, out, cap);
}

static void values(void **state)
{
	char v[64];

	(void)state;
	assert_int_equal(get("csrf=abc.123", "csrf", v, sizeof(v)), 1);
	assert_string_equal(v, "abc.123");
	assert_int_equal(get("a=1&csrf=x%2By+z&b=2", "csrf", v, sizeof(v)), 1);
	assert_string_equal(v, "x+y z");
	assert_int_equal(get("csrf=", "csrf", v, sizeof(v)), 1);
	assert_string_equal(v, "");
	assert_int_equal(get("a=1&b=2", "csrf", v, sizeof(v)), 0);
	assert_int_equal(get("", "csrf", v, sizeof(v)), 0);
	assert_int_equal(get("csrf", "csrf", v, sizeof(v)), 0);   /* no '=' */
	assert_int_equal(get("csrfx=1", "csrf", v, sizeof(v)), 0);
	assert_int_equal(get("c%73rf=ok", "csrf", v, sizeof(v)), 1); /* encoded name */
	assert_string_equal(v, "ok");
}

static void malformed(void **state)
{
	char v[8];

	(void)state;
	assert_int_equal(get("csrf=%zz", "csrf", v, sizeof(v)), -1);
	assert_int_equal(get("csrf=%4", "csrf", v, sizeof(v)), -1);
	assert_int_equal(get("csrf=%00", "csrf", v, sizeof(v)), -1);       /* NUL */
	assert_int_equal(get("csrf=12345678", "csrf", v, sizeof(v)), -1);  /* too long */
	assert_int_equal(get("csrf=a&csrf=b", "csrf", v, sizeof(v)), -1);  /* twice */
	assert_int_equal(get("x=%g0&csrf=a", "csrf", v, sizeof(v)), -1);   /* bad elsewhere */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(values),
		cmocka_unit_test(malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
