/*
 * assign.h - own UDP ports and own addresses handed to personas, kept in
 * METALBMC_STATE_DIR/assignments.json so they survive restarts.
 *
 * A persona tagged ipmi.port=auto gets the lowest free port of
 * ipmi.port_range and keeps it for as long as it exists, across restarts.
 * Fixed ports (ipmi.port=N) and addresses (ipmi.address=IP) are recorded
 * too: when two devices ask for the same one, the device that held it
 * first keeps it, whatever order the API lists them in. An assignment is
 * released when its persona is retired or its tag goes away.
 *
 * The file is rewritten only when something changed: to a temporary file,
 * mode 0600, fsync, rename over the old one, fsync of the directory.
 */
#ifndef METALBMC_ASSIGN_H
#define METALBMC_ASSIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bounds.h"
#include "tags.h"

#define ASSIGN_FILE "assignments.json"
#define ASSIGN_MAX_RESERVED 8

struct assign_entry {
	char device_id[MAX_DEVICE_ID];
	uint16_t port;                  /* 0: none */
	bool port_auto;
	char address[64];               /* "": none */
	bool used;                      /* slot in use */
};

struct assign {
	char path[600];
	uint16_t lo, hi;                /* ipmi.port_range */
	uint16_t reserved[ASSIGN_MAX_RESERVED]; /* the shared listeners' ports */
	size_t reserved_count;
	struct assign_entry *v;
	size_t n, cap;                  /* slots used / allocated (free slots reused) */
	uint32_t *buckets;              /* device_id hash -> slot + 1, 0 = empty */
	size_t nbuckets;                /* power of two, > 2 * entries */
	size_t live;
	size_t occupied;                /* buckets not empty (tombstones too) */
	uint8_t held[65536 / 8];        /* ports held by some entry */
	uint16_t hint;                  /* where the next auto search starts */
	bool dirty;
	bool save_failed;               /* the last write failed (logged once) */
};

/* Loads dir/assignments.json if present. A file that cannot be read as
 * ours is moved aside to assignments.json.bad (logged) and the table
 * starts empty. -1 only when dir is unusable (why filled). */
int assign_open(struct assign *a, const char *dir, uint16_t lo, uint16_t hi,
                const uint16_t *reserved, size_t nreserved, char *why, size_t why_len);
void assign_close(struct assign *a);

const struct assign_entry *assign_get(const struct assign *a, const char *device_id);

/*
 * Settles the device's own port and address from its tags. *port and
 * address (cap bytes) receive the result ("" / 0 for none). A request that
 * conflicts with another device's holding is refused: the device gets no
 * own port (or address), why says who holds it, and the return is -1
 * (the caller logs it); otherwise 0.
 */
int assign_settle(struct assign *a, const char *device_id, const struct tag_config *tc,
                  uint16_t *port, char *address, size_t cap, char *why, size_t why_len);

/* Forgets the device's assignments. */
void assign_release(struct assign *a, const char *device_id);

/* Writes the file when something changed. 0 or -1 (logged). */
int assign_save(struct assign *a);

#endif
