/*
 * The simulator's data: projects, the devices in them, and an id index.
 *
 * Devices are kept as the jansson objects they are served as, so fields the
 * simulator does not know about survive untouched.  The index is open
 * addressing on the device id; devices are never removed from it (an
 * out-of-band delete only marks them), which keeps it free of tombstones.
 */
#include "metal_sim.h"

#include <stdlib.h>
#include <string.h>

static uint64_t hash_id(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

void store_init(struct store *st)
{
	memset(st, 0, sizeof(*st));
}

void store_free(struct store *st)
{
	for (size_t i = 0; i < st->ndevices; i++) {
		json_decref(st->devices[i]->obj);
		json_decref(st->devices[i]->events);
		free(st->devices[i]);
	}
	for (size_t i = 0; i < st->nprojects; i++) {
		free(st->projects[i]->devices);
		free(st->projects[i]);
	}
	free(st->devices);
	free(st->projects);
	free(st->index);
	store_init(st);
}

struct sim_project *store_add_project(struct store *st, const char *id)
{
	struct sim_project **arr, *p;

	/* Projects are allocated one by one: devices point at them, so they
	 * must not move when the array grows. */
	arr = realloc(st->projects, (st->nprojects + 1) * sizeof(*arr));
	if (arr == NULL)
		return NULL;
	st->projects = arr;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	snprintf(p->id, sizeof(p->id), "%s", id);
	st->projects[st->nprojects++] = p;
	return p;
}

struct sim_project *store_find_project(struct store *st, const char *id)
{
	for (size_t i = 0; i < st->nprojects; i++)
		if (strcmp(st->projects[i]->id, id) == 0)
			return st->projects[i];
	return NULL;
}

static bool index_insert(struct sim_device **index, size_t size,
			 struct sim_device *dev)
{
	size_t mask = size - 1;

	for (size_t i = hash_id(dev->id) & mask, n = 0; n < size;
	     i = (i + 1) & mask, n++) {
		if (index[i] == NULL) {
			index[i] = dev;
			return true;
		}
	}
	return false;
}

static bool index_grow(struct store *st)
{
	size_t size = st->index_size ? st->index_size * 2 : 1024;
	struct sim_device **index = calloc(size, sizeof(*index));

	if (index == NULL)
		return false;
	for (size_t i = 0; i < st->ndevices; i++)
		index_insert(index, size, st->devices[i]);
	free(st->index);
	st->index = index;
	st->index_size = size;
	return true;
}

struct sim_device *store_find_device(struct store *st, const char *id)
{
	size_t mask;

	if (st->index_size == 0)
		return NULL;
	mask = st->index_size - 1;
	for (size_t i = hash_id(id) & mask, n = 0; n < st->index_size;
	     i = (i + 1) & mask, n++) {
		if (st->index[i] == NULL)
			return NULL;
		if (strcmp(st->index[i]->id, id) == 0)
			return st->index[i];
	}
	return NULL;
}

struct sim_device *store_add_device(struct store *st, struct sim_project *p,
				    json_t *obj)
{
	struct sim_device *dev;
	const char *id = json_string_value(json_object_get(obj, "id"));

	if (id == NULL || !is_uuid(id) || store_find_device(st, id) != NULL)
		goto fail;
	/* Keep the index at most half full so probes stay short. */
	if ((st->ndevices + 1) * 2 > st->index_size && !index_grow(st))
		goto fail;
	if (st->ndevices == st->devcap) {
		size_t cap = st->devcap ? st->devcap * 2 : 256;
		struct sim_device **d = realloc(st->devices, cap * sizeof(*d));

		if (d == NULL)
			goto fail;
		st->devices = d;
		st->devcap = cap;
	}
	if (p->ndevices == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct sim_device **d = realloc(p->devices, cap * sizeof(*d));

		if (d == NULL)
			goto fail;
		p->devices = d;
		p->cap = cap;
	}
	dev = calloc(1, sizeof(*dev));
	if (dev == NULL)
		goto fail;
	dev->events = json_array();
	if (dev->events == NULL) {
		free(dev);
		goto fail;
	}
	snprintf(dev->id, sizeof(dev->id), "%s", id);
	dev->obj = obj;
	dev->project = p;
	st->devices[st->ndevices++] = dev;
	p->devices[p->ndevices++] = dev;
	index_insert(st->index, st->index_size, dev);
	return dev;
fail:
	json_decref(obj);
	return NULL;
}
