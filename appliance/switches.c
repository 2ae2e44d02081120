/*
 * switches.c - the persisted admin switch; see switches.h.
 *
 * The set is small (an admin switches personas off one by one), so it is
 * an unordered array searched linearly; persona creation is the only
 * frequent reader, once per new persona.
 */
#include "switches.h"
#include "statefile.h"

#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FILE_VERSION 1
#define MAX_FILE_BYTES (1024 * 1024) /* bytes: switches.json */

static size_t find(const struct switches *s, const char *device_id)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->off[i], device_id) == 0)
			return i;
	return SIZE_MAX;
}

bool switches_is_off(const struct switches *s, const char *device_id)
{
	return s && s->n && find(s, device_id) != SIZE_MAX;
}

static int add(struct switches *s, const char *device_id)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		void *nv = realloc(s->off, cap * sizeof(*s->off));
		if (!nv)
			return -1;
		s->off = nv;
		s->cap = cap;
	}
	snprintf(s->off[s->n++], MAX_DEVICE_ID, "%s", device_id);
	return 0;
}

static int load(struct switches *s, json_t *root, char *why, size_t why_len)
{
	json_t *v, *list, *it;
	size_t i;

	if (!json_is_object(root) || !(v = json_object_get(root, "version")) ||
	    !json_is_integer(v) || json_integer_value(v) != FILE_VERSION) {
		snprintf(why, why_len, "not a version %d switches file", FILE_VERSION);
		return -1;
	}
	list = json_object_get(root, "disabled");
	if (!json_is_array(list)) {
		snprintf(why, why_len, "disabled: expected an array of device IDs");
		return -1;
	}
	if (json_array_size(list) > MAX_SWITCHED_OFF) {
		snprintf(why, why_len, "disabled: more than %d entries", MAX_SWITCHED_OFF);
		return -1;
	}
	json_array_foreach(list, i, it) {
		if (!json_is_string(it) || json_string_length(it) == 0 ||
		    json_string_length(it) >= MAX_DEVICE_ID ||
		    strlen(json_string_value(it)) != json_string_length(it)) {
			snprintf(why, why_len, "disabled[%zu]: not a device ID", i);
			return -1;
		}
		if (find(s, json_string_value(it)) != SIZE_MAX)
			continue;
		if (add(s, json_string_value(it)) < 0) {
			snprintf(why, why_len, "out of memory");
			return -1;
		}
	}
	return 0;
}

int switches_open(struct switches *s, const char *dir, char *why, size_t why_len)
{
	struct stat st;
	json_error_t err;
	char reason[160] = "";

	memset(s, 0, sizeof(*s));
	if (snprintf(s->dir, sizeof(s->dir), "%s", dir) >= (int)sizeof(s->dir) ||
	    snprintf(s->path, sizeof(s->path), "%s/%s", dir, SWITCHES_FILE) >=
	            (int)sizeof(s->path)) {
		snprintf(why, why_len, "state directory path too long");
		return -1;
	}
	if (stat(s->path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(why, why_len, "%s: %s", s->path, strerror(errno));
		return -1;
	}
	json_t *root = NULL;
	if (!S_ISREG(st.st_mode) || st.st_size > MAX_FILE_BYTES)
		snprintf(reason, sizeof(reason), "not a regular file of at most %d bytes",
		         MAX_FILE_BYTES);
	else if (!(root = json_load_file(s->path, JSON_REJECT_DUPLICATES, &err)))
		snprintf(reason, sizeof(reason), "not valid JSON (line %d: %s)", err.line,
		         err.text);
	else if (load(s, root, reason, sizeof(reason)) == 0) {
		json_decref(root);
		return 0;
	}
	json_decref(root);
	switches_close(s);
	snprintf(why, why_len, "%s: %s; it holds the personas an admin disabled: fix it, "
	         "or remove it to enable them all", s->path, reason);
	return -1;
}

void switches_close(struct switches *s)
{
	free(s->off);
	s->off = NULL;
	s->n = s->cap = 0;
}

static int save(struct switches *s, char *why, size_t why_len)
{
	json_t *root = json_object(), *list = json_array();
	char *text = NULL;
	int rc = -1;

	if (!root || !list) {
		json_decref(list);
		goto oom;
	}
	json_object_set_new(root, "version", json_integer(FILE_VERSION));
	json_object_set_new(root, "disabled", list);
	for (size_t i = 0; i < s->n; i++)
		if (json_array_append_new(list, json_string(s->off[i])) < 0)
			goto oom;
	if (!(text = json_dumps(root, JSON_INDENT(1))))
		goto oom;
	if (mkdir(s->dir, 0700) < 0 && errno != EEXIST) {
		snprintf(why, why_len, "cannot create %s: %s", s->dir, strerror(errno));
		goto done;
	}
	if (statefile_write(s->path, text, strlen(text)) < 0) {
		snprintf(why, why_len, "cannot write %s: %s", s->path, strerror(errno));
		goto done;
	}
	rc = 0;
	s->dirty = false;
	goto done;
oom:
	snprintf(why, why_len, "out of memory");
done:
	if (rc < 0)
		s->dirty = true;
	free(text);
	json_decref(root);
	return rc;
}

int switches_set(struct switches *s, const char *device_id, bool off, char *why,
                 size_t why_len)
{
	size_t at = find(s, device_id);

	if (off == (at != SIZE_MAX))
		return s->dirty ? save(s, why, why_len) : 0; /* a retry writes what failed */
	if (off) {
		if (s->n >= MAX_SWITCHED_OFF) {
			snprintf(why, why_len, "%d personas are disabled already; enable one first",
			         MAX_SWITCHED_OFF);
			return -1;
		}
		if (add(s, device_id) < 0) {
			snprintf(why, why_len, "out of memory");
			return -1;
		}
	} else {
		memmove(s->off[at], s->off[s->n - 1], sizeof(s->off[at]));
		s->n--;
	}
	return save(s, why, why_len);
}
