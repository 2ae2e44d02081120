/*
 * fru.h - a FRU inventory image (Platform Management FRU Information
 * Storage Definition v1.0) synthesized from what Metal says of a device.
 */
#ifndef METALBMC_FRU_H
#define METALBMC_FRU_H

#include <stddef.h>
#include <stdint.h>

struct persona;

#define FRU_MAX 512 /* bytes: the whole image */

/* Builds the image; returns its size (a multiple of 8), 0 on overflow. */
size_t fru_build(const struct persona *p, uint8_t *out, size_t cap);

#endif
