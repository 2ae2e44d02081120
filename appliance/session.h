/*
 * session.h - the session table: random IDs, states, sequence windows,
 * idle and half-open expiry, caps per persona and global, and a small
 * cache of recent responses so a client's retransmission is answered
 * without running the command again.
 */
#ifndef METALBMC_SESSION_H
#define METALBMC_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "bounds.h"
#include "cipher.h"
#include "loop.h"

struct persona;

enum session_state {
	SESS_FREE = 0,
	SESS_OPENED,     /* RMCP+ Open Session answered, waiting for RAKP 1 */
	SESS_RAKP2,      /* RAKP 2 sent, waiting for RAKP 3 */
	SESS_CHALLENGE,  /* v1.5 challenge sent, waiting for Activate Session */
	SESS_ACTIVE,
};

/*
 * Anti-replay window over 32-bit sequence numbers: the highest number
 * accepted and a bitmap of the 32 below it. RMCP+ accepts up to 15 ahead
 * and 16 behind (section 6.12.13); IPMI v1.5 up to 8 either way.
 */
struct seq_window {
	uint32_t top;     /* highest accepted */
	uint32_t seen;    /* bit i set: top - i accepted (bit 0 is top) */
	bool started;
};

/* true when seq may be accepted; nothing changes until seq_window_mark. */
bool seq_window_check(const struct seq_window *w, uint32_t seq,
                      uint32_t ahead, uint32_t behind);
void seq_window_mark(struct seq_window *w, uint32_t seq);

/* A response kept for retransmissions of the same request. */
struct cached_rsp {
	uint64_t key;       /* hash of rq_seq, netfn, cmd, rq address/LUN, data */
	uint16_t len;       /* bytes in rsp: completion code + data */
	bool used;
	uint8_t rsp[1 + MAX_IPMI_DATA];
};

struct session {
	enum session_state state;
	uint32_t id;              /* managed system (BMC) session ID, never 0 */
	uint32_t console_id;      /* remote console session ID */
	uint8_t handle;           /* 1..255, for Get Session Info */
	bool v15;                 /* IPMI v1.5 session */
	struct persona *persona;  /* NULL until RAKP 1 / challenge names one */
	uint32_t persona_gen;

	/* where the console is, and which socket/address it used */
	struct sockaddr_storage peer;
	socklen_t peer_len;
	void *listener;
	struct sockaddr_storage local;
	socklen_t local_len;

	/* negotiated */
	uint8_t auth, integ, conf;   /* RMCP+ algorithms */
	uint8_t authtype;            /* v1.5 authentication type */
	uint8_t max_priv;            /* the most this session may raise to */
	uint8_t priv;                /* current privilege */
	uint8_t role;                /* RAKP 1 requested role byte */
	uint8_t user[CIPHER_USER_MAX];
	uint8_t user_len;
	uint8_t console_rand[CIPHER_RAND_LEN];
	uint8_t bmc_rand[CIPHER_RAND_LEN];
	uint8_t challenge[16];       /* v1.5 */
	struct cipher_keys keys;

	/* sequence numbers */
	uint32_t out_seq;            /* next one we send */
	struct seq_window in_auth;   /* authenticated packets */
	struct seq_window in_plain;  /* unauthenticated ones */

	uint64_t created_ms;
	uint64_t last_ms;            /* last authenticated activity */
	struct loop_timer timer;     /* expiry, re-armed lazily */

	/* A request still being carried out by a backend. */
	bool pending;
	uint64_t pending_key;
	uint64_t pending_token;
	uint64_t pending_since_ms;
	uint8_t pending_rq[8];       /* framing needed to build the reply */
	bool pending_apply_boot;     /* on success, store these boot flags */
	uint8_t pending_boot_flags[5];

	struct cached_rsp cache[RESPONSE_CACHE_SLOTS];
	unsigned cache_next;
};

struct session_table {
	struct session *slots;
	/* ids[i] is slots[i].id while the slot is in use, else 0: lookups scan
	 * this compact array (1 KiB for 256 slots) instead of touching every
	 * slot, each a few KiB apart with its response cache. */
	uint32_t *ids;
	size_t cap;               /* global maximum */
	size_t active;            /* in use (any state but FREE) */
	size_t half_open;
	uint8_t next_handle;
};

int session_table_init(struct session_table *t, size_t max_sessions);
void session_table_free(struct session_table *t);

/* A free slot with a fresh random non-zero ID that no session uses, or
 * NULL when the table is full. rand_fn supplies randomness. */
struct session *session_alloc(struct session_table *t,
                              int (*rand_fn)(void *buf, size_t n));
struct session *session_find(const struct session_table *t, uint32_t id);
/* Wipes keys and frees the slot. */
void session_release(struct session_table *t, struct session *s);
/* Counts sessions in any state from one source address (port ignored). */
size_t session_count_from(const struct session_table *t,
                          const struct sockaddr *sa, bool half_open_only);

/* Response cache */
const struct cached_rsp *session_cache_find(const struct session *s, uint64_t key);
void session_cache_put(struct session *s, uint64_t key, const uint8_t *rsp, size_t len);

#endif
