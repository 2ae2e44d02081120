/*
 * api_queue.h - every Metal API call goes through this one queue, so that
 * concurrency, retries and the API's rate limit are handled in one place
 * for polls, refreshes and IPMI-triggered actions alike.
 *
 *  - Lanes: IPMI-triggered calls (actions, boot changes) go first, then
 *    device refreshes, then listing pages; each lane has its own cap on
 *    calls in flight under a global one (bounds.h, API_*_INFLIGHT).
 *  - Retries: 5xx, timeouts, dropped or truncated answers, and answers the
 *    caller's decoder refuses (GET only) are retried with exponential
 *    backoff and jitter, up to API_MAX_ATTEMPTS and the call's time budget.
 *  - Rate limit: a 429 holds back every call, not just the one refused,
 *    until its Retry-After has passed (API_RETRY_AFTER_NONE_MS without
 *    one); the refused call goes back to the head of its lane.
 *
 * Callbacks run on the loop thread and never from inside api_submit.
 */
#ifndef METALBMC_API_QUEUE_H
#define METALBMC_API_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "loop.h"

enum api_lane { API_LANE_ACTION = 0, API_LANE_REFRESH, API_LANE_POLL, API_LANES };

struct api_result {
	int status;             /* final HTTP status; 0 after a transport failure */
	enum http_error err;
	bool malformed;         /* a 2xx the decoder refused (after retries) */
	bool rate_limited;      /* gave up while the API was refusing with 429 */
	const char *body;       /* valid during the callback */
	size_t len;
	unsigned attempts;
	uint64_t sent_ms;       /* monotonic: when the final attempt started */
	char why[160];          /* for failures: "HTTP 503: <API's message>",
	                         * "timeout", "malformed: devices[3].id: missing" */
};

/* Decodes a 2xx answer into the caller's own storage: 0, or -1 with why
 * (the answer is then treated as a failure and retried). */
typedef int (*api_decode_fn)(void *arg, const char *body, size_t len,
                             char *why, size_t why_len);
typedef void (*api_done_fn)(void *arg, const struct api_result *r);

struct api_call_spec {
	enum http_method method;
	const char *path;       /* copied */
	const char *body;       /* copied; NULL for none */
	enum api_lane lane;
	uint32_t budget_ms;     /* retries stop when this has passed */
	api_decode_fn decode;   /* optional */
	api_done_fn done;
	void *arg;
	/* Not safe to repeat (a reboot): retried only when the API surely did
	 * not act on it (no connection, 429, 503), never after a timeout, a
	 * broken connection or another 5xx, which may come after the action
	 * happened. */
	bool once;
};

/* Plain counters for the status page. */
struct api_stats {
	uint64_t requests;          /* attempts sent */
	uint64_t failures;          /* attempts that failed: transport, 5xx, 429,
	                             * an answer that does not decode */
	uint64_t refusals;          /* attempts the API refused with another 4xx
	                             * (a 422 for a device in transition, a 404):
	                             * answers about the request, not API trouble */
	uint64_t retries;
	uint64_t rate_limited;      /* 429 answers */
	uint64_t calls_failed;      /* calls that gave up */
	unsigned in_flight;
	unsigned queued;            /* waiting for a slot, the rate limit or a retry */
	uint64_t held_until_ms;     /* monotonic: the rate-limit hold, 0 if none */
	int last_status;            /* of the last attempt; 0 = transport failure */
	uint64_t by_class[6];       /* attempts by answer: [0] no HTTP answer
	                             * (transport), [1..5] 1xx..5xx (for /metrics) */
	uint64_t last_ok_wall_ms;   /* CLOCK_REALTIME of the last 2xx */
	uint64_t last_error_wall_ms;
	char last_error[200];       /* "GET /projects/.../devices: HTTP 503", no secrets */
};

struct api_queue;
struct api_call;

struct api_queue *api_queue_new(struct loop *l, struct http_client *http);
/* Cancels every call without calling back; free it before the http client. */
void api_queue_free(struct api_queue *q);

/* Queues a call. NULL only when out of memory. */
struct api_call *api_submit(struct api_queue *q, const struct api_call_spec *spec);
/* Abandons a call wherever it is; done is not called. */
void api_cancel(struct api_queue *q, struct api_call *c);

void api_queue_stats(const struct api_queue *q, struct api_stats *out);

/* Retry delay before attempt n+1 (n >= 1): exponential with jitter,
 * r in [0,1). Exposed for tests. */
uint64_t api_backoff_ms(unsigned n, double r);

#endif
