/*
 * web.h - the status and admin page, its JSON API, /metrics and /healthz,
 * served by libmicrohttpd inside the daemon's loop.
 *
 * MHD runs in external epoll mode with no thread of its own: its epoll
 * descriptor sits in the loop's epoll set, MHD_run is called when it is
 * readable, and MHD_get_timeout arms a loop timer. Handlers therefore run
 * on the loop thread and read the persona table and the engine's counters
 * directly, without locks, and always see a consistent state. Admin
 * actions that need the Metal API are handed to discovery and answered at
 * once (303); nothing here waits on the network.
 */
#ifndef METALBMC_WEB_H
#define METALBMC_WEB_H

#include <stdbool.h>

#include "config.h"
#include "engine.h"
#include "loop.h"
#include "persona.h"
#include "secret.h"

struct discovery;
struct switches;

/* What the web server reads and acts on; all owned by the appliance. */
struct web_deps {
	const struct config *cfg;
	struct loop *loop;
	struct persona_table *personas;
	struct engine *engine;
	const struct secret *master;   /* behind derived passwords; may be unset */
	struct discovery *discovery;   /* NULL when no Metal project is polled */
	struct switches *switches;     /* the admin's disable switch, persisted */
};

struct web;

/* Starts serving when cfg->web_enabled (*out stays NULL otherwise).
 * Returns 0, or -1 after logging why. */
int web_start(const struct web_deps *deps, struct web **out);
void web_stop(struct web *w);

#endif
