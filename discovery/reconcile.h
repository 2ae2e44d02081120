/*
 * reconcile.h - turns one complete listing of a project into persona
 * changes:
 *
 *  - a newly tagged device gets a persona (routing name: its short_id, or
 *    its ipmi.user tag; its hostname too when unique), its password, the
 *    Metal backend, and its own port/address if its tags ask;
 *  - a device still listed has its names, tags, assignments and state
 *    brought up to date (a renamed device is re-indexed);
 *  - a device no longer listed (untagged or deleted) is retired once a
 *    second complete listing confirms it, so a device that one page
 *    boundary shifted past is never lost; need_confirm asks the poller for
 *    that second listing soon;
 *  - a device listed with ipmi=disabled is retired at once.
 *
 * Only complete listings come here: a failed or partial poll changes
 * nothing, so an API error never removes a persona.
 *
 * The appliance is reached only through hooks, so tests drive this with a
 * bare persona table.
 */
#ifndef METALBMC_RECONCILE_H
#define METALBMC_RECONCILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "assign.h"
#include "devices.h"
#include "metal_api.h"
#include "persona.h"

struct reconcile_hooks {
	void *arg;
	/* Gives a new persona its password. 0 or -1. */
	int (*set_password)(void *arg, struct persona *p);
	/* Opens p's own listener (own_port / own_address are set). 0 or -1. */
	int (*open_listener)(void *arg, struct persona *p);
	void (*close_listener)(void *arg, struct persona *p);
	/* Closes p's sessions and listener and removes it from its table. */
	void (*retire)(void *arg, struct persona *p);
	/* r is going away: cancel its API calls and fast refresh. */
	void (*forget)(void *arg, struct devrec *r);
	/* r took fresh state from the API (fast refresh, one-time PXE). */
	void (*observed)(void *arg, struct devrec *r);
};

struct reconcile_ctx {
	struct persona_table *personas;
	struct devtable *devs;
	struct assign *assign;
	struct backend *backend;            /* given to new personas */
	const char (*config_ids)[MAX_DEVICE_ID]; /* devices declared in the config:
	                                     * never taken over by discovery */
	size_t config_id_count;
	struct reconcile_hooks hooks;
	uint64_t now_ms;                    /* monotonic, set by the caller */
	uint64_t generation;                /* bumped per listing */
};

struct reconcile_stats {
	unsigned listed;                    /* devices in the listing */
	unsigned added, retired, updated, unchanged;
	unsigned absent_once;               /* missing, waiting for confirmation */
	unsigned failed;                    /* could not be given a persona */
	unsigned conflicts;                 /* port/address requests refused */
};

/* Applies a complete listing of project_id (devs[0..n), each with its
 * observed_ms set). Devices are taken out of devs as needed; the caller
 * still clears the array. */
void reconcile_project(struct reconcile_ctx *x, const char *project_id,
                       struct metal_device *devs, size_t n,
                       struct reconcile_stats *st, bool *need_confirm);

#endif
