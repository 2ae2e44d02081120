/*
 * escape.h - every dynamic string leaves the web server through here.
 *
 * Host names, user names and audit text come from the Metal API or from
 * the wire, so none of them is trusted: HTML gets entities, JSON and
 * Prometheus get valid UTF-8 with their own escapes, URLs get percent
 * encoding. page.c writes markup only as string literals and sends every
 * other string through esc_html().
 */
#ifndef METALBMC_ESCAPE_H
#define METALBMC_ESCAPE_H

#include <stddef.h>

#include "wbuf.h"

/* HTML text or a double- or single-quoted attribute value: & < > " ' as
 * entities, control characters and invalid UTF-8 as U+FFFD. */
void esc_html(struct wbuf *b, const char *s);
/* One URL path segment or query value: all but A-Z a-z 0-9 - . _ ~ as %XX
 * (the result is also safe inside an HTML attribute). */
void esc_url(struct wbuf *b, const char *s);
/* A Prometheus label value: \\ \" \n escaped, valid UTF-8. */
void esc_prom_label(struct wbuf *b, const char *s);
/* Copies s to out (cap bytes, always terminated) as valid UTF-8 without
 * control characters, for strings handed to jansson (which refuses invalid
 * UTF-8). Returns out. */
char *esc_utf8_clean(const char *s, char *out, size_t cap);

/* Length of the valid UTF-8 sequence starting at s (1..4), or 0 when the
 * bytes there are not one (overlong, surrogate, truncated, > U+10FFFF). */
size_t esc_utf8_len(const unsigned char *s, size_t avail);

#endif
