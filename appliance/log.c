/*
 * log.c - the OpenBSD log_* family, with a per-source limiter for anything
 * the network can trigger.
 */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum log_level cur_level = LOG_LVL_INFO;
static FILE *out_stream;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void log_set_level(enum log_level lvl) { cur_level = lvl; }
void log_set_stream(void *stream) { out_stream = stream; }

const char *log_level_name(enum log_level lvl)
{
	return lvl <= LOG_LVL_DEBUG ? level_names[lvl] : "?";
}

int log_level_parse(const char *s, enum log_level *out)
{
	for (int i = 0; i <= LOG_LVL_DEBUG; i++)
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	if (strcmp(s, "warning") == 0) {
		*out = LOG_LVL_WARN;
		return 0;
	}
	return -1;
}

/* Formats the whole line first and writes it with one call, so lines from
 * worker threads never interleave. */
static void emit(enum log_level lvl, const char *suffix, const char *fmt,
                 va_list ap) __attribute__((format(printf, 3, 0)));

static void emit(enum log_level lvl, const char *suffix, const char *fmt,
                 va_list ap)
{
	char line[1024];
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03ldZ %s: ",
	                      ts.tv_nsec / 1000000, log_level_name(lvl));
	if (n < sizeof(line)) {
		int m = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
		if (m > 0)
			n += (size_t)m;
	}
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	if (suffix) {
		int m = snprintf(line + n, sizeof(line) - n, ": %s", suffix);
		if (m > 0)
			n += (size_t)m;
		if (n >= sizeof(line) - 1)
			n = sizeof(line) - 2;
	}
	line[n++] = '\n';
	FILE *f = out_stream ? out_stream : stderr;
	fwrite(line, 1, n, f);
	fflush(f);
}

#define LOG_FN(name, lvl)                           \
	void name(const char *fmt, ...)             \
	{                                           \
		va_list ap;                         \
		if ((lvl) > cur_level)              \
			return;                     \
		va_start(ap, fmt);                  \
		emit((lvl), NULL, fmt, ap);         \
		va_end(ap);                         \
	}

LOG_FN(log_error, LOG_LVL_ERROR)
LOG_FN(log_warnx, LOG_LVL_WARN)
LOG_FN(log_info, LOG_LVL_INFO)
LOG_FN(log_debug, LOG_LVL_DEBUG)

void log_warn(const char *fmt, ...)
{
	char err[128];
	va_list ap;
	int saved = errno;

	if (LOG_LVL_WARN > cur_level)
		return;
	/* GNU strerror_r (_GNU_SOURCE): the message is the return value and
	 * the buffer may stay untouched. */
	const char *msg = strerror_r(saved, err, sizeof(err));
	va_start(ap, fmt);
	emit(LOG_LVL_WARN, msg, fmt, ap);
	va_end(ap);
	errno = saved;
}

void fatal(const char *fmt, ...)
{
	char err[128];
	va_list ap;

	const char *msg = strerror_r(errno, err, sizeof(err));
	va_start(ap, fmt);
	emit(LOG_LVL_ERROR, msg, fmt, ap);
	va_end(ap);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(LOG_LVL_ERROR, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}

/* 256 buckets, 5 lines of burst, one line per 2 s sustained per source.
 * Sources that hash together share a bucket: harmless, it only limits logs. */
#define PEER_SLOTS      256
#define PEER_BURST      5
#define PEER_REFILL_MS  2000

struct peer_bucket {
	uint64_t key;
	uint64_t last_ms;
	uint32_t tokens;
	uint32_t suppressed;
};
static struct peer_bucket peers[PEER_SLOTS];

bool log_peer_allowed(uint64_t key, uint64_t now_ms)
{
	unsigned slot = (unsigned)((key * 0x9E3779B97F4A7C15ull) >> 56);
	struct peer_bucket *p = &peers[slot];

	if (p->key != key || p->last_ms == 0) {
		p->key = key;
		p->tokens = PEER_BURST;
		p->last_ms = now_ms ? now_ms : 1;
		p->suppressed = 0;
	} else if (now_ms > p->last_ms) {
		uint64_t add = (now_ms - p->last_ms) / PEER_REFILL_MS;
		if (add) {
			p->tokens = (uint32_t)(p->tokens + add > PEER_BURST
			                           ? PEER_BURST
			                           : p->tokens + add);
			p->last_ms += add * PEER_REFILL_MS;
		}
	}
	if (p->tokens == 0) {
		p->suppressed++;
		return false;
	}
	p->tokens--;
	return true;
}

char *log_escape(const void *data, size_t len, char *out, size_t cap)
{
	const uint8_t *s = data;
	size_t o = 0;

	if (cap == 0)
		return out;
	for (size_t i = 0; i < len; i++) {
		if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\' && s[i] != '"') {
			if (cap - o < 2)
				break;
			out[o++] = (char)s[i];
		} else {
			if (cap - o < 5)
				break;
			snprintf(out + o, 5, "\\x%02x", s[i]);
			o += 4;
		}
	}
	out[o] = '\0';
	return out;
}
