/*
 * stream.c - responses rendered a slice of personas at a time; see
 * struct web_stream in web_priv.h.
 */
#include "web_priv.h"

#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

struct sort_item {
	const struct persona *p;
	struct persona_ref ref;
};

static int by_hostname(const void *a, const void *b)
{
	const struct persona *x = ((const struct sort_item *)a)->p;
	const struct persona *y = ((const struct sort_item *)b)->p;
	int c = strcmp(x->hostname, y->hostname);
	return c ? c : strcmp(x->device_id, y->device_id);
}

struct web_stream *web_stream_new(struct web_req *r, stream_row_fn row, stream_end_fn end)
{
	const struct persona_table *t = r->w->d.personas;
	size_t cap = persona_count(t), k = 0;
	struct web_stream *s = calloc(1, sizeof(*s));
	struct sort_item *items = calloc(cap ? cap : 1, sizeof(*items));

	if (!s || !items) {
		free(s);
		free(items);
		return NULL;
	}
	s->order = calloc(cap ? cap : 1, sizeof(*s->order));
	if (!s->order) {
		free(s);
		free(items);
		return NULL;
	}
	for (size_t i = 0; i < persona_capacity(t) && k < cap; i++) {
		const struct persona *p = persona_at(t, i);
		if (p)
			items[k++] = (struct sort_item){ p, { p->slot, p->generation } };
	}
	qsort(items, k, sizeof(*items), by_hostname);
	for (size_t i = 0; i < k; i++)
		s->order[i] = items[i].ref;
	free(items);
	s->n = k;
	s->w = r->w;
	s->row = row;
	s->end = end;
	snprintf(s->user, sizeof(s->user), "%s", r->user);
	snprintf(s->local_host, sizeof(s->local_host), "%s", r->local_host);
	wbuf_init(&s->out, WEB_MAX_RESPONSE);
	return s;
}

/* Renders the next slice (or the end) into s->out. */
static void render_more(struct web_stream *s)
{
	size_t stop = s->next + WEB_STREAM_SLICE < s->n ? s->next + WEB_STREAM_SLICE : s->n;

	for (; s->next < stop; s->next++) {
		struct persona *p = persona_at(s->w->d.personas, s->order[s->next].slot);
		if (p && p->generation == s->order[s->next].generation)
			s->row(s, p, &s->out);
	}
	if (s->next == s->n && !s->ended) {
		s->end(s, &s->out);
		s->ended = true;
	}
}

ssize_t web_stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct web_stream *s = cls;

	(void)pos;
	if (s->out_off == s->out.len) {
		if (s->ended)
			return MHD_CONTENT_READER_END_OF_STREAM;
		s->out.len = 0;
		s->out_off = 0;
		/* A slice whose personas all went away renders nothing: go on
		 * to the next rather than answer "no data yet". */
		while (s->out.len == 0 && !s->ended && wbuf_ok(&s->out))
			render_more(s);
		if (!wbuf_ok(&s->out))
			return MHD_CONTENT_READER_END_WITH_ERROR;
		if (s->out.len == 0)
			return MHD_CONTENT_READER_END_OF_STREAM;
	}
	size_t n = s->out.len - s->out_off;
	if (n > max)
		n = max;
	memcpy(buf, s->out.data + s->out_off, n);
	s->out_off += n;
	return (ssize_t)n;
}

void web_stream_free(void *cls)
{
	struct web_stream *s = cls;
	wbuf_free(&s->out);
	free(s->order);
	free(s);
}

void web_reply_stream(struct web_reply *out, unsigned status, const char *type,
                      struct web_stream *s)
{
	out->status = status;
	out->content_type = type;
	out->stream = s;
}

struct MHD_Response *web_stream_response(struct web_stream *s)
{
	struct MHD_Response *resp = MHD_create_response_from_callback(
		MHD_SIZE_UNKNOWN, 16 * 1024, web_stream_read, s, web_stream_free);
	if (!resp)
		web_stream_free(s);
	return resp;
}
