/*
 * heap.c - min-heap of timers; see heap.h.
 */
#include "heap.h"

#include <stdint.h>
#include <stdlib.h>

static void place(struct heap *h, size_t i, struct loop_timer *t)
{
	h->items[i] = t;
	t->heap_index = i;
}

static void sift_up(struct heap *h, size_t i)
{
	struct loop_timer *t = h->items[i];
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (h->items[parent]->deadline_ms <= t->deadline_ms)
			break;
		place(h, i, h->items[parent]);
		i = parent;
	}
	place(h, i, t);
}

static void sift_down(struct heap *h, size_t i)
{
	struct loop_timer *t = h->items[i];
	for (;;) {
		size_t child = 2 * i + 1;
		if (child >= h->len)
			break;
		if (child + 1 < h->len &&
		    h->items[child + 1]->deadline_ms < h->items[child]->deadline_ms)
			child++;
		if (t->deadline_ms <= h->items[child]->deadline_ms)
			break;
		place(h, i, h->items[child]);
		i = child;
	}
	place(h, i, t);
}

int heap_push(struct heap *h, struct loop_timer *t)
{
	if (h->len == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 64;
		struct loop_timer **n = realloc(h->items, cap * sizeof(*n));
		if (!n)
			return -1;
		h->items = n;
		h->cap = cap;
	}
	place(h, h->len++, t);
	sift_up(h, h->len - 1);
	return 0;
}

void heap_remove(struct heap *h, struct loop_timer *t)
{
	size_t i = t->heap_index;
	if (i >= h->len || h->items[i] != t)
		return;
	t->heap_index = SIZE_MAX;
	h->len--;
	if (i == h->len)
		return;
	place(h, i, h->items[h->len]);
	heap_update(h, h->items[i]);
}

void heap_update(struct heap *h, struct loop_timer *t)
{
	size_t i = t->heap_index;
	if (i > 0 && h->items[(i - 1) / 2]->deadline_ms > t->deadline_ms)
		sift_up(h, i);
	else
		sift_down(h, i);
}

void heap_free(struct heap *h)
{
	free(h->items);
	h->items = NULL;
	h->len = h->cap = 0;
}
