/*
 * test_engine.c - engine_handle() driven with hand-built datagrams: the
 * RMCP+ session setup for suites 3 and 17 (tests/support/ipmi_test_client.c
 * computes the RAKP codes and signs/encrypts with cipher.h), completion
 * codes of the dispatcher, and every way a malformed or hostile datagram
 * must be dropped without a reply. Section numbers are IPMI v2.0 rev 1.1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "ipmi.h"
#include "ipmi_test_client.h"
#include "session.h"
#include "throttle.h"

#define PW "Correct-Horse-20byte"

struct fx {
	struct tc_world w;
	struct persona *p;
	struct tc c;
};

static int setup_with(void **state, void (*adjust)(struct config *))
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	tc_seed(42);
	tc_default_config(&f->w.cfg);
	if (adjust)
		adjust(&f->w.cfg);
	assert_int_equal(tc_world_init(&f->w), 0);
	f->p = tc_world_add(&f->w, "node1", PW);
	assert_non_null(f->p);
	tc_init(&f->c, &f->w, "127.0.0.1", 40001, 17, "node1", PW);
	*state = f;
	return 0;
}

static int setup(void **state) { return setup_with(state, NULL); }

static void enable_more(struct config *c)
{
	static const uint8_t ids[] = { 0, 1, 2, 3, 17 };
	memcpy(c->cipher_suites, ids, sizeof(ids));
	c->cipher_suite_count = sizeof(ids);
	c->allow_cipher_zero = true;
	c->allow_ipmi15 = true;
}

static int setup_permissive(void **state) { return setup_with(state, enable_more); }

static void small_table(struct config *c) { c->max_sessions = 8; }
static int setup_small(void **state) { return setup_with(state, small_table); }

static int teardown(void **state)
{
	struct fx *f = *state;
	tc_world_free(&f->w);
	free(f);
	return 0;
}

/* ---- session setup ---------------------------------------------------- */

static void open_and_use(struct fx *f, uint8_t suite)
{
	uint8_t d[64];
	size_t n;

	tc_init(&f->c, &f->w, "127.0.0.1", 40001, suite, "node1", PW);
	assert_int_equal(tc_open_session(&f->c, PRIV_ADMIN), 0);
	assert_int_equal(engine_sessions_active(&f->w.e), 1);
	/* Get Device ID (section 20.1): 15 bytes, IPMI version 2.0 */
	assert_int_equal(tc_request(&f->c, NETFN_APP, CMD_GET_DEVICE_ID, NULL, 0, d, &n), CC_OK);
	assert_int_equal(n, 15);
	assert_int_equal(d[4], 0x02);
	/* Get Chassis Status: power on */
	assert_int_equal(tc_request(&f->c, NETFN_CHASSIS, CMD_GET_CHASSIS_STATUS, NULL, 0, d, &n), CC_OK);
	assert_int_equal(n, 4);
	assert_int_equal(d[0] & 1, 1);
	/* Close Session of itself ends it (section 22.19) */
	uint8_t sid[4] = { (uint8_t)f->c.bmc_sid, (uint8_t)(f->c.bmc_sid >> 8),
	                   (uint8_t)(f->c.bmc_sid >> 16), (uint8_t)(f->c.bmc_sid >> 24) };
	assert_int_equal(tc_request(&f->c, NETFN_APP, CMD_CLOSE_SESSION, sid, 4, d, &n), CC_OK);
	assert_int_equal(engine_sessions_active(&f->w.e), 0);
	assert_int_equal(f->p->sessions, 0);
	/* and the session is gone: the next request gets nothing */
	assert_int_equal(tc_request(&f->c, NETFN_APP, CMD_GET_DEVICE_ID, NULL, 0, d, &n), -1);
}

static void test_session_suite17(void **state) { open_and_use(*state, 17); }
static void test_session_suite3(void **state) { open_and_use(*state, 3); }

static void test_session_suites_when_enabled(void **state)
{
	/* 1 (SHA1, no integrity) and 2 (SHA1, HMAC-SHA1-96, no encryption) */
	open_and_use(*state, 1);
	open_and_use(*state, 2);
}

static void test_suite_not_enabled(void **state)
{
	struct fx *f = *state;
	/* Suite 2 is implemented but off by default: status 11h (table 13-15) */
	tc_init(&f->c, &f->w, "127.0.0.1", 40001, 2, "node1", PW);
	assert_int_equal(tc_open_session(&f->c, PRIV_ADMIN), -1);
	assert_int_equal(f->c.last_status, RMCPP_NO_CIPHER_SUITE);
	/* Cipher 0 likewise */
	tc_init(&f->c, &f->w, "127.0.0.1", 40001, 0, "node1", PW);
	assert_int_equal(tc_open_session(&f->c, PRIV_ADMIN), -1);
	assert_int_equal(f->c.last_status, RMCPP_NO_CIPHER_SUITE);
	assert_int_equal(engine_sessions_active(&f->w.e), 0);
}

static void test_cipher_zero_when_enabled(void **state)
{
	struct fx *f = *state;
	uint8_t d[64];
	size_t n;
	tc_init(&f->c, &f->w, "127.0.0.1", 40001, 0, "node1", PW);
	assert_int_equal(tc_open_session(&f->c, PRIV_ADMIN), 0);
	assert_int_equal(tc_request(&f->c, NETFN_APP, CMD_GET_DEVICE_ID, NULL, 0, d, &n), CC_OK);
}

static void test_wrong_password(void **state)
{
	struct fx *f = *state;
	tc_init(&f->c, &f->w, "127.0.0.1", 40001, 17, "node1", "not-the-password");
	/* the client sees RAKP 2 does not verify ... */
	assert_int_equal(tc_open_session(&f->c, PRIV_ADMIN), -1);
	assert_int_equal(f->c.last_status, RMCPP_INVALID_ICV);
	/* ... and if it goes on with its own code the BMC answers RAKP 4
	 * with status 0Fh (invalid integrity check value) and ends it */
	uint8_t pkt[256], code[32];
	struct rakp_params rp;
	memset(&rp, 0, sizeof(rp));
	rp.auth = f->c.auth;
	rp.console_sid = f->c.console_sid;
	rp.bmc_sid = f->c.bmc_sid;
	memcpy(rp.console_rand, f->c.rm, 16);
	memcpy(rp.bmc_rand, f->c.rc, 16);
	memcpy(rp.bmc_guid, f->c.guid, 16);
	rp.role = f->c.role;
	rp.user_len = f->c.user_len;
	memcpy(rp.user, f->c.user, f->c.user_len);
	int l = cipher_rakp3_code(&rp, f->c.pw, sizeof(f->c.pw), code);
	size_t n = tc_build_rakp3(&f->c, RMCPP_OK, code, (size_t)l, pkt, sizeof(pkt));
	assert_true(tc_send(&f->c, pkt, n) > 0);
	assert_int_equal(f->c.rsp[4 + 1], PAYLOAD_RAKP4);
	assert_int_equal(f->c.rsp[16 + 1], RMCPP_INVALID_ICV);
	assert_int_equal(engine_sessions_active(&f->w.e), 0);
	assert_int_equal(f->w.e.stats.login_failures, 1);
}

static void test_unknown_and_anonymous_user(void **state)
{
	struct fx *f = *state;
	tc_init(&f->c, &f->w, "127.0.0.1", 40001, 17, "nobody", PW);
	assert_int_equal(tc_open_session(&f->c, PRIV_ADMIN), -1);
	assert_int_equal(f->c.last_status, RMCPP_UNAUTHORIZED_NAME);
	/* a null user name (anonymous login) is refused the same way */
	tc_init(&f->c, &f->w, "127.0.0.1", 40001, 17, "", "");
	assert_int_equal(tc_open_session(&f->c, PRIV_ADMIN), -1);
	assert_int_equal(f->c.last_status, RMCPP_UNAUTHORIZED_NAME);
	assert_int_equal(engine_sessions_active(&f->w.e), 0);
}

static void test_null_password_persona_refused(void **state)
{
	struct fx *f = *state;
	/* A persona without a password (none derived yet) cannot be logged
	 * into, not even with an empty password. */
	struct persona *p = persona_add(f->w.personas, "nopw");
	snprintf(p->user, sizeof(p->user), "nopw");
	persona_table_reindex(f->w.personas);
	tc_init(&f->c, &f->w, "127.0.0.1", 40001, 17, "nopw", "");
	assert_int_equal(tc_open_session(&f->c, PRIV_ADMIN), -1);
	assert_int_equal(f->c.last_status, RMCPP_UNAUTHORIZED_NAME);
}

/* ---- key material wiped when a session ends ------------------------------ */

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t acc = 0;
	for (size_t i = 0; i < n; i++)
		acc |= b[i];
	return acc == 0;
}

/* What a session slot holds that an attacker reading freed memory (a core,
 * a later bug) could use: the session keys (SIK, K1, K2 and the Kuid that
 * MD5-128 keys with) and the RAKP randoms and v1.5 challenge they derive
 * from. */
static void assert_slot_wiped(const struct session *s)
{
	assert_int_equal(s->state, SESS_FREE);
	assert_true(all_zero(s->keys.sik, sizeof(s->keys.sik)));
	assert_true(all_zero(s->keys.k1, sizeof(s->keys.k1)));
	assert_true(all_zero(s->keys.k2, sizeof(s->keys.k2)));
	assert_true(all_zero(s->keys.kuid, sizeof(s->keys.kuid)));
	assert_int_equal(s->keys.len, 0);
	assert_int_equal(s->keys.kuid_len, 0);
	assert_true(all_zero(s->console_rand, sizeof(s->console_rand)));
	assert_true(all_zero(s->bmc_rand, sizeof(s->bmc_rand)));
	assert_true(all_zero(s->challenge, sizeof(s->challenge)));
	assert_true(all_zero(s->cache, sizeof(s->cache)));
}

/* An active session's slot, checked to hold keys (so that the wipe
 * checks after it can fail). */
static struct session *active_slot(struct fx *f)
{
	struct session *s = session_find(&f->w.e.sessions, f->c.bmc_sid);
	assert_non_null(s);
	assert_int_equal(s->state, SESS_ACTIVE);
	assert_int_equal(s->keys.len, 32); /* HMAC-SHA256 */
	assert_false(all_zero(s->keys.sik, s->keys.len));
	assert_false(all_zero(s->keys.k1, s->keys.len));
	assert_false(all_zero(s->keys.k2, s->keys.len));
	assert_false(all_zero(s->console_rand, sizeof(s->console_rand)));
	assert_false(all_zero(s->bmc_rand, sizeof(s->bmc_rand)));
	assert_memory_equal(s->keys.sik, f->c.keys.sik, s->keys.len); /* the console's */
	return s;
}

static void test_keys_wiped_on_close(void **state)
{
	struct fx *f = *state;
	uint8_t d[64];
	size_t n;
	assert_int_equal(tc_open_session(&f->c, PRIV_ADMIN), 0);
	assert_int_equal(tc_request(&f->c, NETFN_APP, CMD_GET_DEVICE_ID, NULL, 0, d, &n), CC_OK);
	struct session *s = active_slot(f);
	assert_false(all_zero(s->cache, sizeof(s->cache))); /* the cached answer */
	uint8_t sid[4] = { (uint8_t)f->c.bmc_sid, (uint8_t)(f->c.bmc_sid >> 8),
	                   (uint8_t)(f->c.bmc_sid >> 16), (uint8_t)(f->c.bmc_sid >> 24) };
	assert_int_equal(tc_request(&f->c, NETFN_APP, CMD_CLOSE_SESSION, sid, 4, d, &n), CC_OK);
	assert_int_equal(engine_sessions_active(&f->w.e), 0);
	assert_slot_wiped(s);
}

/* No loop in unit tests: engine_handle() reaps expired sessions first, so
 * any datagram (an ASF ping here) after the clock moves ends them. */
static void poke(struct fx *f)
{
	static const uint8_t ping[] = { 0x06, 0x00, 0xFF, 0x06, 0x00, 0x00, 0x11, 0xBE,
	                                0x80, 0x42, 0x00, 0x00 };
	struct tc other;
	tc_init(&other, &f->w, "127.0.0.9", 40009, 17, "node1", PW);
	assert_true(tc_send(&other, ping, sizeof(ping)) > 0);
}

static void test_keys_wiped_on_idle_expiry(void **state)
{
	struct fx *f = *state;
	assert_int_equal(tc_open_session(&f->c, PRIV_ADMIN), 0);
	struct session *s = active_slot(f);
	f->w.e.now += (uint64_t)f->w.cfg.session_timeout_s * 1000u - 1;
	poke(f);
	assert_int_equal(engine_sessions_active(&f->w.e), 1); /* not yet */
	assert_int_equal(s->state, SESS_ACTIVE);
	f->w.e.now += 2;
	poke(f);
	assert_int_equal(engine_sessions_active(&f->w.e), 0);
	assert_slot_wiped(s);
}

static void test_handshake_wiped_on_expiry(void **state)
{
	struct fx *f = *state;
	/* A console with the wrong password stops after RAKP 2: the slot holds
	 * both randoms until the handshake times out. */
	tc_init(&f->c, &f->w, "127.0.0.1", 40001, 17, "node1", "not-the-password");
	assert_int_equal(tc_open_session(&f->c, PRIV_ADMIN), -1);
	assert_int_equal(f->c.last_status, RMCPP_INVALID_ICV);
	struct session *s = session_find(&f->w.e.sessions, f->c.bmc_sid);
	assert_non_null(s);
	assert_int_equal(s->state, SESS_RAKP2);
	assert_false(all_zero(s->console_rand, sizeof(s->console_rand)));
	assert_false(all_zero(s->bmc_rand, sizeof(s->bmc_rand)));
	f->w.e.now += HALF_OPEN_TIMEOUT_MS + 1;
	poke(f);
	assert_int_equal(engine_sessions_active(&f->w.e), 0);
	assert_slot_wiped(s);
}

/* ---- dispatcher completion codes --------------------------------------- */

static void test_priv_unknown_length(void **state)
{
	struct fx *f = *state;
	uint8_t d[64];
	size_t n;
	assert_int_equal(tc_open_session(&f->c, PRIV_ADMIN), 0);
	/* A session starts at User level (section 13.17): power control needs
	 * Operator, so D4h until Set Session Privilege Level raises it. */
	uint8_t off = CTL_POWER_OFF;
	assert_int_equal(tc_request(&f->c, NETFN_CHASSIS, CMD_CHASSIS_CONTROL, &off, 1, d, &n),
	                 CC_INSUFFICIENT_PRIV);
	assert_int_equal(f->p->power, POWER_ON);
	uint8_t lvl = PRIV_OPERATOR;
	assert_int_equal(tc_request(&f->c, NETFN_APP, CMD_SET_SESSION_PRIV, &lvl, 1, d, &n), CC_OK);
	assert_int_equal(d[0], PRIV_OPERATOR);
	/* Operator may not do admin things (Cold Reset needs Admin) */
	assert_int_equal(tc_request(&f->c, NETFN_APP, CMD_COLD_RESET, NULL, 0, d, &n),
	                 CC_INSUFFICIENT_PRIV);
	assert_int_equal(tc_request(&f->c, NETFN_CHASSIS, CMD_CHASSIS_CONTROL, &off, 1, d, &n), CC_OK);
	assert_int_equal(f->p->power, POWER_OFF);
	/* OEM level is not available (80h), above max_priv is 81h */
	lvl = PRIV_OEM;
	assert_int_equal(tc_request(&f->c, NETFN_APP, CMD_SET_SESSION_PRIV, &lvl, 1, d, &n), 0x80);
	/* Unknown command: C1h, also for an unknown netFn */
	assert_int_equal(tc_request(&f->c, NETFN_APP, 0xEE, NULL, 0, d, &n), CC_INVALID_COMMAND);
	assert_int_equal(tc_request(&f->c, 0x30, 0x01, NULL, 0, d, &n), CC_INVALID_COMMAND);
	/* Request data length invalid: C7h, with no data after the cc */
	uint8_t extra[2] = { 1, 2 };
	assert_int_equal(tc_request(&f->c, NETFN_APP, CMD_GET_DEVICE_ID, extra, 1, d, &n), CC_DATA_LENGTH);
	assert_int_equal(n, 0);
	assert_int_equal(tc_request(&f->c, NETFN_CHASSIS, CMD_CHASSIS_CONTROL, extra, 2, d, &n),
	                 CC_DATA_LENGTH);
	assert_int_equal(tc_request(&f->c, NETFN_CHASSIS, CMD_CHASSIS_CONTROL, NULL, 0, d, &n),
	                 CC_DATA_LENGTH);
	/* Invalid data field: Chassis Control 06h is reserved */
	uint8_t bad = 0x06;
	assert_int_equal(tc_request(&f->c, NETFN_CHASSIS, CMD_CHASSIS_CONTROL, &bad, 1, d, &n),
	                 CC_INVALID_DATA_FIELD);
}

static void test_max_priv_from_open_session(void **state)
{
	struct fx *f = *state;
	uint8_t d[16], lvl = PRIV_ADMIN;
	size_t n;
	/* A session opened for at most Operator (RAKP 1 role 3) cannot rise to Admin. */
	f->c.role = PRIV_OPERATOR;
	assert_int_equal(tc_open_session(&f->c, PRIV_OPERATOR), 0);
	assert_int_equal(tc_request(&f->c, NETFN_APP, CMD_SET_SESSION_PRIV, &lvl, 1, d, &n), 0x81);
	/* A role above the Open Session maximum is refused in RAKP 2 (0Ah) */
	tc_init(&f->c, &f->w, "127.0.0.1", 40002, 17, "node1", PW);
	f->c.role = PRIV_ADMIN;
	assert_int_equal(tc_open_session(&f->c, PRIV_USER), -1);
	assert_int_equal(f->c.last_status, RMCPP_UNAUTHORIZED_ROLE);
}

static void test_sessionless_is_limited(void **state)
{
	struct fx *f = *state;
	uint8_t d[64];
	size_t n;
	/* Get Channel Authentication Capabilities, IPMI v2.0 extended data
	 * (section 22.13): channel 1, v2.0 flag, no v1.5 types by default,
	 * no null users / anonymous login (bits 2:0 of byte 3 = 100b). */
	uint8_t req[2] = { 0x8E, PRIV_ADMIN };
	assert_int_equal(tc_sessionless(&f->c, NETFN_APP, CMD_GET_CHANNEL_AUTH_CAPS, req, 2, d, &n), CC_OK);
	assert_int_equal(n, 8);
	assert_int_equal(d[0], IPMI_CHANNEL_LAN);
	assert_int_equal(d[1], 0x80);
	assert_int_equal(d[2] & 0x07, 0x04);
	assert_int_equal(d[3], 0x02);
	/* Anything else outside a session: D4h, and nothing is run */
	uint8_t off = CTL_POWER_OFF;
	assert_int_equal(tc_sessionless(&f->c, NETFN_CHASSIS, CMD_CHASSIS_CONTROL, &off, 1, d, &n),
	                 CC_INSUFFICIENT_PRIV);
	assert_int_equal(f->p->power, POWER_ON);
	assert_int_equal(tc_sessionless(&f->c, NETFN_APP, CMD_GET_DEVICE_ID, NULL, 0, d, &n),
	                 CC_INSUFFICIENT_PRIV);
	/* v1.5 session setup is off by default */
	uint8_t ch[17] = { AUTHTYPE_MD5, 'n', 'o', 'd', 'e', '1' };
	assert_int_equal(tc_sessionless(&f->c, NETFN_APP, CMD_GET_SESSION_CHALLENGE, ch, 17, d, &n),
	                 CC_INVALID_DATA_FIELD);
	assert_int_equal(engine_sessions_active(&f->w.e), 0);
}

static void test_v15_caps_when_enabled(void **state)
{
	struct fx *f = *state;
	uint8_t d[64];
	size_t n;
	uint8_t req[2] = { 0x8E, PRIV_ADMIN };
	assert_int_equal(tc_sessionless(&f->c, NETFN_APP, CMD_GET_CHANNEL_AUTH_CAPS, req, 2, d, &n), CC_OK);
	assert_int_equal(d[1], 0x80 | 1 << AUTHTYPE_MD5 | 1 << AUTHTYPE_PASSWORD);
	assert_int_equal(d[3], 0x03);
	uint8_t ch[17] = { AUTHTYPE_MD5, 'n', 'o', 'd', 'e', '1' };
	assert_int_equal(tc_sessionless(&f->c, NETFN_APP, CMD_GET_SESSION_CHALLENGE, ch, 17, d, &n),
	                 CC_OK);
	assert_int_equal(n, 20); /* temporary session ID + 16-byte challenge */
}

static void test_v15_session(void **state)
{
	struct fx *f = *state;
	uint8_t d[64], pkt[256], msg[32];
	size_t n;
	/* MD5 (section 22.17.1) and straight password */
	static const uint8_t types[2] = { AUTHTYPE_MD5, AUTHTYPE_PASSWORD };
	for (int i = 0; i < 2; i++) {
		tc_init(&f->c, &f->w, "127.0.0.1", 40001 + (uint16_t)i, 17, "node1", PW);
		assert_int_equal(tc_v15_open(&f->c, types[i], PRIV_ADMIN), 0);
		assert_int_equal(tc_v15_request(&f->c, NETFN_APP, CMD_GET_DEVICE_ID, NULL, 0, d, &n), CC_OK);
		assert_int_equal(n, 15);
		uint8_t lvl = PRIV_ADMIN;
		assert_int_equal(tc_v15_request(&f->c, NETFN_APP, CMD_SET_SESSION_PRIV, &lvl, 1, d, &n), CC_OK);
		uint8_t off = CTL_POWER_OFF;
		assert_int_equal(tc_v15_request(&f->c, NETFN_CHASSIS, CMD_CHASSIS_CONTROL, &off, 1, d, &n), CC_OK);
		assert_int_equal(f->p->power, POWER_OFF);
		/* a replay of an accepted v1.5 packet is dropped */
		size_t ml = tc_build_msg(NETFN_APP, CMD_GET_DEVICE_ID, 60, NULL, 0, msg, sizeof(msg));
		size_t pl = tc_v15_wrap(&f->c, f->c.v15_sid, f->c.v15_seq++, msg, ml, pkt, sizeof(pkt));
		assert_true(tc_send(&f->c, pkt, pl) > 0);
		assert_int_equal(tc_send(&f->c, pkt, pl), 0);
		/* a wrong AuthCode is dropped */
		pl = tc_v15_wrap(&f->c, f->c.v15_sid, f->c.v15_seq++, msg, ml, pkt, sizeof(pkt));
		pkt[4 + 9 + 3] ^= 1;
		assert_int_equal(tc_send(&f->c, pkt, pl), 0);
	}
	/* the wrong password: activation gets no answer, the session is gone */
	size_t before = engine_sessions_active(&f->w.e);
	tc_init(&f->c, &f->w, "127.0.0.3", 40001, 17, "node1", "wrong");
	assert_int_equal(tc_v15_open(&f->c, AUTHTYPE_MD5, PRIV_ADMIN), -1);
	assert_int_equal(engine_sessions_active(&f->w.e), before);
	/* MD2 and "none" are not offered */
	tc_init(&f->c, &f->w, "127.0.0.1", 40009, 17, "node1", PW);
	assert_int_equal(tc_v15_open(&f->c, AUTHTYPE_MD2, PRIV_ADMIN), CC_INVALID_DATA_FIELD);
	assert_int_equal(tc_v15_open(&f->c, AUTHTYPE_NONE, PRIV_ADMIN), CC_INVALID_DATA_FIELD);
}

static void test_v15_challenges_do_not_fill_a_persona(void **state)
{
	struct fx *f = *state;
	uint8_t d[64];
	size_t n;
	char ip[32];
	/* Get Session Challenge needs only a name: 40 of them from 10
	 * sources must not keep the real console out of the persona. */
	uint8_t req[17] = { AUTHTYPE_MD5, 'n', 'o', 'd', 'e', '1' };
	for (int i = 0; i < 40; i++) {
		struct tc fl;
		snprintf(ip, sizeof(ip), "127.0.%d.%d", 60 + i / 4, 1 + i % 4);
		tc_init(&fl, &f->w, ip, 1000, 17, "node1", "x");
		f->w.e.now++;
		assert_int_equal(tc_sessionless(&fl, NETFN_APP, CMD_GET_SESSION_CHALLENGE, req, 17, d, &n),
		                 CC_OK);
	}
	assert_int_equal(f->p->sessions, f->w.cfg.max_sessions_per_persona);
	assert_int_equal(tc_v15_open(&f->c, AUTHTYPE_MD5, PRIV_ADMIN), 0);
	tc_init(&f->c, &f->w, "127.0.0.1", 40002, 17, "node1", PW);
	assert_int_equal(tc_open_session(&f->c, PRIV_ADMIN), 0);
}

static void test_v15_unknown_names_lock_nobody_out(void **state)
{
	struct fx *f = *state;
	uint8_t d[64];
	size_t n;
	/* Get Session Challenge is one datagram whose answer the sender need
	 * not see, so its source may be forged: 20 unknown names "from"
	 * 127.0.0.1 must not lock out the console at that address. */
	uint8_t req[17] = { AUTHTYPE_MD5, 'g', 'h', 'o', 's', 't' };
	for (int i = 0; i < 20; i++) {
		f->w.e.now++;
		assert_int_equal(tc_sessionless(&f->c, NETFN_APP, CMD_GET_SESSION_CHALLENGE, req, 17,
		                                d, &n), 0x81);
	}
	assert_int_equal(tc_v15_open(&f->c, AUTHTYPE_MD5, PRIV_ADMIN), 0);
	tc_init(&f->c, &f->w, "127.0.0.1", 40002, 17, "node1", PW);
	assert_int_equal(tc_open_session(&f->c, PRIV_ADMIN), 0);
}

static void test_v15_refused_by_default(void **state)
{
	struct fx *f = *state;
	assert_int_equal(tc_v15_open(&f->c, AUTHTYPE_MD5, PRIV_ADMIN), CC_INVALID_DATA_FIELD);
	assert_int_equal(engine_sessions_active(&f->w.e), 0);
}

static void test_retransmission_runs_once(void **state)
{
	struct fx *f = *state;
	uint8_t d[16], lvl = PRIV_ADMIN, cyc = CTL_POWER_CYCLE;
	size_t n;
	assert_int_equal(tc_open_session(&f->c, PRIV_ADMIN), 0);
	assert_int_equal(tc_request(&f->c, NETFN_APP, CMD_SET_SESSION_PRIV, &lvl, 1, d, &n), CC_OK);
	unsigned before = f->p->event_next;
	assert_int_equal(tc_request(&f->c, NETFN_CHASSIS, CMD_CHASSIS_CONTROL, &cyc, 1, d, &n), CC_OK);
	assert_int_equal(f->p->event_next, before + 1);
	/* The console retries: same rqSeq and data, a new session sequence
	 * number. Same answer, the server is not cycled twice. */
	f->c.rq_seq--;
	assert_int_equal(tc_request(&f->c, NETFN_CHASSIS, CMD_CHASSIS_CONTROL, &cyc, 1, d, &n), CC_OK);
	assert_int_equal(f->p->event_next, before + 1);
	assert_int_equal(f->w.e.stats.retransmits_answered, 1);
}

/* ---- malformed and hostile datagrams ----------------------------------- */

/* A valid in-session Get Device ID datagram, and the session it is for. */
static size_t valid_request(struct fx *f, uint8_t *pkt, size_t cap)
{
	uint8_t msg[64];
	size_t ml = tc_build_msg(NETFN_APP, CMD_GET_DEVICE_ID, f->c.rq_seq++, NULL, 0, msg, sizeof(msg));
	return tc_wrap(&f->c, f->c.seq++, msg, ml, pkt, cap);
}

static void test_every_truncation_dropped(void **state)
{
	struct fx *f = *state;
	uint8_t pkt[MAX_DATAGRAM], cut[MAX_DATAGRAM];
	assert_int_equal(tc_open_session(&f->c, PRIV_ADMIN), 0);
	size_t n = valid_request(f, pkt, sizeof(pkt));
	assert_true(n > 0);
	/* Each prefix in its own exact-size copy, so ASan sees over-reads. */
	for (size_t i = 0; i < n; i++) {
		uint8_t *b = malloc(i ? i : 1);
		memcpy(b, pkt, i);
		assert_int_equal(tc_send(&f->c, b, i), 0);
		free(b);
	}
	/* Session-less requests too: every prefix of Open Session and of
	 * Get Channel Authentication Capabilities. */
	size_t on = tc_build_open(&f->c, PRIV_ADMIN, cut, sizeof(cut));
	for (size_t i = 0; i < on; i++) {
		uint8_t *b = malloc(i ? i : 1);
		memcpy(b, cut, i);
		assert_int_equal(tc_send(&f->c, b, i), 0);
		free(b);
	}
	uint8_t msg[16], req[2] = { 0x8E, 4 };
	size_t ml = tc_build_msg(NETFN_APP, CMD_GET_CHANNEL_AUTH_CAPS, 1, req, 2, msg, sizeof(msg));
	size_t vn = tc_build_v15_sessionless(msg, ml, cut, sizeof(cut));
	for (size_t i = 0; i < vn; i++)
		assert_int_equal(tc_send(&f->c, cut, i), 0);
	/* the whole packet still works: nothing above moved the session */
	assert_true(tc_send(&f->c, pkt, n) > 0);
	assert_int_equal(engine_sessions_active(&f->w.e), 1);
}

static void test_bad_headers_dropped(void **state)
{
	struct fx *f = *state;
	uint8_t pkt[MAX_DATAGRAM], bad[MAX_DATAGRAM];
	assert_int_equal(tc_open_session(&f->c, PRIV_ADMIN), 0);
	size_t n = valid_request(f, pkt, sizeof(pkt));

	/* wrong RMCP version (only 06h is defined, section 13.1.3) */
	memcpy(bad, pkt, n);
	bad[0] = 0x07;
	assert_int_equal(tc_send(&f->c, bad, n), 0);
	/* an RMCP ACK, or an unknown message class */
	memcpy(bad, pkt, n);
	bad[3] = RMCP_CLASS_IPMI | RMCP_CLASS_ACK;
	assert_int_equal(tc_send(&f->c, bad, n), 0);
	memcpy(bad, pkt, n);
	bad[3] = 0x08;
	assert_int_equal(tc_send(&f->c, bad, n), 0);
	/* payload length lying about its size, either way (offset 14) */
	uint16_t plen = (uint16_t)(pkt[14] | pkt[15] << 8);
	memcpy(bad, pkt, n);
	bad[14] = (uint8_t)(plen + 1);
	assert_int_equal(tc_send(&f->c, bad, n), 0);
	memcpy(bad, pkt, n);
	bad[14] = (uint8_t)(plen - 1);
	assert_int_equal(tc_send(&f->c, bad, n), 0);
	memcpy(bad, pkt, n);
	bad[14] = 0xff;
	bad[15] = 0xff;
	assert_int_equal(tc_send(&f->c, bad, n), 0);
	/* one extra byte at the end */
	memcpy(bad, pkt, n);
	bad[n] = 0;
	assert_int_equal(tc_send(&f->c, bad, n + 1), 0);
	/* authenticated bit cleared on an integrity-protected session */
	memcpy(bad, pkt, n);
	bad[5] &= (uint8_t)~PAYLOAD_AUTHENTICATED;
	assert_int_equal(tc_send(&f->c, bad, n), 0);
	/* pad length byte that does not match the pad (bad pad) */
	size_t ilen = cipher_integ_len(f->c.integ);
	memcpy(bad, pkt, n);
	bad[n - ilen - 2] ^= 1;
	assert_int_equal(tc_send(&f->c, bad, n), 0);
	/* next header other than 07h */
	memcpy(bad, pkt, n);
	bad[n - ilen - 1] = 0x06;
	assert_int_equal(tc_send(&f->c, bad, n), 0);
	/* every single-bit flip of the AuthCode, and of the payload */
	for (size_t i = n - ilen; i < n; i++) {
		memcpy(bad, pkt, n);
		bad[i] ^= 0x01;
		assert_int_equal(tc_send(&f->c, bad, n), 0);
	}
	for (size_t i = 16; i < n - ilen; i++) {
		memcpy(bad, pkt, n);
		bad[i] ^= 0x80;
		assert_int_equal(tc_send(&f->c, bad, n), 0);
	}
	assert_true(f->w.e.stats.dropped_auth > 0);
	/* and the original is still accepted */
	assert_true(tc_send(&f->c, pkt, n) > 0);
}

static void test_bad_inner_checksum_dropped(void **state)
{
	struct fx *f = *state;
	uint8_t msg[64], pkt[MAX_DATAGRAM];
	assert_int_equal(tc_open_session(&f->c, PRIV_ADMIN), 0);
	/* a correctly signed and encrypted packet whose IPMI message has a
	 * wrong checksum: no reply (a malformed message, section 13.8) */
	size_t ml = tc_build_msg(NETFN_APP, CMD_GET_DEVICE_ID, 1, NULL, 0, msg, sizeof(msg));
	msg[ml - 1] ^= 0x55;
	size_t n = tc_wrap(&f->c, f->c.seq++, msg, ml, pkt, sizeof(pkt));
	assert_int_equal(tc_send(&f->c, pkt, n), 0);
	ml = tc_build_msg(NETFN_APP, CMD_GET_DEVICE_ID, 2, NULL, 0, msg, sizeof(msg));
	msg[2] ^= 0x55;
	n = tc_wrap(&f->c, f->c.seq++, msg, ml, pkt, sizeof(pkt));
	assert_int_equal(tc_send(&f->c, pkt, n), 0);
	/* a response netFn (odd) is not a request */
	ml = tc_build_msg(NETFN_APP | 1, CMD_GET_DEVICE_ID, 3, NULL, 0, msg, sizeof(msg));
	n = tc_wrap(&f->c, f->c.seq++, msg, ml, pkt, sizeof(pkt));
	assert_int_equal(tc_send(&f->c, pkt, n), 0);
	/* shorter than the 7-byte minimum */
	n = tc_wrap(&f->c, f->c.seq++, msg, 6, pkt, sizeof(pkt));
	assert_int_equal(tc_send(&f->c, pkt, n), 0);
}

static void test_replay_dropped(void **state)
{
	struct fx *f = *state;
	uint8_t pkt[MAX_DATAGRAM], pkt2[MAX_DATAGRAM];
	assert_int_equal(tc_open_session(&f->c, PRIV_ADMIN), 0);
	size_t n = valid_request(f, pkt, sizeof(pkt));
	assert_true(tc_send(&f->c, pkt, n) > 0);
	/* the very same datagram again: a replay */
	assert_int_equal(tc_send(&f->c, pkt, n), 0);
	size_t n2 = valid_request(f, pkt2, sizeof(pkt2));
	assert_true(tc_send(&f->c, pkt2, n2) > 0);
	assert_int_equal(tc_send(&f->c, pkt, n), 0);
	assert_int_equal(tc_send(&f->c, pkt2, n2), 0);
	/* sequence number 0 is never valid inside a session */
	uint8_t msg[16];
	size_t ml = tc_build_msg(NETFN_APP, CMD_GET_DEVICE_ID, 9, NULL, 0, msg, sizeof(msg));
	n = tc_wrap(&f->c, 0, msg, ml, pkt, sizeof(pkt));
	assert_int_equal(tc_send(&f->c, pkt, n), 0);
	/* too far ahead (16 > 15, section 6.12.13) */
	n = tc_wrap(&f->c, f->c.seq + 16, msg, ml, pkt, sizeof(pkt));
	assert_int_equal(tc_send(&f->c, pkt, n), 0);
	/* 15 ahead is fine */
	n = tc_wrap(&f->c, f->c.seq + 14, msg, ml, pkt, sizeof(pkt));
	assert_true(tc_send(&f->c, pkt, n) > 0);
}

static void test_other_source_dropped(void **state)
{
	struct fx *f = *state;
	uint8_t pkt[MAX_DATAGRAM];
	assert_int_equal(tc_open_session(&f->c, PRIV_ADMIN), 0);
	size_t n = valid_request(f, pkt, sizeof(pkt));
	/* the same valid datagram from another address: not this session */
	struct tc other;
	tc_init(&other, &f->w, "127.0.0.2", 40001, 17, "node1", PW);
	assert_int_equal(tc_send(&other, pkt, n), 0);
	/* a different port on the same address is the same console (NAT) */
	f->c.peer.addr_len = sizeof(struct sockaddr_in);
	((struct sockaddr_in *)&f->c.peer.addr)->sin_port = htons(40999);
	assert_true(tc_send(&f->c, pkt, n) > 0);
	/* an unknown session ID */
	n = valid_request(f, pkt, sizeof(pkt));
	pkt[6] ^= 0xff;
	assert_int_equal(tc_send(&f->c, pkt, n), 0);
}

/* RAKP 1 and 3 must come from the address that opened the session: another
 * host that learned the session ID cannot continue someone's handshake. */
static void test_handshake_from_another_source(void **state)
{
	struct fx *f = *state;
	uint8_t pkt[256];
	size_t n;
	assert_int_equal(tc_open_only(&f->c, PRIV_ADMIN), 0);

	struct tc other = f->c;
	struct sockaddr_in *a = (struct sockaddr_in *)&other.peer.addr;
	a->sin_addr.s_addr = htonl(0x7f000002); /* 127.0.0.2 */
	tc_rand(other.rm, sizeof(other.rm));
	n = tc_build_rakp1(&other, pkt, sizeof(pkt));
	assert_true(tc_send(&other, pkt, n) >= 18);
	assert_int_equal(other.rsp[17], RMCPP_INVALID_SESSION_ID);

	/* the console that opened it carries on */
	tc_rand(f->c.rm, sizeof(f->c.rm));
	n = tc_build_rakp1(&f->c, pkt, sizeof(pkt));
	assert_true(tc_send(&f->c, pkt, n) >= 18);
	assert_int_equal(f->c.rsp[17], RMCPP_OK);
}

/* Every RAKP 2 names the console's session ID (table 13-12), the refusal of
 * a bad name length too: the session it refers to is ended first, which
 * must not wipe the ID out of the answer. */
static void test_rakp2_bad_name_length_names_console(void **state)
{
	struct fx *f = *state;
	uint8_t pkt[256];
	size_t n;
	assert_int_equal(tc_open_only(&f->c, PRIV_ADMIN), 0);

	tc_rand(f->c.rm, sizeof(f->c.rm));
	n = tc_build_rakp1(&f->c, pkt, sizeof(pkt));
	/* RMCP 4 + session header 12, then tag, 3 reserved, managed system ID
	 * (4), Rm (16), role, 2 reserved: ULENGTHm at 43, one more than sent */
	assert_int_equal(pkt[43], f->c.user_len);
	pkt[43]++;
	assert_true(tc_send(&f->c, pkt, n) >= 24);
	assert_int_equal(f->c.rsp[17], RMCPP_INVALID_NAME_LENGTH);
	uint32_t cid = (uint32_t)f->c.rsp[20] | (uint32_t)f->c.rsp[21] << 8 |
	               (uint32_t)f->c.rsp[22] << 16 | (uint32_t)f->c.rsp[23] << 24;
	assert_int_equal(cid, f->c.console_sid);
	assert_int_equal(engine_sessions_active(&f->w.e), 0);
}

static void test_rakp_state_machine(void **state)
{
	struct fx *f = *state;
	uint8_t pkt[256], code[32] = { 0 };
	/* RAKP 1 for a session nobody opened: status 02h, no state created */
	f->c.bmc_sid = 0x12345678;
	size_t n = tc_build_rakp1(&f->c, pkt, sizeof(pkt));
	assert_true(tc_send(&f->c, pkt, n) > 0);
	assert_int_equal(f->c.rsp[16 + 1], RMCPP_INVALID_SESSION_ID);
	/* RAKP 3 before RAKP 1 */
	n = tc_build_rakp3(&f->c, RMCPP_OK, code, 32, pkt, sizeof(pkt));
	assert_true(tc_send(&f->c, pkt, n) > 0);
	assert_int_equal(f->c.rsp[16 + 1], RMCPP_INVALID_SESSION_ID);
	assert_int_equal(engine_sessions_active(&f->w.e), 0);
	/* Open Session with a zero console session ID: status 02h */
	f->c.console_sid = 0;
	assert_int_equal(tc_open_session(&f->c, PRIV_ADMIN), -1);
	assert_int_equal(f->c.last_status, RMCPP_INVALID_SESSION_ID);
	/* an invalid maximum privilege (6 and up): 09h */
	f->c.console_sid = 1;
	assert_int_equal(tc_open_session(&f->c, 0x06), -1);
	assert_int_equal(f->c.last_status, RMCPP_INVALID_ROLE);
	assert_int_equal(engine_sessions_active(&f->w.e), 0);
}

static void test_half_open_cap_per_source(void **state)
{
	struct fx *f = *state;
	uint8_t pkt[256];
	struct sockaddr_in src = { .sin_family = AF_INET };
	inet_pton(AF_INET, "127.0.0.1", &src.sin_addr);
	/* Handshakes left hanging (a flood, or forged packets in a victim's
	 * name) beyond the cap recycle the source's own oldest slots: the
	 * source never holds more than the cap, and is never refused. */
	for (int i = 0; i < 3 * MAX_HALF_OPEN_PER_SRC; i++) {
		size_t n = tc_build_open(&f->c, PRIV_ADMIN, pkt, sizeof(pkt));
		assert_true(tc_send(&f->c, pkt, n) > 0);
		assert_int_equal(f->c.rsp[17], RMCPP_OK);
		assert_true(session_count_from(&f->w.e.sessions, (const struct sockaddr *)&src,
		                               true) <= MAX_HALF_OPEN_PER_SRC);
	}
	assert_int_equal(session_count_from(&f->w.e.sessions, (const struct sockaddr *)&src, true),
	                 MAX_HALF_OPEN_PER_SRC);
	/* a console at that address logs in at once, without waiting for
	 * the hanging ones to expire */
	assert_int_equal(tc_open_session(&f->c, PRIV_ADMIN), 0);
	/* another source is not affected */
	struct tc other;
	tc_init(&other, &f->w, "127.0.0.2", 40001, 17, "node1", PW);
	assert_int_equal(tc_open_session(&other, PRIV_ADMIN), 0);
}

static void test_full_table_evicts_half_open(void **state)
{
	struct fx *f = *state;
	uint8_t pkt[256];
	char ip[32];
	/* 8 slots (setup_small): fill them with half-open handshakes from 8
	 * spoofed sources, then a real console still gets in. */
	for (int i = 0; i < 8; i++) {
		struct tc fl;
		snprintf(ip, sizeof(ip), "127.0.%d.%d", 10 + i, 1 + i);
		tc_init(&fl, &f->w, ip, 1000, 17, "node1", PW);
		f->w.e.now++;
		size_t n = tc_build_open(&fl, PRIV_ADMIN, pkt, sizeof(pkt));
		assert_true(tc_send(&fl, pkt, n) > 0);
		assert_int_equal(fl.rsp[17], RMCPP_OK);
	}
	assert_int_equal(engine_sessions_active(&f->w.e), 8);
	assert_int_equal(tc_open_session(&f->c, PRIV_ADMIN), 0);
	/* Active sessions are never evicted: fill with 7 more handshakes and
	 * the active one survives. */
	for (int i = 0; i < 20; i++) {
		struct tc fl;
		snprintf(ip, sizeof(ip), "127.1.%d.1", i);
		tc_init(&fl, &f->w, ip, 1000, 17, "node1", PW);
		f->w.e.now++;
		size_t n = tc_build_open(&fl, PRIV_ADMIN, pkt, sizeof(pkt));
		assert_true(tc_send(&fl, pkt, n) > 0);
	}
	uint8_t d[32];
	size_t dn;
	assert_int_equal(tc_request(&f->c, NETFN_APP, CMD_GET_DEVICE_ID, NULL, 0, d, &dn), CC_OK);
}

static void test_persona_cap_not_held_by_handshakes(void **state)
{
	struct fx *f = *state;
	uint8_t pkt[256];
	char ip[32];
	/* Anyone who knows a persona's name can start handshakes for it and
	 * stop after RAKP 2. Holding all 16 of its session slots that way
	 * must not keep the real console out: the oldest unfinished
	 * handshake gives way, as in the global table. */
	for (unsigned i = 0; i < f->w.cfg.max_sessions_per_persona; i++) {
		struct tc fl;
		snprintf(ip, sizeof(ip), "127.0.%u.%u", 20 + i / 4, 1 + i % 4);
		tc_init(&fl, &f->w, ip, 1000, 17, "node1", "unknown-to-the-flooder");
		f->w.e.now++;
		assert_int_equal(tc_open_session(&fl, PRIV_ADMIN), -1);
		assert_int_equal(fl.last_status, RMCPP_INVALID_ICV); /* stopped after RAKP 2 */
	}
	assert_int_equal(f->p->sessions, f->w.cfg.max_sessions_per_persona);
	assert_int_equal(tc_open_session(&f->c, PRIV_ADMIN), 0);
	/* active sessions still count: fill the persona with real ones and
	 * the next login is refused with 0Bh (no resources for the role) */
	unsigned active = 1;
	for (unsigned i = 0; active < f->w.cfg.max_sessions_per_persona && i < 64; i++) {
		struct tc ok;
		snprintf(ip, sizeof(ip), "127.0.%u.%u", 40 + i / 4, 1 + i % 4);
		tc_init(&ok, &f->w, ip, 1000, 17, "node1", PW);
		f->w.e.now++;
		if (tc_open_session(&ok, PRIV_ADMIN) == 0)
			active++;
	}
	assert_int_equal(active, f->w.cfg.max_sessions_per_persona);
	struct tc late;
	tc_init(&late, &f->w, "127.0.99.1", 1000, 17, "node1", PW);
	assert_int_equal(tc_open_session(&late, PRIV_ADMIN), -1);
	assert_int_equal(late.last_status, RMCPP_NO_RESOURCES_ROLE);
	(void)pkt;
}

static void test_failed_logins_lock_out_one_source(void **state)
{
	struct fx *f = *state;
	struct tc bad, good;
	tc_init(&bad, &f->w, "127.0.0.1", 40001, 17, "node1", "guessing");
	/* THROTTLE_FAIL_FREE failures are free, then the source is locked */
	for (int i = 0; i < THROTTLE_FAIL_FREE + 1; i++) {
		assert_int_equal(tc_open_session(&bad, PRIV_ADMIN), -1);
		assert_int_equal(bad.last_status, RMCPP_INVALID_ICV);
		/* The client noticed RAKP 2 fail; it aborts with a RAKP 3 error
		 * status, as ipmitool does, which counts as a failure. */
		uint8_t pkt[64];
		size_t n = tc_build_rakp3(&bad, RMCPP_INVALID_ICV, NULL, 0, pkt, sizeof(pkt));
		tc_send(&bad, pkt, n);
	}
	assert_int_equal(tc_open_session(&bad, PRIV_ADMIN), -1);
	assert_int_equal(bad.last_status, RMCPP_NO_RESOURCES);
	/* even the right password from that source waits out the lock */
	tc_init(&good, &f->w, "127.0.0.1", 40002, 17, "node1", PW);
	assert_int_equal(tc_open_session(&good, PRIV_ADMIN), -1);
	/* another source logs in at once */
	tc_init(&good, &f->w, "127.0.0.2", 40001, 17, "node1", PW);
	assert_int_equal(tc_open_session(&good, PRIV_ADMIN), 0);
	/* after the lock expires the first source gets in again */
	f->w.e.now += THROTTLE_LOCK_MS_MAX + 1;
	tc_init(&good, &f->w, "127.0.0.1", 40003, 17, "node1", PW);
	assert_int_equal(tc_open_session(&good, PRIV_ADMIN), 0);
}

static void test_setup_rate_limit(void **state)
{
	struct fx *f = *state;
	uint8_t pkt[256];
	unsigned answered = 0;
	unsigned sent = f->w.cfg.setup_burst + 100;
	/* one source: the burst, then silence (dropped, no reply) */
	for (unsigned i = 0; i < sent; i++) {
		f->c.console_sid = (uint32_t)i + 1;
		size_t n = tc_build_open(&f->c, PRIV_ADMIN, pkt, sizeof(pkt));
		if (tc_send(&f->c, pkt, n))
			answered++;
	}
	assert_int_equal(answered, f->w.cfg.setup_burst);
	assert_true(f->w.e.stats.dropped_throttled >= sent - f->w.cfg.setup_burst);
}

/* A new RAKP 1 on a session at RAKP 2 costs a setup token (a retry, the
 * same RAKP 1 again, does not): one session is not an unthrottled source
 * of RAKP 2 hashes. */
static void test_fresh_rakp1_spends_a_setup_token(void **state)
{
	struct fx *f = *state;
	uint8_t pkt[256];
	size_t n;
	assert_int_equal(tc_open_only(&f->c, PRIV_ADMIN), 0);
	tc_rand(f->c.rm, sizeof(f->c.rm));
	n = tc_build_rakp1(&f->c, pkt, sizeof(pkt));
	assert_true(tc_send(&f->c, pkt, n) > 0);
	assert_int_equal(f->c.rsp[17], RMCPP_OK);
	/* spend the rest of the source's burst */
	uint8_t last_ok[256];
	size_t last_n = 0;
	unsigned answered = 1;
	for (unsigned i = 0; i < f->w.cfg.setup_burst + 10; i++) {
		tc_rand(f->c.rm, sizeof(f->c.rm));
		n = tc_build_rakp1(&f->c, pkt, sizeof(pkt));
		if (tc_send(&f->c, pkt, n)) {
			answered++;
			memcpy(last_ok, pkt, n);
			last_n = n;
		}
	}
	assert_int_equal(answered, f->w.cfg.setup_burst);
	/* out of tokens, a retransmission of the last answered one still is */
	assert_true(tc_send(&f->c, last_ok, last_n) > 0);
	assert_int_equal(f->c.rsp[17], RMCPP_OK);
}

static void test_global_allow_list(void **state)
{
	struct fx *f = *state;
	struct cidr_list *l = (struct cidr_list *)&f->w.cfg.allowed_sources;
	assert_int_equal(config_parse_cidr("127.0.0.2/32", &l->items[0]), 0);
	l->len = 1;
	assert_int_equal(tc_open_session(&f->c, PRIV_ADMIN), -1);
	assert_int_equal(f->c.rsp_len, 0);
	assert_true(f->w.e.stats.dropped_source > 0);
	struct tc ok;
	tc_init(&ok, &f->w, "127.0.0.2", 40001, 17, "node1", PW);
	assert_int_equal(tc_open_session(&ok, PRIV_ADMIN), 0);
}

static void test_persona_allow_list(void **state)
{
	struct fx *f = *state;
	struct cidr_list l;
	char bad[64];
	assert_int_equal(config_parse_cidr_list("127.0.0.2, 10.0.0.0/8", &l, bad, sizeof(bad)), 0);
	assert_int_equal(persona_set_allowed_sources(f->p, &l), 0);
	/* shared listener: an outsider is told "unknown name" (0Dh), exactly
	 * what a name that does not exist gets */
	assert_int_equal(tc_open_session(&f->c, PRIV_ADMIN), -1);
	assert_int_equal(f->c.last_status, RMCPP_UNAUTHORIZED_NAME);
	struct tc ok;
	tc_init(&ok, &f->w, "127.0.0.2", 40001, 17, "node1", PW);
	assert_int_equal(tc_open_session(&ok, PRIV_ADMIN), 0);
	/* a persona's own listener: outsiders are dropped before any work */
	f->c.peer.bound = f->p;
	ok.peer.bound = f->p;
	tc_init(&f->c, &f->w, "127.0.0.1", 40001, 17, "admin", PW);
	f->c.peer.bound = f->p;
	uint8_t pkt[128];
	size_t n = tc_build_open(&f->c, PRIV_ADMIN, pkt, sizeof(pkt));
	uint64_t before = f->w.e.stats.dropped_source;
	assert_int_equal(tc_send(&f->c, pkt, n), 0);
	assert_int_equal(f->w.e.stats.dropped_source, before + 1);
	tc_init(&ok, &f->w, "127.0.0.2", 40002, 17, "admin", PW);
	ok.peer.bound = f->p;
	assert_int_equal(tc_open_session(&ok, PRIV_ADMIN), 0);
	/* cleared: anyone again */
	assert_int_equal(persona_set_allowed_sources(f->p, NULL), 0);
	tc_init(&f->c, &f->w, "127.0.0.1", 40003, 17, "node1", PW);
	assert_int_equal(tc_open_session(&f->c, PRIV_ADMIN), 0);
}

/* ---- amplification ------------------------------------------------------ */

static void test_no_amplification(void **state)
{
	struct fx *f = *state;
	uint8_t pkt[256], msg[32];
	size_t n, r;

	/* ASF presence ping 12 bytes -> pong 28 (DSP0136 fixes both sizes). */
	static const uint8_t ping[12] = { 0x06, 0, 0xff, 0x06, 0, 0, 0x11, 0xbe, 0x80, 0x42, 0, 0 };
	r = tc_send(&f->c, ping, sizeof(ping));
	assert_int_equal(r, 28);
	/* Get Channel Authentication Capabilities: 23 -> 30 bytes */
	uint8_t req[2] = { 0x8E, 4 };
	size_t ml = tc_build_msg(NETFN_APP, CMD_GET_CHANNEL_AUTH_CAPS, 1, req, 2, msg, sizeof(msg));
	n = tc_build_v15_sessionless(msg, ml, pkt, sizeof(pkt));
	r = tc_send(&f->c, pkt, n);
	assert_true(r > 0 && r <= n + 8);
	/* Get Channel Cipher Suites: at most 16 records per answer */
	uint8_t cs[3] = { 0x0E, 0x00, 0x80 };
	ml = tc_build_msg(NETFN_APP, CMD_GET_CHANNEL_CIPHER_SUITES, 2, cs, 3, msg, sizeof(msg));
	n = tc_build_v15_sessionless(msg, ml, pkt, sizeof(pkt));
	r = tc_send(&f->c, pkt, n);
	assert_true(r > 0 && r <= n + 17);
	/* Open Session 48 -> 52 (table 13-10 has 4 more bytes) */
	n = tc_build_open(&f->c, PRIV_ADMIN, pkt, sizeof(pkt));
	r = tc_send(&f->c, pkt, n);
	assert_int_equal(n, 48);
	assert_int_equal(r, 52);
	f->c.bmc_sid = f->c.rsp[24] | f->c.rsp[25] << 8 | f->c.rsp[26] << 16 | (uint32_t)f->c.rsp[27] << 24;
	/* RAKP 1 -> RAKP 2: the spec's RAKP 2 carries Rc, GUIDc and the HMAC
	 * (32 bytes for SHA-256), so 48 + user -> 88 */
	n = tc_build_rakp1(&f->c, pkt, sizeof(pkt));
	r = tc_send(&f->c, pkt, n);
	assert_int_equal(r, 4 + 12 + 8 + 16 + 16 + 32);
	assert_true(r < 2 * n);
	/* Refusals are no larger than the request */
	struct tc other;
	tc_init(&other, &f->w, "127.0.0.9", 1, 17, "ghost", PW);
	assert_int_equal(tc_open_session(&other, PRIV_ADMIN), -1);
	assert_true(other.rsp_len <= 48);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_session_suite17, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_suite3, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_suites_when_enabled, setup_permissive, teardown),
		cmocka_unit_test_setup_teardown(test_suite_not_enabled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cipher_zero_when_enabled, setup_permissive, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_password, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_and_anonymous_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keys_wiped_on_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keys_wiped_on_idle_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handshake_wiped_on_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_null_password_persona_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_priv_unknown_length, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_priv_from_open_session, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sessionless_is_limited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v15_caps_when_enabled, setup_permissive, teardown),
		cmocka_unit_test_setup_teardown(test_v15_session, setup_permissive, teardown),
		cmocka_unit_test_setup_teardown(test_v15_challenges_do_not_fill_a_persona, setup_permissive, teardown),
		cmocka_unit_test_setup_teardown(test_v15_unknown_names_lock_nobody_out, setup_permissive, teardown),
		cmocka_unit_test_setup_teardown(test_v15_refused_by_default, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retransmission_runs_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_truncation_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_headers_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_inner_checksum_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_source_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handshake_from_another_source, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rakp2_bad_name_length_names_console, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rakp_state_machine, setup, teardown),
		cmocka_unit_test_setup_teardown(test_half_open_cap_per_source, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_table_evicts_half_open, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_persona_cap_not_held_by_handshakes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_logins_lock_out_one_source, setup, teardown),
		cmocka_unit_test_setup_teardown(test_setup_rate_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fresh_rakp1_spends_a_setup_token, setup, teardown),
		cmocka_unit_test_setup_teardown(test_global_allow_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_persona_allow_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_amplification, setup, teardown),
	};
	return cmocka_run_group_tests_name("engine", tests, NULL, NULL);
}
