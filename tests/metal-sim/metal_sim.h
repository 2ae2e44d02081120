/*
 * metal-sim: a stateful emulator of the part of the Equinix Metal API that
 * metalbmc uses, for tests only.
 *
 * This header is the contents page of the program: every shared type, then
 * the prototypes grouped under the name of the file that defines them.
 *
 * Threading: libmicrohttpd runs one thread per connection (so a delayed
 * answer never blocks another client).  All simulator state (store, request
 * log, fault settings, random streams) lives in one `struct sim` guarded by
 * one mutex; every function below that takes a `struct sim *` (except those
 * in http.c and main.c) expects the caller to hold `sim->lock`.  The API and
 * control handlers do no I/O: they turn a `struct sim_request` into a
 * `struct sim_reply`, so the HTTP glue is the only code that touches sockets.
 */
#ifndef METAL_SIM_H
#define METAL_SIM_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

/* ---- limits, each with its unit ------------------------------------------ */

#define SIM_API_PREFIX        "/metal/v1"
#define SIM_CONTROL_PREFIX    "/_sim"
#define SIM_MAX_BODY_BYTES    (1024u * 1024u) /* request bodies above → 413 */
#define SIM_PER_PAGE_DEFAULT  10              /* items, as the API */
#define SIM_PER_PAGE_MAX      1000            /* items, as the API */
#define SIM_PAGE_MAX          100000          /* pages, the spec's maximum */
#define SIM_MAX_EVENTS        1000            /* kept per device, oldest go */
#define SIM_MAX_LOG_ENTRIES   20000           /* request log ring, entries */
#define SIM_LOG_BODY_MAX      (16u * 1024u)   /* bytes of a body kept per entry */
#define SIM_LOG_UA_MAX        256u            /* bytes of a User-Agent kept per entry */
#define SIM_MAX_PEM_BYTES     (64u * 1024u)   /* bytes of a --tls-cert/--tls-key file */
#define SIM_MAX_QUERY_PARAMS  64              /* query parameters, more → ignored */
#define SIM_MAX_STEPS         4               /* pending state steps per device */
#define SIM_TRANSITION_MS_DEFAULT 2000        /* ms per intermediate state */
#define SIM_CONNECTION_LIMIT  512             /* concurrent connections */
#define SIM_CONNECTION_TIMEOUT_S 30           /* idle connection, seconds */
#define SIM_CONNECTION_MEMORY (256u * 1024u)  /* bytes per connection for
						 headers and query: MHD's
						 32 KiB default refuses long
						 filter queries */
#define SIM_MAX_SLOW_MS       600000          /* ms, cap on --slow-ms */

/* ---- clock.c -------------------------------------------------------------- */

/* Milliseconds since the simulator started, from CLOCK_MONOTONIC. */
int64_t clock_now_ms(void);
void clock_init(void);
/* RFC 3339 UTC timestamp ("2024-05-01T12:00:00Z") for a point given in
 * clock_now_ms() units, so state steps applied lazily get the time at which
 * they were due rather than the time someone looked. */
void clock_format_iso(int64_t at_ms, char out[32]);

/* ---- rng.c ---------------------------------------------------------------- */

/* A small seeded generator (splitmix64): runs with the same --seed and the
 * same request sequence make the same fault decisions and the same ids. */
struct rng {
	uint64_t state;
};
void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
double rng_uniform(struct rng *r); /* in [0, 1) */
void rng_uuid(struct rng *r, char out[37]);

/* ---- strbuf.c ------------------------------------------------------------- */

/* Growable byte buffer; on allocation failure it becomes sticky-failed and
 * further appends do nothing, so callers check once at the end. */
struct strbuf {
	char *data;
	size_t len;
	size_t cap;
	bool failed;
};
void sb_init(struct strbuf *sb);
void sb_free(struct strbuf *sb);
void sb_append(struct strbuf *sb, const char *s, size_t n);
void sb_puts(struct strbuf *sb, const char *s);
void sb_printf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
char *sb_steal(struct strbuf *sb); /* NUL-terminated, caller frees */

/* ---- query.c -------------------------------------------------------------- */

struct query_param {
	char *key;   /* percent-decoded */
	char *value; /* percent-decoded, "" when the parameter had no '=' */
};
struct query {
	struct query_param params[SIM_MAX_QUERY_PARAMS];
	size_t count;
};
/* Parses "a=1&b=x%3Dy" (no leading '?').  '+' decodes to a space. */
void query_parse(struct query *q, const char *raw);
void query_free(struct query *q);
/* First value of `key`, or NULL. */
const char *query_get(const struct query *q, const char *key);
/* Decodes %XX in place; returns false on a bad escape or an encoded NUL. */
bool percent_decode(char *s, bool plus_is_space);
/* Appends `s` encoded for a query component (RFC 3986 unreserved kept). */
void sb_append_query_escaped(struct strbuf *sb, const char *s);

/* ---- jsonutil.c ----------------------------------------------------------- */

bool is_uuid(const char *s);
/* Body {"errors": [msg]} / {"error": msg} as the API's Error schema. */
char *json_errors_body(const char *msg);
char *json_error_body(const char *msg);
/* Compact serialisation; NULL on allocation failure. */
char *json_compact(const json_t *v);
const char *json_type_name(const json_t *v);
/* Copy of s[0..len) that is valid UTF-8 without NULs (bad bytes become
 * '?'), so that any client input can be put into a JSON log entry. */
char *utf8_sanitize(const char *s, size_t len);
/* Case-insensitive substring test, for ?search=. */
bool contains_ci(const char *haystack, const char *needle);

/* ---- store.c: projects, devices and their state --------------------------- */

struct state_step {
	int64_t due_ms;    /* clock_now_ms() time at which `state` takes over */
	const char *state; /* static string from lifecycle.c */
};

struct sim_device {
	char id[37];
	json_t *obj;        /* the Device as served, unknown fields included */
	struct sim_project *project;
	bool deleted;       /* removed out of band: 404 and absent from lists */
	struct state_step steps[SIM_MAX_STEPS]; /* pending, in order */
	size_t nsteps;
	json_t *events;     /* array, oldest first (served newest first) */
};

struct sim_project {
	char id[37];
	struct sim_device **devices; /* fixture order, which is list order */
	size_t ndevices;
	size_t cap;
};

struct store {
	struct sim_project **projects; /* owning, each allocated alone */
	size_t nprojects;
	struct sim_device **devices; /* every device, owning */
	size_t ndevices;
	size_t devcap;
	struct sim_device **index;   /* open addressing on id, power-of-2 size */
	size_t index_size;
	size_t npending;             /* devices with nsteps > 0 */
};

void store_init(struct store *st);
void store_free(struct store *st);
struct sim_project *store_add_project(struct store *st, const char *id);
struct sim_project *store_find_project(struct store *st, const char *id);
/* Takes ownership of `obj` (a Device with at least a valid "id"). */
struct sim_device *store_add_device(struct store *st, struct sim_project *p,
				    json_t *obj);
/* Finds a device, deleted ones included (callers decide what that means). */
struct sim_device *store_find_device(struct store *st, const char *id);

/* ---- fixture.c: loading and checking the fixture file --------------------- */

/* Loads `path` into `st`, filling defaults.  On failure writes a message
 * naming the file and the offending element into err and returns false. */
bool fixture_load(struct store *st, const char *path, char *err,
		  size_t errlen);
/* Checks one Device object (types of known fields), fills defaults, and
 * normalises nulls.  `where` prefixes error messages.  Shared with the
 * control surface, which can add devices at run time. */
bool fixture_prepare_device(json_t *dev, const char *project_id,
			    const char *where, char *err, size_t errlen);

/* ---- lifecycle.c: actions and the power state machine --------------------- */

struct sim;
/* Applies every step that is due by now, recording events. */
void lifecycle_advance(struct sim *sim);
/* Starts action `type` on `dev`.  Returns NULL when accepted, else a
 * static message for a 422. */
const char *lifecycle_start_action(struct sim *sim, struct sim_device *dev,
				   const char *type, const json_t *input);
/* Sets state now (control surface), cancelling pending steps. */
void lifecycle_force_state(struct sim *sim, struct sim_device *dev,
			   const char *state);
bool lifecycle_is_valid_state(const char *state);
/* Rewrites the device's "actions" list from its current state. */
void lifecycle_refresh_actions(json_t *dev);
const char *device_state(const struct sim_device *dev);

/* ---- events.c ------------------------------------------------------------- */

/* Appends an event to the device; body may contain "{{device}}", which is
 * replaced by the hostname in "interpolated". */
void events_record(struct sim *sim, struct sim_device *dev, const char *type,
		   const char *body, int64_t at_ms);

/* ---- faults.c ------------------------------------------------------------- */

struct fault_config {
	double fail_rate;
	unsigned fail_status;
	bool window_set;
	int64_t window_start_ms; /* relative to window_origin_ms */
	int64_t window_len_ms;
	int64_t window_origin_ms; /* when the setting took effect */
	double rate_limit_rate;
	unsigned retry_after_s;
	unsigned slow_ms;
	double malformed_rate;
	double truncate_rate;
	double drop_rate;
	uint64_t seed;
};

enum fault_kind {
	FAULT_NONE = 0,
	FAULT_DROP,
	FAULT_WINDOW,
	FAULT_FAIL,
	FAULT_RATE_LIMIT,
	FAULT_MALFORMED,
	FAULT_TRUNCATE,
};

void faults_defaults(struct fault_config *fc);
/* Decision taken before the request is handled (drop, window, fail,
 * rate limit), with the current time. */
enum fault_kind faults_decide_before(struct sim *sim, int64_t now_ms);
/* Decision on a 200 answer with a JSON body (malformed, truncate). */
enum fault_kind faults_decide_after(struct sim *sim);
const char *fault_name(enum fault_kind k);
/* Applies a JSON object of settings (same names as the flags, with '_').
 * Returns NULL or a message for a 422. */
const char *faults_apply_json(struct sim *sim, const json_t *obj);
json_t *faults_to_json(const struct fault_config *fc);
bool parse_rate(const char *s, double *out);
bool parse_window(const char *s, int64_t *start, int64_t *len);
/* Produces syntactically broken JSON from a good body. */
char *faults_break_json(const char *body, size_t len, size_t *out_len);

/* ---- reqlog.c: the log of API requests ------------------------------------ */

struct reqlog {
	json_t *ring[SIM_MAX_LOG_ENTRIES];
	size_t head;  /* index of the oldest entry */
	size_t count;
	uint64_t next_seq;
	uint64_t discarded; /* entries pushed out of the ring */
	FILE *file;         /* --request-log, may be NULL */
};
void reqlog_init(struct reqlog *log);
void reqlog_free(struct reqlog *log);
bool reqlog_open_file(struct reqlog *log, const char *path, char *err,
		      size_t errlen);
/* Takes ownership of entry (seq is filled in here). */
void reqlog_append(struct reqlog *log, json_t *entry);
void reqlog_clear(struct reqlog *log);
json_t *reqlog_to_json(const struct reqlog *log, uint64_t since);

/* ---- the simulator and its request/reply ---------------------------------- */

struct sim {
	pthread_mutex_t lock;
	pthread_cond_t wake;    /* broadcast at shutdown, ends slow sleeps */
	bool stopping;
	struct store store;
	struct fault_config faults;
	struct rng fault_rng;
	struct rng id_rng;
	struct reqlog log;
	unsigned transition_ms;
	const char *token;      /* never printed */
	size_t token_len;
	bool verbose;
};

struct sim_request {
	const char *method;  /* "GET", "PUT", ... ("HEAD" is served as GET) */
	const char *path;    /* percent-decoded, without the query */
	const char *raw_query; /* "" when none */
	struct query query;
	const char *body;    /* may be NULL */
	size_t body_len;
	const char *user_agent; /* the User-Agent header; NULL when none */
};

struct sim_reply {
	unsigned status;
	char *body;          /* malloc'd JSON text, NULL for an empty body */
	size_t body_len;
	const char *allow;   /* Allow header for a 405 */
	bool has_retry_after; /* adds Retry-After: retry_after */
	unsigned retry_after; /* seconds */
	bool faultable;      /* a 200 JSON answer: malformed/truncate may apply */
};

void reply_json(struct sim_reply *r, unsigned status, json_t *owned);
void reply_text(struct sim_reply *r, unsigned status, char *owned_json);
void reply_empty(struct sim_reply *r, unsigned status);
void reply_errors(struct sim_reply *r, unsigned status, const char *msg);
/* The request body as a JSON object, or NULL with a 422 in reply. An empty
 * body is refused with empty_refusal, or read as {} when that is NULL. */
json_t *request_object(const struct sim_request *req, struct sim_reply *reply,
                       const char *empty_refusal);
void reply_free(struct sim_reply *r);

/* ---- paging.c ------------------------------------------------------------- */

struct paging {
	long page;     /* from 1 */
	long per_page;
};
/* Reads page/per_page, clamping out-of-range values into the spec's bounds
 * (see README: the list operations declare no 422). */
void paging_read(const struct query *q, struct paging *pg);
/* Builds the Meta object: hrefs are `base_path?page=N&per_page=M` followed
 * by `keep` (already-encoded "&k=v" pairs, may be ""). */
json_t *paging_meta(const char *base_path, const char *keep,
		    const struct paging *pg, size_t total);

/* ---- api.c: /metal/v1 --------------------------------------------------- */

/* `path` is relative to the API prefix ("/devices/…"). */
void api_handle(struct sim *sim, const struct sim_request *req,
		const char *path, struct sim_reply *reply);

/* ---- control.c: /_sim ----------------------------------------------------- */

void control_handle(struct sim *sim, const struct sim_request *req,
		    const char *path, struct sim_reply *reply);

/* ---- auth.c --------------------------------------------------------------- */

/* Constant-time in the length of the expected token. */
bool auth_token_ok(const struct sim *sim, const char *given);

/* ---- listen_addr.c -------------------------------------------------------- */

struct listen_addr {
	char host[72];      /* as printed: "127.0.0.1" or "[::1]" */
	bool ipv6;
	struct sockaddr_storage sa;
	socklen_t sa_len;
	unsigned port;
};
bool listen_addr_parse(const char *spec, struct listen_addr *out, char *err,
		       size_t errlen);

/* ---- http.c: the libmicrohttpd glue --------------------------------------- */

struct MHD_Daemon;
/* tls_cert/tls_key: PEM text to serve https (kept by the caller until
 * http_stop), or both NULL for plain http. */
struct MHD_Daemon *http_start(struct sim *sim, struct listen_addr *addr,
			      const char *tls_cert, const char *tls_key,
			      char *err, size_t errlen);
/* Port actually bound (for --listen …:0). */
unsigned http_bound_port(struct MHD_Daemon *d);
void http_stop(struct sim *sim, struct MHD_Daemon *d);

#endif
