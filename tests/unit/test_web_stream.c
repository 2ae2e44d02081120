/*
 * test_web_stream.c - responses rendered a slice of personas at a time
 * (web/stream.c): order, slicing, partial reads, and personas removed (or
 * their slot reused) between slices.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "web_priv.h"

static void row_id(struct web_stream *s, struct persona *p, struct wbuf *b)
{
	wbuf_printf(b, "%s\n", p->device_id);
	s->rows++;
}

static void end_mark(struct web_stream *s, struct wbuf *b)
{
	wbuf_printf(b, "end %zu\n", s->rows);
}

struct fixture {
	struct web w;
	struct web_req r;
	struct persona_table *t;
};

static struct fixture *setup(size_t n)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char id[40];

	f->t = persona_table_new();
	for (size_t i = 0; i < n; i++) {
		/* added in reverse, so the stream has to sort */
		snprintf(id, sizeof(id), "dev-%04zu", n - 1 - i);
		struct persona *p = persona_add(f->t, id);
		snprintf(p->hostname, sizeof(p->hostname), "host-%04zu", n - 1 - i);
	}
	f->w.d.personas = f->t;
	f->r.w = &f->w;
	return f;
}

static void teardown(struct fixture *f)
{
	persona_table_free(f->t);
	free(f);
}

/* Reads the stream max bytes at a time until its end. */
static char *drain(struct web_stream *s, size_t max, size_t *calls)
{
	size_t cap = 1 << 20, len = 0;
	char *out = calloc(1, cap);

	*calls = 0;
	for (;;) {
		ssize_t n = web_stream_read(s, len, out + len, max);
		(*calls)++;
		if (n == -1)
			break;
		assert_true(n > 0);
		len += (size_t)n;
		assert_true(len < cap);
	}
	out[len] = 0;
	return out;
}

static void order_and_slices(void **state)
{
	size_t n = 3 * WEB_STREAM_SLICE + 5, calls;
	struct fixture *f = setup(n);
	struct web_stream *s = web_stream_new(&f->r, row_id, end_mark);
	char want[64];

	(void)state;
	assert_non_null(s);
	wbuf_puts(&s->out, "head\n");
	char *text = drain(s, 7, &calls); /* tiny reads: every row split */
	assert_true(strncmp(text, "head\ndev-0000\ndev-0001\n", 23) == 0);
	snprintf(want, sizeof(want), "dev-%04zu\nend %zu\n", n - 1, n);
	assert_non_null(strstr(text, want));
	assert_int_equal(strlen(text), 5 + n * 9 + strlen("end ") + 3 + 1);
	assert_true(calls > n);
	free(text);
	web_stream_free(s);
	teardown(f);
}

static void removed_between_slices(void **state)
{
	size_t n = 4 * WEB_STREAM_SLICE, calls;
	struct fixture *f = setup(n);
	struct web_stream *s = web_stream_new(&f->r, row_id, end_mark);
	char buf[16], id[40];

	(void)state;
	/* the first read renders only the first slice */
	assert_int_equal(web_stream_read(s, 0, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	assert_int_equal(s->next, WEB_STREAM_SLICE);
	/* now remove every persona past the first slice but one, and reuse
	 * one freed slot for a newcomer (same slot, new generation) */
	for (size_t i = WEB_STREAM_SLICE; i < n - 1; i++) {
		snprintf(id, sizeof(id), "dev-%04zu", i);
		persona_remove(f->t, persona_by_device(f->t, id));
	}
	struct persona *newcomer = persona_add(f->t, "newcomer");
	assert_non_null(newcomer);
	char *rest = drain(s, 4096, &calls);
	snprintf(id, sizeof(id), "dev-%04zu\nend %zu\n", n - 1, (size_t)WEB_STREAM_SLICE + 1);
	assert_non_null(strstr(rest, id));                  /* the survivor, then the end */
	assert_null(strstr(rest, "newcomer"));              /* not in the snapshot's order */
	snprintf(id, sizeof(id), "dev-%04zu\n", (size_t)WEB_STREAM_SLICE + 1);
	assert_null(strstr(rest, id));                      /* removed: skipped */
	free(rest);
	web_stream_free(s);
	teardown(f);
}

static void empty_table(void **state)
{
	struct fixture *f = setup(0);
	struct web_stream *s = web_stream_new(&f->r, row_id, end_mark);
	size_t calls;

	(void)state;
	char *text = drain(s, 100, &calls);
	assert_string_equal(text, "end 0\n");
	free(text);
	web_stream_free(s);
	teardown(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(order_and_slices),
		cmocka_unit_test(removed_between_slices),
		cmocka_unit_test(empty_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
