/*
 * switches.h - the admin's "disable" switch of personas, kept in
 * METALBMC_STATE_DIR/switches.json so that it outlives a restart.
 *
 * An admin disables a persona to stop it answering (a leaked password, a
 * server under investigation). A restart must not quietly re-enable it,
 * so the set of switched-off device IDs is written at every change and
 * read at start-up; a persona created for a device in the set starts
 * disabled, whether it comes from the config file or from discovery, and
 * also when its device is untagged and tagged again later.
 *
 * Because the switch is a security control, a switches.json that cannot
 * be read as ours stops the daemon at start-up (with the file and the
 * reason) rather than being dropped, which would re-enable everything.
 */
#ifndef METALBMC_SWITCHES_H
#define METALBMC_SWITCHES_H

#include <stdbool.h>
#include <stddef.h>

#include "bounds.h"

#define SWITCHES_FILE "switches.json"
#define MAX_SWITCHED_OFF 4096 /* devices an admin may hold disabled at once */

struct switches {
	char dir[512];
	char path[600];
	char (*off)[MAX_DEVICE_ID];   /* device IDs switched off, unordered */
	size_t n, cap;
	bool dirty;                   /* the file is behind the set (a write failed) */
};

/* Reads dir/switches.json when it exists. -1 (why filled: path and reason)
 * when it exists but is not ours, or cannot be read. */
int switches_open(struct switches *s, const char *dir, char *why, size_t why_len);
void switches_close(struct switches *s);

bool switches_is_off(const struct switches *s, const char *device_id);

/*
 * Records the switch and writes the file. 0 when saved. -1 (why filled)
 * when the set is full (nothing changed), or when the file cannot be
 * written: the set in memory then holds the change all the same, and the
 * next change that saves writes it too.
 */
int switches_set(struct switches *s, const char *device_id, bool off, char *why,
                 size_t why_len);

#endif
