/*
 * view.h - how a persona is shown: labels, badge classes, how to reach it,
 * the ipmitool command line. One place, so the HTML table, the JSON API
 * and the page's script (which renders the API's fields) say the same.
 */
#ifndef METALBMC_VIEW_H
#define METALBMC_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "persona.h"

struct view_persona {
	const char *power;          /* "on", "off", "unknown" */
	const char *power_class;    /* badge class: "ok", "off", "warn" */
	const char *state_class;    /* badge class of the Metal state */
	const char *boot_dev;       /* "pxe", "disk", "bios", ... or "none" */
	bool boot_override;         /* the valid bit: a boot device is requested */
	bool boot_persistent;
	bool boot_efi;
	char boot[40];              /* "PXE once", "PXE persistent", "default" */
	const char *reach_kind;     /* "shared", "own_port", "own_address" */
	char host[64];              /* address to give ipmitool */
	uint16_t port;
	char user[MAX_USER_NAME + 1];
	char listener[96];          /* "127.0.0.1:623" as the listener is bound */
	char ipmitool[384];         /* the command line, with <password> */
	const char *backend;        /* backend name, "none" */
	const char *origin;         /* "config" or "discovery" */
	char last_when[40];         /* display time of last_action, or "" */
	char last_result[64];       /* "ok" or "failed: 0xD5 not supported now" */
};

/* local_host: our address as the browser reached it, shown instead of a
 * wildcard listener address (may be "" when unknown). */
void view_persona(const struct config *cfg, const char *local_host,
                  const struct persona *p, struct view_persona *v);

/* The persona's page, "/personas/" and the URL-escaped device ID, into out;
 * false (out "") when it does not fit in cap. */
bool view_persona_path(const struct persona *p, char *out, size_t cap);

/* "2026-11-25 11:20:03Z" (UTC), "" for 0. */
void view_time(uint64_t wall_ms, char *out, size_t cap);
/* RFC 3339 with milliseconds: "2026-11-25T11:20:03.123Z". */
void view_time_iso(uint64_t wall_ms, char *out, size_t cap);
/* "ok", or "failed: 0xC1 invalid command". */
void view_result(uint8_t cc, char *out, size_t cap);

struct discovery_status;
struct discovery_project_status;
/* Badge of a project's poll state: "ok", "failed", "polling", "not yet". */
void view_project_badge(const struct discovery_project_status *ps, const char **cls,
                        const char **label);
/* Badge of the Metal API's health: "healthy", "failing", "rate limited",
 * "no calls yet". */
void view_api_badge(const struct discovery_status *ds, const char **cls, const char **label);

#endif
