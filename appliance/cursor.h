/*
 * cursor.h - the one bounded reader and writer for wire formats.
 *
 * No other file does length arithmetic on packet bytes. A reader remembers
 * the first short read in a sticky flag: after that every read yields zero
 * or an empty view, so a parser reads its fields in spec order and checks
 * cur_ok() once at the end. Bounds are tested as "n > len - off", never as
 * "off + n > len", so no sum can wrap.
 */
#ifndef METALBMC_CURSOR_H
#define METALBMC_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cur {
	const uint8_t *base;
	size_t len;
	size_t off;
	bool err;
};

static inline struct cur cur_make(const void *base, size_t len)
{
	struct cur c = { .base = base, .len = len, .off = 0, .err = false };
	return c;
}

uint8_t cur_u8(struct cur *c);
uint16_t cur_le16(struct cur *c);
uint32_t cur_le32(struct cur *c);
uint16_t cur_be16(struct cur *c);
uint32_t cur_be32(struct cur *c);
/* Copy n bytes out; on a short read dst is zero-filled. */
void cur_bytes(struct cur *c, void *dst, size_t n);
/* Borrow n bytes (valid while the underlying buffer lives); NULL if short. */
const uint8_t *cur_view(struct cur *c, size_t n);
/* A child cursor over the next n bytes; the parent advances past them. */
struct cur cur_sub(struct cur *c, size_t n);
void cur_skip(struct cur *c, size_t n);

static inline size_t cur_remaining(const struct cur *c)
{
	return c->err ? 0 : c->len - c->off;
}
static inline bool cur_ok(const struct cur *c) { return !c->err; }
/* True when no error occurred and every byte was consumed. */
static inline bool cur_done(const struct cur *c)
{
	return !c->err && c->off == c->len;
}
/* Borrow whatever is left. */
const uint8_t *cur_rest(struct cur *c, size_t *n);

/* Writer into a caller's fixed buffer, with the same sticky error. */
struct wcur {
	uint8_t *base;
	size_t cap;
	size_t off;
	bool err;
};

static inline struct wcur wcur_make(void *base, size_t cap)
{
	struct wcur w = { .base = base, .cap = cap, .off = 0, .err = false };
	return w;
}

void wcur_u8(struct wcur *w, uint8_t v);
void wcur_le16(struct wcur *w, uint16_t v);
void wcur_le32(struct wcur *w, uint32_t v);
void wcur_be16(struct wcur *w, uint16_t v);
void wcur_be32(struct wcur *w, uint32_t v);
void wcur_bytes(struct wcur *w, const void *src, size_t n);
void wcur_fill(struct wcur *w, uint8_t v, size_t n);
/* Reserve n bytes to fill later; returns their offset (or 0 with err set). */
size_t wcur_reserve(struct wcur *w, size_t n);
/* Pointer to n writable bytes at the end, then advance; NULL if no room. */
uint8_t *wcur_claim(struct wcur *w, size_t n);
void wcur_patch_u8(struct wcur *w, size_t at, uint8_t v);
void wcur_patch_le16(struct wcur *w, size_t at, uint16_t v);
static inline bool wcur_ok(const struct wcur *w) { return !w->err; }
static inline size_t wcur_len(const struct wcur *w) { return w->off; }
static inline size_t wcur_room(const struct wcur *w)
{
	return w->err ? 0 : w->cap - w->off;
}

#endif
