/*
 * secret.h - API tokens and passwords as a type of their own.
 *
 * A secret lives in its own heap buffer, is compared only in constant time,
 * and is wiped when replaced or freed. There is deliberately no function that
 * formats one: printing a secret takes a visible, greppable secret_reveal().
 */
#ifndef METALBMC_SECRET_H
#define METALBMC_SECRET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct secret {
	uint8_t *buf;
	size_t len;
};

int secret_set(struct secret *s, const void *data, size_t len);
void secret_clear(struct secret *s);
static inline bool secret_present(const struct secret *s) { return s->buf != NULL; }
/* Constant time in the candidate's contents (length leaks, as it must). */
bool secret_equals(const struct secret *s, const void *data, size_t len);
/* The raw bytes, for the few places that must use them (HMAC keys, HTTP
 * headers, the admin reveal). */
static inline const uint8_t *secret_reveal(const struct secret *s) { return s->buf; }
/* The secret in a fixed field of n bytes, cut to n and zero padded: the
 * IPMI password fields (16 bytes in v1.5, 20 in v2.0). Wipe out after use. */
void secret_to_field(const struct secret *s, uint8_t *out, size_t n);

/* Wipe memory that held key material; never optimised away. */
void secret_wipe(void *p, size_t n);
/* Constant-time equality of two equal-length buffers. */
bool secret_ct_equal(const void *a, const void *b, size_t n);

/* Fill buf with n bytes from the kernel CSPRNG (getrandom), small requests
 * through a per-thread pool refilled a few hundred bytes at a time. Safe
 * from any thread. 0 or -1. */
int secret_random(void *buf, size_t n);

/*
 * A device's own IPMI password: HMAC-SHA256(master, "metalbmc-ipmi-v1" ||
 * device_id) mapped onto 20 characters of [A-Za-z0-9] (~119 bits). out must
 * hold MAX_PASSWORD + 1 bytes. 0 or -1.
 */
int secret_device_password(const struct secret *master, const char *device_id,
                           char *out);

/*
 * Reads a secret from a file: refuses a file readable or writable by group
 * or others, one larger than MAX_SECRET_FILE_BYTES, or an empty one; strips
 * one trailing newline. On failure writes a reason (never file content) to
 * why. 0 or -1.
 */
int secret_read_file(const char *path, struct secret *s, char *why, size_t why_len);

#endif
