/*
 * wbuf.h - a growable text buffer with a hard ceiling (curl's dynbuf
 * "toobig" idea): every page, JSON document and metrics exposition is built
 * in one, and an append past the ceiling fails instead of eating memory.
 *
 * Errors are sticky, like the wire cursor's: a builder appends freely and
 * checks wbuf_ok() once at the end.
 */
#ifndef METALBMC_WBUF_H
#define METALBMC_WBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct wbuf {
	char *data;     /* NUL-terminated while ok */
	size_t len;
	size_t cap;     /* allocated */
	size_t max;     /* ceiling for len, in bytes */
	bool failed;    /* over the ceiling or out of memory */
	bool wipe;      /* holds a secret: wipe every block given back */
};

void wbuf_init(struct wbuf *b, size_t max);
void wbuf_free(struct wbuf *b);
static inline bool wbuf_ok(const struct wbuf *b) { return !b->failed; }

void wbuf_append(struct wbuf *b, const void *data, size_t n);
void wbuf_puts(struct wbuf *b, const char *s);
void wbuf_printf(struct wbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void wbuf_vprintf(struct wbuf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Hands the bytes to the caller (who frees them); the buffer is empty
 * afterwards. NULL when the buffer failed. */
char *wbuf_take(struct wbuf *b, size_t *len);

#endif
