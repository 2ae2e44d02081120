/*
 * reconcile.c - a complete project listing becomes persona changes; see
 * reconcile.h.
 */
#include "reconcile.h"
#include "config.h"
#include "fnv.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- tags ----------------------------------------------------------------- */

struct bad_tags {
	const char *device;
	uint64_t hash;
	bool quiet;            /* reported already for this same set */
};

/* One tag into the fingerprint, then a byte never found in UTF-8 text, so
 * ("ab", "c") and ("a", "bc") differ. */
static void hash_mix(uint64_t *h, const char *s)
{
	static const uint8_t end = 0xff;
	*h = fnv1a(fnv1a(*h, s, strlen(s)), &end, 1);
}

static void bad_tag_hash(void *arg, const char *tag, const char *reason)
{
	struct bad_tags *b = arg;
	(void)reason;
	hash_mix(&b->hash, tag);
}

static void bad_tag_log(void *arg, const char *tag, const char *reason)
{
	struct bad_tags *b = arg;
	char esc[MAX_TAG_BYTES * 4 + 1];

	if (b->quiet)
		return;
	log_escape(tag, strlen(tag), esc, sizeof(esc));
	log_warnx("device %s: tag \"%s\" ignored: %s", b->device, esc, reason);
}

/* Parses d's tags. A malformed ipmi tag is logged once per device and set
 * of bad tags (not at every poll), so it cannot flood the log. Returns the
 * fingerprint of the bad set (0: none) for r->bad_tags_hash. */
static uint64_t parse_tags(struct devrec *r, const struct metal_device *d,
                           struct tag_config *tc)
{
	struct bad_tags b = { .device = d->id, .hash = FNV1A_INIT };

	tags_parse(d->tags, d->tag_count, tc, bad_tag_hash, &b);
	if (!tc->malformed) {
		if (r)
			r->bad_tags_hash = 0;
		return 0;
	}
	b.quiet = r && r->bad_tags_hash == b.hash;
	if (r)
		r->bad_tags_hash = b.hash;
	tags_parse(d->tags, d->tag_count, tc, bad_tag_log, &b);
	return b.hash;
}

/* ---- persona fields ---------------------------------------------------------- */

/* Copies what routes and what the page shows; true when a routing name
 * (user or hostname) changed. */
static bool set_identity(struct persona *p, const struct metal_device *d,
                         const struct tag_config *tc, const char *project_id)
{
	char user[sizeof(p->user)];
	bool names = false;

	if (tc->user[0])
		snprintf(user, sizeof(user), "%s", tc->user);
	else if (d->short_id[0])
		snprintf(user, sizeof(user), "%s", d->short_id);
	else
		snprintf(user, sizeof(user), "%.8s", d->id);
	if (strcmp(user, p->user) != 0 || strcmp(d->hostname, p->hostname) != 0)
		names = true;
	snprintf(p->user, sizeof(p->user), "%s", user);
	snprintf(p->short_id, sizeof(p->short_id), "%s", d->short_id);
	snprintf(p->hostname, sizeof(p->hostname), "%s", d->hostname);
	snprintf(p->metro, sizeof(p->metro), "%s", d->metro);
	snprintf(p->facility, sizeof(p->facility), "%s", d->facility);
	snprintf(p->plan, sizeof(p->plan), "%s", d->plan);
	snprintf(p->project_id, sizeof(p->project_id), "%s",
	         d->project_id[0] ? d->project_id : project_id);
	return names;
}

static bool identity_differs(const struct persona *p, const struct metal_device *d,
                             const char *project_id)
{
	return strcmp(p->short_id, d->short_id) != 0 || strcmp(p->hostname, d->hostname) != 0 ||
	       strcmp(p->metro, d->metro) != 0 || strcmp(p->facility, d->facility) != 0 ||
	       strcmp(p->plan, d->plan) != 0 ||
	       strcmp(p->project_id, d->project_id[0] ? d->project_id : project_id) != 0;
}

/* Settles own port/address with the assignment table and (re)opens the
 * listener when they changed. */
static void settle_addressing(struct reconcile_ctx *x, struct devrec *r,
                              struct reconcile_stats *st)
{
	struct persona *p = r->persona;
	uint16_t port;
	char addr[sizeof(p->own_address)], why[200];

	if (assign_settle(x->assign, r->id, &r->tags, &port, addr, sizeof(addr), why,
	                  sizeof(why)) < 0) {
		st->conflicts++;
		/* Logged when it first happens, not at every poll. */
		if (!r->listen_failed)
			log_warnx("persona %s (device %s): own port/address refused: %s",
			          p->user, r->id, why);
		r->listen_failed = true;
	}
	snprintf(r->own_source, sizeof(r->own_source), "%s",
	         !port ? "" : r->tags.port_mode == TAG_PORT_AUTO ? "auto" : "tag");
	bool changed = port != p->own_port || strcmp(addr, p->own_address) != 0;
	if (changed && p->listener && x->hooks.close_listener)
		x->hooks.close_listener(x->hooks.arg, p);
	p->own_port = port;
	snprintf(p->own_address, sizeof(p->own_address), "%s", addr);
	if ((port || addr[0]) && !p->listener && x->hooks.open_listener) {
		if (x->hooks.open_listener(x->hooks.arg, p) < 0) {
			if (!r->listen_failed)
				log_warnx("persona %s: serving it on the shared listener only, "
				          "until its own listener can open", p->user);
			r->listen_failed = true;
		} else {
			r->listen_failed = false;
		}
	} else if (!port && !addr[0] && changed) {
		r->listen_failed = false;
	}
}

static bool is_config_device(const struct reconcile_ctx *x, const char *id)
{
	for (size_t i = 0; i < x->config_id_count; i++)
		if (strcmp(x->config_ids[i], id) == 0)
			return true;
	return false;
}

/* ---- changes ------------------------------------------------------------------ */

/* Retires one device's persona and forgets it (gone from its project's
 * listing, or tagged ipmi=disabled). */
static void reconcile_retire(struct reconcile_ctx *x, struct devrec *r, const char *why)
{
	if (x->hooks.forget)
		x->hooks.forget(x->hooks.arg, r);
	assign_release(x->assign, r->id);
	if (r->persona) {
		struct persona *p = r->persona;
		log_info("persona %s (device %s): retired: %s", p->user, r->id, why);
		devtable_unbind(x->devs, r);
		if (x->hooks.retire)
			x->hooks.retire(x->hooks.arg, p);
	}
	devtable_remove(x->devs, r);
}

/* The persona's own allow-list from its ipmi.allow tag (validated by
 * tags.c; cleared when the tag goes away). A malformed tag shuts the
 * persona to every source rather than opening it to all: the tag was
 * meant to narrow who may log in. */
static void apply_allow(struct persona *p, const struct tag_config *tc)
{
	struct cidr_list l;
	char bad[64];
	int rc;

	if (tc->allow_bad)
		rc = persona_deny_all_sources(p);
	else {
		if (!tc->allow[0] || config_parse_cidr_list(tc->allow, &l, bad, sizeof(bad)) < 0)
			l.len = 0;
		rc = persona_set_allowed_sources(p, &l);
	}
	if (rc < 0)
		log_warnx("persona %s: out of memory for its allow-list", p->user);
}

static void add_persona(struct reconcile_ctx *x, struct devrec *r,
                        struct metal_device *d, const char *project_id,
                        struct reconcile_stats *st)
{
	struct persona *p = persona_add(x->personas, d->id);

	if (!p) {
		st->failed++;
		log_warnx("device %s: no room for another persona (%d at most)", d->id,
		          MAX_PERSONAS);
		return;
	}
	set_identity(p, d, &r->tags, project_id);
	apply_allow(p, &r->tags);
	p->backend = x->backend;
	devtable_bind(x->devs, r, p);
	if (x->hooks.set_password && x->hooks.set_password(x->hooks.arg, p) < 0) {
		/* Without a password nobody can log in; try again next poll. */
		log_warnx("device %s: cannot set its IPMI password", d->id);
		devtable_unbind(x->devs, r);
		persona_remove(x->personas, p);
		st->failed++;
		return;
	}
	r->observed_ms = 0;
	devrec_observe(r, d, x->now_ms);
	settle_addressing(x, r, st);
	st->added++;
	log_info("persona %s: added for device %s (%s, %s, %s)%s", p->user, d->id,
	         d->hostname[0] ? d->hostname : "no hostname", d->state,
	         d->facility[0] ? d->facility : "no facility",
	         p->own_port || p->own_address[0] ? ", own listener" : "");
}

static bool update_persona(struct reconcile_ctx *x, struct devrec *r,
                           const struct metal_device *d, const struct tag_config *tc,
                           const char *project_id, struct reconcile_stats *st)
{
	struct persona *p = r->persona;
	bool tags_changed = !tag_config_equal(&r->tags, tc);
	bool names = false, changed = false;
	char old_user[sizeof(p->user)];

	snprintf(old_user, sizeof(old_user), "%s", p->user);
	r->tags = *tc;
	if (tags_changed || identity_differs(p, d, project_id)) {
		names = set_identity(p, d, tc, project_id);
		changed = true;
	}
	if (tags_changed) {
		apply_allow(p, tc);
		settle_addressing(x, r, st);
	} else if ((p->own_port || p->own_address[0]) && !p->listener &&
	           x->hooks.open_listener && x->hooks.open_listener(x->hooks.arg, p) == 0) {
		/* A listener that failed before (address not up yet) opens now. */
		r->listen_failed = false;
		log_info("persona %s: own listener open now", p->user);
	}
	if (names && strcmp(old_user, p->user) != 0)
		log_info("persona %s: renamed from %s (device %s)", p->user, old_user, r->id);
	if (changed || tags_changed)
		st->updated++;
	else
		st->unchanged++;
	return names;
}

void reconcile_project(struct reconcile_ctx *x, const char *project_id,
                       struct metal_device *devs, size_t n,
                       struct reconcile_stats *st, bool *need_confirm)
{
	bool reindex = false;
	uint64_t gen = ++x->generation;

	memset(st, 0, sizeof(*st));
	*need_confirm = false;
	st->listed = (unsigned)n;
	persona_table_defer_reindex(x->personas, true);

	for (size_t i = 0; i < n; i++) {
		struct metal_device *d = &devs[i];
		struct devrec *r = devtable_find(x->devs, d->id);
		struct tag_config tc;
		uint64_t bad = parse_tags(r, d, &tc);

		if (!tc.enabled) {
			/* Listed, but ipmi=disabled next to ipmi=enabled: an explicit
			 * off, not an absence to confirm. */
			if (r) {
				r->seen_generation = gen;
				reconcile_retire(x, r, "tagged ipmi=disabled");
				st->retired++;
				reindex = true;
			}
			continue;
		}
		if (is_config_device(x, d->id)) {
			if (!r)
				log_debug("device %s: declared in the config file; not discovered",
				          d->id);
			continue;
		}
		if (!r) {
			r = devtable_add(x->devs, d->id);
			if (!r) {
				st->failed++;
				continue;
			}
			r->bad_tags_hash = bad; /* logged above, once */
		}
		r->seen_generation = gen;
		r->missing = 0;
		snprintf(r->project_id, sizeof(r->project_id), "%s", project_id);
		if (!r->persona) {
			r->tags = tc;
			add_persona(x, r, d, project_id, st);
			reindex = true;
			if (r->persona && x->hooks.observed)
				x->hooks.observed(x->hooks.arg, r);
			continue;
		}
		if (update_persona(x, r, d, &tc, project_id, st))
			reindex = true;
		if (devrec_observe(r, d, x->now_ms) && x->hooks.observed)
			x->hooks.observed(x->hooks.arg, r);
	}

	/* Records of this project that the listing did not have. */
	struct devrec *next;
	for (struct devrec *r = x->devs->all; r; r = next) {
		next = r->next;
		if (r->seen_generation == gen || strcmp(r->project_id, project_id) != 0)
			continue;
		if (!r->persona) {
			devtable_remove(x->devs, r);
			continue;
		}
		if (++r->missing >= 2) {
			reconcile_retire(x, r, "no longer tagged ipmi=enabled in its project, "
			                       "or deleted");
			st->retired++;
			reindex = true;
		} else {
			st->absent_once++;
			*need_confirm = true;
		}
	}
	/* The routing index is rebuilt once, whatever the batch held. */
	if (reindex)
		persona_table_reindex(x->personas);
	persona_table_defer_reindex(x->personas, false);
	assign_save(x->assign);
}
