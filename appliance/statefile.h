/*
 * statefile.h - writing a small file of METALBMC_STATE_DIR so that a crash
 * or power loss leaves either the old file or the new one, never half of
 * either: a temporary file of mode 0600, fsync, rename over the old one,
 * fsync of the directory.
 */
#ifndef METALBMC_STATEFILE_H
#define METALBMC_STATEFILE_H

#include <stddef.h>

/* Replaces path with len bytes of text. 0, or -1 with errno set (the
 * temporary file is removed). */
int statefile_write(const char *path, const char *text, size_t len);

#endif
