/*
 * fnv.h - 64-bit FNV-1a, the one plain hash here: table indexes (personas,
 * devices, assignments), the throttle's source keys, the response cache's
 * request keys, the fingerprint of a device's bad tags. Not for anything
 * that needs a keyed or cryptographic hash.
 */
#ifndef METALBMC_FNV_H
#define METALBMC_FNV_H

#include <stddef.h>
#include <stdint.h>

#define FNV1A_INIT 0xcbf29ce484222325ull /* 64-bit offset basis */

/* Continues the hash h over n bytes of data (start with FNV1A_INIT). */
static inline uint64_t fnv1a(uint64_t h, const void *data, size_t n)
{
	const uint8_t *b = data;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

#endif
