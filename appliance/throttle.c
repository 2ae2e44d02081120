/*
 * throttle.c - token buckets and lock-outs per source, in a fixed-size
 * table. When the table is full the least recently seen entry is reused,
 * preferring entries that hold no lock, so a spoofing flood recycles its
 * own entries rather than freeing a locked attacker.
 */
#include "throttle.h"
#include "bounds.h"
#include "fnv.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#define PROBE 8 /* slots examined per lookup */

struct entry {
	uint64_t key;
	uint64_t last_ms;      /* last refill / touch */
	uint64_t locked_until; /* monotonic ms */
	uint32_t tokens_milli; /* tokens * 1000 */
	uint16_t fails;
	bool used;
};

struct throttle {
	struct entry slots[THROTTLE_SLOTS];
	uint64_t seed;         /* so a remote party cannot aim at one slot */
	uint32_t per_s;
	uint32_t burst_milli;
};

struct throttle *throttle_new(unsigned per_s, unsigned burst)
{
	struct throttle *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	if (RAND_bytes((unsigned char *)&t->seed, sizeof(t->seed)) != 1)
		t->seed = (uint64_t)(uintptr_t)t ^ 0x9E3779B97F4A7C15ull;
	t->per_s = per_s ? per_s : 1;
	t->burst_milli = (burst ? burst : 1) * 1000u;
	return t;
}

void throttle_free(struct throttle *t) { free(t); }

void throttle_reset(struct throttle *t)
{
	memset(t->slots, 0, sizeof(t->slots));
}

uint64_t throttle_source_key(const struct sockaddr *sa)
{
	uint8_t b[16];
	size_t n = 0;

	if (sa->sa_family == AF_INET) {
		memcpy(b, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		n = 4;
	} else if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a)) {
			memcpy(b, a->s6_addr + 12, 4);
			n = 4;
		} else {
			memcpy(b, a->s6_addr, 8); /* one /64 is one source */
			n = 8;
		}
	}
	return fnv1a(FNV1A_INIT, b, n) ^ (uint64_t)n;
}

static struct entry *lookup(struct throttle *t, const struct sockaddr *sa,
                            uint64_t now_ms, bool create)
{
	uint64_t key = throttle_source_key(sa);
	uint64_t h = (key ^ t->seed) * 0x9E3779B97F4A7C15ull;
	size_t base = (size_t)(h >> 32) % THROTTLE_SLOTS;
	struct entry *victim = NULL;

	for (size_t i = 0; i < PROBE; i++) {
		struct entry *e = &t->slots[(base + i) % THROTTLE_SLOTS];
		if (e->used && e->key == key)
			return e;
		if (!create)
			continue;
		if (!e->used) {
			if (!victim || victim->used)
				victim = e;
			continue;
		}
		if (victim && !victim->used)
			continue;
		bool e_locked = e->locked_until > now_ms;
		bool v_locked = victim && victim->locked_until > now_ms;
		if (!victim || (v_locked && !e_locked) ||
		    (v_locked == e_locked && e->last_ms < victim->last_ms))
			victim = e;
	}
	if (!create || !victim)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	victim->used = true;
	victim->key = key;
	victim->last_ms = now_ms;
	victim->tokens_milli = t->burst_milli;
	return victim;
}

static void refill(const struct throttle *t, struct entry *e, uint64_t now_ms)
{
	if (now_ms > e->last_ms) {
		uint64_t add = (now_ms - e->last_ms) * t->per_s;
		uint64_t tok = e->tokens_milli + add;
		e->tokens_milli = tok > t->burst_milli ? t->burst_milli : (uint32_t)tok;
		e->last_ms = now_ms;
	}
}

enum throttle_verdict throttle_setup(struct throttle *t, const struct sockaddr *sa,
                                     uint64_t now_ms)
{
	struct entry *e = lookup(t, sa, now_ms, true);
	if (!e)
		return THROTTLE_RATE;
	refill(t, e, now_ms);
	if (e->locked_until > now_ms)
		return THROTTLE_LOCKED;
	if (e->tokens_milli < 1000)
		return THROTTLE_RATE;
	e->tokens_milli -= 1000;
	return THROTTLE_OK;
}

uint64_t throttle_fail(struct throttle *t, const struct sockaddr *sa, uint64_t now_ms)
{
	struct entry *e = lookup(t, sa, now_ms, true);
	if (!e)
		return 0;
	if (e->fails < UINT16_MAX)
		e->fails++;
	if (e->fails > THROTTLE_FAIL_FREE) {
		/* 1 s after the first excess failure, doubling each time. */
		unsigned shift = e->fails - THROTTLE_FAIL_FREE - 1;
		uint64_t lock = shift >= 16 ? THROTTLE_LOCK_MS_MAX : 1000ull << shift;
		if (lock > THROTTLE_LOCK_MS_MAX)
			lock = THROTTLE_LOCK_MS_MAX;
		e->locked_until = now_ms + lock;
		return lock;
	}
	return 0;
}

void throttle_success(struct throttle *t, const struct sockaddr *sa)
{
	struct entry *e = lookup(t, sa, 0, false);
	if (e) {
		e->fails = 0;
		e->locked_until = 0;
	}
}

uint64_t throttle_locked_for(struct throttle *t, const struct sockaddr *sa,
                             uint64_t now_ms)
{
	struct entry *e = lookup(t, sa, now_ms, false);
	return e && e->locked_until > now_ms ? e->locked_until - now_ms : 0;
}
