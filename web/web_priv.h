/*
 * web_priv.h - what the web files share: the server, one request, one
 * reply, and the handlers' signatures. Not for use outside web/.
 */
#ifndef METALBMC_WEB_PRIV_H
#define METALBMC_WEB_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "bounds.h"
#include "csrf.h"
#include "loop.h"
#include "wbuf.h"
#include "web.h"
#include "web_auth.h"

struct MHD_Daemon;
struct MHD_Connection;
struct MHD_Response;

struct web_stats {
	uint64_t requests;
	uint64_t by_class[6];         /* responses by status class: [2] = 2xx ... */
	uint64_t auth_failures;       /* wrong credentials */
	uint64_t auth_lockouts;       /* requests refused while locked out */
	uint64_t admin_actions;
};

struct web {
	struct web_deps d;
	struct MHD_Daemon *mhd;
	struct loop_fd mhd_fd;
	struct loop_timer mhd_timer;
	struct loop_timer heartbeat;
	uint64_t last_heartbeat_ms;   /* monotonic */
	uint64_t started_wall_ms;
	struct web_auth *auth;
	struct csrf csrf;
	bool tls;
	char *tls_cert;               /* PEM, kept until stop */
	char *tls_key;                /* PEM, wiped at stop */
	size_t tls_key_len;
	struct web_stats stats;
};

/* One request, from its headers to its reply (MHD's per-request pointer). */
struct web_req {
	struct web *w;
	struct MHD_Connection *conn;
	const char *method;
	const char *path;             /* URL path, percent-decoded by MHD */
	struct sockaddr_storage peer;
	char client[64];              /* "127.0.0.1:40000", for logs and audit */
	char local_host[64];          /* our address as this client reached it */
	char user[WEB_AUTH_MAX_USER + 1]; /* the authenticated web user */
	char path_shown[128];         /* path as safe text, for log lines */
	bool is_post;
	bool gated;                   /* gate() has run */
	bool replied;
	size_t discarded;             /* body bytes past WEB_MAX_BODY, thrown away */
	bool body_too_big;
	size_t body_len;
	char body[WEB_MAX_BODY + 1];
	const struct web_route *route;
	char arg[128];                /* {id} of the route, when it has one */
};

/*
 * A response built in slices: the persona table can hold thousands of
 * rows, and rendering them all at once would hold the loop (and every IPMI
 * console) for as long. A stream renders WEB_STREAM_SLICE personas each
 * time libmicrohttpd asks for more bytes; between slices the loop serves
 * everything else. Personas are remembered by slot and generation, so one
 * removed meanwhile is skipped, never dereferenced; each row shows its
 * persona as it was when the row was rendered.
 */
struct persona_ref {
	uint32_t slot;
	uint32_t generation;
};

struct web_stream;
typedef void (*stream_row_fn)(struct web_stream *s, struct persona *p, struct wbuf *b);
typedef void (*stream_end_fn)(struct web_stream *s, struct wbuf *b);

struct web_stream {
	struct web *w;
	struct persona_ref *order;    /* display order */
	size_t n, next;
	stream_row_fn row;
	stream_end_fn end;            /* writes what follows the rows */
	struct wbuf out;              /* rendered, not yet handed to MHD */
	size_t out_off;
	bool ended;
	size_t rows;                  /* rows written so far */
	char user[WEB_AUTH_MAX_USER + 1];
	char local_host[64];
	char q[128];                  /* the filter, "" for none */
};

/* Starts a stream over every persona, sorted by hostname then device ID;
 * the caller writes the document's head into s->out. NULL on ENOMEM. */
struct web_stream *web_stream_new(struct web_req *r, stream_row_fn row, stream_end_fn end);

/* The MHD response that sends a stream (NULL on ENOMEM; the stream is
 * freed then). */
struct MHD_Response *web_stream_response(struct web_stream *s);
/* MHD's content reader and free callback of a stream (exposed for tests):
 * up to max bytes into buf; MHD_CONTENT_READER_END_OF_STREAM (-1) at the
 * end, MHD_CONTENT_READER_END_WITH_ERROR (-2) if the buffer failed. */
ssize_t web_stream_read(void *cls, uint64_t pos, char *buf, size_t max);
void web_stream_free(void *cls);

/* What a handler answers; web.c adds the common headers and sends it. */
struct web_reply {
	unsigned status;
	const char *content_type;
	char *body;                   /* malloc'd, or NULL */
	size_t len;
	bool sensitive;               /* body wiped before it is freed */
	bool cacheable;               /* static assets: no-cache instead of no-store */
	char location[256];           /* for 303 */
	const char *extra_name;       /* one more header, e.g. Retry-After */
	char extra_value[128];
	struct web_stream *stream;    /* instead of body: rendered as it is sent */
};

typedef void (*web_handler_fn)(struct web_req *r, struct web_reply *out);

#define ROUTE_NO_AUTH 0x01        /* served without credentials (/healthz) */
#define ROUTE_POST    0x02        /* POST with a CSRF-checked form body */
#define ROUTE_ARG     0x04        /* pattern holds one {id} */

struct web_route {
	const char *method;
	const char *prefix;           /* path before {id}, or the whole path */
	const char *suffix;           /* path after {id} ("" when none) */
	unsigned flags;
	web_handler_fn fn;
};

/* Reply helpers (web.c). */
void web_reply_text(struct web_reply *out, unsigned status, const char *text);
void web_reply_buf(struct web_reply *out, unsigned status, const char *type,
                   struct wbuf *b);
void web_reply_redirect(struct web_reply *out, const char *location);
void web_reply_stream(struct web_reply *out, unsigned status, const char *type,
                      struct web_stream *s);
/* "web 127.0.0.1:40000 user admin" for audit entries and log lines. */
void web_describe(const struct web_req *r, char *out, size_t cap);
/* Value of a query argument, or NULL. */
const char *web_query(const struct web_req *r, const char *name);

/* page.c */
void page_index(struct web_req *r, struct web_reply *out);
void page_persona(struct web_req *r, struct web_reply *out);
void page_reveal(struct web_req *r, struct web_reply *out, struct persona *p,
                 const char *password);
void page_asset(struct web_req *r, struct web_reply *out);

/* api.c */
void api_personas(struct web_req *r, struct web_reply *out);
void api_persona(struct web_req *r, struct web_reply *out);
void api_events(struct web_req *r, struct web_reply *out);

/* metrics.c */
void metrics_handler(struct web_req *r, struct web_reply *out);
void web_healthz(struct web_req *r, struct web_reply *out);

/* admin.c */
void admin_poll(struct web_req *r, struct web_reply *out);
void admin_disable(struct web_req *r, struct web_reply *out);
void admin_enable(struct web_req *r, struct web_reply *out);
void admin_reveal(struct web_req *r, struct web_reply *out);
/* Finds a value in an application/x-www-form-urlencoded body. 1 found,
 * 0 absent, -1 malformed (bad %-escape, value too long). */
int admin_form_value(const char *body, size_t len, const char *key, char *out,
                     size_t cap);

/* The persona a route's {id} names: device ID, short ID or user name. */
struct persona *web_find_persona(const struct web *w, const char *id);

#endif
