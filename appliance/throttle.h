/*
 * throttle.h - per-source limits before and after authentication.
 *
 * Before any session work a source spends a token from its bucket (burst
 * THROTTLE_SETUP_BURST, THROTTLE_SETUP_PER_S per second). Failed logins
 * past THROTTLE_FAIL_FREE lock that source out for an exponentially
 * growing time, capped at THROTTLE_LOCK_MS_MAX. State is per source address
 * (IPv6 per /64), so one attacker cannot lock out anybody else.
 */
#ifndef METALBMC_THROTTLE_H
#define METALBMC_THROTTLE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct throttle;

/* per_s: sustained setups per second per source; burst: bucket size. */
struct throttle *throttle_new(unsigned per_s, unsigned burst);
void throttle_free(struct throttle *t);
/* Forgets every source (fuzz targets reuse one table between inputs). */
void throttle_reset(struct throttle *t);

enum throttle_verdict {
	THROTTLE_OK = 0,
	THROTTLE_RATE,    /* over its setup budget: drop silently */
	THROTTLE_LOCKED,  /* locked out after failures: refuse cheaply */
};

/* Spend one session-setup token for this source. */
enum throttle_verdict throttle_setup(struct throttle *t, const struct sockaddr *sa,
                                     uint64_t now_ms);
/* Record a failed or a successful login. */
/* Returns the lock-out in ms this failure started (0: not locked). */
uint64_t throttle_fail(struct throttle *t, const struct sockaddr *sa, uint64_t now_ms);
void throttle_success(struct throttle *t, const struct sockaddr *sa);
/* Milliseconds until the source is unlocked (0 if it is not locked). */
uint64_t throttle_locked_for(struct throttle *t, const struct sockaddr *sa,
                             uint64_t now_ms);
/* A stable key for the source address (used by the log limiter too). */
uint64_t throttle_source_key(const struct sockaddr *sa);

#endif
