/*
 * rmcpplus.c - the IPMI v2.0 / RMCP+ session wrapper (section 13.6,
 * table 13-8): header, integrity trailer and AuthCode, confidentiality.
 *
 * Order on receive: find the session, verify the AuthCode, check the
 * sequence window, decrypt, and only then change any state (sequence
 * window, activity time). Nothing an unauthenticated packet says can move
 * a session forward.
 */
#include "engine.h"
#include "cipher.h"
#include "ipmi.h"
#include "log.h"
#include "secret.h"

#include <netinet/in.h>
#include <string.h>

#define NEXT_HEADER 0x07
#define SEQ_AHEAD   15 /* RMCP+ window (section 6.12.13) */
#define SEQ_BEHIND  16

/* Session-less payloads a console sends before it has a session. */
static size_t sessionless(struct engine *e, const struct engine_peer *from,
                          uint8_t ptype, struct cur *payload, struct wcur *w)
{
	int rtype;

	/* header written once the payload is known: type, ID 0, seq 0, len */
	wcur_u8(w, AUTHTYPE_RMCPP);
	size_t type_at = wcur_reserve(w, 1);
	wcur_le32(w, 0);
	wcur_le32(w, 0);
	size_t len_at = wcur_reserve(w, 2);
	size_t body = wcur_len(w);

	switch (ptype) {
	case PAYLOAD_OPEN_REQ:
		rtype = rakp_open_session(e, from, payload, w);
		break;
	case PAYLOAD_RAKP1:
		rtype = rakp_message1(e, from, payload, w);
		break;
	case PAYLOAD_RAKP3:
		rtype = rakp_message3(e, from, payload, w);
		break;
	case PAYLOAD_IPMI: {
		/* Get Channel Authentication Capabilities and friends. */
		bool close_after;
		size_t n;
		const uint8_t *msg = cur_rest(payload, &n);
		if (!msg || !engine_run_request(e, from, NULL, msg, n, w, &close_after))
			return 0;
		rtype = PAYLOAD_IPMI;
		break;
	}
	default:
		e->stats.dropped_malformed++;
		return 0;
	}
	if (rtype < 0 || !wcur_ok(w))
		return 0;
	wcur_patch_u8(w, type_at, (uint8_t)rtype);
	wcur_patch_le16(w, len_at, (uint16_t)(wcur_len(w) - body));
	return wcur_ok(w) ? wcur_len(w) : 0;
}

size_t rmcpplus_wrap(struct engine *e, struct session *s, const uint8_t *msg,
                     size_t len, struct wcur *w)
{
	size_t start = wcur_len(w);
	uint8_t ptype = PAYLOAD_IPMI;
	size_t integ_len = cipher_integ_len(s->integ);

	if (s->integ != INTEG_NONE)
		ptype |= PAYLOAD_AUTHENTICATED;
	if (s->conf != CONF_NONE)
		ptype |= PAYLOAD_ENCRYPTED;
	wcur_u8(w, AUTHTYPE_RMCPP);
	wcur_u8(w, ptype);
	wcur_le32(w, s->console_id);
	wcur_le32(w, s->out_seq);
	size_t len_at = wcur_reserve(w, 2);
	size_t body = wcur_len(w);
	if (s->conf != CONF_NONE) {
		uint8_t iv[CIPHER_AES_BLOCK];
		if (e->rand(iv, sizeof(iv)) < 0)
			return 0;
		int n = cipher_conf_encrypt(&s->keys, iv, msg, len, w->base + w->off,
		                            wcur_room(w));
		if (n < 0 || !wcur_claim(w, (size_t)n))
			return 0;
	} else {
		wcur_bytes(w, msg, len);
	}
	wcur_patch_le16(w, len_at, (uint16_t)(wcur_len(w) - body));
	if (s->integ != INTEG_NONE) {
		/* Pad so that AuthType through Next Header is a multiple of 4. */
		size_t covered = wcur_len(w) - start + 2;
		size_t pad = (4 - covered % 4) % 4;
		wcur_fill(w, 0xff, pad);
		wcur_u8(w, (uint8_t)pad);
		wcur_u8(w, NEXT_HEADER);
		uint8_t *code = wcur_claim(w, integ_len);
		if (!code || cipher_integ_sign(s->integ, &s->keys, w->base + start,
		                               wcur_len(w) - start - integ_len, code) < 0)
			return 0;
	}
	/* Zero is skipped: the spec reserves it for session-less packets. */
	if (++s->out_seq == 0)
		s->out_seq = 1;
	return wcur_ok(w) ? wcur_len(w) : 0;
}

size_t rmcpplus_handle(struct engine *e, const struct engine_peer *from,
                       struct cur *c, struct wcur *w)
{
	size_t start = c->off; /* AuthType: the integrity data begins here */
	cur_skip(c, 1);
	uint8_t ptype_byte = cur_u8(c);
	uint8_t ptype = ptype_byte & 0x3f;
	bool authed = ptype_byte & PAYLOAD_AUTHENTICATED;
	bool encrypted = ptype_byte & PAYLOAD_ENCRYPTED;
	if (ptype == PAYLOAD_OEM)
		cur_skip(c, 6); /* OEM IANA + payload ID: we have no OEM payloads */
	uint32_t sid = cur_le32(c);
	uint32_t seq = cur_le32(c);
	uint16_t plen = cur_le16(c);
	struct cur payload = cur_sub(c, plen);
	if (!cur_ok(c) || ptype == PAYLOAD_OEM) {
		e->stats.dropped_malformed++;
		return 0;
	}

	if (sid == 0) {
		if (authed || encrypted || cur_remaining(c) != 0) {
			e->stats.dropped_malformed++;
			return 0;
		}
		return sessionless(e, from, ptype, &payload, w);
	}

	struct session *s = session_find(&e->sessions, sid);
	if (!s || s->v15 || s->state != SESS_ACTIVE || !engine_session_usable(s, from)) {
		e->stats.dropped_auth++;
		return 0;
	}

	/* Integrity: mandatory once negotiated; the trailer must be exactly
	 * pad (0-3 x FFh), pad length, next header, AuthCode. */
	if (s->integ != INTEG_NONE) {
		size_t ilen = cipher_integ_len(s->integ);
		size_t trailer = cur_remaining(c);
		if (!authed || trailer < 2 + ilen || trailer > 5 + ilen) {
			e->stats.dropped_auth++;
			return 0;
		}
		size_t pad = trailer - 2 - ilen;
		const uint8_t *t = cur_view(c, trailer);
		if (!t || t[pad] != pad || t[pad + 1] != NEXT_HEADER ||
		    (c->off - start - ilen) % 4 != 0) {
			e->stats.dropped_auth++;
			return 0;
		}
		if (!cipher_integ_verify(s->integ, &s->keys, c->base + start,
		                         c->off - start - ilen, t + pad + 2, ilen)) {
			e->stats.dropped_auth++;
			return 0;
		}
	} else if (authed || cur_remaining(c) != 0) {
		e->stats.dropped_malformed++;
		return 0;
	}

	struct seq_window *win = authed ? &s->in_auth : &s->in_plain;
	if (!seq_window_check(win, seq, SEQ_AHEAD, SEQ_BEHIND) || seq == 0) {
		e->stats.dropped_auth++;
		return 0;
	}

	/* Confidentiality: when negotiated every payload must be encrypted. */
	uint8_t plain[MAX_DATAGRAM];
	size_t plain_len = 0; /* bytes of plain written, all that needs wiping */
	const uint8_t *msg;
	size_t mlen;
	if (s->conf != CONF_NONE) {
		if (!encrypted) {
			e->stats.dropped_auth++;
			return 0;
		}
		size_t n;
		const uint8_t *ct = cur_rest(&payload, &n);
		int m = ct ? cipher_conf_decrypt(&s->keys, ct, n, plain, sizeof(plain)) : -1;
		if (m < 0) {
			e->stats.dropped_malformed++;
			return 0;
		}
		msg = plain;
		mlen = plain_len = (size_t)m;
	} else {
		if (encrypted) {
			e->stats.dropped_malformed++;
			return 0;
		}
		msg = cur_rest(&payload, &mlen);
	}

	/* Authenticated from here on: now state may change. */
	seq_window_mark(win, seq);
	s->last_ms = e->now;

	if (ptype != PAYLOAD_IPMI) {
		/* SOL and the rest are not offered (Get Channel Payload Support). */
		e->stats.dropped_malformed++;
		secret_wipe(plain, plain_len);
		return 0;
	}
	uint8_t rmsg[MAX_DATAGRAM];
	struct wcur mw = wcur_make(rmsg, sizeof(rmsg));
	bool close_after = false;
	bool have = engine_run_request(e, from, s, msg, mlen, &mw, &close_after);
	secret_wipe(plain, plain_len);
	if (!have)
		return 0;
	size_t n = rmcpplus_wrap(e, s, rmsg, wcur_len(&mw), w);
	if (close_after)
		engine_end_session(e, s, "closed by the console");
	return n;
}
