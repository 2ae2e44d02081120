/*
 * engine.h - the IPMI-over-LAN protocol engine.
 *
 * The engine does no I/O: udp.c hands it each datagram with the peer's
 * address and gets back the reply bytes (or none). The clock and the
 * random source come from the caller, so unit tests and fuzz targets drive
 * exactly the code the daemon runs. Replies that finish later (a backend
 * call) leave through the send callback.
 */
#ifndef METALBMC_ENGINE_H
#define METALBMC_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config.h"
#include "cursor.h"
#include "persona.h"
#include "session.h"

struct loop;
struct throttle;

struct engine_peer {
	struct sockaddr_storage addr;   /* the console */
	socklen_t addr_len;
	struct sockaddr_storage local;  /* the address it sent to */
	socklen_t local_len;
	void *listener;                 /* struct udp_listener *, opaque here */
	struct persona *bound;          /* persona of a dedicated listener */
};

typedef void (*engine_send_fn)(void *arg, const struct engine_peer *to,
                               const uint8_t *buf, size_t len);

/*
 * Requests by (netFn, command, completion code), for /metrics. Commands not
 * in the command table are folded into one key (ENGINE_CMD_UNKNOWN), so the
 * keys in use are bounded by the table's rows times the codes they answer,
 * whatever clients send; a key that finds no slot within a few probes is
 * counted in by_cmd_overflow instead.
 */
#define ENGINE_CMD_SLOTS   512
#define ENGINE_CMD_PROBES  16
#define ENGINE_CMD_UNKNOWN 0xffff /* netfn_cmd of commands outside the table */
struct engine_cmd_count {
	uint16_t netfn_cmd;           /* request netFn << 8 | command */
	uint8_t cc;
	bool used;
	uint64_t count;
};

/* Counters for /metrics; plain integers, read by the web page. */
struct engine_stats {
	uint64_t rx_datagrams;
	uint64_t tx_datagrams;
	uint64_t dropped_malformed;
	uint64_t dropped_auth;        /* integrity check, replay, unknown session */
	uint64_t dropped_throttled;
	uint64_t dropped_source;      /* not in an allow-list */
	uint64_t asf_pings;
	uint64_t sessions_opened;     /* reached ACTIVE */
	uint64_t sessions_closed;
	uint64_t sessions_expired;
	uint64_t login_failures;
	uint64_t retransmits_answered;
	uint64_t requests;
	uint64_t cc_counts[256];      /* responses by completion code */
	struct engine_cmd_count by_cmd[ENGINE_CMD_SLOTS];
	uint64_t by_cmd_overflow;
};

/* Counts one answered request (cheap: one hash, a short probe). */
void engine_count_request(struct engine_stats *st, uint8_t netfn, uint8_t cmd,
                          uint8_t cc);

struct engine {
	const struct config *cfg;
	struct persona_table *personas;
	struct session_table sessions;
	struct throttle *throttle;
	struct loop *loop;            /* NULL in tests and fuzzing: no timers */
	uint64_t now;                 /* monotonic ms, set before each call */
	int (*rand)(void *buf, size_t n);
	engine_send_fn send;
	void *send_arg;
	uint8_t suites_enabled[32];   /* bitmap by cipher suite ID */
	uint32_t token_counter;
	struct engine_stats stats;
};

int engine_init(struct engine *e, const struct config *cfg,
                struct persona_table *personas, struct loop *loop);
void engine_free(struct engine *e);

/*
 * Handles one datagram. Returns the length of the reply written to out (at
 * most cap), or 0 when nothing is to be sent now.
 */
size_t engine_handle(struct engine *e, const struct engine_peer *from,
                     const uint8_t *pkt, size_t len, uint8_t *out, size_t cap);


/* Close every session of a persona that is going away (or disabled). */
void engine_close_persona_sessions(struct engine *e, struct persona *p);
/* Attach a backend's completion callback to this engine. */
void engine_attach_backend(struct engine *e, struct backend *b);

/* Sessions currently open (any state) for a persona, and in all. */
size_t engine_sessions_active(const struct engine *e);

/* ---- shared by the protocol files (rmcpplus.c, rakp.c, lan15.c) ---- */

bool engine_suite_enabled(const struct engine *e, uint8_t id);
/* Persona a login name refers to on this listener, or NULL. */
struct persona *engine_lookup_user(struct engine *e, const struct engine_peer *from,
                                   const uint8_t *name, size_t len);
/* Ends a session (and its persona's count); reason goes to the debug log. */
void engine_end_session(struct engine *e, struct session *s, const char *reason);
/* A persona's session slots are full: its oldest unfinished handshake
 * (not keep) gives way, so handshakes that anyone who knows the name can
 * start and abandon never lock the real console out. Active sessions are
 * never touched. */
void engine_make_room(struct engine *e, struct persona *p, const struct session *keep);
/* Ends the source's oldest unfinished handshakes until it holds fewer
 * than MAX_HALF_OPEN_PER_SRC. */
void engine_make_room_for_source(struct engine *e, const struct engine_peer *from);
/* A free session slot for a new handshake from this peer; may evict the
 * oldest half-open session when the table is full. NULL if none. */
struct session *engine_new_session(struct engine *e, const struct engine_peer *from);
void engine_bind_persona(struct engine *e, struct session *s, struct persona *p);
/* A failed login from this source: counted, and the source's lock-out
 * (if this failure starts one) logged once with its length. */
void engine_login_failed(struct engine *e, const struct sockaddr_storage *source);
/* The session's console sends from the same address (port may differ). */
bool engine_same_source(const struct session *s, const struct engine_peer *from);
/* Whether a packet from `from` may use the established session s: its
 * source opened it, and its persona still exists and allows that source. */
bool engine_session_usable(const struct session *s, const struct engine_peer *from);
/* The handshake succeeded: state ACTIVE, counters, throttle reset. */
void engine_activate_session(struct engine *e, struct session *s,
                             const struct engine_peer *from);
/* "ipmi 127.0.0.1:5000 user" for audit entries. */
void engine_describe_peer(const struct engine_peer *from, const uint8_t *user,
                          size_t user_len, char *out, size_t cap);

/*
 * Runs an IPMI request that arrived inside session s (NULL: session-less),
 * writing the IPMI response message to rsp. Returns false when nothing is
 * to be sent now (a retransmission of a request still pending).
 */
bool engine_run_request(struct engine *e, const struct engine_peer *from,
                        struct session *s, const uint8_t *msg, size_t len,
                        struct wcur *rsp, bool *close_after);

/* Protocol entry points, called by engine_handle after the RMCP header. */
size_t rmcpplus_handle(struct engine *e, const struct engine_peer *from,
                       struct cur *c, struct wcur *w);
size_t lan15_handle(struct engine *e, const struct engine_peer *from,
                    struct cur *c, struct wcur *w);
/* Wrap an IPMI response message for an established session. */
size_t rmcpplus_wrap(struct engine *e, struct session *s, const uint8_t *msg,
                     size_t len, struct wcur *w);
size_t lan15_wrap(struct engine *e, struct session *s, const uint8_t *msg,
                  size_t len, struct wcur *w);
/* RMCP+ session setup payloads (rakp.c). Each writes a whole reply
 * payload into w and returns its payload type, or -1 to drop. */
int rakp_open_session(struct engine *e, const struct engine_peer *from,
                      struct cur *payload, struct wcur *w);
int rakp_message1(struct engine *e, const struct engine_peer *from,
                  struct cur *payload, struct wcur *w);
int rakp_message3(struct engine *e, const struct engine_peer *from,
                  struct cur *payload, struct wcur *w);

#endif
