/*
 * appliance.h - the running daemon: one loop owning the engine, the
 * persona table, the listeners and (later) discovery and the web page.
 * main.c parses flags; this file puts the pieces together in order.
 */
#ifndef METALBMC_APPLIANCE_H
#define METALBMC_APPLIANCE_H

#include "config.h"
#include "engine.h"
#include "loop.h"
#include "persona.h"
#include "switches.h"
#include "udp.h"

struct web;
struct discovery;

struct appliance {
	struct config cfg;
	struct loop *loop;
	struct persona_table *personas;
	struct engine engine;
	struct udp_server udp;
	struct backend local_backend;
	struct secret master;          /* for derived per-device passwords */
	struct switches switches;      /* personas an admin disabled */
	struct web *web;               /* status page, NULL when off */
	struct discovery *discovery;   /* Metal polling, NULL without projects */
	struct loop_fd signals;
	int signal_fd;
	bool reload_requested;
};

/* Everything before the loop runs: state dir, secrets, sockets, personas.
 * Returns 0, or -1 after logging why. */
int appliance_start(struct appliance *a);
int appliance_run(struct appliance *a);
void appliance_free(struct appliance *a);

/* Gives p its IPMI password: the shared one, or one derived from the
 * master secret and the device ID. */
int appliance_set_password(struct appliance *a, struct persona *p);
/* Opens p's own listener when it has its own port or address. */
int appliance_open_persona_listener(struct appliance *a, struct persona *p);
/* Closes p's sessions and listener and removes it. */
void appliance_retire_persona(struct appliance *a, struct persona *p);

#endif
