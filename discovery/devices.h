/*
 * devices.h - what discovery knows of each tagged device: its parsed tags,
 * the last state the API reported, and the bookkeeping of the poller (fast
 * refresh) and the Metal backend (an action in flight, a one-time PXE boot
 * to undo). Found by device ID (hash) or by persona (its table slot).
 */
#ifndef METALBMC_DEVICES_H
#define METALBMC_DEVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bounds.h"
#include "metal_api.h"
#include "persona.h"
#include "tags.h"

struct api_call;
struct metal_op;

struct devrec {
	char id[MAX_DEVICE_ID];
	char project_id[MAX_DEVICE_ID];     /* the project it was listed under */
	struct persona *persona;            /* NULL while it has none */
	struct tag_config tags;
	uint64_t bad_tags_hash;             /* malformed tags last logged (once each) */

	/* From the API; "volatile" fields change without a tag or name change
	 * and are taken only from answers newer than observed_ms. */
	char state[MAX_METAL_STATE];
	bool always_pxe;
	char *ipxe_script_url;
	char os_slug[64];
	char sos[128];
	uint64_t observed_ms;               /* send time of the answer behind them */
	bool state_changed;                 /* the last answer taken moved the state */

	unsigned missing;                   /* complete polls of its project without it */
	uint64_t seen_generation;           /* listing that last had it (reconcile.c) */
	bool listen_failed;                 /* its own listener would not open */
	char own_source[8];                 /* "", "auto", "tag": where own_port came from */

	/* poller.c: fast refresh while a transition settles */
	void *watcher;                      /* the poller, while watched */
	bool watched;
	uint64_t watch_until_ms;
	struct api_call *refresh;
	struct devrec *wprev, *wnext;

	/* backend_metal.c */
	struct metal_op *op;                /* IPMI request in flight */
	bool pxe_once;                      /* a one-time PXE request is in force */
	bool boot_armed;                    /* ... and a boot we caused is under way */
	bool boot_saw_transition;
	uint64_t boot_armed_ms;
	struct api_call *undo;              /* always_pxe=false going out */
	uint64_t expect_until_ms;           /* an accepted action may still show a
	                                     * change until then: keep refreshing */

	struct devrec *hnext;               /* hash chain */
	struct devrec *prev, *next;         /* every record */
};

struct devtable {
	struct devrec **buckets;
	size_t nbuckets;                    /* power of two */
	size_t count;
	struct devrec *all;
	struct devrec **by_slot;            /* persona slot -> record */
	size_t slot_cap;
};

int devtable_init(struct devtable *t);
/* Frees every record (never the personas: those belong to their table). */
void devtable_free(struct devtable *t);

struct devrec *devtable_find(const struct devtable *t, const char *id);
/* A new record for id (which must not exist yet); NULL when out of memory. */
struct devrec *devtable_add(struct devtable *t, const char *id);
/* Unlinks and frees r; the caller has cancelled its calls first. */
void devtable_remove(struct devtable *t, struct devrec *r);

void devtable_bind(struct devtable *t, struct devrec *r, struct persona *p);
void devtable_unbind(struct devtable *t, struct devrec *r);
struct devrec *devtable_of_persona(const struct devtable *t, const struct persona *p);

/*
 * Takes the volatile fields of an API answer about r (state, always_pxe,
 * ipxe_script_url, OS, SOS host) when the answer is not older than what r
 * holds, and mirrors them into r's persona (metal_state, power). Returns
 * true when they were taken.
 */
bool devrec_observe(struct devrec *r, const struct metal_device *d, uint64_t now_ms);

/* Sets r's state as an accepted action makes it (the API's first step), as
 * of sent_ms, so power status answers at once; a later answer corrects it. */
void devrec_assume_state(struct devrec *r, const char *state, uint64_t sent_ms,
                         uint64_t now_ms);

#endif
