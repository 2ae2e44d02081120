/*
 * session.c - session table, sequence windows and the response cache.
 *
 * The table is a fixed array sized from the configured global cap, so a
 * flood can never make it grow. Lookup by ID is a scan of a compact array
 * of the slots' IDs (ids[], kept by alloc and release); with the default
 * cap of 256 that is cheaper than keeping a hash coherent, and the cap is
 * what bounds it. Scanning the slots themselves touched 256 cache lines on
 * as many pages for every datagram.
 */
#include "session.h"
#include "secret.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

bool seq_window_check(const struct seq_window *w, uint32_t seq,
                      uint32_t ahead, uint32_t behind)
{
	if (!w->started)
		return true;
	uint32_t d = seq - w->top; /* modular distance forward */
	if (d == 0)
		return false;      /* the highest one again: a replay */
	if (d <= ahead)
		return true;
	uint32_t back = w->top - seq;
	if (back > behind || back >= 32)
		return false;
	return !(w->seen & (1u << back));
}

void seq_window_mark(struct seq_window *w, uint32_t seq)
{
	if (!w->started) {
		w->started = true;
		w->top = seq;
		w->seen = 1;
		return;
	}
	uint32_t d = seq - w->top;
	if (d != 0 && d < 0x80000000u) {
		w->seen = d >= 32 ? 0 : w->seen << d;
		w->seen |= 1;
		w->top = seq;
	} else {
		uint32_t back = w->top - seq;
		if (back < 32)
			w->seen |= 1u << back;
	}
}

int session_table_init(struct session_table *t, size_t max_sessions)
{
	memset(t, 0, sizeof(*t));
	t->slots = calloc(max_sessions, sizeof(*t->slots));
	t->ids = calloc(max_sessions, sizeof(*t->ids));
	if (!t->slots || !t->ids) {
		free(t->slots);
		free(t->ids);
		memset(t, 0, sizeof(*t));
		return -1;
	}
	t->cap = max_sessions;
	for (size_t i = 0; i < max_sessions; i++)
		loop_timer_init(&t->slots[i].timer, NULL, &t->slots[i]);
	return 0;
}

void session_table_free(struct session_table *t)
{
	for (size_t i = 0; i < t->cap; i++)
		secret_wipe(&t->slots[i], sizeof(t->slots[i]));
	free(t->slots);
	free(t->ids);
	memset(t, 0, sizeof(*t));
}

struct session *session_find(const struct session_table *t, uint32_t id)
{
	if (id == 0)
		return NULL;
	for (size_t i = 0; i < t->cap; i++)
		if (t->ids[i] == id)
			return &t->slots[i];
	return NULL;
}

struct session *session_alloc(struct session_table *t,
                              int (*rand_fn)(void *buf, size_t n))
{
	struct session *s = NULL;
	uint32_t id = 0;

	for (size_t i = 0; i < t->cap; i++)
		if (t->ids[i] == 0) {
			s = &t->slots[i];
			break;
		}
	if (!s)
		return NULL;
	/* Unpredictable IDs: a spoofer must not guess another console's
	 * session. A collision with a live ID is retried. */
	for (int tries = 0; tries < 16; tries++) {
		if (rand_fn(&id, sizeof(id)) < 0)
			return NULL;
		if (id != 0 && !session_find(t, id))
			break;
		id = 0;
	}
	if (id == 0)
		return NULL;
	struct loop_timer keep = s->timer;
	memset(s, 0, sizeof(*s));
	s->timer = keep;
	s->id = id;
	t->ids[s - t->slots] = id;
	s->state = SESS_OPENED;
	do
		s->handle = ++t->next_handle;
	while (s->handle == 0);
	t->active++;
	return s;
}

void session_release(struct session_table *t, struct session *s)
{
	if (s->state == SESS_FREE)
		return;
	struct loop_timer keep = s->timer;
	secret_wipe(s, sizeof(*s));
	s->timer = keep;
	s->state = SESS_FREE;
	t->ids[s - t->slots] = 0;
	t->active--;
}

static bool same_host(const struct sockaddr_storage *a, const struct sockaddr *b)
{
	if (a->ss_family != b->sa_family)
		return false;
	if (b->sa_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (b->sa_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		              &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
	return false;
}

size_t session_count_from(const struct session_table *t,
                          const struct sockaddr *sa, bool half_open_only)
{
	size_t n = 0;
	for (size_t i = 0; i < t->cap; i++) {
		const struct session *s = &t->slots[i];
		if (t->ids[i] == 0)
			continue; /* free: do not touch the slot at all */
		if (half_open_only && s->state == SESS_ACTIVE)
			continue;
		if (same_host(&s->peer, sa))
			n++;
	}
	return n;
}

const struct cached_rsp *session_cache_find(const struct session *s, uint64_t key)
{
	for (size_t i = 0; i < RESPONSE_CACHE_SLOTS; i++)
		if (s->cache[i].used && s->cache[i].key == key)
			return &s->cache[i];
	return NULL;
}

void session_cache_put(struct session *s, uint64_t key, const uint8_t *rsp, size_t len)
{
	struct cached_rsp *c = &s->cache[s->cache_next++ % RESPONSE_CACHE_SLOTS];
	if (len > sizeof(c->rsp))
		len = sizeof(c->rsp);
	c->key = key;
	c->used = true;
	c->len = (uint16_t)len;
	memcpy(c->rsp, rsp, len);
}
