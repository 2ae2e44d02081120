/*
 * http.c - libcurl multi socket glue for the loop; see http.h.
 *
 * curl owns the sockets and tells us (CURLMOPT_SOCKETFUNCTION) which to
 * watch for reading or writing; each gets a loop_fd of its own, hung on
 * the socket with curl_multi_assign. curl's single timeout
 * (CURLMOPT_TIMERFUNCTION) is one loop timer. Either event goes to
 * curl_multi_socket_action, after which finished transfers are drained
 * from curl_multi_info_read and reported through their CURLOPT_PRIVATE
 * back-pointer.
 */
#include "http.h"
#include "bounds.h"
#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct http_sock {
	struct loop_fd lfd;
	struct http_client *c;
	struct http_sock *prev, *next;
};

struct http_request {
	struct http_client *c;
	CURL *easy;
	http_done_fn done;
	void *arg;
	char *buf;              /* the answer, grown by doubling up to API_MAX_BODY */
	size_t len, cap;
	bool too_big;
	uint64_t started_ms;
	char method[8];
	char errbuf[CURL_ERROR_SIZE];
	struct http_request *prev, *next;
};

struct http_client {
	struct loop *loop;
	CURLM *multi;
	struct loop_timer timer;
	struct curl_slist *headers; /* shared by every call; holds the token */
	char base[1024];
	char *ca_pem;               /* metal.ca_file's contents, read at start-up
	                             * while still root; NULL for none */
	size_t ca_len;
	bool plain_http;
	struct http_request *active;
	struct http_sock *socks;    /* every socket curl asked us to watch */
};

const char *http_method_name(enum http_method m)
{
	switch (m) {
	case HTTP_GET: return "GET";
	case HTTP_PUT: return "PUT";
	case HTTP_POST: return "POST";
	}
	return "?";
}

/* ---- URL policy --------------------------------------------------------- */

static bool host_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;
	char h[64];
	size_t n = strlen(host);

	if (strcasecmp(host, "localhost") == 0)
		return true;
	if (n >= sizeof(h))
		return false;
	/* curl hands IPv6 hosts back in brackets */
	if (n > 2 && host[0] == '[' && host[n - 1] == ']') {
		memcpy(h, host + 1, n - 2);
		h[n - 2] = 0;
	} else {
		memcpy(h, host, n + 1);
	}
	if (inet_pton(AF_INET, h, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, h, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return false;
}

bool http_url_allowed(const char *url, char *why, size_t why_len)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	bool ok = false;

	if (!u) {
		snprintf(why, why_len, "out of memory");
		return false;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		snprintf(why, why_len, "not a valid URL");
	} else if (strcasecmp(scheme, "https") == 0) {
		ok = true;
	} else if (strcasecmp(scheme, "http") == 0) {
		ok = host_is_loopback(host);
		if (!ok)
			snprintf(why, why_len, "plain http is allowed only to a loopback "
			                       "address; use https");
	} else {
		snprintf(why, why_len, "scheme %s is not https", scheme);
	}
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return ok;
}

/* ---- curl callbacks ------------------------------------------------------- */

static void drain_finished(struct http_client *c);

static void on_sock_event(struct loop *l, struct loop_fd *h, uint32_t events)
{
	struct http_sock *hs = h->arg;
	struct http_client *c = hs->c;
	int flags = 0, running;

	(void)l;
	if (events & EPOLLIN)
		flags |= CURL_CSELECT_IN;
	if (events & EPOLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (events & (EPOLLERR | EPOLLHUP))
		flags |= CURL_CSELECT_ERR;
	/* hs may be freed inside (CURL_POLL_REMOVE): not touched after. */
	curl_multi_socket_action(c->multi, h->fd, flags, &running);
	drain_finished(c);
}

static void sock_free(struct http_client *c, struct http_sock *hs)
{
	loop_fd_del(c->loop, &hs->lfd);
	if (hs->prev)
		hs->prev->next = hs->next;
	else
		c->socks = hs->next;
	if (hs->next)
		hs->next->prev = hs->prev;
	free(hs);
}

static int on_curl_socket(CURL *easy, curl_socket_t s, int what, void *userp,
                          void *socketp)
{
	struct http_client *c = userp;
	struct http_sock *hs = socketp;
	uint32_t ev = 0;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (hs)
			sock_free(c, hs);
		return 0;
	}
	if (what & CURL_POLL_IN)
		ev |= EPOLLIN;
	if (what & CURL_POLL_OUT)
		ev |= EPOLLOUT;
	if (!hs) {
		hs = calloc(1, sizeof(*hs));
		if (!hs)
			return -1;
		hs->c = c;
		if (loop_fd_add(c->loop, &hs->lfd, s, ev, on_sock_event, hs) < 0) {
			log_warn("http: cannot watch a socket");
			free(hs);
			return -1;
		}
		curl_multi_assign(c->multi, s, hs);
		hs->next = c->socks;
		if (c->socks)
			c->socks->prev = hs;
		c->socks = hs;
		return 0;
	}
	if (loop_fd_mod(c->loop, &hs->lfd, ev) < 0) {
		log_warn("http: cannot change a socket's events");
		return -1;
	}
	return 0;
}

static void on_timer(struct loop *l, struct loop_timer *t)
{
	struct http_client *c = t->arg;
	int running;

	(void)l;
	curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	drain_finished(c);
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct http_client *c = userp;

	(void)multi;
	if (timeout_ms < 0) {
		loop_timer_cancel(c->loop, &c->timer);
		return 0;
	}
	/* "Now" becomes the next loop pass, so a zero timeout asked for from
	 * inside the timer's own run cannot spin. */
	loop_timer_in(c->loop, &c->timer, timeout_ms > 0 ? (uint64_t)timeout_ms : 1);
	return 0;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *userp)
{
	struct http_request *r = userp;
	size_t n = size * nmemb;

	if (n > API_MAX_BODY - r->len) {
		r->too_big = true;
		return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
	}
	if (r->len + n + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : API_BODY_FIRST;
		while (cap < r->len + n + 1)
			cap *= 2;
		if (cap > API_MAX_BODY + 1)
			cap = API_MAX_BODY + 1;
		char *nb = realloc(r->buf, cap);
		if (!nb)
			return 0;
		r->buf = nb;
		r->cap = cap;
	}
	memcpy(r->buf + r->len, data, n);
	r->len += n;
	r->buf[r->len] = 0;
	return n;
}

/* ---- requests ------------------------------------------------------------- */

static void unlink_request(struct http_client *c, struct http_request *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		c->active = r->next;
	if (r->next)
		r->next->prev = r->prev;
	r->prev = r->next = NULL;
}

static void free_request(struct http_client *c, struct http_request *r)
{
	if (r->easy) {
		curl_multi_remove_handle(c->multi, r->easy);
		curl_easy_cleanup(r->easy);
	}
	free(r->buf);
	free(r);
}

static enum http_error classify(CURLcode rc, bool too_big)
{
	if (too_big || rc == CURLE_FILESIZE_EXCEEDED)
		return HTTP_E_TOO_BIG;
	switch (rc) {
	case CURLE_OK:
		return HTTP_E_NONE;
	case CURLE_OPERATION_TIMEDOUT:
		return HTTP_E_TIMEOUT;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
		return HTTP_E_CONNECT;
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
		return HTTP_E_DROPPED;
	case CURLE_PARTIAL_FILE:
		return HTTP_E_TRUNCATED;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
		return HTTP_E_TLS;
	default:
		return HTTP_E_OTHER;
	}
}

static void finish(struct http_client *c, CURL *easy, CURLcode rc)
{
	struct http_request *r = NULL;
	struct http_response res;
	long status = 0;
	curl_off_t retry_after = -1;

	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&r);
	if (!r)
		return;
	memset(&res, 0, sizeof(res));
	res.err = classify(rc, r->too_big);
	if (res.err == HTTP_E_NONE) {
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
		res.status = (int)status;
		/* curl reads both forms of Retry-After (seconds, HTTP date). */
		if (curl_easy_getinfo(easy, CURLINFO_RETRY_AFTER, &retry_after) != CURLE_OK)
			retry_after = -1;
	}
	res.retry_after_s = (res.status == 429 || res.status == 503) && retry_after > 0
	                    ? (long)retry_after : -1;
	res.errtext = res.err == HTTP_E_NONE ? ""
	              : r->too_big ? "answer too large"
	              : r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc);
	res.body = r->buf ? r->buf : "";
	res.len = r->len;
	res.elapsed_ms = loop_clock_ms() - r->started_ms;
	unlink_request(c, r);
	curl_multi_remove_handle(c->multi, r->easy);
	curl_easy_cleanup(r->easy);
	r->easy = NULL;
	r->done(r->arg, &res);
	free_request(c, r);
}

static void drain_finished(struct http_client *c)
{
	CURLMsg *m;
	int left;

	/* The message is consumed before done() runs, which may start or
	 * cancel other calls. */
	while ((m = curl_multi_info_read(c->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		CURL *easy = m->easy_handle;
		CURLcode rc = m->data.result;
		finish(c, easy, rc);
	}
}

struct http_request *http_start(struct http_client *c, enum http_method m,
                                const char *path, const char *body,
                                uint32_t timeout_ms, unsigned flags, http_done_fn done,
                                void *arg, char *why, size_t why_len)
{
	char url[sizeof(c->base) + API_MAX_PATH];
	struct http_request *r;
	int ok = 1;

	if (path[0] != '/' || strlen(path) >= API_MAX_PATH) {
		snprintf(why, why_len, "bad path");
		return NULL;
	}
	if (body && strlen(body) > API_MAX_REQUEST_BODY) {
		snprintf(why, why_len, "request body too large");
		return NULL;
	}
	snprintf(url, sizeof(url), "%s%s", c->base, path);
	r = calloc(1, sizeof(*r));
	if (!r || !(r->easy = curl_easy_init())) {
		free(r);
		snprintf(why, why_len, "out of memory");
		return NULL;
	}
	r->c = c;
	r->done = done;
	r->arg = arg;
	r->started_ms = loop_clock_ms();
	snprintf(r->method, sizeof(r->method), "%s", http_method_name(m));

	CURL *e = r->easy;
	ok &= curl_easy_setopt(e, CURLOPT_URL, url) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_PRIVATE, r) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->headers) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_USERAGENT, "metalbmc/" METALBMC_VERSION) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, c->plain_http ? "http" : "https") == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)API_CONNECT_TIMEOUT_MS) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout_ms) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)API_MAX_BODY) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "") == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_WRITEDATA, r) == CURLE_OK;
	if (flags & HTTP_FRESH_CONNECTION) {
		ok &= curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L) == CURLE_OK;
		ok &= curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L) == CURLE_OK;
	}
	if (c->ca_pem) {
		struct curl_blob ca = { .data = c->ca_pem, .len = c->ca_len,
		                        .flags = CURL_BLOB_NOCOPY };
		ok &= curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &ca) == CURLE_OK;
	}
	/* Plain http is for the emulator on this host: an http_proxy from the
	 * environment must not see the token in clear. (https may go through
	 * a proxy: it only tunnels the TLS stream.) */
	if (c->plain_http)
		ok &= curl_easy_setopt(e, CURLOPT_PROXY, "") == CURLE_OK;
	switch (m) {
	case HTTP_GET:
		break;
	case HTTP_PUT:
		/* A POST body, sent with the PUT method. */
		ok &= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "PUT") == CURLE_OK;
		ok &= curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, body ? body : "") == CURLE_OK;
		break;
	case HTTP_POST:
		ok &= curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, body ? body : "") == CURLE_OK;
		break;
	}
	if (!ok) {
		snprintf(why, why_len, "curl refused an option");
		free_request(c, r);
		return NULL;
	}
	CURLMcode mc = curl_multi_add_handle(c->multi, e);
	if (mc != CURLM_OK) {
		snprintf(why, why_len, "%s", curl_multi_strerror(mc));
		curl_easy_cleanup(r->easy);
		r->easy = NULL;
		free_request(c, r);
		return NULL;
	}
	r->next = c->active;
	if (c->active)
		c->active->prev = r;
	c->active = r;
	return r;
}

void http_cancel(struct http_client *c, struct http_request *r)
{
	if (!r)
		return;
	unlink_request(c, r);
	free_request(c, r);
}

/* ---- client --------------------------------------------------------------- */

static struct curl_slist *append_header(struct curl_slist *list, const char *h, bool *ok)
{
	struct curl_slist *n = curl_slist_append(list, h);
	if (!n) {
		*ok = false;
		return list;
	}
	return n;
}

static void wipe_headers(struct curl_slist *list)
{
	for (struct curl_slist *h = list; h; h = h->next)
		if (h->data)
			secret_wipe(h->data, strlen(h->data));
	curl_slist_free_all(list);
}

/* The CA bundle is read once, now: after start-up the daemon runs as an
 * unprivileged user that may not be able to read it, and libcurl would
 * read a file named by CURLOPT_CAINFO at every new connection. */
static int read_ca(struct http_client *c, const char *path, char *why, size_t why_len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = API_MAX_CA_BYTES, n;

	if (!f) {
		snprintf(why, why_len, "metal.ca_file %s: %s", path, strerror(errno));
		return -1;
	}
	c->ca_pem = malloc(cap + 1);
	n = c->ca_pem ? fread(c->ca_pem, 1, cap + 1, f) : 0;
	bool err = ferror(f);
	fclose(f);
	if (!c->ca_pem || err || n == 0 || n > cap) {
		snprintf(why, why_len, "metal.ca_file %s: %s", path,
		         !c->ca_pem ? "out of memory" : err ? "read error"
		         : n == 0 ? "empty" : "larger than the limit (API_MAX_CA_BYTES)");
		return -1;
	}
	c->ca_len = n;
	return 0;
}

struct http_client *http_client_new(struct loop *l, const char *base_url,
                                    const struct secret *token, const char *ca_file,
                                    char *why, size_t why_len)
{
	static bool curl_ready;
	struct http_client *c;
	char hdr[64 + MAX_SECRET_FILE_BYTES];
	bool ok = true;

	if (!http_url_allowed(base_url, why, why_len))
		return NULL;
	if (strlen(base_url) >= sizeof(c->base) - 1) {
		snprintf(why, why_len, "URL too long");
		return NULL;
	}
	if (!secret_present(token) || token->len == 0 || token->len > MAX_SECRET_FILE_BYTES) {
		snprintf(why, why_len, "no usable API token");
		return NULL;
	}
	for (size_t i = 0; i < token->len; i++) {
		uint8_t ch = secret_reveal(token)[i];
		if (ch < 0x21 || ch > 0x7e) {
			/* A CR or LF would smuggle another header. */
			snprintf(why, why_len, "the API token holds a character that "
			                       "cannot go into an HTTP header");
			return NULL;
		}
	}
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			snprintf(why, why_len, "curl_global_init failed");
			return NULL;
		}
		curl_ready = true;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(why, why_len, "out of memory");
		return NULL;
	}
	c->loop = l;
	snprintf(c->base, sizeof(c->base), "%s", base_url);
	size_t bl = strlen(c->base);
	while (bl > 0 && c->base[bl - 1] == '/')
		c->base[--bl] = 0;
	c->plain_http = strncasecmp(c->base, "http://", 7) == 0;
	loop_timer_init(&c->timer, on_timer, c);
	if (ca_file && ca_file[0] && read_ca(c, ca_file, why, why_len) < 0) {
		http_client_free(c);
		return NULL;
	}

	memcpy(hdr, "X-Auth-Token: ", 14);
	memcpy(hdr + 14, secret_reveal(token), token->len);
	hdr[14 + token->len] = 0;
	c->headers = append_header(c->headers, hdr, &ok);
	secret_wipe(hdr, sizeof(hdr));
	c->headers = append_header(c->headers, "Accept: application/json", &ok);
	c->headers = append_header(c->headers, "Content-Type: application/json", &ok);
	c->headers = append_header(c->headers, "Expect:", &ok);

	c->multi = curl_multi_init();
	if (!ok || !c->multi) {
		snprintf(why, why_len, "out of memory");
		http_client_free(c);
		return NULL;
	}
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)API_MAX_INFLIGHT);
	curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long)API_MAX_INFLIGHT);
	return c;
}

void http_client_free(struct http_client *c)
{
	if (!c)
		return;
	while (c->active) {
		struct http_request *r = c->active;
		unlink_request(c, r);
		free_request(c, r);
	}
	if (c->multi)
		curl_multi_cleanup(c->multi);
	/* Sockets curl closed without a REMOVE callback. */
	while (c->socks)
		sock_free(c, c->socks);
	loop_timer_cancel(c->loop, &c->timer);
	wipe_headers(c->headers);
	free(c->ca_pem);
	free(c);
}
