/*
 * log.h - one line per event, to stderr (systemd's journal picks it up).
 *
 * log_warn appends strerror(errno); log_warnx does not. fatal/fatalx are for
 * startup and impossible internal state only. Nothing here knows what a
 * secret is: callers never pass one (tests grep every log for every secret).
 */
#ifndef METALBMC_LOG_H
#define METALBMC_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

enum log_level { LOG_LVL_ERROR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))

void log_set_level(enum log_level lvl);
/* Parses "error", "warn", "info", "debug"; returns -1 if unknown. */
int log_level_parse(const char *s, enum log_level *out);
const char *log_level_name(enum log_level lvl);
/* Redirect output (tests); NULL restores stderr. */
void log_set_stream(void *stream);

void log_error(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);
_Noreturn void fatal(const char *fmt, ...) LOG_PRINTF(1, 2);
_Noreturn void fatalx(const char *fmt, ...) LOG_PRINTF(1, 2);

/*
 * Per-source rate limit for lines a remote peer can trigger: a token bucket
 * per source key (a hash of the address) in a small fixed table, so a flood
 * from one address cannot fill the journal or hide another's events.
 * Returns true when a line for this source may be logged now.
 */
bool log_peer_allowed(uint64_t source_key, uint64_t now_ms);

/*
 * Copies wire bytes for display: printable ASCII kept, anything else as
 * \xNN, capped to fit cap (always NUL-terminated). Returns out.
 */
char *log_escape(const void *data, size_t len, char *out, size_t cap);

#endif
