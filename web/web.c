/*
 * web.c - libmicrohttpd in the daemon's loop: start-up and limits, the
 * route table, the gate every request passes (credentials, method, body
 * size, CSRF), and the headers every response carries.
 */
#include "web_priv.h"
#include "escape.h"
#include "log.h"
#include "secret.h"
#include "throttle.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* Longest chunked body read and thrown away so a client still gets a clean
 * 413; past it the connection is simply closed. */
#define WEB_DISCARD_MAX (16 * WEB_MAX_BODY)
#define WEB_TLS_CERT_MAX (64 * 1024) /* bytes: certificate chain file */

static const char csp[] =
	"default-src 'none'; script-src 'self'; style-src 'self'; "
	"img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
	"base-uri 'none'; form-action 'self'";

static const struct web_route routes[] = {
	{ "GET", "/healthz", "", ROUTE_NO_AUTH, web_healthz },
	{ "GET", "/", "", 0, page_index },
	{ "GET", "/static/page.js", "", 0, page_asset },
	{ "GET", "/static/page.css", "", 0, page_asset },
	{ "GET", "/personas/", "", ROUTE_ARG, page_persona },
	{ "POST", "/personas/", "/disable", ROUTE_ARG | ROUTE_POST, admin_disable },
	{ "POST", "/personas/", "/enable", ROUTE_ARG | ROUTE_POST, admin_enable },
	{ "POST", "/personas/", "/reveal", ROUTE_ARG | ROUTE_POST, admin_reveal },
	{ "POST", "/admin/poll", "", ROUTE_POST, admin_poll },
	{ "GET", "/api/v1/personas", "", 0, api_personas },
	{ "GET", "/api/v1/personas/", "", ROUTE_ARG, api_persona },
	{ "GET", "/api/v1/events", "", 0, api_events },
	{ "GET", "/metrics", "", 0, metrics_handler },
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

/* ---- small helpers shared by the handlers ------------------------------ */

void web_describe(const struct web_req *r, char *out, size_t cap)
{
	snprintf(out, cap, "web %s%s%s", r->client, r->user[0] ? " user " : "", r->user);
}

const char *web_query(const struct web_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

void web_reply_text(struct web_reply *out, unsigned status, const char *text)
{
	size_t n = strlen(text);

	out->status = status;
	out->content_type = "text/plain; charset=utf-8";
	out->body = malloc(n + 1);
	if (out->body) {
		memcpy(out->body, text, n + 1);
		out->len = n;
	}
}

void web_reply_buf(struct web_reply *out, unsigned status, const char *type,
                   struct wbuf *b)
{
	size_t n = 0;
	char *d = wbuf_take(b, &n);

	if (!d) {
		web_reply_text(out, 500, "response too large or out of memory\n");
		return;
	}
	out->status = status;
	out->content_type = type;
	out->body = d;
	out->len = n;
}

void web_reply_redirect(struct web_reply *out, const char *location)
{
	out->status = 303;
	snprintf(out->location, sizeof(out->location), "%s", location);
	web_reply_text(out, 303, "see other\n");
}

struct persona *web_find_persona(const struct web *w, const char *id)
{
	struct persona *p = persona_by_device(w->d.personas, id);
	size_t n = strlen(id);

	if (p)
		return p;
	/* A short ID first: another device's ipmi.user tag may spell it. */
	for (size_t i = 0; i < persona_capacity(w->d.personas); i++) {
		p = persona_at(w->d.personas, i);
		if (p && strcmp(p->short_id, id) == 0)
			return p;
	}
	/* Then any name the shared listener routes: a user name, a hostname. */
	if (n && n <= MAX_USER_NAME)
		return persona_by_user(w->d.personas, (const uint8_t *)id, n);
	return NULL;
}

/* ---- sending ---------------------------------------------------------- */

/* Free callback of the reveal page: the body is text, NUL-terminated, and
 * holds a password, so it is wiped before the allocator gets it back. */
static void wipe_and_free(void *cls)
{
	char *body = cls;
	secret_wipe(body, strlen(body));
	free(body);
}

static enum MHD_Result send_reply(struct web_req *r, struct web_reply *rep)
{
	struct web *w = r->w;
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (!rep->status || (!rep->body && rep->len))
		web_reply_text(rep, 500, "internal error\n");
	if (rep->stream)
		resp = web_stream_response(rep->stream);
	else if (rep->body && rep->sensitive)
		resp = MHD_create_response_from_buffer_with_free_callback(rep->len, rep->body,
		                                                           wipe_and_free);
	else if (rep->body)
		resp = MHD_create_response_from_buffer(rep->len, rep->body, MHD_RESPMEM_MUST_FREE);
	else
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		if (rep->body && rep->sensitive)
			wipe_and_free(rep->body);
		else
			free(rep->body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	                        rep->content_type ? rep->content_type
	                                          : "text/plain; charset=utf-8");
	MHD_add_response_header(resp, "Content-Security-Policy", csp);
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
	MHD_add_response_header(resp, "Cross-Origin-Resource-Policy", "same-origin");
	if (rep->cacheable) {
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	} else {
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
		MHD_add_response_header(resp, "Pragma", "no-cache");
	}
	if (w->tls)
		MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
	if (rep->location[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, rep->location);
	if (rep->extra_name)
		MHD_add_response_header(resp, rep->extra_name, rep->extra_value);
	ret = MHD_queue_response(r->conn, rep->status, resp);
	MHD_destroy_response(resp);
	if (rep->status / 100 < 6)
		w->stats.by_class[rep->status / 100]++;
	r->replied = true;
	log_debug("web: %s %s %s -> %u", r->client, r->method, r->path_shown, rep->status);
	return ret;
}

/* ---- the gate --------------------------------------------------------- */

static bool route_matches_path(const struct web_route *rt, const char *path,
                               char *arg, size_t arg_cap)
{
	size_t pl = strlen(rt->prefix), sl = strlen(rt->suffix), n = strlen(path);

	if (!(rt->flags & ROUTE_ARG))
		return strcmp(path, rt->prefix) == 0;
	if (n <= pl + sl || strncmp(path, rt->prefix, pl) != 0 ||
	    strcmp(path + n - sl, rt->suffix) != 0)
		return false;
	size_t al = n - pl - sl;
	if (al >= arg_cap || memchr(path + pl, '/', al))
		return false;
	memcpy(arg, path + pl, al);
	arg[al] = 0;
	return true;
}

/* Finds the route; *path_known tells a wrong method (405) from an unknown
 * path (404), and allow lists the methods the path takes. */
static const struct web_route *find_route(const char *method, const char *path,
                                          char *arg, size_t arg_cap,
                                          bool *path_known, char *allow, size_t allow_cap)
{
	const struct web_route *hit = NULL;
	bool get_ok = false, post_ok = false;

	*path_known = false;
	for (size_t i = 0; i < NROUTES; i++) {
		/* Routes without an argument leave tmp untouched: start empty
		 * (found by fuzz_web, regressions/web/route-arg-uninitialised). */
		char tmp[sizeof(((struct web_req *)0)->arg)] = "";
		if (!route_matches_path(&routes[i], path, tmp, sizeof(tmp)))
			continue;
		*path_known = true;
		bool is_get = strcmp(routes[i].method, "GET") == 0;
		get_ok |= is_get;
		post_ok |= !is_get;
		if (!hit && (strcmp(method, routes[i].method) == 0 ||
		             (is_get && strcmp(method, "HEAD") == 0))) {
			hit = &routes[i];
			snprintf(arg, arg_cap, "%s", tmp);
		}
	}
	snprintf(allow, allow_cap, "%s%s%s", get_ok ? "GET, HEAD" : "",
	         get_ok && post_ok ? ", " : "", post_ok ? "POST" : "");
	return hit;
}

static void ask_credentials(struct web_reply *out)
{
	web_reply_text(out, 401, "authentication required\n");
	out->extra_name = "WWW-Authenticate";
	snprintf(out->extra_value, sizeof(out->extra_value),
	         "Basic realm=\"metalbmc\", charset=\"UTF-8\"");
}

/* Decides everything that can be decided from the request line and the
 * headers. Returns true when the request goes on (to its handler, or to
 * reading its body); otherwise out holds the refusal. */
static bool gate(struct web_req *r, struct web_reply *out)
{
	struct web *w = r->w;
	char allow[32];
	bool path_known;
	uint64_t retry_ms = 0;

	r->route = find_route(r->method, r->path, r->arg, sizeof(r->arg), &path_known,
	                      allow, sizeof(allow));
	if (r->route && (r->route->flags & ROUTE_NO_AUTH))
		return true;

	/* Credentials before anything else: an unauthenticated client learns
	 * nothing, not even which paths exist. */
	if (!web_auth_configured(w->auth)) {
		web_reply_text(out, 403, "this page is off: no web password is configured "
		                         "(web.password or METALBMC_WEB_PASSWORD); only "
		                         "/healthz is served\n");
		return false;
	}
	const char *hdr = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	                                              MHD_HTTP_HEADER_AUTHORIZATION);
	switch (web_auth_check(w->auth, hdr, (const struct sockaddr *)&r->peer,
	                       loop_now(w->d.loop), &retry_ms)) {
	case WEB_AUTH_OK:
		break;
	case WEB_AUTH_LOCKED:
		w->stats.auth_lockouts++;
		web_reply_text(out, 429, "too many failed logins from this address; "
		                         "try again later\n");
		out->extra_name = "Retry-After";
		snprintf(out->extra_value, sizeof(out->extra_value), "%llu",
		         (unsigned long long)((retry_ms + 999) / 1000));
		return false;
	case WEB_AUTH_WRONG:
		w->stats.auth_failures++;
		if (log_peer_allowed(throttle_source_key((const struct sockaddr *)&r->peer),
		                     loop_now(w->d.loop)))
			log_warnx("web: wrong credentials from %s", r->client);
		ask_credentials(out);
		return false;
	case WEB_AUTH_MISSING:
	default:
		ask_credentials(out);
		return false;
	}
	/* web_auth_check accepted exactly the configured user name. */
	snprintf(r->user, sizeof(r->user), "%s", w->d.cfg->web_user);

	if (!r->route) {
		if (path_known) {
			web_reply_text(out, 405, "method not allowed\n");
			out->extra_name = "Allow";
			snprintf(out->extra_value, sizeof(out->extra_value), "%s", allow);
		} else {
			web_reply_text(out, 404, "not found\n");
		}
		return false;
	}
	if (r->route->flags & ROUTE_POST) {
		const char *cl = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
		                                             MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl) {
			char *end;
			errno = 0;
			unsigned long long n = strtoull(cl, &end, 10);
			if (errno || *end || end == cl) {
				web_reply_text(out, 400, "bad Content-Length\n");
				return false;
			}
			if (n > WEB_MAX_BODY) {
				web_reply_text(out, 413, "request body too large\n");
				return false;
			}
		}
		r->is_post = true;
	}
	return true;
}

/* A second line of defence behind the token: what the browser says about
 * where the request comes from. Sec-Fetch-Site, when sent, must be
 * same-origin (or none: typed by the user); an Origin must be this very
 * site. Origin "null" is what browsers send under our own
 * Referrer-Policy: no-referrer, so it proves nothing either way and the
 * token decides. Clients that send neither (curl, scripts) rely on the
 * token alone. */
static bool origin_ok(struct web_req *r)
{
	const char *site = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Sec-Fetch-Site");
	const char *origin = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Origin");
	const char *host = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Host");
	char want[300];

	if (site && strcmp(site, "same-origin") != 0 && strcmp(site, "none") != 0)
		return false;
	if (!origin || strcmp(origin, "null") == 0)
		return true;
	if (!host)
		return false;
	snprintf(want, sizeof(want), "%s://%s", r->w->tls ? "https" : "http", host);
	return strcmp(origin, want) == 0;
}

static void run_post(struct web_req *r, struct web_reply *out)
{
	const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	                                             MHD_HTTP_HEADER_CONTENT_TYPE);
	static const char form[] = "application/x-www-form-urlencoded";
	char token[CSRF_TOKEN_MAX];
	int found;

	if (r->body_too_big) {
		web_reply_text(out, 413, "request body too large\n");
		return;
	}
	if (!ct || strncasecmp(ct, form, sizeof(form) - 1) != 0 ||
	    (ct[sizeof(form) - 1] != 0 && ct[sizeof(form) - 1] != ';')) {
		web_reply_text(out, 415, "expected an application/x-www-form-urlencoded form\n");
		return;
	}
	found = admin_form_value(r->body, r->body_len, "csrf", token, sizeof(token));
	if (found < 0) {
		web_reply_text(out, 400, "malformed form body\n");
		return;
	}
	if (!origin_ok(r)) {
		web_reply_text(out, 403, "cross-site request refused\n");
		return;
	}
	if (!found || !csrf_check(&r->w->csrf, r->user, token, loop_wall_ms() / 1000u)) {
		log_warnx("web: %s %s without a valid form token from %s", r->method,
		          r->path_shown, r->client);
		web_reply_text(out, 403, "missing or stale form token; reload the page and "
		                         "try again\n");
		return;
	}
	r->w->stats.admin_actions++;
	r->route->fn(r, out);
}

/* ---- MHD callbacks ------------------------------------------------------ */

static void describe_peer(struct web_req *r)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	if (ci && ci->client_addr) {
		const struct sockaddr *sa = ci->client_addr;
		if (sa->sa_family == AF_INET)
			memcpy(&r->peer, sa, sizeof(struct sockaddr_in));
		else if (sa->sa_family == AF_INET6)
			memcpy(&r->peer, sa, sizeof(struct sockaddr_in6));
	}
	/* r is zeroed: an address of any other family stays "?:0" */
	sockaddr_format((const struct sockaddr *)&r->peer, r->client, sizeof(r->client));

	/* Our own address on this connection: what to put in front of
	 * ipmitool when the IPMI listener is bound to a wildcard address. */
	ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		if (getsockname(ci->connect_fd, (struct sockaddr *)&ss, &sl) == 0) {
			if (ss.ss_family == AF_INET) {
				inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr,
				          r->local_host, sizeof(r->local_host));
			} else if (ss.ss_family == AF_INET6) {
				const struct in6_addr *a6 = &((struct sockaddr_in6 *)&ss)->sin6_addr;
				if (IN6_IS_ADDR_V4MAPPED(a6))
					inet_ntop(AF_INET, a6->s6_addr + 12, r->local_host,
					          sizeof(r->local_host));
				else
					inet_ntop(AF_INET6, a6, r->local_host, sizeof(r->local_host));
			}
		}
	}
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *upload_data,
                                  size_t *upload_size, void **req_cls)
{
	struct web *w = cls;
	struct web_req *r = *req_cls;
	struct web_reply rep;

	(void)version;
	memset(&rep, 0, sizeof(rep));
	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		*req_cls = r;
		r->w = w;
		r->conn = conn;
		r->method = method;
		r->path = url;
		log_escape(url, strlen(url), r->path_shown, sizeof(r->path_shown));
		describe_peer(r);
		w->stats.requests++;
		/* A POST is judged on its headers, before its body is read; an
		 * answer queued that early makes MHD close the connection,
		 * which is right for a refused upload. Anything else is
		 * answered on the next call, once the request is complete, so
		 * the connection stays open for the page's refreshes. */
		if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
			return MHD_YES;
		r->gated = true;
		if (!gate(r, &rep))
			return send_reply(r, &rep);
		return MHD_YES; /* the body comes next */
	}
	if (r->replied) {
		*upload_size = 0; /* an early answer is out; drop the rest */
		return MHD_YES;
	}
	if (*upload_size) {
		size_t n = *upload_size;
		*upload_size = 0;
		if (r->body_too_big || n > WEB_MAX_BODY - r->body_len) {
			r->body_too_big = true;
			r->discarded += n;
			return r->discarded > WEB_DISCARD_MAX ? MHD_NO : MHD_YES;
		}
		memcpy(r->body + r->body_len, upload_data, n);
		r->body_len += n;
		r->body[r->body_len] = 0;
		return MHD_YES;
	}
	if (!r->gated) {
		r->gated = true;
		if (!gate(r, &rep))
			return send_reply(r, &rep);
		if (!r->is_post) {
			r->route->fn(r, &rep);
			return send_reply(r, &rep);
		}
	}
	run_post(r, &rep);
	return send_reply(r, &rep);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct web_req *r = *req_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (!r)
		return;
	secret_wipe(r->body, sizeof(r->body)); /* forms carry tokens */
	free(r);
	*req_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[256];
	size_t n;

	/* MHD's own messages are about sockets, TLS and HTTP syntax; none
	 * quotes a header, so none carries credentials. */
	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = 0;
	log_debug("web: mhd: %s", line);
}

/* ---- the loop side ------------------------------------------------------ */

static void mhd_rearm(struct web *w)
{
	MHD_UNSIGNED_LONG_LONG ms = 0;

	if (MHD_get_timeout(w->mhd, &ms) != MHD_YES) {
		loop_timer_cancel(w->d.loop, &w->mhd_timer);
		return;
	}
	/* 0 means "work is waiting now" (data already buffered by TLS, a
	 * connection to close): run on the next iteration, never in a tight
	 * loop inside the timer pass. */
	if (ms == 0)
		ms = 1;
	if (ms > 60000)
		ms = 60000;
	loop_timer_at(w->d.loop, &w->mhd_timer, loop_now(w->d.loop) + ms);
}

static void on_mhd_readable(struct loop *l, struct loop_fd *h, uint32_t events)
{
	struct web *w = h->arg;

	(void)l;
	(void)events;
	MHD_run(w->mhd);
	mhd_rearm(w);
}

static void on_mhd_timer(struct loop *l, struct loop_timer *t)
{
	struct web *w = t->arg;

	(void)l;
	MHD_run(w->mhd);
	mhd_rearm(w);
}

static void on_heartbeat(struct loop *l, struct loop_timer *t)
{
	struct web *w = t->arg;

	w->last_heartbeat_ms = loop_now(l);
	loop_timer_in(l, t, WEB_HEARTBEAT_MS);
}

/* ---- start and stop ----------------------------------------------------- */

static char *read_pem(const char *path, size_t max, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;

	if (!f)
		return NULL;
	buf = malloc(max + 1);
	if (!buf) {
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, max + 1, f);
	fclose(f);
	if (n == 0 || n > max) {
		secret_wipe(buf, max + 1);
		free(buf);
		errno = EFBIG;
		return NULL;
	}
	buf[n] = 0;
	*len = n;
	return buf;
}

static int load_tls(struct web *w)
{
	const struct config *c = w->d.cfg;
	struct secret key = { 0 };
	char why[160];
	size_t n;

	w->tls_cert = read_pem(c->tls_cert, WEB_TLS_CERT_MAX, &n);
	if (!w->tls_cert) {
		log_warn("web: cannot read the TLS certificate %s", c->tls_cert);
		return -1;
	}
	/* The key is a secret: same rules as every *_file secret (mode 0600
	 * or stricter, bounded size). */
	if (secret_read_file(c->tls_key, &key, why, sizeof(why)) < 0) {
		log_warnx("web: TLS key %s: %s", c->tls_key, why);
		return -1;
	}
	w->tls_key = malloc(key.len + 2);
	if (!w->tls_key) {
		secret_clear(&key);
		return -1;
	}
	memcpy(w->tls_key, secret_reveal(&key), key.len);
	w->tls_key[key.len] = '\n'; /* secret_read_file took the last one */
	w->tls_key[key.len + 1] = 0;
	w->tls_key_len = key.len + 2;
	secret_clear(&key);
	w->tls = true;
	return 0;
}

int web_start(const struct web_deps *deps, struct web **out)
{
	const struct config *c = deps->cfg;
	struct MHD_OptionItem opts[16];
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	size_t k = 0;
	struct web *w;

	*out = NULL;
	if (!c->web_enabled) {
		log_info("web: disabled (web.enabled: false)");
		return 0;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return -1;
	w->d = *deps;
	w->started_wall_ms = loop_wall_ms();
	w->auth = web_auth_new(c->web_user, &c->web_password);
	if (!w->auth || csrf_init(&w->csrf) < 0) {
		log_warnx("web: cannot set up authentication");
		web_stop(w);
		return -1;
	}
	if (c->tls_cert[0] && load_tls(w) < 0) {
		web_stop(w);
		return -1;
	}
	if (c->web_listen.ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (w->tls)
		flags |= MHD_USE_TLS;

#define OPT(o, v, p) opts[k++] = (struct MHD_OptionItem){ (o), (intptr_t)(v), (p) }
	OPT(MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_mhd_log, w); /* first, as MHD asks */
	OPT(MHD_OPTION_SOCK_ADDR, 0, (void *)&c->web_listen.ss);
	OPT(MHD_OPTION_CONNECTION_LIMIT, WEB_MAX_CONNECTIONS, NULL);
	OPT(MHD_OPTION_PER_IP_CONNECTION_LIMIT, WEB_MAX_PER_IP, NULL);
	OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, WEB_CONN_MEMORY, NULL);
	OPT(MHD_OPTION_CONNECTION_TIMEOUT, WEB_CONN_TIMEOUT_S, NULL);
	/* Refuse sloppy HTTP (an HTTP/1.1 request without Host, blanks
	 * before a colon, ...) with 400 instead of guessing. */
	OPT(MHD_OPTION_STRICT_FOR_CLIENT, 1, NULL);
	OPT(MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, w);
	if (w->tls) {
		OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, w->tls_cert);
		OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, w->tls_key);
		OPT(MHD_OPTION_HTTPS_PRIORITIES, 0,
		    (void *)"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2");
	}
	OPT(MHD_OPTION_END, 0, NULL);
#undef OPT

	w->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, w,
	                          MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (!w->mhd) {
		log_warnx("web: cannot listen on %s (address in use, or TLS "
		          "certificate and key do not match)", c->web_listen.text);
		web_stop(w);
		return -1;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(w->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	loop_timer_init(&w->mhd_timer, on_mhd_timer, w);
	loop_timer_init(&w->heartbeat, on_heartbeat, w);
	if (!di || loop_fd_add(deps->loop, &w->mhd_fd, di->epoll_fd, EPOLLIN,
	                       on_mhd_readable, w) < 0) {
		log_warnx("web: cannot join the event loop");
		web_stop(w);
		return -1;
	}
	w->last_heartbeat_ms = loop_now(deps->loop);
	loop_timer_in(deps->loop, &w->heartbeat, WEB_HEARTBEAT_MS);
	mhd_rearm(w);
	if (web_auth_configured(w->auth))
		log_info("web: listening on %s://%s (user %s)", w->tls ? "https" : "http",
		         c->web_listen.text, c->web_user);
	else
		log_warnx("web: listening on %s://%s, but no web password is configured "
		          "(web.password or METALBMC_WEB_PASSWORD): serving only /healthz",
		          w->tls ? "https" : "http", c->web_listen.text);
	*out = w;
	return 0;
}

void web_stop(struct web *w)
{
	if (!w)
		return;
	if (w->mhd) {
		loop_fd_del(w->d.loop, &w->mhd_fd);
		loop_timer_cancel(w->d.loop, &w->mhd_timer);
		loop_timer_cancel(w->d.loop, &w->heartbeat);
		MHD_stop_daemon(w->mhd);
	}
	web_auth_free(w->auth);
	csrf_wipe(&w->csrf);
	free(w->tls_cert);
	if (w->tls_key) {
		secret_wipe(w->tls_key, w->tls_key_len);
		free(w->tls_key);
	}
	free(w);
}
