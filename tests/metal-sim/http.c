/*
 * libmicrohttpd glue: the only file that knows about connections.
 *
 * MHD runs one thread per connection.  That is what makes --slow-ms honest:
 * a delayed answer sleeps in its own thread while other clients are served,
 * without suspend/resume bookkeeping.  The thread count is bounded by
 * SIM_CONNECTION_LIMIT, and idle connections time out.
 *
 * Each request is read completely (body capped at SIM_MAX_BODY_BYTES), then
 * decided in one place, under sim->lock: faults, token, then the API or
 * control handler.  The reply is sent after the lock is released.
 */
#include "metal_sim.h"

#include <errno.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct conn_ctx {
	char *uri;          /* raw request target, from the URI log callback */
	struct strbuf body;
	bool too_large;
	bool started;
};

/* A body served short: Content-Length says `total`, we stop at `cut`. */
struct truncated {
	char *body;
	size_t total;
	size_t cut;
};

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct conn_ctx *ctx = calloc(1, sizeof(*ctx));

	(void)cls;
	(void)conn;
	if (ctx != NULL) {
		ctx->uri = strdup(uri ? uri : "");
		sb_init(&ctx->body);
	}
	return ctx;
}

static void on_completed(void *cls, struct MHD_Connection *conn,
			 void **req_cls, enum MHD_RequestTerminationCode toe)
{
	struct conn_ctx *ctx = *req_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (ctx == NULL)
		return;
	free(ctx->uri);
	sb_free(&ctx->body);
	free(ctx);
	*req_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	/* MHD's messages concern sockets and parsing; none carries headers,
	 * so none can carry the token. */
	(void)cls;
	fputs("metal-sim: mhd: ", stderr);
	vfprintf(stderr, fmt, ap);
}

/* Copy of s[0..len) with every occurrence of the token replaced (a client
 * that puts the token in a URL or body must not get it into our logs), made
 * valid UTF-8. */
static char *redact(const struct sim *sim, const char *s, size_t len)
{
	struct strbuf sb;
	size_t i = 0;

	sb_init(&sb);
	while (i < len) {
		if (sim->token_len > 0 && len - i >= sim->token_len &&
		    memcmp(s + i, sim->token, sim->token_len) == 0) {
			sb_puts(&sb, "[REDACTED]");
			i += sim->token_len;
		} else {
			sb_append(&sb, s + i, 1);
			i++;
		}
	}
	sb_append(&sb, "", 0);
	if (sb.failed) {
		sb_free(&sb);
		return NULL;
	}
	/* The log is JSON: whatever the client sent must become valid UTF-8. */
	{
		char *clean = utf8_sanitize(sb.data, sb.len);

		sb_free(&sb);
		return clean;
	}
}

static json_t *log_entry(const struct sim *sim, const struct sim_request *req,
			 const char *raw_path, int64_t t_ms, unsigned status,
			 enum fault_kind fault, unsigned slow_ms)
{
	char *path = redact(sim, raw_path, strlen(raw_path));
	char *query = redact(sim, req->raw_query, strlen(req->raw_query));
	json_t *e = json_pack("{s:I,s:s,s:s,s:s,s:o,s:o,s:i}", "t_ms", (json_int_t)t_ms,
			      "method", req->method, "path", path ? path : "",
			      "query", query ? query : "", "status",
			      status ? json_integer(status) : json_null(), "fault",
			      fault_name(fault) ? json_string(fault_name(fault))
			      : json_null(), "slow_ms", (int)slow_ms);

	free(path);
	free(query);
	if (e != NULL) {
		/* Tests check who called (metalbmc/<version>). Redacted
		 * whole, then cut (on a UTF-8 boundary), so no part of a
		 * token survives the cut. */
		char *ua = req->user_agent
			   ? redact(sim, req->user_agent, strlen(req->user_agent)) : NULL;

		if (ua != NULL && strlen(ua) > SIM_LOG_UA_MAX) {
			size_t cut = SIM_LOG_UA_MAX;

			while (cut > 0 && ((unsigned char)ua[cut] & 0xC0) == 0x80)
				cut--;
			ua[cut] = '\0';
		}
		json_object_set_new(e, "user_agent", ua ? json_string(ua) : json_null());
		free(ua);
	}
	if (e != NULL && (strcmp(req->method, "PUT") == 0 ||
			  strcmp(req->method, "POST") == 0 ||
			  strcmp(req->method, "PATCH") == 0)) {
		/* Bodies are kept up to SIM_LOG_BODY_MAX bytes: the ring may
		 * hold 20,000 of them. */
		size_t keep = req->body_len < SIM_LOG_BODY_MAX ? req->body_len
							   : SIM_LOG_BODY_MAX;
		char *text = redact(sim, req->body ? req->body : "", keep);
		json_t *body = text && keep == req->body_len
			       ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;

		/* Shown parsed when it is JSON, as text when it is not (or
		 * when it was cut). */
		json_object_set_new(e, "body", body ? body
				    : text ? json_string_nocheck(text)
				    : json_null());
		if (keep < req->body_len)
			json_object_set_new(e, "body_bytes",
					    json_integer((json_int_t)req->body_len));
		free(text);
	}
	return e;
}

/* Sleeps for --slow-ms, ending early at shutdown. */
static void slow_wait(struct sim *sim, unsigned ms)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while (!sim->stopping &&
	       pthread_cond_timedwait(&sim->wake, &sim->lock, &until) != ETIMEDOUT)
		;
}

static ssize_t read_truncated(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct truncated *t = cls;
	size_t n;

	if (pos >= t->cut)
		return MHD_CONTENT_READER_END_WITH_ERROR; /* MHD closes the socket */
	n = t->cut - (size_t)pos;
	if (n > max)
		n = max;
	memcpy(buf, t->body + pos, n);
	return (ssize_t)n;
}

static void free_truncated(void *cls)
{
	struct truncated *t = cls;

	free(t->body);
	free(t);
}

static enum MHD_Result send_reply(struct MHD_Connection *conn,
				  struct sim_reply *reply, enum fault_kind after)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (after == FAULT_TRUNCATE && reply->body_len > 1) {
		struct truncated *t = malloc(sizeof(*t));

		if (t == NULL)
			return MHD_NO;
		t->body = reply->body;
		t->total = reply->body_len;
		t->cut = reply->body_len / 2;
		reply->body = NULL;
		resp = MHD_create_response_from_callback(t->total, 16384, read_truncated,
							 t, free_truncated);
		if (resp == NULL) {
			free_truncated(t);
			return MHD_NO;
		}
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	} else if (reply->body != NULL) {
		resp = MHD_create_response_from_buffer(reply->body_len, reply->body,
						       MHD_RESPMEM_MUST_FREE);
		if (resp == NULL)
			return MHD_NO;
		reply->body = NULL; /* MHD owns it now */
	} else {
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
		if (resp == NULL)
			return MHD_NO;
	}
	if (reply->body_len > 0)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
					"application/json");
	if (reply->allow != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, reply->allow);
	if (reply->has_retry_after) {
		char v[16];

		snprintf(v, sizeof(v), "%u", reply->retry_after);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, v);
	}
	ret = MHD_queue_response(conn, reply->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void fault_reply(struct sim *sim, enum fault_kind fault,
			struct sim_reply *reply)
{
	const struct fault_config *fc = &sim->faults;

	if (fault == FAULT_RATE_LIMIT) {
		reply_errors(reply, 429, "Too many requests: rate limit exceeded, retry later");
		reply->has_retry_after = true;
		reply->retry_after = fc->retry_after_s;
		return;
	}
	reply_errors(reply, fc->fail_status,
		     fc->fail_status >= 500 ? "Internal server error (simulated fault)"
		     : "Request failed (simulated fault)");
}

static bool path_under(const char *path, const char *prefix, const char **rest)
{
	size_t n = strlen(prefix);

	if (strncmp(path, prefix, n) != 0 || (path[n] != '\0' && path[n] != '/'))
		return false;
	*rest = path + n;
	return true;
}

static enum MHD_Result handle_complete(struct sim *sim,
				       struct MHD_Connection *conn,
				       struct conn_ctx *ctx, const char *method)
{
	struct sim_request req;
	struct sim_reply reply;
	char *raw_path, *path, *qmark;
	const char *rest = "";
	bool api, control, drop = false;
	enum fault_kind before = FAULT_NONE, after = FAULT_NONE;
	unsigned slow_ms = 0;
	int64_t t_ms = clock_now_ms();
	enum MHD_Result ret;

	memset(&req, 0, sizeof(req));
	memset(&reply, 0, sizeof(reply));
	raw_path = strdup(ctx->uri ? ctx->uri : "");
	if (raw_path == NULL)
		return MHD_NO;
	qmark = strchr(raw_path, '?');
	req.raw_query = "";
	if (qmark != NULL) {
		*qmark = '\0';
		req.raw_query = qmark + 1;
	}
	path = strdup(raw_path);
	if (path == NULL) {
		free(raw_path);
		return MHD_NO;
	}
	query_parse(&req.query, req.raw_query);
	req.method = method;
	req.path = path;
	req.body = ctx->body.data;
	req.body_len = ctx->body.len;
	req.user_agent = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "User-Agent");
	/* A path with a bad escape matches no route. */
	if (!percent_decode(path, false))
		path[0] = '\0';
	api = path_under(path, SIM_API_PREFIX, &rest);
	control = !api && path_under(path, SIM_CONTROL_PREFIX, &rest);

	pthread_mutex_lock(&sim->lock);
	if (api) {
		before = faults_decide_before(sim, t_ms);
		slow_ms = sim->faults.slow_ms;
	}
	if (slow_ms > 0)
		slow_wait(sim, slow_ms);
	if (!api && !control) {
		reply_errors(&reply, 404, "Not found");
	} else if (before == FAULT_DROP) {
		drop = true;
	} else if (before != FAULT_NONE) {
		fault_reply(sim, before, &reply);
	} else if (!auth_token_ok(sim, MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
								   "X-Auth-Token"))) {
		reply_text(&reply, 401, json_error_body(
			   MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Auth-Token")
			   ? "Invalid authentication token"
			   : "Missing authentication token: send it in the X-Auth-Token header"));
		reply.faultable = false;
	} else if (ctx->too_large) {
		reply_errors(&reply, 413, "Request body too large (limit 1 MiB)");
	} else {
		lifecycle_advance(sim);
		if (api)
			api_handle(sim, &req, rest, &reply);
		else
			control_handle(sim, &req, rest, &reply);
		if (api && reply.faultable)
			after = faults_decide_after(sim);
	}
	if (after == FAULT_MALFORMED) {
		size_t n;
		char *broken = faults_break_json(reply.body, reply.body_len, &n);

		if (broken != NULL) {
			free(reply.body);
			reply.body = broken;
			reply.body_len = n;
		}
	}
	if (api)
		reqlog_append(&sim->log, log_entry(sim, &req, raw_path, t_ms,
						   drop ? 0 : reply.status,
						   before != FAULT_NONE ? before : after,
						   slow_ms));
	if (sim->verbose) {
		char *shown = redact(sim, raw_path, strlen(raw_path));

		fprintf(stderr, "metal-sim: %s %s -> %u%s%s\n", method,
			shown ? shown : "?", drop ? 0 : reply.status,
			before != FAULT_NONE || after != FAULT_NONE ? " fault=" : "",
			fault_name(before != FAULT_NONE ? before : after)
			? fault_name(before != FAULT_NONE ? before : after) : "");
		free(shown);
	}
	pthread_mutex_unlock(&sim->lock);

	/* Returning MHD_NO makes MHD close the connection unanswered. */
	ret = drop ? MHD_NO : send_reply(conn, &reply, after);
	reply_free(&reply);
	query_free(&req.query);
	free(path);
	free(raw_path);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	struct sim *sim = cls;
	struct conn_ctx *ctx = *req_cls;

	(void)url;
	(void)version;
	if (ctx == NULL || ctx->uri == NULL)
		return MHD_NO; /* out of memory in on_uri */
	if (!ctx->started) {
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);

		ctx->started = true;
		/* A declared oversize body is refused before it is read. */
		if (cl != NULL && strtoull(cl, NULL, 10) > SIM_MAX_BODY_BYTES)
			ctx->too_large = true;
		if (!ctx->too_large)
			return MHD_YES;
	}
	if (*upload_data_size != 0) {
		/* A chunked body has no length up front.  Past the cap we keep
		 * reading and drop the data: MHD cannot queue an answer in the
		 * middle of an upload, and memory stays bounded. */
		if (!ctx->too_large &&
		    ctx->body.len + *upload_data_size <= SIM_MAX_BODY_BYTES)
			sb_append(&ctx->body, upload_data, *upload_data_size);
		else
			ctx->too_large = true;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (ctx->body.failed)
		return MHD_NO;
	return handle_complete(sim, conn, ctx, method);
}

struct MHD_Daemon *http_start(struct sim *sim, struct listen_addr *addr,
			      const char *tls_cert, const char *tls_key,
			      char *err, size_t errlen)
{
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION |
			 MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	/* The TLS options, or none: one MHD_start_daemon call either way. */
	struct MHD_OptionItem tls[] = {
		{ MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)(uintptr_t)tls_cert },
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)(uintptr_t)tls_key },
		{ MHD_OPTION_END, 0, NULL },
	};
	struct MHD_Daemon *d;

	if (addr->ipv6)
		flags |= MHD_USE_IPv6;
	if (tls_cert != NULL) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			snprintf(err, errlen, "this libmicrohttpd has no TLS support");
			return NULL;
		}
		flags |= MHD_USE_TLS;
	} else {
		tls[0].option = MHD_OPTION_END;
	}
	/* The logger goes first so that MHD's own start-up messages use it. */
	d = MHD_start_daemon(flags, (uint16_t)addr->port, NULL, NULL, on_request, sim,
			     MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, sim,
			     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr->sa,
			     MHD_OPTION_URI_LOG_CALLBACK, on_uri, sim,
			     MHD_OPTION_NOTIFY_COMPLETED, on_completed, sim,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned)SIM_CONNECTION_LIMIT,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)SIM_CONNECTION_TIMEOUT_S,
			     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)SIM_CONNECTION_MEMORY,
			     MHD_OPTION_ARRAY, tls,
			     MHD_OPTION_END);
	if (d == NULL)
		snprintf(err, errlen, "cannot listen on %s:%u (address in use or not local%s?)",
			 addr->host, addr->port,
			 tls_cert ? ", or the certificate and key do not match" : "");
	return d;
}

unsigned http_bound_port(struct MHD_Daemon *d)
{
	const union MHD_DaemonInfo *info =
		MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);

	return info ? info->port : 0;
}

void http_stop(struct sim *sim, struct MHD_Daemon *d)
{
	pthread_mutex_lock(&sim->lock);
	sim->stopping = true;
	pthread_cond_broadcast(&sim->wake);
	pthread_mutex_unlock(&sim->lock);
	MHD_stop_daemon(d);
}
