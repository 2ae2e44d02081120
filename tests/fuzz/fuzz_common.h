/*
 * fuzz_common.h - what the datagram and session targets share: a fresh
 * engine per input (so every crash reproduces from its input alone) and a
 * record format that lets one input carry a conversation.
 *
 * An input is a header byte followed by records, each a 16-bit little-
 * endian length and that many bytes (a truncated last record is taken as
 * it is). The seed corpus is written in this format by tests/fuzz/seeds.py.
 */
#ifndef METALBMC_FUZZ_COMMON_H
#define METALBMC_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ipmi_test_client.h"
#include "log.h"

/* Next record of the input; false at the end. */
static inline bool fuzz_next_record(const uint8_t **p, size_t *left,
                                    const uint8_t **rec, size_t *rec_len)
{
	if (*left == 0)
		return false;
	if (*left < 2) {
		*rec = *p;
		*rec_len = *left;
		*left = 0;
		return true;
	}
	size_t n = (size_t)(*p)[0] | (size_t)(*p)[1] << 8;
	*p += 2;
	*left -= 2;
	if (n > *left)
		n = *left;
	*rec = *p;
	*rec_len = n;
	*p += n;
	*left -= n;
	return true;
}

/* Logging on at debug level into /dev/null: the formatting and escaping
 * of peer-supplied names runs, the output does not slow the fuzzer. */
static inline void fuzz_quiet_logs(void)
{
	static FILE *null;
	if (!null)
		null = fopen("/dev/null", "w");
	log_set_stream(null);
	log_set_level(LOG_LVL_DEBUG);
}

#endif
