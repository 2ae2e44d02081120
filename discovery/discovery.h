/*
 * discovery.h - the Metal side of the appliance, as the rest of it sees
 * it: start it, ask for a poll now, read its status (plain structs, for
 * the web page and metrics), stop it. Everything runs on the loop thread;
 * the status functions are cheap copies, safe to call from page handlers
 * on that thread.
 *
 * When metal.project_ids is set, discovery polls every project each
 * metal.poll_interval seconds for devices tagged ipmi=enabled and keeps a
 * persona for each (docs/metal.md). Power and boot requests for those
 * personas go to the Metal backend (appliance/backend_metal.c).
 */
#ifndef METALBMC_DISCOVERY_H
#define METALBMC_DISCOVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api_queue.h"
#include "bounds.h"

struct appliance;
struct discovery;
struct persona;

struct discovery_project_status {
	char project_id[MAX_DEVICE_ID];
	bool polling;                   /* a poll is running now */
	unsigned polls;                 /* finished polls, complete or not */
	bool last_ok;                   /* the last finished poll was complete */
	uint64_t last_poll_wall_ms;     /* CLOCK_REALTIME ms: start of the last finished poll */
	uint32_t last_duration_ms;      /* its duration, paging and reconciliation */
	uint64_t last_ok_wall_ms;       /* start of the last complete poll, 0 if none */
	unsigned consecutive_failures;
	unsigned devices;               /* tagged devices in the last complete poll */
	unsigned pages;                 /* pages it took */
	char last_result[160];          /* "ok" or why not: "page 2: HTTP 503: ..." */
	/* what the last complete poll changed */
	unsigned added, retired, updated;
};

struct discovery_status {
	bool enabled;                   /* metal.project_ids set */
	unsigned poll_interval_s;
	uint64_t next_poll_in_ms;       /* 0 while polling */
	size_t personas;                /* personas that come from devices */
	size_t watched;                 /* devices refreshed quickly right now */
	size_t project_count;
	struct discovery_project_status projects[MAX_PROJECTS];
	struct api_stats api;           /* requests, failures, 429s, last error */
	bool api_healthy;               /* the last API attempt succeeded */
	uint64_t rate_limited_for_ms;   /* the 429 hold still to run, 0 if none */
};

/* What the page may show about one device persona (false if p is not one). */
struct discovery_device_info {
	bool always_pxe;                /* as the API last said */
	bool pxe_once;                  /* a one-time PXE is pending its boot */
	bool action_pending;            /* an IPMI request is at the API now */
	bool fast_refresh;              /* being refreshed until it settles */
	char os_slug[64];
	char sos[128];                  /* SOS console host */
	char ipxe_script_url[256];      /* cut to fit */
	char own_port_source[8];        /* "", "auto", "tag" */
};

/* Starts discovery when metal.project_ids is set (a->discovery stays NULL
 * otherwise). The first poll starts at once. 0, or -1 after logging. */
int discovery_start(struct appliance *a);
/* Stops it: cancels every API call, leaves the personas to their table. */
void discovery_free(struct appliance *a);

/* Polls every project now (unless one is running already). */
void discovery_poll_now(struct discovery *d);

void discovery_get_status(const struct discovery *d, struct discovery_status *out);
bool discovery_device_info(const struct discovery *d, const struct persona *p,
                           struct discovery_device_info *out);

#endif
