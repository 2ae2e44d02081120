/*
 * devices.c - the device records; see devices.h.
 */
#include "devices.h"
#include "fnv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t hash_id(const char *s)
{
	return fnv1a(FNV1A_INIT, s, strlen(s));
}

int devtable_init(struct devtable *t)
{
	memset(t, 0, sizeof(*t));
	t->nbuckets = 256;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	return t->buckets ? 0 : -1;
}

void devtable_free(struct devtable *t)
{
	while (t->all) {
		struct devrec *r = t->all;
		t->all = r->next;
		free(r->ipxe_script_url);
		free(r);
	}
	free(t->buckets);
	free(t->by_slot);
	memset(t, 0, sizeof(*t));
}

struct devrec *devtable_find(const struct devtable *t, const char *id)
{
	if (!t->nbuckets)
		return NULL;
	for (struct devrec *r = t->buckets[hash_id(id) & (t->nbuckets - 1)]; r; r = r->hnext)
		if (strcmp(r->id, id) == 0)
			return r;
	return NULL;
}

static void grow(struct devtable *t)
{
	size_t nb = t->nbuckets * 2;
	struct devrec **b = calloc(nb, sizeof(*b));
	if (!b)
		return; /* longer chains, still correct */
	for (struct devrec *r = t->all; r; r = r->next) {
		size_t j = hash_id(r->id) & (nb - 1);
		r->hnext = b[j];
		b[j] = r;
	}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = nb;
}

struct devrec *devtable_add(struct devtable *t, const char *id)
{
	struct devrec *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	snprintf(r->id, sizeof(r->id), "%s", id);
	if (t->count + 1 > t->nbuckets)
		grow(t);
	size_t j = hash_id(r->id) & (t->nbuckets - 1);
	r->hnext = t->buckets[j];
	t->buckets[j] = r;
	r->next = t->all;
	if (t->all)
		t->all->prev = r;
	t->all = r;
	t->count++;
	return r;
}

void devtable_remove(struct devtable *t, struct devrec *r)
{
	struct devrec **pp = &t->buckets[hash_id(r->id) & (t->nbuckets - 1)];

	while (*pp && *pp != r)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = r->hnext;
	if (r->prev)
		r->prev->next = r->next;
	else
		t->all = r->next;
	if (r->next)
		r->next->prev = r->prev;
	devtable_unbind(t, r);
	t->count--;
	free(r->ipxe_script_url);
	free(r);
}

void devtable_bind(struct devtable *t, struct devrec *r, struct persona *p)
{
	if (p->slot >= t->slot_cap) {
		size_t cap = t->slot_cap ? t->slot_cap : 64;
		while (cap <= p->slot)
			cap *= 2;
		struct devrec **n = realloc(t->by_slot, cap * sizeof(*n));
		if (!n)
			return; /* found through the hash instead (devtable_of_persona) */
		memset(n + t->slot_cap, 0, (cap - t->slot_cap) * sizeof(*n));
		t->by_slot = n;
		t->slot_cap = cap;
	}
	t->by_slot[p->slot] = r;
	r->persona = p;
}

void devtable_unbind(struct devtable *t, struct devrec *r)
{
	struct persona *p = r->persona;
	if (p && p->slot < t->slot_cap && t->by_slot[p->slot] == r)
		t->by_slot[p->slot] = NULL;
	r->persona = NULL;
}

struct devrec *devtable_of_persona(const struct devtable *t, const struct persona *p)
{
	if (p->slot < t->slot_cap) {
		struct devrec *r = t->by_slot[p->slot];
		if (r && r->persona == p)
			return r;
	}
	struct devrec *r = devtable_find(t, p->device_id);
	return r && r->persona == p ? r : NULL;
}

static void mirror_state(struct devrec *r, uint64_t now_ms)
{
	struct persona *p = r->persona;
	if (!p)
		return;
	snprintf(p->metal_state, sizeof(p->metal_state), "%s", r->state);
	enum power_state ps = metal_state_power(r->state);
	if (ps != POWER_UNKNOWN)
		persona_set_power(p, ps, now_ms);
	p->power_transition = metal_state_transition(r->state) || r->op != NULL;
}

bool devrec_observe(struct devrec *r, const struct metal_device *d, uint64_t now_ms)
{
	/* An answer to a request sent before the one behind what we hold is
	 * older news (a poll page that left before an action was accepted). */
	if (d->observed_ms < r->observed_ms)
		return false;
	r->observed_ms = d->observed_ms;
	r->state_changed = strcmp(r->state, d->state) != 0;
	snprintf(r->state, sizeof(r->state), "%s", d->state);
	r->always_pxe = d->always_pxe;
	if (!d->ipxe_script_url || !r->ipxe_script_url ||
	    strcmp(d->ipxe_script_url, r->ipxe_script_url) != 0) {
		free(r->ipxe_script_url);
		r->ipxe_script_url = d->ipxe_script_url ? strdup(d->ipxe_script_url) : NULL;
	}
	snprintf(r->os_slug, sizeof(r->os_slug), "%s", d->os_slug);
	snprintf(r->sos, sizeof(r->sos), "%s", d->sos);
	mirror_state(r, now_ms);
	return true;
}

void devrec_assume_state(struct devrec *r, const char *state, uint64_t sent_ms,
                         uint64_t now_ms)
{
	if (sent_ms < r->observed_ms)
		return;
	r->observed_ms = sent_ms;
	snprintf(r->state, sizeof(r->state), "%s", state);
	mirror_state(r, now_ms);
}
