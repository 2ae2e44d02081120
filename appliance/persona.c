/*
 * persona.c - the persona table and its routing index.
 *
 * The index is an open-addressing hash from routing name to persona,
 * rebuilt by persona_table_reindex() whenever names change (discovery does
 * that once per poll, not per packet). Lookups on the packet path are one
 * hash and a short probe.
 */
#include "persona.h"
#include "config.h"
#include "fnv.h"
#include "log.h"
#include "loop.h"
#include "switches.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

struct name_slot {
	const char *name;    /* points into the persona */
	uint8_t len;
	struct persona *p;   /* NULL: a name two personas claim, routed to neither */
	/* While the primary names are indexed: who claims the name, and
	 * whether as its own short ID (the device's identity) or not (an
	 * ipmi.user tag, a config name), and how many of each. */
	struct persona *owner, *claimant;
	unsigned owners, claimants;
	unsigned reserved;   /* personas whose short ID it is, routed by another
	                      * name (ipmi.user): no one else may take it */
};

struct persona_table {
	struct persona **slots; /* by persona->slot; NULL when free */
	size_t cap;
	size_t count;
	uint32_t generation;
	struct name_slot *index;
	size_t index_cap;       /* power of two */
	bool defer_reindex;     /* a batch of removals is under way */
	bool index_stale;       /* ... and the index still names removed ones */
	const struct switches *switches; /* admin switches; may be NULL */
};

struct persona_table *persona_table_new(void)
{
	return calloc(1, sizeof(struct persona_table));
}

void persona_table_free(struct persona_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i]) {
			secret_clear(&t->slots[i]->password);
			free(t->slots[i]->allowed_sources);
			free(t->slots[i]);
		}
	free(t->slots);
	free(t->index);
	free(t);
}

void persona_table_use_switches(struct persona_table *t, const struct switches *s)
{
	t->switches = s;
}

size_t persona_count(const struct persona_table *t) { return t->count; }
size_t persona_capacity(const struct persona_table *t) { return t->cap; }

struct persona *persona_at(const struct persona_table *t, size_t i)
{
	return i < t->cap ? t->slots[i] : NULL;
}

static void persona_derive_ids(struct persona *p);

struct persona *persona_add(struct persona_table *t, const char *device_id)
{
	size_t i;

	if (t->count >= MAX_PERSONAS)
		return NULL;
	for (i = 0; i < t->cap && t->slots[i]; i++)
		;
	if (i == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct persona **n = realloc(t->slots, cap * sizeof(*n));
		if (!n)
			return NULL;
		memset(n + t->cap, 0, (cap - t->cap) * sizeof(*n));
		t->slots = n;
		t->cap = cap;
	}
	struct persona *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->slot = (uint32_t)i;
	p->generation = ++t->generation;
	snprintf(p->device_id, sizeof(p->device_id), "%s", device_id);
	p->power = POWER_UNKNOWN;
	p->enabled = !switches_is_off(t->switches, device_id);
	p->restore_policy = 0x02; /* "always on" matches a cloud server */
	p->boot.flags[0] = 0x00;  /* no override, not valid */
	persona_derive_ids(p);
	t->slots[i] = p;
	t->count++;
	return p;
}

void persona_remove(struct persona_table *t, struct persona *p)
{
	if (!p || p->slot >= t->cap || t->slots[p->slot] != p)
		return;
	t->slots[p->slot] = NULL;
	t->count--;
	secret_clear(&p->password);
	free(p->allowed_sources);
	free(p);
	if (t->defer_reindex)
		t->index_stale = true;
	else
		persona_table_reindex(t);
}

void persona_table_defer_reindex(struct persona_table *t, bool defer)
{
	t->defer_reindex = defer;
	if (!defer && t->index_stale)
		persona_table_reindex(t);
}

static uint64_t name_hash(const uint8_t *s, size_t n)
{
	return fnv1a(FNV1A_INIT, s, n);
}

static struct name_slot *index_find(const struct persona_table *t,
                                    const uint8_t *name, size_t len);

/* The slot of name: the one holding it, or the empty one to fill. */
static struct name_slot *index_slot(struct persona_table *t, const char *name)
{
	size_t len = strlen(name);
	size_t mask = t->index_cap - 1;
	size_t i = (size_t)name_hash((const uint8_t *)name, len) & mask;

	while (t->index[i].name) {
		if (t->index[i].len == len && memcmp(t->index[i].name, name, len) == 0)
			break;
		i = (i + 1) & mask;
	}
	if (!t->index[i].name) {
		t->index[i].name = name;
		t->index[i].len = (uint8_t)len;
	}
	return &t->index[i];
}

/* p claims its user name. Who gets a name claimed twice is settled once
 * all are in (settle_primary_names). */
static void claim_primary_name(struct persona_table *t, struct persona *p)
{
	struct name_slot *s = index_slot(t, p->user);

	if (strcmp(p->short_id, p->user) == 0) {
		s->owner = p;
		s->owners++;
		return;
	}
	s->claimant = p;
	s->claimants++;
	/* Its own short ID stays its, unrouted: users know a device by it. */
	size_t sl = strlen(p->short_id);
	if (sl && sl <= MAX_USER_NAME)
		index_slot(t, p->short_id)->reserved++;
}

/*
 * A user name claimed by two personas must not route to whichever came
 * first: a device tagged ipmi.user=<another device's short ID> would take
 * over that device's console (and, with one shared password, its power).
 * The device whose own short ID it is keeps it (and when that device is
 * routed by another name, the short ID routes to nobody); any other clash
 * routes to nobody, and each persona left without its name is logged once.
 */
static void settle_primary_names(struct persona_table *t)
{
	for (size_t i = 0; i < t->index_cap; i++) {
		struct name_slot *s = &t->index[i];
		if (!s->name)
			continue;
		if (s->owners == 1)
			s->p = s->owner;
		else if (s->owners == 0 && s->reserved == 0 && s->claimants == 1)
			s->p = s->claimant;
		else
			s->p = NULL;
	}
	for (size_t i = 0; i < t->cap; i++) {
		struct persona *p = t->slots[i];
		if (!p || !p->user[0])
			continue;
		bool clash = index_find(t, (const uint8_t *)p->user, strlen(p->user))->p != p;
		if (clash && !p->name_clash)
			log_warnx("device %s: another persona claims the user name %s too, so it "
			          "routes to %s", p->device_id, p->user,
			          strcmp(p->short_id, p->user) == 0
			                  ? "neither of them" : "the device whose short ID it is, or "
			                                        "to nobody");
		p->name_clash = clash;
	}
}

static void index_put(struct persona_table *t, const char *name, struct persona *p)
{
	index_slot(t, name)->p = p;
}

static struct name_slot *index_find(const struct persona_table *t,
                                    const uint8_t *name, size_t len)
{
	if (!t->index_cap || len == 0 || len > MAX_USER_NAME)
		return NULL;
	size_t mask = t->index_cap - 1;
	size_t i = (size_t)name_hash(name, len) & mask;
	while (t->index[i].name) {
		if (t->index[i].len == len && memcmp(t->index[i].name, name, len) == 0)
			return &t->index[i];
		i = (i + 1) & mask;
	}
	return NULL;
}

struct persona *persona_by_user(const struct persona_table *t,
                                const uint8_t *name, size_t len)
{
	struct name_slot *s = index_find(t, name, len);
	return s ? s->p : NULL;
}

struct persona *persona_by_device(const struct persona_table *t, const char *device_id)
{
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i] && strcmp(t->slots[i]->device_id, device_id) == 0)
			return t->slots[i];
	return NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void persona_table_reindex(struct persona_table *t)
{
	size_t need = 16;
	const char **hosts;
	size_t nh = 0;

	t->index_stale = false;
	while (need < t->count * 6) /* up to three names each: user, short ID, hostname */
		need *= 2;
	free(t->index);
	t->index = calloc(need, sizeof(*t->index));
	t->index_cap = t->index ? need : 0;
	if (!t->index)
		return;

	/* Primary names first: they route unless two personas claim one. */
	for (size_t i = 0; i < t->cap; i++) {
		struct persona *p = t->slots[i];
		if (!p)
			continue;
		p->hostname_routes = false;
		if (p->user[0])
			claim_primary_name(t, p);
	}
	settle_primary_names(t);

	/* A hostname routes only when no other persona has the same hostname
	 * and it is not someone's primary name: sort and look at neighbours. */
	hosts = calloc(t->count ? t->count : 1, sizeof(*hosts));
	if (!hosts)
		return;
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i] && t->slots[i]->hostname[0])
			hosts[nh++] = t->slots[i]->hostname;
	qsort(hosts, nh, sizeof(*hosts), cmp_str);
	for (size_t i = 0; i < t->cap; i++) {
		struct persona *p = t->slots[i];
		if (!p || !p->hostname[0])
			continue;
		size_t len = strlen(p->hostname);
		if (len > MAX_USER_NAME || strcmp(p->hostname, p->user) == 0)
			continue;
		const char *key = p->hostname;
		const char **hit = bsearch(&key, hosts, nh, sizeof(*hosts), cmp_str);
		if (!hit)
			continue;
		bool dup = (hit > hosts && strcmp(hit[-1], key) == 0) ||
		           (hit + 1 < hosts + nh && strcmp(hit[1], key) == 0);
		if (dup || index_find(t, (const uint8_t *)key, len))
			continue;
		index_put(t, p->hostname, p);
		p->hostname_routes = true;
	}
	free(hosts);
}

/*
 * GUID: a name-based UUID, version 5 (RFC 4122 section 4.3: SHA-1 of a
 * namespace UUID and the name) of the device ID, so a persona keeps its
 * GUID across restarts, hosts and reinstalls of metalbmc. IPMI sends
 * GUIDs least significant byte first (section 20.8), hence the reversal.
 * The MAC comes from the same digest: locally administered, unicast.
 */
static const uint8_t guid_namespace[16] = { /* metalbmc's own namespace */
	0x6d, 0x62, 0x6d, 0x63, 0x9a, 0x41, 0x4f, 0x0e,
	0x8b, 0x35, 0x2c, 0x1d, 0x7e, 0x50, 0xa4, 0x13,
};

/* Fill guid and mac from device_id (stable across restarts and hosts). */
static void persona_derive_ids(struct persona *p)
{
	uint8_t md[EVP_MAX_MD_SIZE], uuid[16];
	unsigned mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	memset(md, 0, sizeof(md));
	if (ctx && EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) &&
	    EVP_DigestUpdate(ctx, guid_namespace, sizeof(guid_namespace)) &&
	    EVP_DigestUpdate(ctx, p->device_id, strlen(p->device_id)))
		EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	memcpy(uuid, md, 16);
	uuid[6] = (uint8_t)((uuid[6] & 0x0f) | 0x50); /* version 5 */
	uuid[8] = (uint8_t)((uuid[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	for (int i = 0; i < 16; i++)
		p->guid[i] = uuid[15 - i];
	p->mac[0] = 0x02;
	memcpy(p->mac + 1, md + 15, 5);
}

void persona_set_power(struct persona *p, enum power_state s, uint64_t now_ms)
{
	if (p->power == POWER_ON && s != POWER_ON && p->power_on_since_ms) {
		p->poh_minutes += (now_ms - p->power_on_since_ms) / 60000u;
		p->power_on_since_ms = 0;
	}
	if (s == POWER_ON && p->power != POWER_ON)
		p->power_on_since_ms = now_ms ? now_ms : 1;
	p->power = s;
}

void persona_log_event(struct persona *p, const char *what, const char *source,
                       uint8_t cc)
{
	struct persona_event *e = &p->events[p->event_next % PERSONA_EVENTS];

	e->wall_ms = loop_wall_ms();
	snprintf(e->what, sizeof(e->what), "%s", what);
	snprintf(e->source, sizeof(e->source), "%s", source ? source : "");
	e->cc = cc;
	p->event_next++;
}

void persona_record_action(struct persona *p, const char *what, const char *source,
                           uint8_t cc)
{
	persona_log_event(p, what, source, cc);
	snprintf(p->last_action, sizeof(p->last_action), "%s", what);
	p->last_action_cc = cc;
	p->last_action_wall_ms = persona_event_newest(p, 0)->wall_ms;
}

unsigned persona_event_count(const struct persona *p)
{
	return p->event_next < PERSONA_EVENTS ? p->event_next : PERSONA_EVENTS;
}

const struct persona_event *persona_event_newest(const struct persona *p, unsigned k)
{
	return &p->events[(p->event_next - 1 - k) % PERSONA_EVENTS];
}

int persona_deny_all_sources(struct persona *p)
{
	if (p->allowed_sources) {
		p->allowed_sources->len = 0; /* matches nothing; no allocation to fail */
		return 0;
	}
	p->allowed_sources = calloc(1, sizeof(*p->allowed_sources));
	return p->allowed_sources ? 0 : -1;
}

int persona_set_allowed_sources(struct persona *p, const struct cidr_list *l)
{
	struct cidr_list *copy = NULL;

	if (l && l->len) {
		copy = malloc(sizeof(*copy));
		if (!copy)
			return -1;
		memcpy(copy, l, sizeof(*copy));
	}
	free(p->allowed_sources);
	p->allowed_sources = copy;
	return 0;
}
