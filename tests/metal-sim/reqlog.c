/*
 * The log of API requests, for tests to assert which Metal calls a client
 * made.  It holds method, path, query, status, fault, the body of PUT/POST,
 * the User-Agent and a monotonic timestamp: no other header, so never the
 * token (http.c redacts a token found in any of those).  The
 * in-memory log is a ring of SIM_MAX_LOG_ENTRIES; --request-log appends
 * every entry as one JSON line, written with one write() so concurrent
 * readers never see half a line.
 */
#include "metal_sim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void reqlog_init(struct reqlog *log)
{
	memset(log, 0, sizeof(*log));
	log->next_seq = 1;
}

void reqlog_clear(struct reqlog *log)
{
	for (size_t i = 0; i < log->count; i++)
		json_decref(log->ring[(log->head + i) % SIM_MAX_LOG_ENTRIES]);
	log->head = 0;
	log->count = 0;
	log->discarded = 0;
	/* Sequence numbers keep counting, so ?since= stays meaningful. */
}

void reqlog_free(struct reqlog *log)
{
	reqlog_clear(log);
	if (log->file != NULL)
		fclose(log->file);
	log->file = NULL;
}

bool reqlog_open_file(struct reqlog *log, const char *path, char *err,
		      size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

	if (fd < 0 || (log->file = fdopen(fd, "a")) == NULL) {
		snprintf(err, errlen, "--request-log %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return false;
	}
	return true;
}

void reqlog_append(struct reqlog *log, json_t *entry)
{
	size_t slot;

	if (entry == NULL)
		return;
	json_object_set_new(entry, "seq", json_integer((json_int_t)log->next_seq++));
	if (log->file != NULL) {
		char *line = json_compact(entry);

		if (line != NULL) {
			size_t n = strlen(line);

			line[n] = '\n';
			/* One write per line; errors are ignored, the file
			 * is a convenience and the ring still has it. */
			if (write(fileno(log->file), line, n + 1) < 0)
				(void)0;
			free(line);
		}
	}
	if (log->count == SIM_MAX_LOG_ENTRIES) {
		json_decref(log->ring[log->head]);
		log->head = (log->head + 1) % SIM_MAX_LOG_ENTRIES;
		log->count--;
		log->discarded++;
	}
	slot = (log->head + log->count) % SIM_MAX_LOG_ENTRIES;
	log->ring[slot] = entry;
	log->count++;
}

json_t *reqlog_to_json(const struct reqlog *log, uint64_t since)
{
	json_t *list = json_array();

	for (size_t i = 0; list != NULL && i < log->count; i++) {
		json_t *e = log->ring[(log->head + i) % SIM_MAX_LOG_ENTRIES];
		json_int_t seq = json_integer_value(json_object_get(e, "seq"));

		if ((uint64_t)seq > since)
			json_array_append(list, e);
	}
	return json_pack("{s:o,s:I,s:I}", "requests", list ? list : json_array(),
			 "discarded", (json_int_t)log->discarded, "next_seq",
			 (json_int_t)log->next_seq);
}
