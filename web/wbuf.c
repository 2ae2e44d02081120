/*
 * wbuf.c - bounded growable text buffer; see wbuf.h.
 */
#include "wbuf.h"
#include "secret.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void wbuf_init(struct wbuf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void wbuf_free(struct wbuf *b)
{
	if (b->wipe && b->data)
		secret_wipe(b->data, b->cap);
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* Room for n more bytes plus the terminating NUL. */
static bool reserve(struct wbuf *b, size_t n)
{
	if (b->failed)
		return false;
	if (n > b->max - b->len) {
		b->failed = true;
		return false;
	}
	if (b->len + n + 1 <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 1024;
	while (cap < b->len + n + 1)
		cap *= 2;
	/* Not realloc: a buffer holding a secret must not leave an unwiped
	 * copy behind when it moves. */
	char *d = malloc(cap);
	if (!d) {
		b->failed = true;
		return false;
	}
	if (b->data) {
		memcpy(d, b->data, b->len + 1);
		if (b->wipe)
			secret_wipe(b->data, b->cap);
		free(b->data);
	}
	b->data = d;
	b->cap = cap;
	return true;
}

void wbuf_append(struct wbuf *b, const void *data, size_t n)
{
	if (!reserve(b, n))
		return;
	memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = 0;
}

void wbuf_puts(struct wbuf *b, const char *s)
{
	wbuf_append(b, s, strlen(s));
}

void wbuf_vprintf(struct wbuf *b, const char *fmt, va_list ap)
{
	va_list again;
	char small[256];
	int n;

	va_copy(again, ap);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	if (n < 0) {
		b->failed = true;
	} else if ((size_t)n < sizeof(small)) {
		wbuf_append(b, small, (size_t)n);
	} else if (reserve(b, (size_t)n)) {
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, again);
		b->len += (size_t)n;
	}
	va_end(again);
}

void wbuf_printf(struct wbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	wbuf_vprintf(b, fmt, ap);
	va_end(ap);
}

char *wbuf_take(struct wbuf *b, size_t *len)
{
	char *d;

	if (b->failed) {
		wbuf_free(b);
		return NULL;
	}
	if (!b->data && !reserve(b, 0))
		return NULL;
	if (!b->data) /* reserve(0) on an empty buffer allocates */
		return NULL;
	b->data[b->len] = 0;
	d = b->data;
	*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return d;
}
