/*
 * test_web_auth.c - HTTP basic authentication of the web page
 * (web/web_auth.c): header parsing, the credential check, lock-out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "bounds.h"
#include "secret.h"
#include "web_auth.h"

static struct sockaddr_storage v4(const char *ip)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *a = (struct sockaddr_in *)&ss;
	a->sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, ip, &a->sin_addr), 1);
	return ss;
}

#define SA(x) ((const struct sockaddr *)&(x))

static int parse(const char *h, char *u, char *p)
{
	return web_auth_parse_basic(h, u, WEB_AUTH_MAX_USER + 1, p, WEB_AUTH_MAX_PASS + 1);
}

static void parse_good(void **state)
{
	char u[WEB_AUTH_MAX_USER + 1], p[WEB_AUTH_MAX_PASS + 1];

	(void)state;
	/* "admin:s3cret" */
	assert_int_equal(parse("Basic YWRtaW46czNjcmV0", u, p), 0);
	assert_string_equal(u, "admin");
	assert_string_equal(p, "s3cret");
	/* scheme is case-insensitive; extra blanks around the token */
	assert_int_equal(parse("bAsIc \t YWRtaW46czNjcmV0  ", u, p), 0);
	assert_string_equal(p, "s3cret");
	/* the password may hold colons: split at the first one ("a:b:c") */
	assert_int_equal(parse("Basic YTpiOmM=", u, p), 0);
	assert_string_equal(u, "a");
	assert_string_equal(p, "b:c");
	/* empty password ("u:") and empty user (":p") parse; the check refuses */
	assert_int_equal(parse("Basic dTo=", u, p), 0);
	assert_string_equal(p, "");
	assert_int_equal(parse("Basic OnA=", u, p), 0);
	assert_string_equal(u, "");
	/* UTF-8 passes through ("ü:ß") */
	assert_int_equal(parse("Basic w7w6w58=", u, p), 0);
	assert_string_equal(u, "\xc3\xbc");
}

static void parse_bad(void **state)
{
	char u[WEB_AUTH_MAX_USER + 1], p[WEB_AUTH_MAX_PASS + 1];
	char big[WEB_MAX_AUTH_HEADER + 16];

	(void)state;
	assert_int_equal(parse(NULL, u, p), -1);
	assert_int_equal(parse("", u, p), -1);
	assert_int_equal(parse("Bearer YWRtaW46czNjcmV0", u, p), -1);
	assert_int_equal(parse("BasicYWRtaW46czNjcmV0", u, p), -1);
	assert_int_equal(parse("Basic ", u, p), -1);
	assert_int_equal(parse("Basic YWRtaW4", u, p), -1);        /* length not 4n */
	assert_int_equal(parse("Basic YWRtaW4=", u, p), -1);       /* "admin": no colon */
	assert_int_equal(parse("Basic YW*taW46czNjcmV0", u, p), -1);/* not base64 */
	assert_int_equal(parse("Basic YQ==YWFh", u, p), -1);       /* data after padding */
	assert_int_equal(parse("Basic =Q==", u, p), -1);
	assert_int_equal(parse("Basic YQBiOmM=", u, p), -1);       /* "a\0b:c": NUL */
	/* a user name longer than WEB_AUTH_MAX_USER */
	assert_int_equal(parse("Basic YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFh"
	                       "YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYTpw", u, p), -1);
	/* a header past WEB_MAX_AUTH_HEADER */
	memset(big, 'A', sizeof(big) - 1);
	memcpy(big, "Basic ", 6);
	big[sizeof(big) - 1] = 0;
	assert_int_equal(parse(big, u, p), -1);
}

static void check_and_lockout(void **state)
{
	struct secret pw = { 0 };
	struct web_auth *a;
	struct sockaddr_storage me = v4("192.0.2.1"), other = v4("192.0.2.2");
	uint64_t retry = 0, now = 1000;

	(void)state;
	assert_int_equal(secret_set(&pw, "s3cret", 6), 0);
	a = web_auth_new("admin", &pw);
	assert_non_null(a);
	assert_true(web_auth_configured(a));

	assert_int_equal(web_auth_check(a, "Basic YWRtaW46czNjcmV0", SA(me), now, &retry),
	                 WEB_AUTH_OK);
	assert_int_equal(web_auth_check(a, NULL, SA(me), now, &retry), WEB_AUTH_MISSING);
	assert_int_equal(web_auth_check(a, "Basic !!!!", SA(me), now, &retry), WEB_AUTH_MISSING);
	/* "admin:wrong", "root:s3cret", "admin:s3cre", "admin:s3cret " */
	const char *wrong[] = { "Basic YWRtaW46d3Jvbmc=", "Basic cm9vdDpzM2NyZXQ=",
	                        "Basic YWRtaW46czNjcmU=", "Basic YWRtaW46czNjcmV0IA==" };
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(web_auth_check(a, wrong[i], SA(me), now, &retry), WEB_AUTH_WRONG);
	/* missing credentials never count as failures */
	for (int i = 0; i < 20; i++)
		assert_int_equal(web_auth_check(a, NULL, SA(me), now, &retry), WEB_AUTH_MISSING);
	/* failures up to THROTTLE_FAIL_FREE are free; the next one locks */
	for (int i = 4; i < THROTTLE_FAIL_FREE + 1; i++)
		assert_int_equal(web_auth_check(a, wrong[0], SA(me), now, &retry), WEB_AUTH_WRONG);
	assert_int_equal(web_auth_check(a, "Basic YWRtaW46czNjcmV0", SA(me), now, &retry),
	                 WEB_AUTH_LOCKED);
	assert_true(retry > 0 && retry <= 1000);
	/* another source is not affected */
	assert_int_equal(web_auth_check(a, "Basic YWRtaW46czNjcmV0", SA(other), now, &retry),
	                 WEB_AUTH_OK);
	/* after the lock, the right password clears the record */
	now += 1001;
	assert_int_equal(web_auth_check(a, "Basic YWRtaW46czNjcmV0", SA(me), now, &retry),
	                 WEB_AUTH_OK);
	assert_int_equal(web_auth_check(a, wrong[0], SA(me), now, &retry), WEB_AUTH_WRONG);
	web_auth_free(a);
	secret_clear(&pw);
}

static void unconfigured(void **state)
{
	struct secret none = { 0 };
	struct sockaddr_storage me = v4("192.0.2.1");
	uint64_t retry;
	struct web_auth *a = web_auth_new("admin", &none);

	(void)state;
	assert_non_null(a);
	assert_false(web_auth_configured(a));
	/* no password configured: nothing is ever accepted */
	assert_int_equal(web_auth_check(a, "Basic YWRtaW46", SA(me), 0, &retry), WEB_AUTH_MISSING);
	web_auth_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_good),
		cmocka_unit_test(parse_bad),
		cmocka_unit_test(check_and_lockout),
		cmocka_unit_test(unconfigured),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
