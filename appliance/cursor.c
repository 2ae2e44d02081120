/*
 * cursor.c - bounded reader and writer; see cursor.h for the rules.
 */
#include "cursor.h"

#include <string.h>

/* Returns a pointer to n readable bytes and advances, or NULL and sets the
 * sticky error. The single place where reads are bounds-checked. */
static const uint8_t *take(struct cur *c, size_t n)
{
	if (c->err || n > c->len - c->off) {
		c->err = true;
		return NULL;
	}
	const uint8_t *p = c->base + c->off;
	c->off += n;
	return p;
}

uint8_t cur_u8(struct cur *c)
{
	const uint8_t *p = take(c, 1);
	return p ? p[0] : 0;
}

uint16_t cur_le16(struct cur *c)
{
	const uint8_t *p = take(c, 2);
	return p ? (uint16_t)(p[0] | p[1] << 8) : 0;
}

uint32_t cur_le32(struct cur *c)
{
	const uint8_t *p = take(c, 4);
	return p ? (uint32_t)p[0] | (uint32_t)p[1] << 8 |
	           (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24 : 0;
}

uint16_t cur_be16(struct cur *c)
{
	const uint8_t *p = take(c, 2);
	return p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

uint32_t cur_be32(struct cur *c)
{
	const uint8_t *p = take(c, 4);
	return p ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	           (uint32_t)p[2] << 8 | (uint32_t)p[3] : 0;
}

void cur_bytes(struct cur *c, void *dst, size_t n)
{
	const uint8_t *p = take(c, n);
	if (p)
		memcpy(dst, p, n);
	else if (n)
		memset(dst, 0, n);
}

const uint8_t *cur_view(struct cur *c, size_t n)
{
	return take(c, n);
}

struct cur cur_sub(struct cur *c, size_t n)
{
	const uint8_t *p = take(c, n);
	struct cur s = cur_make(p, p ? n : 0);
	s.err = p == NULL;
	return s;
}

void cur_skip(struct cur *c, size_t n)
{
	(void)take(c, n);
}

const uint8_t *cur_rest(struct cur *c, size_t *n)
{
	*n = cur_remaining(c);
	return take(c, *n);
}

static uint8_t *put(struct wcur *w, size_t n)
{
	if (w->err || n > w->cap - w->off) {
		w->err = true;
		return NULL;
	}
	uint8_t *p = w->base + w->off;
	w->off += n;
	return p;
}

void wcur_u8(struct wcur *w, uint8_t v)
{
	uint8_t *p = put(w, 1);
	if (p)
		p[0] = v;
}

void wcur_le16(struct wcur *w, uint16_t v)
{
	uint8_t *p = put(w, 2);
	if (p) {
		p[0] = (uint8_t)v;
		p[1] = (uint8_t)(v >> 8);
	}
}

void wcur_le32(struct wcur *w, uint32_t v)
{
	uint8_t *p = put(w, 4);
	if (p)
		for (int i = 0; i < 4; i++)
			p[i] = (uint8_t)(v >> (8 * i));
}

void wcur_be16(struct wcur *w, uint16_t v)
{
	uint8_t *p = put(w, 2);
	if (p) {
		p[0] = (uint8_t)(v >> 8);
		p[1] = (uint8_t)v;
	}
}

void wcur_be32(struct wcur *w, uint32_t v)
{
	uint8_t *p = put(w, 4);
	if (p)
		for (int i = 0; i < 4; i++)
			p[i] = (uint8_t)(v >> (24 - 8 * i));
}

void wcur_bytes(struct wcur *w, const void *src, size_t n)
{
	uint8_t *p = put(w, n);
	if (p && n)
		memcpy(p, src, n);
}

void wcur_fill(struct wcur *w, uint8_t v, size_t n)
{
	uint8_t *p = put(w, n);
	if (p && n)
		memset(p, v, n);
}

size_t wcur_reserve(struct wcur *w, size_t n)
{
	size_t at = w->off;
	uint8_t *p = put(w, n);
	if (!p)
		return 0;
	memset(p, 0, n);
	return at;
}

uint8_t *wcur_claim(struct wcur *w, size_t n)
{
	return put(w, n);
}

void wcur_patch_u8(struct wcur *w, size_t at, uint8_t v)
{
	if (w->err || at >= w->off) {
		w->err = true;
		return;
	}
	w->base[at] = v;
}

void wcur_patch_le16(struct wcur *w, size_t at, uint16_t v)
{
	if (w->err || at >= w->off || 2 > w->off - at) {
		w->err = true;
		return;
	}
	w->base[at] = (uint8_t)v;
	w->base[at + 1] = (uint8_t)(v >> 8);
}
