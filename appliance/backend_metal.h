/*
 * backend_metal.h - power and boot requests of discovered personas,
 * carried out through the Metal API (docs/metal.md, "What each IPMI
 * request does"):
 *
 *   power on                     POST /devices/{id}/actions {"type":"power_on"}
 *   power off, soft off          ... {"type":"power_off"} (Metal has no
 *                                graceful action; soft off is a hard off)
 *   power cycle, hard reset      ... {"type":"reboot"}, or "power_on" when
 *                                the device is off
 *   boot device PXE              PUT /devices/{id} {"always_pxe":true,
 *                                "ipxe_script_url":METALBMC_IPXE_URL}
 *   boot device disk / none      PUT /devices/{id} {"always_pxe":false}
 *
 * The IPMI reply waits for the API's answer (BACKEND_PENDING, then
 * backend_complete on the loop thread). Power status never calls the API:
 * it reads the device state discovery keeps (devrec_observe).
 */
#ifndef METALBMC_BACKEND_METAL_H
#define METALBMC_BACKEND_METAL_H

#include <stdbool.h>
#include <stdint.h>

#include "api_queue.h"
#include "backend.h"
#include "devices.h"
#include "loop.h"

struct metal_backend {
	struct backend b;               /* ops = &backend_metal_ops, ctx = this */
	struct loop *loop;
	struct api_queue *api;
	struct devtable *devs;
	const char *ipxe_url;           /* "" when not configured */
	/* Asks discovery to refresh r quickly for up to for_ms. */
	void (*watch)(void *arg, struct devrec *r, uint64_t for_ms);
	void *watch_arg;
	uint64_t actions_ok, actions_failed;
};

extern const struct backend_ops backend_metal_ops;

void backend_metal_init(struct metal_backend *m, struct loop *l, struct api_queue *q,
                        struct devtable *devs, const char *ipxe_url);
/* r's persona is going: drop its request in flight (no reply) and its
 * one-time PXE bookkeeping. */
void backend_metal_forget(struct metal_backend *m, struct devrec *r);
/* r took fresh state from the API: finishes a one-time PXE boot when the
 * boot it waited for has happened. True while r still waits for one. */
bool backend_metal_observed(struct metal_backend *m, struct devrec *r);

/* The Metal action for an IPMI chassis control, given the device's state
 * ("" when the request cannot go to Metal). Exposed for tests. */
const char *backend_metal_action(uint8_t chassis_ctl, const char *state);
/* The completion code for a final API answer (docs/metal.md,
 * "Completion codes"). Exposed for tests. */
uint8_t backend_metal_cc(const struct api_result *r);

#endif
