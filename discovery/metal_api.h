/*
 * metal_api.h - what metalbmc says to the Metal API and how it reads the
 * answers: request paths and bodies, and decoders from JSON into plain C
 * structs. No jansson type leaves metal_api.c, and every field is checked
 * (type, length, characters) on the way in: a malformed answer is an error
 * value with a reason naming the field, never a crash.
 *
 * The Metal-specific meaning of device states (which read as power on,
 * which as off, which are transitions) lives here too.
 */
#ifndef METALBMC_METAL_API_H
#define METALBMC_METAL_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bounds.h"
#include "persona.h"

/* One device as metalbmc needs it. Strings are NUL-terminated; an absent
 * field is "" (or NULL for the heap ones). */
struct metal_device {
	char id[MAX_DEVICE_ID];         /* [0-9A-Za-z-], required */
	char short_id[MAX_SHORT_ID];    /* [0-9A-Za-z._-] */
	char hostname[MAX_HOSTNAME];    /* control characters replaced by '?';
	                                 * a longer one is cut (it cannot route) */
	char state[MAX_METAL_STATE];    /* [a-z_], required */
	char os_slug[64];
	char facility[16];
	char metro[16];
	char plan[48];
	char sos[128];
	char project_id[MAX_DEVICE_ID]; /* from project.href, "" if absent */
	bool always_pxe;
	char *ipxe_script_url;          /* NULL when absent or empty */
	char *tags;                     /* tag_count strings, each NUL-terminated,
	                                 * back to back; NULL when none */
	uint16_t tag_count;
	uint16_t tags_dropped;          /* longer than MAX_TAG_BYTES, or past
	                                 * MAX_TAGS_PER_DEVICE */
	uint64_t observed_ms;           /* set by the caller: monotonic time the
	                                 * request behind this answer was sent */
};

/* One page of GET /projects/{id}/devices. */
struct metal_page {
	struct metal_device *devices;
	size_t count;
	unsigned current_page;          /* meta.current_page (0 if absent) */
	unsigned last_page;             /* meta.last_page, at least 1 */
	unsigned total;                 /* meta.total */
	bool has_next;                  /* meta.next present */
};

/* Fields the listing and refreshes ask the API to leave out: everything
 * big that metalbmc does not read (the spec's exclude parameter). */
extern const char metal_exclude[];

/* ---- requests ----------------------------------------------------------- */

/* "/projects/ID/devices?tag=ipmi%3Denabled&per_page=N&page=P&exclude=...".
 * 0, or -1 when it does not fit. */
int metal_path_devices(char *out, size_t cap, const char *project_id,
                       unsigned page, unsigned per_page);
int metal_path_device(char *out, size_t cap, const char *device_id);
int metal_path_actions(char *out, size_t cap, const char *device_id);
/* {"type": TYPE}; malloc'd, NULL on failure. */
char *metal_body_action(const char *type);
/* {"always_pxe": B} plus "ipxe_script_url" when url is non-NULL and
 * non-empty; malloc'd, NULL on failure. */
char *metal_body_boot(bool always_pxe, const char *ipxe_url);

/* ---- answers -------------------------------------------------------------- */

/* DeviceList. On error: -1, why names the field ("devices[3].tags[1]:
 * expected a string"), out is left empty. */
int metal_decode_page(const char *body, size_t len, struct metal_page *out,
                      char *why, size_t why_len);
/* Device. On error: -1 and why, out left empty. */
int metal_decode_device(const char *body, size_t len, struct metal_device *out,
                        char *why, size_t why_len);
/* The API's Error body ({"errors": [...]} or {"error": "..."}): the first
 * message, printable ASCII only, cut to fit; "" when there is none. */
void metal_decode_error(const char *body, size_t len, char *out, size_t cap);

void metal_device_clear(struct metal_device *d);
void metal_page_clear(struct metal_page *p);
/* Moves src into dst (dst cleared first); src is left empty. */
void metal_device_move(struct metal_device *dst, struct metal_device *src);

/* Iterates tags: returns the tag after prev (NULL: the first), or NULL. */
const char *metal_device_tag(const struct metal_device *d, const char *prev);

/* ---- device states ----------------------------------------------------------- */

/*
 * What a device state means for IPMI (docs/metal.md has the table and the
 * reasons): the power state to report, and whether the device is on its
 * way somewhere (a transition that settles by itself).
 */
enum power_state metal_state_power(const char *state);
bool metal_state_transition(const char *state);
/* A state in which the server has settled: active or inactive. */
bool metal_state_settled(const char *state);

#endif
