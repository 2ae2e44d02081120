/*
 * http.h - HTTP calls to one API base URL through libcurl's multi socket
 * API, driven by the daemon's loop (curl's ephiperfifo pattern): curl says
 * which sockets to watch and when to wake it, the loop does the waiting,
 * and nothing here ever blocks.
 *
 * The client is bound to one base URL at creation: https, or plain http
 * to a loopback address (the emulator). Calls name only a path below it,
 * so no request can reach another host, and redirects are never followed.
 * TLS peer and host verification are always on. The API token travels in
 * an X-Auth-Token header and is never logged (CURLOPT_VERBOSE stays off).
 */
#ifndef METALBMC_HTTP_H
#define METALBMC_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loop.h"
#include "secret.h"

enum http_method { HTTP_GET, HTTP_PUT, HTTP_POST };

/* Why an exchange produced no HTTP status. */
enum http_error {
	HTTP_E_NONE = 0,   /* an answer arrived: see status */
	HTTP_E_TIMEOUT,    /* connect or total timeout */
	HTTP_E_CONNECT,    /* cannot resolve or connect: nothing was sent */
	HTTP_E_DROPPED,    /* the connection broke after the request went out:
	                    * it may have been carried out */
	HTTP_E_TRUNCATED,  /* the answer ended before its announced length */
	HTTP_E_TOO_BIG,    /* the answer exceeded API_MAX_BODY */
	HTTP_E_TLS,        /* certificate or handshake failure */
	HTTP_E_OTHER,
};

struct http_response {
	int status;            /* HTTP status; 0 when err != HTTP_E_NONE */
	enum http_error err;
	const char *errtext;   /* curl's words for err; never holds a secret */
	const char *body;      /* NUL-terminated, len bytes; valid in the callback */
	size_t len;
	long retry_after_s;    /* Retry-After in seconds, -1 when absent */
	uint64_t elapsed_ms;
};

typedef void (*http_done_fn)(void *arg, const struct http_response *r);

/* A 2xx status: the call did what it asked. */
static inline bool http_status_ok(int status) { return status >= 200 && status < 300; }

struct http_client;
struct http_request;

/*
 * A client for base_url (no trailing slash needed). token is copied into
 * the header list; ca_file ("" for none) is a CA bundle read now, at
 * start-up, and trusted in place of the system's bundle file (the
 * system's CA directory stays trusted too). NULL with why filled on
 * error (a bad or disallowed URL, or curl failing to start).
 */
struct http_client *http_client_new(struct loop *l, const char *base_url,
                                    const struct secret *token, const char *ca_file,
                                    char *why, size_t why_len);
/* Cancels every call in flight without calling back, wipes the token. */
void http_client_free(struct http_client *c);

/* http_start flags */
#define HTTP_FRESH_CONNECTION 0x1 /* a new connection, used once: libcurl
                                   * then never re-sends the request by itself
                                   * (it does, on a kept-alive connection that
                                   * breaks before any answer) */

/*
 * Starts METHOD base_url + path (path starts with '/'; body is JSON or
 * NULL). timeout_ms bounds the whole exchange. done runs later on the loop
 * thread, never from inside this call. NULL (why filled) when the call
 * cannot start.
 */
struct http_request *http_start(struct http_client *c, enum http_method m,
                                const char *path, const char *body,
                                uint32_t timeout_ms, unsigned flags, http_done_fn done,
                                void *arg, char *why, size_t why_len);
/* Abandons a call in flight; done is not called. */
void http_cancel(struct http_client *c, struct http_request *r);

/* True for an https URL, or an http URL whose host is a loopback address
 * (127.0.0.0/8, ::1, localhost). */
bool http_url_allowed(const char *url, char *why, size_t why_len);

const char *http_method_name(enum http_method m);

#endif
