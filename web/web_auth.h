/*
 * web_auth.h - HTTP basic authentication for the page and the API.
 *
 * Credentials are compared as SHA-256 digests with CRYPTO_memcmp, so the
 * time taken depends on neither the guessed user name nor the guessed
 * password. Wrong guesses feed a per-source lock-out (the IPMI throttle's
 * table, an instance of its own): past THROTTLE_FAIL_FREE failures a source
 * is refused for 1 s, then 2 s, 4 s ... up to THROTTLE_LOCK_MS_MAX, before
 * its credentials are even looked at.
 */
#ifndef METALBMC_WEB_AUTH_H
#define METALBMC_WEB_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "secret.h"

#define WEB_AUTH_MAX_USER 64   /* bytes: decoded user name */
#define WEB_AUTH_MAX_PASS 256  /* bytes: decoded password */

struct web_auth;

/* NULL password: nothing but /healthz will be served. NULL on ENOMEM. */
struct web_auth *web_auth_new(const char *user, const struct secret *password);
void web_auth_free(struct web_auth *a);
bool web_auth_configured(const struct web_auth *a);

enum web_auth_result {
	WEB_AUTH_OK = 0,
	WEB_AUTH_MISSING,   /* no or unusable Authorization header: ask */
	WEB_AUTH_WRONG,     /* well-formed but wrong: counted against the source */
	WEB_AUTH_LOCKED,    /* source locked out: *retry_ms says how long */
};

enum web_auth_result web_auth_check(struct web_auth *a, const char *header,
                                    const struct sockaddr *from, uint64_t now_ms,
                                    uint64_t *retry_ms);

/*
 * Parses an Authorization header of the Basic scheme (RFC 7617): scheme
 * case-insensitive, strict base64, user and password split at the first
 * colon. Writes both NUL-terminated; a user or password that does not fit,
 * or that holds a NUL, is refused. 0 or -1. The caller wipes pass.
 */
int web_auth_parse_basic(const char *header, char *user, size_t user_cap,
                         char *pass, size_t pass_cap);

#endif
