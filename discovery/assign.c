/*
 * assign.c - own ports and addresses, and the file that keeps them; see
 * assign.h.
 *
 * Rules: an own port is exclusive (no two personas share one, and none
 * takes a shared listener's port); an own address on the shared port is
 * exclusive among personas with that address. Entries live in a slot
 * array with a small open-addressing index by device ID (tombstones on
 * removal, rebuilt when it fills).
 */
#include "assign.h"
#include "fnv.h"
#include "log.h"
#include "statefile.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILE_VERSION 1
#define MAX_FILE_BYTES (16 * 1024 * 1024) /* bytes: assignments.json */
#define TOMBSTONE UINT32_MAX

static uint64_t hash_id(const char *s)
{
	return fnv1a(FNV1A_INIT, s, strlen(s));
}

static bool count_held(const struct assign *a, uint16_t port);

/* ---- index ------------------------------------------------------------- */

static int index_rebuild(struct assign *a, size_t want)
{
	size_t nb = 64;
	while (nb < want * 2 + 2)
		nb *= 2;
	uint32_t *b = calloc(nb, sizeof(*b));
	if (!b)
		return -1;
	free(a->buckets);
	a->buckets = b;
	a->nbuckets = nb;
	a->occupied = 0;
	for (size_t i = 0; i < a->n; i++) {
		if (!a->v[i].used)
			continue;
		size_t j = (size_t)hash_id(a->v[i].device_id) & (nb - 1);
		while (b[j])
			j = (j + 1) & (nb - 1);
		b[j] = (uint32_t)i + 1;
		a->occupied++;
	}
	return 0;
}

/* Bucket holding device_id, or SIZE_MAX. */
static size_t index_find(const struct assign *a, const char *device_id)
{
	if (!a->nbuckets)
		return SIZE_MAX;
	size_t mask = a->nbuckets - 1;
	size_t j = (size_t)hash_id(device_id) & mask;
	for (size_t probes = 0; probes < a->nbuckets && a->buckets[j]; probes++) {
		uint32_t s = a->buckets[j];
		if (s != TOMBSTONE && strcmp(a->v[s - 1].device_id, device_id) == 0)
			return j;
		j = (j + 1) & mask;
	}
	return SIZE_MAX;
}

static struct assign_entry *find(const struct assign *a, const char *device_id)
{
	size_t j = index_find(a, device_id);
	return j == SIZE_MAX ? NULL : &a->v[a->buckets[j] - 1];
}

const struct assign_entry *assign_get(const struct assign *a, const char *device_id)
{
	return find(a, device_id);
}

static struct assign_entry *add_entry(struct assign *a, const char *device_id)
{
	size_t slot;

	for (slot = 0; slot < a->n && a->v[slot].used; slot++)
		;
	if (slot == a->n) {
		if (a->n == a->cap) {
			size_t cap = a->cap ? a->cap * 2 : 64;
			struct assign_entry *nv = realloc(a->v, cap * sizeof(*nv));
			if (!nv)
				return NULL;
			a->v = nv;
			a->cap = cap;
		}
		a->n++;
	}
	struct assign_entry *e = &a->v[slot];
	memset(e, 0, sizeof(*e));
	snprintf(e->device_id, sizeof(e->device_id), "%s", device_id);
	e->used = true;
	a->live++;
	/* Tombstones count as occupied: rebuild before the index clogs. */
	if (a->occupied + 1 > a->nbuckets / 2) {
		if (index_rebuild(a, a->live) < 0) {
			e->used = false;
			a->live--;
			return NULL;
		}
		return e;
	}
	size_t mask = a->nbuckets - 1;
	size_t j = (size_t)hash_id(device_id) & mask;
	while (a->buckets[j] && a->buckets[j] != TOMBSTONE)
		j = (j + 1) & mask;
	if (!a->buckets[j])
		a->occupied++;
	a->buckets[j] = (uint32_t)slot + 1;
	return e;
}

static void remove_entry(struct assign *a, const char *device_id)
{
	size_t j = index_find(a, device_id);
	if (j == SIZE_MAX)
		return;
	a->v[a->buckets[j] - 1].used = false;
	a->buckets[j] = TOMBSTONE;
	a->live--;
}

/* ---- holdings --------------------------------------------------------------- */

/* held[] is a bitmap of own ports; the port rule makes a count unneeded. */
static bool count_held(const struct assign *a, uint16_t port)
{
	return a->held[port / 8] & (1u << (port % 8));
}

static void set_held(struct assign *a, uint16_t port, bool on)
{
	if (!port)
		return;
	if (on)
		a->held[port / 8] |= (uint8_t)(1u << (port % 8));
	else
		a->held[port / 8] &= (uint8_t)~(1u << (port % 8));
}

static bool reserved(const struct assign *a, uint16_t port)
{
	for (size_t i = 0; i < a->reserved_count; i++)
		if (a->reserved[i] == port)
			return true;
	return false;
}

static const char *port_holder(const struct assign *a, uint16_t port)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].used && a->v[i].port == port)
			return a->v[i].device_id;
	return "?";
}

static const char *address_holder(const struct assign *a, const char *addr,
                                  const char *except)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].used && a->v[i].port == 0 && strcmp(a->v[i].address, addr) == 0 &&
		    strcmp(a->v[i].device_id, except) != 0)
			return a->v[i].device_id;
	return NULL;
}

static uint16_t alloc_auto(struct assign *a)
{
	uint32_t span = (uint32_t)a->hi - a->lo + 1;
	uint16_t start = a->hint >= a->lo && a->hint <= a->hi ? a->hint : a->lo;

	for (uint32_t k = 0; k < span; k++) {
		uint16_t p = (uint16_t)(a->lo + (start - a->lo + k) % span);
		if (!count_held(a, p) && !reserved(a, p)) {
			a->hint = p < a->hi ? (uint16_t)(p + 1) : a->lo;
			return p;
		}
	}
	return 0;
}

int assign_settle(struct assign *a, const char *device_id, const struct tag_config *tc,
                  uint16_t *port, char *address, size_t cap, char *why, size_t why_len)
{
	struct assign_entry *e = find(a, device_id);
	struct assign_entry old = { 0 };
	uint16_t want = 0;
	bool want_auto = false;
	int rc = 0;

	why[0] = 0;
	if (e) {
		old = *e;
		set_held(a, e->port, false); /* judge the request without our own hold */
	}
	switch (tc->port_mode) {
	case TAG_PORT_NONE:
		break;
	case TAG_PORT_AUTO:
		want_auto = true;
		if (old.port && old.port_auto && old.port >= a->lo && old.port <= a->hi &&
		    !count_held(a, old.port) && !reserved(a, old.port))
			want = old.port;
		else if (!(want = alloc_auto(a))) {
			snprintf(why, why_len, "no free port left in %u-%u", a->lo, a->hi);
			rc = -1;
		}
		break;
	case TAG_PORT_FIXED:
		if (reserved(a, tc->port)) {
			snprintf(why, why_len, "port %u is a shared listener's", tc->port);
			rc = -1;
		} else if (count_held(a, tc->port)) {
			snprintf(why, why_len, "port %u is held by device %s", tc->port,
			         port_holder(a, tc->port));
			rc = -1;
		} else {
			want = tc->port;
		}
		break;
	}

	const char *addr = tc->address;
	if (addr[0] && !want) {
		const char *holder = address_holder(a, addr, device_id);
		if (holder) {
			snprintf(why + strlen(why), why_len - strlen(why), "%saddress %s is held "
			         "by device %s", why[0] ? "; " : "", addr, holder);
			addr = "";
			rc = -1;
		}
	}

	if (!want && !addr[0]) {
		if (e) {
			remove_entry(a, device_id);
			a->dirty = true;
		}
	} else {
		if (!e && !(e = add_entry(a, device_id))) {
			snprintf(why, why_len, "out of memory");
			want = 0;
			addr = "";
			rc = -1;
		} else {
			if (e->port != want || e->port_auto != want_auto ||
			    strcmp(e->address, addr) != 0)
				a->dirty = true;
			e->port = want;
			e->port_auto = want_auto && want;
			snprintf(e->address, sizeof(e->address), "%s", addr);
			set_held(a, want, true);
		}
	}
	if (old.port && old.port != want && old.port < a->hint && old.port >= a->lo)
		a->hint = old.port; /* keep handing out the lowest free port */
	*port = want;
	snprintf(address, cap, "%s", addr);
	return rc;
}

void assign_release(struct assign *a, const char *device_id)
{
	struct assign_entry *e = find(a, device_id);
	if (!e)
		return;
	set_held(a, e->port, false);
	if (e->port >= a->lo && e->port < a->hint)
		a->hint = e->port;
	remove_entry(a, device_id);
	a->dirty = true;
}

/* ---- the file ------------------------------------------------------------- */

static int load_entries(struct assign *a, json_t *root, char *why, size_t why_len)
{
	json_t *list, *it, *v;
	size_t i;

	if (!json_is_object(root) || !(v = json_object_get(root, "version")) ||
	    !json_is_integer(v) || json_integer_value(v) != FILE_VERSION) {
		snprintf(why, why_len, "not a version %d assignments file", FILE_VERSION);
		return -1;
	}
	list = json_object_get(root, "assignments");
	if (!json_is_array(list)) {
		snprintf(why, why_len, "assignments: expected an array");
		return -1;
	}
	json_array_foreach(list, i, it) {
		json_t *id = json_object_get(it, "device_id");
		json_t *port = json_object_get(it, "port");
		json_t *aut = json_object_get(it, "port_auto");
		json_t *addr = json_object_get(it, "address");
		if (!json_is_string(id) || json_string_length(id) == 0 ||
		    json_string_length(id) >= MAX_DEVICE_ID ||
		    (port && (!json_is_integer(port) || json_integer_value(port) < 0 ||
		              json_integer_value(port) > 65535)) ||
		    (aut && !json_is_boolean(aut)) ||
		    (addr && (!json_is_string(addr) || json_string_length(addr) >= 64))) {
			snprintf(why, why_len, "assignments[%zu]: malformed", i);
			return -1;
		}
		uint16_t p = port ? (uint16_t)json_integer_value(port) : 0;
		if (find(a, json_string_value(id)) || (p && count_held(a, p))) {
			snprintf(why, why_len, "assignments[%zu]: duplicate", i);
			return -1;
		}
		struct assign_entry *e = add_entry(a, json_string_value(id));
		if (!e) {
			snprintf(why, why_len, "out of memory");
			return -1;
		}
		e->port = p;
		e->port_auto = aut && json_is_true(aut);
		snprintf(e->address, sizeof(e->address), "%s", addr ? json_string_value(addr) : "");
		set_held(a, p, true);
	}
	return 0;
}

static void reset(struct assign *a)
{
	free(a->v);
	free(a->buckets);
	a->v = NULL;
	a->buckets = NULL;
	a->n = a->cap = a->nbuckets = a->live = a->occupied = 0;
	memset(a->held, 0, sizeof(a->held));
}

int assign_open(struct assign *a, const char *dir, uint16_t lo, uint16_t hi,
                const uint16_t *reserved_ports, size_t nreserved, char *why, size_t why_len)
{
	struct stat st;
	json_error_t err;
	char bad[sizeof(a->path) + 8];

	memset(a, 0, sizeof(*a));
	a->lo = lo;
	a->hi = hi >= lo ? hi : lo;
	a->hint = lo;
	for (size_t i = 0; i < nreserved && i < ASSIGN_MAX_RESERVED; i++)
		a->reserved[a->reserved_count++] = reserved_ports[i];
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(why, why_len, "cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	if (snprintf(a->path, sizeof(a->path), "%s/%s", dir, ASSIGN_FILE) >= (int)sizeof(a->path)) {
		snprintf(why, why_len, "state directory path too long");
		return -1;
	}
	if (index_rebuild(a, 16) < 0) {
		snprintf(why, why_len, "out of memory");
		return -1;
	}
	if (stat(a->path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(why, why_len, "%s: %s", a->path, strerror(errno));
		return -1;
	}
	char reason[160] = "";
	json_t *root = NULL;
	if (!S_ISREG(st.st_mode) || st.st_size > MAX_FILE_BYTES)
		snprintf(reason, sizeof(reason), "not a regular file of at most %d bytes",
		         MAX_FILE_BYTES);
	else if (!(root = json_load_file(a->path, JSON_REJECT_DUPLICATES, &err)))
		snprintf(reason, sizeof(reason), "not valid JSON (line %d)", err.line);
	else if (load_entries(a, root, reason, sizeof(reason)) == 0) {
		json_decref(root);
		log_info("discovery: %zu own port/address assignment(s) from %s", a->live,
		         a->path);
		return 0;
	}
	json_decref(root);
	reset(a);
	if (index_rebuild(a, 16) < 0) {
		snprintf(why, why_len, "out of memory");
		return -1;
	}
	snprintf(bad, sizeof(bad), "%s.bad", a->path);
	if (rename(a->path, bad) < 0) {
		snprintf(why, why_len, "%s: %s; cannot move it aside: %s", a->path, reason,
		         strerror(errno));
		return -1;
	}
	log_warnx("discovery: %s: %s; moved to %s, assignments start afresh", a->path,
	          reason, bad);
	return 0;
}

void assign_close(struct assign *a)
{
	reset(a);
}

int assign_save(struct assign *a)
{
	json_t *root, *list;
	char *text;
	int rc;

	if (!a->dirty)
		return 0;
	root = json_object();
	list = json_array();
	if (!root || !list) {
		json_decref(root);
		json_decref(list);
		return -1;
	}
	json_object_set_new(root, "version", json_integer(FILE_VERSION));
	json_object_set_new(root, "assignments", list);
	for (size_t i = 0; i < a->n; i++) {
		const struct assign_entry *e = &a->v[i];
		if (!e->used)
			continue;
		json_t *o = json_pack("{s:s,s:i,s:b,s:s}", "device_id", e->device_id,
		                      "port", (int)e->port, "port_auto", e->port_auto,
		                      "address", e->address);
		if (!o || json_array_append_new(list, o) < 0) {
			json_decref(root);
			return -1;
		}
	}
	text = json_dumps(root, JSON_INDENT(1));
	json_decref(root);
	if (!text)
		return -1;
	rc = statefile_write(a->path, text, strlen(text));
	free(text);
	if (rc < 0) {
		/* Tried again at every change and poll: said once, not each time. */
		if (!a->save_failed)
			log_warn("discovery: cannot write %s (assignments kept in memory; "
			         "trying again at every poll)", a->path);
		a->save_failed = true;
		return -1;
	}
	if (a->save_failed)
		log_info("discovery: %s written again", a->path);
	a->save_failed = false;
	a->dirty = false;
	return 0;
}
