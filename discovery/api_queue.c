/*
 * api_queue.c - lanes, retries with backoff, and the shared rate-limit
 * hold for Metal API calls; see api_queue.h.
 *
 * A call is in exactly one place: a lane's FIFO (waiting for a slot or
 * for the hold to pass), its own retry timer (backing off), or in flight
 * (an http request). pump() moves calls from the lanes into flight.
 */
#include "api_queue.h"
#include "bounds.h"
#include "log.h"
#include "metal_api.h"
#include "secret.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum call_where { IN_LANE, BACKING_OFF, IN_FLIGHT };

struct api_call {
	struct api_queue *q;
	enum http_method method;
	char *path;
	char *body;
	enum api_lane lane;
	uint64_t deadline_ms;
	api_decode_fn decode;
	api_done_fn done;
	void *arg;
	bool once;                      /* not safe to repeat: see api_call_spec */

	enum call_where where;
	struct api_call *prev, *next;   /* lane FIFO */
	struct api_call *all_prev, *all_next; /* every live call, for shutdown */
	struct loop_timer retry;
	struct http_request *req;
	unsigned attempts;              /* sent so far */
	unsigned failures;              /* counted against API_MAX_ATTEMPTS */
	unsigned rate_waits;
	uint64_t sent_ms;
	int last_status;
	enum http_error last_err;
	bool last_rate_limited;
	bool last_malformed;
	char last_why[160];
};

struct lane {
	struct api_call *head, *tail;
	unsigned in_flight;
	unsigned cap;
};

struct api_queue {
	struct loop *loop;
	struct http_client *http;
	struct lane lanes[API_LANES];
	unsigned in_flight;
	unsigned backing_off;
	struct api_call *all;
	uint64_t hold_until_ms;         /* the 429 hold, monotonic */
	struct loop_timer hold_timer;
	uint64_t rng;
	struct api_stats stats;
	uint64_t rate_log_next_ms;      /* one rate-limit line per interval */
	unsigned rate_log_quiet;
};

#define RATE_LOG_INTERVAL_MS 10000

/* xorshift64*: jitter only, so a CSPRNG seed and a fast generator do. */
static double rnd(struct api_queue *q)
{
	q->rng ^= q->rng >> 12;
	q->rng ^= q->rng << 25;
	q->rng ^= q->rng >> 27;
	return (double)((q->rng * 0x2545F4914F6CDD1Dull) >> 11) / (double)(1ull << 53);
}

uint64_t api_backoff_ms(unsigned n, double r)
{
	uint64_t d = API_BACKOFF_BASE_MS;
	for (unsigned i = 1; i < n && d < API_BACKOFF_MAX_MS; i++)
		d *= 2;
	if (d > API_BACKOFF_MAX_MS)
		d = API_BACKOFF_MAX_MS;
	/* "Equal jitter": half fixed, so delays still grow; half random, so
	 * clients that failed together do not retry together. */
	return d / 2 + (uint64_t)((double)(d / 2) * r);
}

/* ---- lanes ------------------------------------------------------------------ */

static void lane_push(struct lane *l, struct api_call *c, bool front)
{
	c->where = IN_LANE;
	c->prev = c->next = NULL;
	if (!l->head) {
		l->head = l->tail = c;
	} else if (front) {
		c->next = l->head;
		l->head->prev = c;
		l->head = c;
	} else {
		c->prev = l->tail;
		l->tail->next = c;
		l->tail = c;
	}
}

static void lane_unlink(struct lane *l, struct api_call *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		l->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		l->tail = c->prev;
	c->prev = c->next = NULL;
}

static void free_call(struct api_call *c)
{
	struct api_queue *q = c->q;
	if (c->all_prev)
		c->all_prev->all_next = c->all_next;
	else if (q->all == c)
		q->all = c->all_next;
	if (c->all_next)
		c->all_next->all_prev = c->all_prev;
	free(c->path);
	free(c->body);
	free(c);
}

/* ---- attempts --------------------------------------------------------------- */

static void pump(struct api_queue *q);
static void on_http_done(void *arg, const struct http_response *r);

static void note_error(struct api_queue *q, struct api_call *c, const char *why)
{
	if (c->last_err == HTTP_E_NONE && c->last_status >= 400 && c->last_status < 500 &&
	    c->last_status != 429 && !c->last_malformed)
		q->stats.refusals++;
	else
		q->stats.failures++;
	q->stats.last_error_wall_ms = loop_wall_ms();
	snprintf(q->stats.last_error, sizeof(q->stats.last_error), "%s %.*s: %s",
	         http_method_name(c->method), 120, c->path, why);
}

static void finish(struct api_queue *q, struct api_call *c, const struct http_response *r)
{
	struct api_result res;

	memset(&res, 0, sizeof(res));
	res.status = c->last_status;
	res.err = c->last_err;
	res.malformed = c->last_malformed;
	res.rate_limited = c->last_rate_limited;
	res.attempts = c->attempts;
	res.sent_ms = c->sent_ms;
	res.body = r ? r->body : "";
	res.len = r ? r->len : 0;
	snprintf(res.why, sizeof(res.why), "%s", c->last_why);
	bool failed = !http_status_ok(res.status) || res.malformed;
	if (failed) {
		q->stats.calls_failed++;
		log_debug("api: %s %.*s gave up after %u attempt(s): %s",
		          http_method_name(c->method), 120, c->path, c->attempts, res.why);
	}
	c->done(c->arg, &res);
	free_call(c);
}

static void on_retry_timer(struct loop *l, struct loop_timer *t)
{
	struct api_call *c = t->arg;
	struct api_queue *q = c->q;

	(void)l;
	q->backing_off--;
	lane_push(&q->lanes[c->lane], c, true);
	pump(q);
}

/* Another attempt later, or the end of the call when its budget is spent. */
static void retry_or_finish(struct api_queue *q, struct api_call *c, uint64_t delay_ms,
                            const struct http_response *r)
{
	uint64_t now = loop_clock_ms();

	if (c->failures >= API_MAX_ATTEMPTS || c->rate_waits > API_MAX_RATE_WAITS ||
	    now + delay_ms >= c->deadline_ms) {
		finish(q, c, r);
		return;
	}
	q->stats.retries++;
	log_debug("api: %s %.*s: %s; retry in %llu ms", http_method_name(c->method), 120,
	          c->path, c->last_why, (unsigned long long)delay_ms);
	c->where = BACKING_OFF;
	q->backing_off++;
	loop_timer_init(&c->retry, on_retry_timer, c);
	loop_timer_in(q->loop, &c->retry, delay_ms);
}

/* An attempt failed for the reason in c->last_why: counted, then tried again
 * after a backoff when retry says the failure may pass and the call's
 * budget allows, else the call ends. */
static void attempt_failed(struct api_queue *q, struct api_call *c, bool retry,
                           const struct http_response *r)
{
	note_error(q, c, c->last_why);
	c->failures++;
	if (retry)
		retry_or_finish(q, c, api_backoff_ms(c->failures, rnd(q)), r);
	else
		finish(q, c, r);
}

static void hold_for_rate_limit(struct api_queue *q, long retry_after_s)
{
	uint64_t now = loop_clock_ms();
	uint64_t ms = retry_after_s > 0
	              ? (uint64_t)(retry_after_s > API_RETRY_AFTER_MAX_S ? API_RETRY_AFTER_MAX_S
	                                                                : retry_after_s) * 1000u
	              : API_RETRY_AFTER_NONE_MS;
	/* A little jitter so the held calls do not all land in one instant. */
	uint64_t until = now + ms + (uint64_t)(rnd(q) * 250.0);

	if (until > q->hold_until_ms)
		q->hold_until_ms = until;
	if (now >= q->rate_log_next_ms) {
		log_warnx("api: rate limited (HTTP 429); holding every API call for %llu ms%s",
		          (unsigned long long)(q->hold_until_ms - now),
		          q->rate_log_quiet ? " (more 429s since the last line)" : "");
		q->rate_log_next_ms = now + RATE_LOG_INTERVAL_MS;
		q->rate_log_quiet = 0;
	} else {
		q->rate_log_quiet++;
	}
}

/* Whether a failed attempt may be repeated: for a call that is not safe to
 * repeat, only when the API surely did not act on it. */
static bool retryable_status(const struct api_call *c, int status)
{
	if (c->once)
		return status == 503; /* "unavailable": refused before any work */
	return status >= 500 && status <= 599;
}

static bool retryable_transport(const struct api_call *c, enum http_error err)
{
	if (c->once)
		return err == HTTP_E_CONNECT; /* nothing was sent */
	return err == HTTP_E_TIMEOUT || err == HTTP_E_CONNECT || err == HTTP_E_DROPPED ||
	       err == HTTP_E_TRUNCATED;
}

static void on_http_done(void *arg, const struct http_response *r)
{
	struct api_call *c = arg;
	struct api_queue *q = c->q;
	char msg[120];

	c->req = NULL;
	q->in_flight--;
	q->lanes[c->lane].in_flight--;
	c->last_status = r->status;
	c->last_err = r->err;
	c->last_malformed = false;
	c->last_rate_limited = false;
	q->stats.last_status = r->status;
	q->stats.by_class[r->err == HTTP_E_NONE && r->status >= 100 && r->status < 600
	                  ? r->status / 100 : 0]++;

	if (r->err != HTTP_E_NONE) {
		snprintf(c->last_why, sizeof(c->last_why), "%s", r->errtext);
		attempt_failed(q, c, retryable_transport(c, r->err), r);
		pump(q);
		return;
	}
	if (!http_status_ok(r->status))
		log_debug("api: %s %.*s -> %d (%llu ms)", http_method_name(c->method), 160,
		          c->path, r->status, (unsigned long long)r->elapsed_ms);
	if (r->status == 429) {
		q->stats.rate_limited++;
		c->rate_waits++;
		c->last_rate_limited = true;
		snprintf(c->last_why, sizeof(c->last_why), "HTTP 429 (rate limited)");
		note_error(q, c, c->last_why);
		hold_for_rate_limit(q, r->retry_after_s);
		if (q->hold_until_ms >= c->deadline_ms || c->rate_waits > API_MAX_RATE_WAITS) {
			finish(q, c, r);
		} else {
			/* Back to the head of its lane: it goes first once the
			 * hold is over, in its turn. */
			q->stats.retries++;
			lane_push(&q->lanes[c->lane], c, true);
		}
		pump(q);
		return;
	}
	if (http_status_ok(r->status)) {
		char why[160] = "";
		uint64_t t0 = loop_clock_ms();
		int drc = c->decode ? c->decode(c->arg, r->body, r->len, why, sizeof(why)) : 0;
		log_debug("api: %s %.*s -> %d (%llu ms, %zu bytes, decoded in %llu ms)",
		          http_method_name(c->method), 160, c->path, r->status,
		          (unsigned long long)r->elapsed_ms, r->len,
		          (unsigned long long)(loop_clock_ms() - t0));
		if (drc < 0) {
			c->last_malformed = true;
			snprintf(c->last_why, sizeof(c->last_why), "malformed answer: %s", why);
			/* Only reads are repeated: a PUT or POST did happen. */
			attempt_failed(q, c, c->method == HTTP_GET, r);
			pump(q);
			return;
		}
		q->stats.last_ok_wall_ms = loop_wall_ms();
		c->last_why[0] = 0;
		finish(q, c, r);
		pump(q);
		return;
	}
	metal_decode_error(r->body, r->len, msg, sizeof(msg));
	snprintf(c->last_why, sizeof(c->last_why), "HTTP %d%s%s", r->status,
	         msg[0] ? ": " : "", msg);
	attempt_failed(q, c, retryable_status(c, r->status), r);
	pump(q);
}

static bool start_attempt(struct api_queue *q, struct api_call *c)
{
	char why[128];
	uint64_t now = loop_clock_ms();
	uint64_t left = c->deadline_ms > now ? c->deadline_ms - now : 0;
	uint32_t timeout = left < API_ATTEMPT_TIMEOUT_MS ? (uint32_t)left : API_ATTEMPT_TIMEOUT_MS;

	if (timeout < API_MIN_ATTEMPT_MS) {
		if (!c->last_why[0])
			snprintf(c->last_why, sizeof(c->last_why), "no time left to try");
		finish(q, c, NULL);
		return false;
	}
	c->req = http_start(q->http, c->method, c->path, c->body, timeout,
	                    c->once ? HTTP_FRESH_CONNECTION : 0, on_http_done, c, why, sizeof(why));
	if (!c->req) {
		c->last_status = 0;
		c->last_err = HTTP_E_OTHER;
		snprintf(c->last_why, sizeof(c->last_why), "%s", why);
		note_error(q, c, why);
		finish(q, c, NULL);
		return false;
	}
	c->where = IN_FLIGHT;
	c->attempts++;
	c->sent_ms = now;
	q->stats.requests++;
	q->in_flight++;
	q->lanes[c->lane].in_flight++;
	return true;
}

static void on_hold_over(struct loop *l, struct loop_timer *t)
{
	(void)l;
	pump(t->arg);
}

static void pump(struct api_queue *q)
{
	uint64_t now = loop_clock_ms();

	if (q->hold_until_ms > now) {
		loop_timer_at(q->loop, &q->hold_timer, q->hold_until_ms);
		return;
	}
	q->hold_until_ms = 0;
	while (q->in_flight < API_MAX_INFLIGHT) {
		struct api_call *c = NULL;
		for (int i = 0; i < API_LANES && !c; i++) {
			struct lane *ln = &q->lanes[i];
			if (ln->head && ln->in_flight < ln->cap)
				c = ln->head;
		}
		if (!c)
			return;
		lane_unlink(&q->lanes[c->lane], c);
		start_attempt(q, c);
	}
}

/* ---- public ----------------------------------------------------------------- */

struct api_queue *api_queue_new(struct loop *l, struct http_client *http)
{
	struct api_queue *q = calloc(1, sizeof(*q));

	if (!q)
		return NULL;
	q->loop = l;
	q->http = http;
	q->lanes[API_LANE_ACTION].cap = API_MAX_INFLIGHT;
	q->lanes[API_LANE_REFRESH].cap = API_REFRESH_INFLIGHT;
	q->lanes[API_LANE_POLL].cap = API_POLL_INFLIGHT;
	loop_timer_init(&q->hold_timer, on_hold_over, q);
	if (secret_random(&q->rng, sizeof(q->rng)) < 0 || q->rng == 0)
		q->rng = 0x9E3779B97F4A7C15ull ^ loop_clock_ms();
	return q;
}

struct api_call *api_submit(struct api_queue *q, const struct api_call_spec *s)
{
	struct api_call *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->q = q;
	c->method = s->method;
	c->path = strdup(s->path);
	c->body = s->body ? strdup(s->body) : NULL;
	c->all_next = q->all;
	if (q->all)
		q->all->all_prev = c;
	q->all = c;
	if (!c->path || (s->body && !c->body)) {
		free_call(c);
		return NULL;
	}
	c->lane = s->lane;
	c->deadline_ms = loop_clock_ms() + s->budget_ms;
	c->decode = s->decode;
	c->done = s->done;
	c->arg = s->arg;
	c->once = s->once;
	loop_timer_init(&c->retry, on_retry_timer, c);
	lane_push(&q->lanes[c->lane], c, false);
	/* Deferred: a call never completes inside api_submit. */
	if (q->hold_until_ms <= loop_clock_ms() && q->in_flight < API_MAX_INFLIGHT)
		loop_timer_in(q->loop, &q->hold_timer, 0);
	else if (q->hold_until_ms)
		loop_timer_at(q->loop, &q->hold_timer, q->hold_until_ms);
	return c;
}

void api_cancel(struct api_queue *q, struct api_call *c)
{
	if (!c)
		return;
	switch (c->where) {
	case IN_LANE:
		lane_unlink(&q->lanes[c->lane], c);
		break;
	case BACKING_OFF:
		loop_timer_cancel(q->loop, &c->retry);
		q->backing_off--;
		break;
	case IN_FLIGHT:
		http_cancel(q->http, c->req);
		q->in_flight--;
		q->lanes[c->lane].in_flight--;
		break;
	}
	free_call(c);
}

void api_queue_free(struct api_queue *q)
{
	if (!q)
		return;
	/* Before the http client goes: calls in flight cancel their request. */
	while (q->all)
		api_cancel(q, q->all);
	loop_timer_cancel(q->loop, &q->hold_timer);
	free(q);
}

void api_queue_stats(const struct api_queue *q, struct api_stats *out)
{
	*out = q->stats;
	out->in_flight = q->in_flight;
	out->queued = q->backing_off;
	for (int i = 0; i < API_LANES; i++)
		for (const struct api_call *c = q->lanes[i].head; c; c = c->next)
			out->queued++;
	out->held_until_ms = q->hold_until_ms > loop_clock_ms() ? q->hold_until_ms : 0;
}
