/*
 * rakp.c - RMCP+ session setup (sections 13.17 - 13.20): Open Session,
 * RAKP messages 1 to 4, and the session keys.
 *
 * Cheap work first: an Open Session request spends one token of its
 * source's budget before a slot is touched, and a locked-out source gets a
 * small refusal without any HMAC work. A session exists (half-open) only
 * after Open Session, and becomes usable only once RAKP 3 proves the
 * password.
 */
#include "engine.h"
#include "cipher.h"
#include "ipmi.h"
#include "log.h"
#include "secret.h"
#include "throttle.h"

#include <string.h>

#define MAX_PRIV_OFFERED PRIV_ADMIN /* a persona's one user is an administrator */

static void log_peer(struct engine *e, const struct engine_peer *from,
                     const char *what, const uint8_t *user, size_t ulen)
{
	char who[128];
	if (!log_peer_allowed(throttle_source_key((const struct sockaddr *)&from->addr), e->now))
		return;
	engine_describe_peer(from, user, ulen, who, sizeof(who));
	log_info("ipmi: %s from %s", what, who);
}

/*
 * How an Open Session Response, RAKP 2 and RAKP 4 begin (tables 13-10,
 * 13-12, 13-14): message tag, status code, a byte that is the maximum
 * privilege in an Open Session Response and reserved in the RAKP messages,
 * a reserved byte, and the console's session ID.
 */
static void write_head(struct wcur *w, uint8_t tag, uint8_t status, uint8_t max_priv,
                       uint32_t console_id)
{
	wcur_u8(w, tag);
	wcur_u8(w, status);
	wcur_u8(w, max_priv);
	wcur_u8(w, 0);
	wcur_le32(w, console_id);
}

/* A refusal is that head alone, with the error status. Returns the
 * payload type of the answer (PAYLOAD_OPEN_RSP, _RAKP2 or _RAKP4). */
static int refuse(struct wcur *w, int payload, uint8_t tag, uint8_t status,
                  uint32_t console_id)
{
	write_head(w, tag, status, 0, console_id);
	return payload;
}

/* Ends s and refuses with status. The console ID is read first: ending the
 * session wipes its slot. */
static int end_and_refuse(struct engine *e, struct session *s, struct wcur *w, int payload,
                          uint8_t tag, uint8_t status, const char *why)
{
	uint32_t cid = s->console_id;
	engine_end_session(e, s, why);
	return refuse(w, payload, tag, status, cid);
}

/* One algorithm record of the Open Session messages (table 13-9). */
static bool read_alg(struct cur *c, uint8_t want_type, uint8_t *alg)
{
	uint8_t type = cur_u8(c);
	cur_skip(c, 2);
	uint8_t len = cur_u8(c);
	*alg = cur_u8(c) & 0x3f;
	cur_skip(c, 3);
	return cur_ok(c) && type == want_type && len == 8;
}

static void write_alg(struct wcur *w, uint8_t type, uint8_t alg)
{
	wcur_u8(w, type);
	wcur_le16(w, 0);
	wcur_u8(w, 8);
	wcur_u8(w, alg);
	wcur_fill(w, 0, 3);
}

int rakp_open_session(struct engine *e, const struct engine_peer *from,
                      struct cur *c, struct wcur *w)
{
	uint8_t tag = cur_u8(c);
	uint8_t req_priv = cur_u8(c) & 0x0f;
	cur_skip(c, 2);
	uint32_t console_id = cur_le32(c);
	uint8_t auth, integ, conf;
	bool ok = read_alg(c, 0x00, &auth);
	ok = read_alg(c, 0x01, &integ) && ok;
	ok = read_alg(c, 0x02, &conf) && ok;
	if (!cur_ok(c)) {
		e->stats.dropped_malformed++;
		return -1;
	}

	switch (throttle_setup(e->throttle, (const struct sockaddr *)&from->addr, e->now)) {
	case THROTTLE_OK:
		break;
	case THROTTLE_RATE:
		e->stats.dropped_throttled++;
		return -1;
	case THROTTLE_LOCKED:
		e->stats.dropped_throttled++;
		log_peer(e, from, "session refused, source locked out after failed logins", NULL, 0);
		return refuse(w, PAYLOAD_OPEN_RSP, tag, RMCPP_NO_RESOURCES, console_id);
	}
	if (!ok)
		return refuse(w, PAYLOAD_OPEN_RSP, tag, RMCPP_ILLEGAL_PARAMETER, console_id);
	if (console_id == 0)
		return refuse(w, PAYLOAD_OPEN_RSP, tag, RMCPP_INVALID_SESSION_ID, console_id);
	if (req_priv > PRIV_OEM)
		return refuse(w, PAYLOAD_OPEN_RSP, tag, RMCPP_INVALID_ROLE, console_id);
	if (req_priv > MAX_PRIV_OFFERED)
		return refuse(w, PAYLOAD_OPEN_RSP, tag, RMCPP_UNAUTHORIZED_ROLE, console_id);

	const struct cipher_suite *suite = cipher_suite_find(auth, integ, conf);
	if (!suite || !engine_suite_enabled(e, suite->id)) {
		log_peer(e, from, "session refused, cipher suite not enabled", NULL, 0);
		return refuse(w, PAYLOAD_OPEN_RSP, tag, RMCPP_NO_CIPHER_SUITE, console_id);
	}
	engine_make_room_for_source(e, from);
	struct session *s = engine_new_session(e, from);
	if (!s)
		return refuse(w, PAYLOAD_OPEN_RSP, tag, RMCPP_NO_RESOURCES, console_id);
	s->console_id = console_id;
	s->auth = auth;
	s->integ = integ;
	s->conf = conf;
	s->max_priv = req_priv ? req_priv : MAX_PRIV_OFFERED;

	write_head(w, tag, RMCPP_OK, s->max_priv, console_id);
	wcur_le32(w, s->id);
	write_alg(w, 0x00, auth);
	write_alg(w, 0x01, integ);
	write_alg(w, 0x02, conf);
	return PAYLOAD_OPEN_RSP;
}

static void rakp_params(const struct session *s, const struct persona *p,
                        struct rakp_params *rp)
{
	memset(rp, 0, sizeof(*rp));
	rp->auth = s->auth;
	rp->console_sid = s->console_id;
	rp->bmc_sid = s->id;
	memcpy(rp->console_rand, s->console_rand, sizeof(rp->console_rand));
	memcpy(rp->bmc_rand, s->bmc_rand, sizeof(rp->bmc_rand));
	memcpy(rp->bmc_guid, p->guid, sizeof(rp->bmc_guid));
	rp->role = s->role;
	rp->user_len = s->user_len;
	memcpy(rp->user, s->user, s->user_len);
}

/* Kuid: the password in a 20-byte zero-padded field (section 13.31). */
static size_t kuid_of(const struct persona *p, uint8_t kuid[CIPHER_KEY_MAX])
{
	secret_to_field(&p->password, kuid, CIPHER_KEY_MAX);
	return CIPHER_KEY_MAX;
}

int rakp_message1(struct engine *e, const struct engine_peer *from,
                  struct cur *c, struct wcur *w)
{
	uint8_t tag = cur_u8(c);
	cur_skip(c, 3);
	uint32_t sid = cur_le32(c);
	uint8_t rm[CIPHER_RAND_LEN];
	cur_bytes(c, rm, sizeof(rm));
	uint8_t role = cur_u8(c);
	cur_skip(c, 2);
	uint8_t ulen = cur_u8(c);
	if (!cur_ok(c)) {
		e->stats.dropped_malformed++;
		return -1;
	}
	struct session *s = session_find(&e->sessions, sid);
	/* Only the console that opened the session may continue it. */
	if (!s || s->v15 || (s->state != SESS_OPENED && s->state != SESS_RAKP2) ||
	    !engine_same_source(s, from)) {
		e->stats.dropped_auth++;
		return refuse(w, PAYLOAD_RAKP2, tag, RMCPP_INVALID_SESSION_ID, 0);
	}
	if (ulen > CIPHER_USER_MAX || cur_remaining(c) != ulen)
		return end_and_refuse(e, s, w, PAYLOAD_RAKP2, tag, RMCPP_INVALID_NAME_LENGTH,
		                      "RAKP 1 with a bad name length");
	const uint8_t *name = cur_view(c, ulen);
	uint8_t priv = role & 0x0f;
	if ((role & 0xe0) || priv < PRIV_CALLBACK || priv > PRIV_OEM)
		return end_and_refuse(e, s, w, PAYLOAD_RAKP2, tag, RMCPP_INVALID_ROLE,
		                      "RAKP 1 with an invalid role");
	if (priv > s->max_priv)
		return end_and_refuse(e, s, w, PAYLOAD_RAKP2, tag, RMCPP_UNAUTHORIZED_ROLE,
		                      "RAKP 1 role above the session maximum");
	/* A repeated RAKP 1 (the console retried) gets the same RAKP 2. */
	bool repeat = s->state == SESS_RAKP2 && s->role == role &&
	              s->user_len == ulen && memcmp(s->user, name, ulen) == 0 &&
	              secret_ct_equal(s->console_rand, rm, sizeof(rm));
	/* A different RAKP 1 on a session already at RAKP 2 asks for a fresh
	 * RAKP 2 (two HMACs): it spends a setup token like an Open Session, so
	 * one session cannot be turned into an unthrottled hash generator,
	 * nor used by a source that has been locked out since. */
	if (s->state == SESS_RAKP2 && !repeat &&
	    throttle_setup(e->throttle, (const struct sockaddr *)&from->addr, e->now) !=
	            THROTTLE_OK) {
		e->stats.dropped_throttled++;
		return -1;
	}
	struct persona *p = ulen ? engine_lookup_user(e, from, name, ulen) : NULL;
	if (!p || (s->persona && s->persona != p)) {
		engine_login_failed(e, &from->addr);
		log_peer(e, from, ulen ? "login refused, unknown user" :
		                         "login refused, anonymous login is disabled",
		         name, ulen);
		return end_and_refuse(e, s, w, PAYLOAD_RAKP2, tag, RMCPP_UNAUTHORIZED_NAME,
		                      "unknown user");
	}
	if (!repeat) {
		if (s->persona != p && p->sessions >= e->cfg->max_sessions_per_persona)
			engine_make_room(e, p, s);
		if (s->persona != p &&
		    p->sessions >= e->cfg->max_sessions_per_persona)
			return end_and_refuse(e, s, w, PAYLOAD_RAKP2, tag, RMCPP_NO_RESOURCES_ROLE,
			                      "persona session limit");
		engine_bind_persona(e, s, p);
		memcpy(s->console_rand, rm, sizeof(rm));
		if (e->rand(s->bmc_rand, sizeof(s->bmc_rand)) < 0) {
			engine_end_session(e, s, "no randomness");
			return -1;
		}
		s->role = role;
		s->user_len = ulen;
		memcpy(s->user, name, ulen);
		s->max_priv = priv;
		s->state = SESS_RAKP2;
	}

	struct rakp_params rp;
	uint8_t kuid[CIPHER_KEY_MAX], mac[CIPHER_MAX_MAC];
	rakp_params(s, p, &rp);
	size_t klen = kuid_of(p, kuid);
	int maclen = cipher_rakp2_code(&rp, kuid, klen, mac);
	secret_wipe(kuid, sizeof(kuid));
	if (maclen < 0) {
		engine_end_session(e, s, "RAKP 2 code failed");
		return -1;
	}
	write_head(w, tag, RMCPP_OK, 0, s->console_id);
	wcur_bytes(w, s->bmc_rand, sizeof(s->bmc_rand));
	wcur_bytes(w, p->guid, sizeof(p->guid));
	wcur_bytes(w, mac, (size_t)maclen);
	secret_wipe(mac, sizeof(mac));
	secret_wipe(&rp, sizeof(rp));
	return PAYLOAD_RAKP2;
}

int rakp_message3(struct engine *e, const struct engine_peer *from,
                  struct cur *c, struct wcur *w)
{
	uint8_t tag = cur_u8(c);
	uint8_t status = cur_u8(c);
	cur_skip(c, 2);
	uint32_t sid = cur_le32(c);
	size_t clen;
	const uint8_t *code = cur_rest(c, &clen);
	if (!cur_ok(c)) {
		e->stats.dropped_malformed++;
		return -1;
	}
	struct session *s = session_find(&e->sessions, sid);
	if (!s || s->v15 || s->state != SESS_RAKP2 || !s->persona ||
	    !engine_same_source(s, from)) {
		e->stats.dropped_auth++;
		return refuse(w, PAYLOAD_RAKP4, tag, RMCPP_INVALID_SESSION_ID, 0);
	}
	uint32_t cid = s->console_id;
	if (status != RMCPP_OK) {
		/* The console gave up (typically: our RAKP 2 did not verify,
		 * i.e. it has a different password). Count it as a failure. */
		char who[128];
		engine_login_failed(e, &from->addr);
		engine_describe_peer(from, s->user, s->user_len, who, sizeof(who));
		persona_log_event(s->persona, "login failed (console rejected RAKP 2)", who, status);
		engine_end_session(e, s, "console aborted in RAKP 3");
		return -1;
	}

	struct persona *p = s->persona;
	struct rakp_params rp;
	uint8_t kuid[CIPHER_KEY_MAX];
	rakp_params(s, p, &rp);
	size_t klen = kuid_of(p, kuid);
	if (!cipher_rakp3_verify(&rp, kuid, klen, code, clen)) {
		char who[128];
		secret_wipe(kuid, sizeof(kuid));
		secret_wipe(&rp, sizeof(rp));
		engine_login_failed(e, &from->addr);
		engine_describe_peer(from, s->user, s->user_len, who, sizeof(who));
		persona_log_event(p, "login failed (wrong password)", who, RMCPP_INVALID_ICV);
		log_peer(e, from, "login failed, wrong password", s->user, s->user_len);
		return end_and_refuse(e, s, w, PAYLOAD_RAKP4, tag, RMCPP_INVALID_ICV,
		                      "RAKP 3 code mismatch");
	}
	int rc = cipher_derive_keys(&rp, kuid, klen, NULL, 0, &s->keys);
	secret_wipe(kuid, sizeof(kuid));
	uint8_t icv[CIPHER_MAX_MAC];
	int icvlen = rc == 0 ? cipher_rakp4_icv(&rp, &s->keys, icv) : -1;
	secret_wipe(&rp, sizeof(rp));
	if (icvlen < 0)
		return end_and_refuse(e, s, w, PAYLOAD_RAKP4, tag, RMCPP_NO_RESOURCES,
		                      "key derivation failed");
	/* Sessions start at User level (or lower if that was all that was
	 * asked); Set Session Privilege Level raises it up to max_priv. */
	s->priv = s->max_priv < PRIV_USER ? s->max_priv : PRIV_USER;
	engine_activate_session(e, s, from);
	log_debug("session %08x active for persona %s, suite auth %u integ %u conf %u",
	          s->id, p->user, s->auth, s->integ, s->conf);

	write_head(w, tag, RMCPP_OK, 0, cid);
	wcur_bytes(w, icv, (size_t)icvlen);
	secret_wipe(icv, sizeof(icv));
	return PAYLOAD_RAKP4;
}
