/*
 * escape.c - HTML, URL, Prometheus and UTF-8 escaping; see escape.h.
 */
#include "escape.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD in UTF-8 */

size_t esc_utf8_len(const unsigned char *s, size_t avail)
{
	uint32_t cp;
	size_t n;

	if (avail == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n > avail)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* Walks s as UTF-8: runs of bytes that need no change are appended at
 * once; each ASCII byte that may need escaping goes to ascii(); control
 * bytes and anything that is not valid UTF-8 become U+FFFD. special()
 * names the ASCII bytes ascii() must see. */
typedef void (*ascii_fn)(struct wbuf *b, char c);
typedef int (*special_fn)(unsigned char c);

static void walk(struct wbuf *b, const char *s, ascii_fn ascii, special_fn special)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len = strlen(s), i = 0, run = 0;

	while (i < len) {
		size_t n = u[i] < 0x80 ? 1 : esc_utf8_len(u + i, len - i);
		bool bad = n == 0 || (u[i] < 0x20 && u[i] != '\t' && u[i] != '\n') || u[i] == 0x7f;
		if (!bad && (n > 1 || !special(u[i]))) {
			i += n;
			continue;
		}
		if (i > run)
			wbuf_append(b, u + run, i - run);
		if (bad)
			wbuf_puts(b, REPLACEMENT);
		else
			ascii(b, (char)u[i]);
		i++;
		run = i;
	}
	if (i > run)
		wbuf_append(b, u + run, i - run);
}

static int html_special(unsigned char c)
{
	return c == '&' || c == '<' || c == '>' || c == '"' || c == '\'';
}

static int prom_special(unsigned char c)
{
	return c == '\\' || c == '"' || c == '\n';
}

static void html_ascii(struct wbuf *b, char c)
{
	switch (c) {
	case '&': wbuf_puts(b, "&amp;"); break;
	case '<': wbuf_puts(b, "&lt;"); break;
	case '>': wbuf_puts(b, "&gt;"); break;
	case '"': wbuf_puts(b, "&quot;"); break;
	case '\'': wbuf_puts(b, "&#39;"); break;
	default: wbuf_append(b, &c, 1);
	}
}

void esc_html(struct wbuf *b, const char *s)
{
	walk(b, s ? s : "", html_ascii, html_special);
}

static void prom_ascii(struct wbuf *b, char c)
{
	switch (c) {
	case '\\': wbuf_puts(b, "\\\\"); break;
	case '"': wbuf_puts(b, "\\\""); break;
	case '\n': wbuf_puts(b, "\\n"); break;
	default: wbuf_append(b, &c, 1);
	}
}

void esc_prom_label(struct wbuf *b, const char *s)
{
	walk(b, s ? s : "", prom_ascii, prom_special);
}

void esc_url(struct wbuf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *u = (const unsigned char *)(s ? s : ""); *u; u++) {
		if ((*u >= 'A' && *u <= 'Z') || (*u >= 'a' && *u <= 'z') ||
		    (*u >= '0' && *u <= '9') || *u == '-' || *u == '.' || *u == '_' ||
		    *u == '~') {
			wbuf_append(b, u, 1);
		} else {
			char pct[3] = { '%', hex[*u >> 4], hex[*u & 15] };
			wbuf_append(b, pct, 3);
		}
	}
}

char *esc_utf8_clean(const char *s, char *out, size_t cap)
{
	const unsigned char *u = (const unsigned char *)(s ? s : "");
	size_t len = strlen((const char *)u), i = 0, o = 0;

	if (cap == 0)
		return out;
	while (i < len) {
		size_t n = esc_utf8_len(u + i, len - i);
		const void *src = u + i;
		size_t take = n;
		if (n == 0 || (n == 1 && (u[i] < 0x20 || u[i] == 0x7f) && u[i] != '\t' &&
		               u[i] != '\n')) {
			src = REPLACEMENT;
			take = 3;
			n = 1;
		}
		if (take > cap - 1 - o)
			break; /* never cut a sequence in half */
		memcpy(out + o, src, take);
		o += take;
		i += n;
	}
	out[o] = 0;
	return out;
}
