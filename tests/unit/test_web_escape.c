/*
 * test_web_escape.c - the escaping helpers every dynamic string of the web
 * page, the JSON API and /metrics goes through (web/escape.c), and the
 * bounded buffer they write into (web/wbuf.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "escape.h"
#include "wbuf.h"

typedef void (*esc_fn)(struct wbuf *, const char *);

static void expect_esc(esc_fn fn, const char *in, const char *want)
{
	struct wbuf b;
	wbuf_init(&b, 4096);
	fn(&b, in);
	assert_true(wbuf_ok(&b));
	assert_string_equal(b.data ? b.data : "", want);
	wbuf_free(&b);
}

static void html_specials(void **state)
{
	(void)state;
	expect_esc(esc_html, "<script>alert('x')</script>",
	           "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
	expect_esc(esc_html, "a&b \"q\"", "a&amp;b &quot;q&quot;");
	expect_esc(esc_html, "\" onmouseover=\"x", "&quot; onmouseover=&quot;x");
	expect_esc(esc_html, "plain-host_01.example", "plain-host_01.example");
	expect_esc(esc_html, "", "");
	expect_esc(esc_html, NULL, "");
}

static void html_utf8_and_controls(void **state)
{
	(void)state;
	/* valid multi-byte text passes unchanged */
	expect_esc(esc_html, "gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x96\xa5",
	           "gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x96\xa5");
	/* control characters, a lone continuation byte, an overlong '<' and a
	 * UTF-16 surrogate each become U+FFFD */
	expect_esc(esc_html, "a\x01" "b", "a\xef\xbf\xbd" "b");
	expect_esc(esc_html, "\x80", "\xef\xbf\xbd");
	expect_esc(esc_html, "\xc0\xbc", "\xef\xbf\xbd\xef\xbf\xbd");
	expect_esc(esc_html, "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	expect_esc(esc_html, "\x1b[31m", "\xef\xbf\xbd[31m");
	/* a truncated sequence at the end */
	expect_esc(esc_html, "x\xe2\x82", "x\xef\xbf\xbd\xef\xbf\xbd");
}

static void url_segments(void **state)
{
	(void)state;
	expect_esc(esc_url, "1a2b-3c4d_x.y~z", "1a2b-3c4d_x.y~z");
	expect_esc(esc_url, "a/b?c#d e", "a%2Fb%3Fc%23d%20e");
	expect_esc(esc_url, "\"><img>", "%22%3E%3Cimg%3E");
	expect_esc(esc_url, "\xc3\xbc", "%C3%BC");
}

static void prometheus_labels(void **state)
{
	(void)state;
	expect_esc(esc_prom_label, "get_device_id", "get_device_id");
	expect_esc(esc_prom_label, "a\"b\\c\nd", "a\\\"b\\\\c\\nd");
	expect_esc(esc_prom_label, "\xff", "\xef\xbf\xbd");
}

static void utf8_clean_for_json(void **state)
{
	char out[16];

	(void)state;
	assert_string_equal(esc_utf8_clean("ok", out, sizeof(out)), "ok");
	assert_string_equal(esc_utf8_clean("a\xff" "b", out, sizeof(out)), "a\xef\xbf\xbd" "b");
	/* never cuts a sequence: 5 x 3-byte euro signs do not fit 16 bytes */
	esc_utf8_clean("\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac",
	               out, sizeof(out));
	assert_int_equal(strlen(out), 15);
	assert_int_equal(esc_utf8_len((const unsigned char *)out + 12, 3), 3);
	assert_string_equal(esc_utf8_clean(NULL, out, sizeof(out)), "");
}

static void utf8_lengths(void **state)
{
	(void)state;
	assert_int_equal(esc_utf8_len((const unsigned char *)"A", 1), 1);
	assert_int_equal(esc_utf8_len((const unsigned char *)"\xc3\xbc", 2), 2);
	assert_int_equal(esc_utf8_len((const unsigned char *)"\xc3\xbc", 1), 0);
	assert_int_equal(esc_utf8_len((const unsigned char *)"\xf4\x90\x80\x80", 4), 0);
	assert_int_equal(esc_utf8_len((const unsigned char *)"\xe0\x80\x80", 3), 0);
	assert_int_equal(esc_utf8_len((const unsigned char *)"\xf0\x9f\x98\x80", 4), 4);
}

static void wbuf_ceiling(void **state)
{
	struct wbuf b;
	size_t len = 0;
	char *d;

	(void)state;
	wbuf_init(&b, 10);
	wbuf_puts(&b, "0123456789");
	assert_true(wbuf_ok(&b));
	wbuf_puts(&b, "x"); /* one past the ceiling: sticky failure */
	assert_false(wbuf_ok(&b));
	wbuf_puts(&b, "");
	assert_false(wbuf_ok(&b));
	assert_null(wbuf_take(&b, &len));

	wbuf_init(&b, 1 << 20);
	for (int i = 0; i < 1000; i++)
		wbuf_printf(&b, "%04d,", i);
	assert_true(wbuf_ok(&b));
	d = wbuf_take(&b, &len);
	assert_non_null(d);
	assert_int_equal(len, 5000);
	assert_memory_equal(d + 4995, "0999,", 5);
	free(d);

	/* a long printf goes straight into the buffer */
	wbuf_init(&b, 1 << 20);
	b.wipe = true;
	wbuf_printf(&b, "%0500d", 7);
	assert_true(wbuf_ok(&b));
	assert_int_equal(b.len, 500);
	wbuf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(html_specials),
		cmocka_unit_test(html_utf8_and_controls),
		cmocka_unit_test(url_segments),
		cmocka_unit_test(prometheus_labels),
		cmocka_unit_test(utf8_clean_for_json),
		cmocka_unit_test(utf8_lengths),
		cmocka_unit_test(wbuf_ceiling),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
