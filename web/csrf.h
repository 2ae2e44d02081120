/*
 * csrf.h - tokens that tie an admin form to the page that served it.
 *
 * A token is "<issued>.<mac>": the issue time in seconds (wall clock, hex)
 * and HMAC-SHA256(key, "metalbmc-csrf-v1" | issued | user) in hex. The key
 * is random per process, so a restart invalidates every open form; nothing
 * is stored per session. A token is accepted by the same authenticated
 * user for WEB_CSRF_TTL_S seconds, compared in constant time.
 */
#ifndef METALBMC_CSRF_H
#define METALBMC_CSRF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CSRF_KEY_LEN   32
#define CSRF_TOKEN_MAX 96 /* bytes, with NUL: 16 hex + '.' + 64 hex */

struct csrf {
	uint8_t key[CSRF_KEY_LEN];
};

/* Draws a fresh key. 0 or -1. */
int csrf_init(struct csrf *c);
void csrf_wipe(struct csrf *c);
/* Writes the token for user at time now_s into out (CSRF_TOKEN_MAX). */
void csrf_make(const struct csrf *c, const char *user, uint64_t now_s, char *out);
/* True when token was made by csrf_make for this user within the TTL. */
bool csrf_check(const struct csrf *c, const char *user, const char *token,
                uint64_t now_s);

#endif
