/*
 * ipmi_test_client.h - an RMCP+ console written against cipher.h, for unit
 * tests and fuzz targets that drive engine_handle() without sockets.
 *
 * It builds every packet by hand (Open Session, RAKP 1 and 3, requests
 * inside a session with integrity and confidentiality), so the tests check
 * the engine against an independent encoding of the spec rather than
 * against its own helpers. The engine's randomness comes from a seeded
 * generator so that runs are reproducible.
 */
#ifndef METALBMC_IPMI_TEST_CLIENT_H
#define METALBMC_IPMI_TEST_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "bounds.h"
#include "cipher.h"
#include "config.h"
#include "engine.h"
#include "persona.h"

/* An engine with its configuration, persona table and local backend. */
struct tc_world {
	struct config cfg;
	struct persona_table *personas;
	struct backend local;
	struct engine e;
};

/* Deterministic randomness for the engine (xorshift), reseedable. */
void tc_seed(uint64_t seed);
int tc_rand(void *buf, size_t n);

/* cfg must already hold what the test wants (call tc_default_config
 * first, then adjust); the engine starts at now = 1000 ms. 0 or -1. */
void tc_default_config(struct config *cfg);
int tc_world_init(struct tc_world *w);
void tc_world_free(struct tc_world *w);
/* Back to the state tc_world_init left (no sessions, no throttle state,
 * an empty persona table, now = 1000 ms) without freeing the big tables:
 * fuzz targets call it at the end of every input, so each input starts from
 * the same place, and what an input allocates it also frees (libFuzzer
 * takes an imbalance for a leak and runs LeakSanitizer). */
void tc_world_reset(struct tc_world *w);
/* A config persona: routing name, password, local backend, power on. */
struct persona *tc_world_add(struct tc_world *w, const char *name, const char *password);

/* One console: its source address and the session it negotiates. */
struct tc {
	struct tc_world *w;
	struct engine_peer peer;
	uint8_t auth, integ, conf;
	uint8_t user[16];
	uint8_t user_len;
	uint8_t pw[CIPHER_KEY_MAX];     /* zero padded */
	uint8_t role;                   /* RAKP 1 role byte */
	uint32_t console_sid, bmc_sid;
	uint8_t rm[16], rc[16], guid[16];
	struct cipher_keys keys;
	uint32_t seq;                   /* next session sequence number to send */
	uint8_t rq_seq;                 /* next IPMI rqSeq (6 bits) */
	uint8_t tag;
	/* the last datagram the engine answered, whole */
	uint8_t rsp[MAX_DATAGRAM];
	size_t rsp_len;
	/* RMCP+ status of the last failed handshake step, or -1 for no reply */
	int last_status;
	/* IPMI v1.5 session (tc_v15_open) */
	uint8_t v15_authtype;
	uint32_t v15_sid;
	uint32_t v15_seq;       /* next sequence number to send */
};

void tc_init(struct tc *c, struct tc_world *w, const char *src_ip, uint16_t src_port,
             uint8_t suite, const char *user, const char *password);

/* Sends a datagram to the engine; the reply lands in c->rsp. Returns its length. */
size_t tc_send(struct tc *c, const uint8_t *pkt, size_t len);

/* ---- builders (each returns the datagram length, 0 if it did not fit) */
size_t tc_build_open(struct tc *c, uint8_t max_priv, uint8_t *out, size_t cap);
size_t tc_build_rakp1(struct tc *c, uint8_t *out, size_t cap);
size_t tc_build_rakp3(struct tc *c, uint8_t status, const uint8_t *code, size_t code_len,
                      uint8_t *out, size_t cap);
/* An IPMI LAN request message with both checksums (section 13.8). */
size_t tc_build_msg(uint8_t netfn, uint8_t cmd, uint8_t rq_seq, const uint8_t *data,
                    size_t len, uint8_t *out, size_t cap);
/* A session-less IPMI v1.5 datagram around msg (what every client sends
 * for Get Channel Authentication Capabilities). */
size_t tc_build_v15_sessionless(const uint8_t *msg, size_t mlen, uint8_t *out, size_t cap);
/* A session-less RMCP+ datagram of payload type ptype. */
size_t tc_build_rmcpp_sessionless(uint8_t ptype, const uint8_t *payload, size_t plen,
                                  uint8_t *out, size_t cap);
/* msg wrapped for the established session with sequence number seq:
 * header, encryption (if negotiated), integrity pad and AuthCode. */
size_t tc_wrap(struct tc *c, uint32_t seq, const uint8_t *msg, size_t mlen,
               uint8_t *out, size_t cap);

/* ---- conversations */
/* The whole RMCP+ setup (Open Session, RAKP 1-4), verifying the BMC's
 * RAKP 2 code and RAKP 4 ICV. Returns 0, or -1 (c->last_status says why). */
int tc_open_session(struct tc *c, uint8_t max_priv);
/* Only its first step, Open Session: bmc_sid set, the handshake left at
 * RAKP 1 for the test to go on by hand. 0 or -1 (last_status). */
int tc_open_only(struct tc *c, uint8_t max_priv);
/* Unwraps and checks a reply from the session (AuthCode, decryption, the
 * response framing); msg gets the IPMI response message. 0 or -1. */
int tc_unwrap(struct tc *c, const uint8_t *pkt, size_t len, uint8_t *msg, size_t *mlen);
/* One request inside the session. Returns the completion code with the
 * data after it in rdata/rlen, or -1 when the engine sent nothing (or a
 * reply that does not verify). */
int tc_request(struct tc *c, uint8_t netfn, uint8_t cmd, const uint8_t *data, size_t len,
               uint8_t *rdata, size_t *rlen);
/* A session-less request in v1.5 framing; same return convention. */
int tc_sessionless(struct tc *c, uint8_t netfn, uint8_t cmd, const uint8_t *data,
                   size_t len, uint8_t *rdata, size_t *rlen);

/* IPMI v1.5: Get Session Challenge + Activate Session (sections 22.16,
 * 22.17) with authtype MD5 (2) or straight password (4). Returns the
 * completion code of the failing step, 0 when active, -1 for no reply. */
int tc_v15_open(struct tc *c, uint8_t authtype, uint8_t priv);
/* A v1.5 datagram for the session with sequence number seq. */
size_t tc_v15_wrap(struct tc *c, uint32_t sid, uint32_t seq, const uint8_t *msg, size_t mlen,
                   uint8_t *out, size_t cap);
/* One request inside the v1.5 session (tc_request's convention). */
int tc_v15_request(struct tc *c, uint8_t netfn, uint8_t cmd, const uint8_t *data, size_t len,
                   uint8_t *rdata, size_t *rlen);

#endif
