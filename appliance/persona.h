/*
 * persona.h - one virtual BMC: identity, credentials, addressing, the
 * state its BMC reports (power, boot options, identify), and the backend
 * that carries out its requests.
 *
 * The table routes the shared listener by IPMI user name: a persona is
 * found by its short_id, or by its hostname when that is unique and fits
 * 16 bytes.
 */
#ifndef METALBMC_PERSONA_H
#define METALBMC_PERSONA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "backend.h"
#include "bounds.h"
#include "secret.h"

enum power_state { POWER_UNKNOWN = 0, POWER_OFF = 1, POWER_ON = 2 };

/* What the System Boot Options parameters hold (section 28.12). */
struct boot_params {
	uint8_t set_in_progress;       /* param 0 */
	uint8_t service_partition;     /* param 1 */
	uint8_t partition_scan;        /* param 2 */
	uint8_t valid_bit_clearing;    /* param 3 */
	uint8_t info_ack[2];           /* param 4: write mask, data */
	uint8_t flags[5];              /* param 5: boot flags */
	uint8_t initiator_info[9];     /* param 6 */
	uint8_t mailbox[16];           /* param 7, block 0 only */
};

/* One audit entry, kept per persona in a small ring for the page. */
struct persona_event {
	uint64_t wall_ms;   /* CLOCK_REALTIME, for display */
	char what[96];      /* "power off", "boot pxe persistent", "login failed" */
	char source[64];    /* address and user */
	uint8_t cc;         /* result as a completion code */
};
#define PERSONA_EVENTS 16

struct persona {
	uint32_t slot;                      /* index in the table */
	uint32_t generation;                /* bumps on reuse of a slot */
	char user[MAX_USER_NAME + 1];       /* routing name on the shared listener:
	                                     * short_id (or the config name) */
	bool hostname_routes;               /* hostname is a second routing name */
	bool name_clash;                    /* another persona claims user too, and
	                                     * the name does not route here */
	char device_id[MAX_DEVICE_ID];
	char short_id[MAX_SHORT_ID];
	char hostname[MAX_HOSTNAME];
	char metro[16];
	char facility[16];
	char plan[48];
	char metal_state[24];               /* device state as Metal reports it */
	char project_id[MAX_DEVICE_ID];
	uint8_t guid[16];                   /* derived from device_id, wire order */
	uint8_t mac[6];                     /* derived, locally administered */
	struct secret password;             /* Kuid for this persona */
	struct cidr_list *allowed_sources;  /* owned; NULL: any source the
	                                     * global ipmi.allowed_sources allows */

	/* Addressing: 0 / "" when only the shared listener serves it. */
	uint16_t own_port;
	char own_address[64];
	void *listener;                     /* struct udp_listener *, owned by udp.c */

	struct backend *backend;
	enum power_state power;
	bool power_transition;              /* a requested change still settling */
	struct boot_params boot;
	uint8_t restore_policy;             /* 0 off, 1 previous, 2 always on */
	uint8_t last_power_event;
	uint8_t restart_cause;
	uint64_t identify_until_ms;         /* monotonic; UINT64_MAX = indefinitely */
	uint64_t power_on_since_ms;         /* monotonic, for the POH counter */
	uint64_t poh_minutes;               /* accumulated before power_on_since */

	bool enabled;                       /* admin switch */
	bool from_config;                   /* declared in the config file */
	unsigned sessions;                  /* open or half-open */

	struct persona_event events[PERSONA_EVENTS];
	unsigned event_next;
	uint64_t last_action_wall_ms;
	char last_action[64];
	uint8_t last_action_cc;
};

struct persona_table;
struct cidr_list;

/* Sets (a copy of l) or clears (l NULL or empty) the persona's own
 * allow-list: config personas' allowed_sources, the ipmi.allow tag. 0/-1. */
int persona_set_allowed_sources(struct persona *p, const struct cidr_list *l);
/* An allow-list no source matches (a malformed ipmi.allow tag). 0/-1. */
int persona_deny_all_sources(struct persona *p);

struct persona_table *persona_table_new(void);
void persona_table_free(struct persona_table *t);
struct switches;
/* The admin switches a new persona starts with (switches.h): a device
 * switched off gets a disabled persona. NULL: every persona starts on. */
void persona_table_use_switches(struct persona_table *t, const struct switches *s);

/* Creates an empty persona (power unknown, boot no override, enabled
 * unless an admin switched its device off) owned by the
 * table; identity fields are then filled by the caller, which must call
 * persona_table_reindex() after changing user. NULL when full. */
struct persona *persona_add(struct persona_table *t, const char *device_id);
void persona_remove(struct persona_table *t, struct persona *p);
struct persona *persona_by_user(const struct persona_table *t,
                                const uint8_t *name, size_t len);
struct persona *persona_by_device(const struct persona_table *t, const char *device_id);
/* Re-derives routing names (short_id, or unique hostname <= 16 bytes). */
void persona_table_reindex(struct persona_table *t);
/* Discovery retires personas in batches: while deferred, persona_remove()
 * leaves the index stale (no lookups may happen), and ending the deferral
 * rebuilds it once if needed, so a batch costs one rebuild, not one each. */
void persona_table_defer_reindex(struct persona_table *t, bool defer);
size_t persona_count(const struct persona_table *t);
/* Iterate: returns the persona at index i or NULL past the end (slots may
 * be empty: returns NULL for those too, so loop to persona_capacity()). */
size_t persona_capacity(const struct persona_table *t);
struct persona *persona_at(const struct persona_table *t, size_t i);

/* Power state bookkeeping that keeps the POH counter right. */
void persona_set_power(struct persona *p, enum power_state s, uint64_t now_ms);
/* Record an audit event. */
void persona_log_event(struct persona *p, const char *what, const char *source,
                       uint8_t cc);
/* Record a power or boot action a backend carried out (or failed to): an
 * audit event, and the persona's last_action with its time and result. */
void persona_record_action(struct persona *p, const char *what, const char *source,
                           uint8_t cc);
/* How many audit events p keeps (the newest PERSONA_EVENTS at most), and
 * the k-th newest of them (0 = the newest), k < persona_event_count(p). */
unsigned persona_event_count(const struct persona *p);
const struct persona_event *persona_event_newest(const struct persona *p, unsigned k);

#endif
