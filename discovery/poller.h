/*
 * poller.h - when the API is asked what: every poll interval, each project
 * is listed (GET /projects/{id}/devices, server-side tag filter, trimmed
 * with exclude, every page, pages in flight bounded by the API queue's poll
 * lane); a complete and consistent listing goes to reconcile, anything
 * less changes nothing. Devices in a power transition are refreshed one by
 * one (GET /devices/{id}) every FAST_REFRESH_MS until they settle.
 */
#ifndef METALBMC_POLLER_H
#define METALBMC_POLLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api_queue.h"
#include "devices.h"
#include "discovery.h"
#include "loop.h"
#include "reconcile.h"

struct poller;

struct poller_config {
	const char (*projects)[MAX_DEVICE_ID];
	size_t project_count;
	unsigned interval_s;
	unsigned per_page;
};

struct poller *poller_new(struct loop *l, struct api_queue *q, struct reconcile_ctx *rx,
                          const struct poller_config *pc);
/* Cancels its calls; the device records stay with their table. */
void poller_free(struct poller *pl);

/* Polls every project now (those already polling go on). */
void poller_poll_now(struct poller *pl);

/* Refreshes r every FAST_REFRESH_MS for up to for_ms (or until
 * poller_unwatch); at most FAST_REFRESH_MAX devices at once. */
void poller_watch(struct poller *pl, struct devrec *r, uint64_t for_ms);
/* Stops that, cancelling a refresh in flight. */
void poller_unwatch(struct poller *pl, struct devrec *r);

/* Fills the per-project part of a status and the poll schedule. */
void poller_status(const struct poller *pl, struct discovery_status *out);

/* Checks that pages 1..n (n = pages[0].last_page) form one whole listing:
 * same total and page count on every page, every device once, the count
 * equal to total. 0, or -1 with why. Exposed for tests. */
int poller_check_listing(const struct metal_page *pages, size_t n, char *why,
                         size_t why_len);

#endif
