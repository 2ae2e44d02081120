/*
 * lan15.c - the IPMI v1.5 session wrapper (section 13.6, table 13-4) and
 * its session setup through Get Session Challenge / Activate Session.
 *
 * Off by default: v1.5's MD5 AuthCode is weak and "straight password"
 * sends the password in clear. The one exception is the session-less Get
 * Channel Authentication Capabilities request, which every RMCP+ client
 * sends in v1.5 framing before it opens an RMCP+ session.
 */
#include "engine.h"
#include "cipher.h"
#include "cmd.h"
#include "ipmi.h"
#include "log.h"
#include "secret.h"
#include "throttle.h"


#define V15_SEQ_WINDOW 8 /* section 6.12.13: 8 either way */

static bool authtype_allowed(uint8_t t)
{
	return t == AUTHTYPE_MD5 || t == AUTHTYPE_PASSWORD;
}

/* The first 16 bytes of the password, zero padded: what v1.5 clients use. */
static void password16(const struct persona *p, uint8_t pw[16])
{
	secret_to_field(&p->password, pw, 16);
}

static bool verify_code(const struct session *s, uint8_t authtype, uint32_t seq,
                        const uint8_t *msg, size_t len, const uint8_t *code)
{
	uint8_t pw[16], want[16];
	bool ok;

	if (!s->persona || authtype != s->authtype || !authtype_allowed(authtype))
		return false;
	password16(s->persona, pw);
	ok = cipher_v15_authcode(authtype, pw, s->id, msg, len, seq, want) == 16 &&
	     secret_ct_equal(want, code, 16);
	secret_wipe(pw, sizeof(pw));
	secret_wipe(want, sizeof(want));
	return ok;
}

size_t lan15_wrap(struct engine *e, struct session *s, const uint8_t *msg,
                  size_t len, struct wcur *w)
{
	uint8_t pw[16];

	(void)e;
	if (len > 255)
		return 0;
	wcur_u8(w, s->authtype);
	wcur_le32(w, s->out_seq);
	wcur_le32(w, s->id);
	uint8_t *code = wcur_claim(w, 16);
	if (!code || !s->persona)
		return 0;
	password16(s->persona, pw);
	int rc = cipher_v15_authcode(s->authtype, pw, s->id, msg, len, s->out_seq, code);
	secret_wipe(pw, sizeof(pw));
	if (rc < 0)
		return 0;
	wcur_u8(w, (uint8_t)len);
	wcur_bytes(w, msg, len);
	if (s->out_seq && ++s->out_seq == 0)
		s->out_seq = 1;
	return wcur_ok(w) ? wcur_len(w) : 0;
}

/* Is this message Activate Session (App 3Ah)? */
static bool is_activate(const uint8_t *msg, size_t len)
{
	return len >= 7 && (msg[1] >> 2) == NETFN_APP && msg[5] == CMD_ACTIVATE_SESSION;
}

size_t lan15_handle(struct engine *e, const struct engine_peer *from,
                    struct cur *c, struct wcur *w)
{
	uint8_t authtype = cur_u8(c) & 0x0f;
	uint32_t seq = cur_le32(c);
	uint32_t sid = cur_le32(c);
	const uint8_t *code = authtype != AUTHTYPE_NONE ? cur_view(c, 16) : NULL;
	uint8_t mlen = cur_u8(c);
	const uint8_t *msg = cur_view(c, mlen);
	/* One trailing legacy pad byte is allowed (section 13.6 note). */
	if (!cur_ok(c) || cur_remaining(c) > 1) {
		e->stats.dropped_malformed++;
		return 0;
	}

	uint8_t rmsg[MAX_DATAGRAM];
	struct wcur mw = wcur_make(rmsg, sizeof(rmsg));
	bool close_after = false;

	if (sid == 0) {
		if (authtype != AUTHTYPE_NONE) {
			e->stats.dropped_malformed++;
			return 0;
		}
		if (!engine_run_request(e, from, NULL, msg, mlen, &mw, &close_after))
			return 0;
		/* Session-less v1.5 reply: auth type none, seq 0, ID 0. */
		wcur_u8(w, AUTHTYPE_NONE);
		wcur_le32(w, 0);
		wcur_le32(w, 0);
		wcur_u8(w, (uint8_t)wcur_len(&mw));
		wcur_bytes(w, rmsg, wcur_len(&mw));
		return wcur_ok(w) ? wcur_len(w) : 0;
	}

	if (!e->cfg->allow_ipmi15) {
		e->stats.dropped_auth++;
		return 0;
	}
	struct session *s = session_find(&e->sessions, sid);
	if (!s || !s->v15 || !code || !engine_session_usable(s, from)) {
		e->stats.dropped_auth++;
		return 0;
	}
	if (s->state == SESS_CHALLENGE) {
		/* Only Activate Session may use the temporary session, with
		 * sequence number 0 (section 22.17). */
		if (seq != 0 || !is_activate(msg, mlen)) {
			e->stats.dropped_auth++;
			return 0;
		}
		if (!verify_code(s, authtype, seq, msg, mlen, code)) {
			engine_login_failed(e, &from->addr);
			if (s->persona) {
				/* Audited like an RMCP+ wrong password: who, and a
				 * failure code (0 would read as "ok"). */
				char who[128];
				engine_describe_peer(from, s->user, s->user_len, who, sizeof(who));
				persona_log_event(s->persona, "login failed (IPMI v1.5)", who,
				                  RMCPP_INVALID_ICV);
			}
			engine_end_session(e, s, "v1.5 activation with a wrong AuthCode");
			return 0;
		}
	} else if (s->state == SESS_ACTIVE) {
		if (!verify_code(s, authtype, seq, msg, mlen, code)) {
			e->stats.dropped_auth++;
			return 0;
		}
		if (!seq_window_check(&s->in_auth, seq, V15_SEQ_WINDOW, V15_SEQ_WINDOW)) {
			e->stats.dropped_auth++;
			return 0;
		}
		seq_window_mark(&s->in_auth, seq);
		s->last_ms = e->now;
	} else {
		e->stats.dropped_auth++;
		return 0;
	}

	if (!engine_run_request(e, from, s, msg, mlen, &mw, &close_after))
		return 0;
	size_t n = lan15_wrap(e, s, rmsg, wcur_len(&mw), w);
	if (close_after)
		engine_end_session(e, s, "closed by the console");
	return n;
}
