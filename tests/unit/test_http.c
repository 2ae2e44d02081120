/*
 * test_http.c - the HTTP client's refusals (discovery/http.c): plain http
 * only to loopback, https otherwise, nothing else; no client for a token
 * that could smuggle a header; a path must stay below the base URL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http.h"
#include "loop.h"

static void url_policy(void **state)
{
	(void)state;
	char why[160];
	static const char *const ok[] = {
		"https://api.equinix.com/metal/v1",
		"https://10.0.0.1:8443/metal/v1",
		"http://127.0.0.1:4000/metal/v1",
		"http://127.1.2.3/metal/v1",
		"http://localhost:4000/metal/v1",
		"http://[::1]:4000/metal/v1",
		"HTTPS://API.EQUINIX.COM/metal/v1",
	};
	static const char *const bad[] = {
		"http://api.equinix.com/metal/v1",
		"http://10.0.0.1/metal/v1",
		"http://128.0.0.1/metal/v1",
		"http://[::2]/metal/v1",
		"http://localhost.example.com/metal/v1",
		"http://127.0.0.1.nip.io/metal/v1",
		"ftp://127.0.0.1/metal/v1",
		"file:///etc/passwd",
		"gopher://127.0.0.1/",
		"not a url",
		"",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (!http_url_allowed(ok[i], why, sizeof(why)))
			fail_msg("%s refused: %s", ok[i], why);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (http_url_allowed(bad[i], why, sizeof(why)))
			fail_msg("%s allowed", bad[i]);
}

static void client_refusals(void **state)
{
	(void)state;
	char why[160];
	struct loop *l = loop_new();
	struct secret tok = { 0 };
	assert_non_null(l);

	/* No token, or one that would break out of its header line. */
	assert_null(http_client_new(l, "http://127.0.0.1:1/metal/v1", &tok, "", why, sizeof(why)));
	secret_set(&tok, "abc\r\nX-Evil: 1", 14);
	assert_null(http_client_new(l, "http://127.0.0.1:1/metal/v1", &tok, "", why, sizeof(why)));
	assert_non_null(strstr(why, "token"));
	secret_set(&tok, "with space", 10);
	assert_null(http_client_new(l, "http://127.0.0.1:1/metal/v1", &tok, "", why, sizeof(why)));
	secret_set(&tok, "good-token-123", 14);
	assert_null(http_client_new(l, "http://192.0.2.1/metal/v1", &tok, "", why, sizeof(why)));
	assert_non_null(strstr(why, "loopback"));

	struct http_client *c = http_client_new(l, "http://127.0.0.1:1/metal/v1/", &tok, "",
	                                        why, sizeof(why));
	assert_non_null(c);
	/* Paths stay below the base: no scheme, no host, no absolute URL. */
	assert_null(http_start(c, HTTP_GET, "devices", NULL, 1000, 0, NULL, NULL, why, sizeof(why)));
	assert_null(http_start(c, HTTP_GET, "", NULL, 1000, 0, NULL, NULL, why, sizeof(why)));
	http_client_free(c);
	secret_clear(&tok);
	loop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(url_policy),
		cmocka_unit_test(client_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
