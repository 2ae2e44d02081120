/*
 * heap.h - binary min-heap of timers ordered by deadline. Each timer stores
 * its own index, so removal and re-arming are O(log n) with no search.
 */
#ifndef METALBMC_HEAP_H
#define METALBMC_HEAP_H

#include <stddef.h>
#include "loop.h"

struct heap {
	struct loop_timer **items;
	size_t len;
	size_t cap;
};

int heap_push(struct heap *h, struct loop_timer *t);
void heap_remove(struct heap *h, struct loop_timer *t);
/* Call after changing t->deadline_ms of a timer already in the heap. */
void heap_update(struct heap *h, struct loop_timer *t);
static inline struct loop_timer *heap_top(const struct heap *h)
{
	return h->len ? h->items[0] : NULL;
}
void heap_free(struct heap *h);

#endif
