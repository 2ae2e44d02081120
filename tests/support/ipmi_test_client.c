/*
 * ipmi_test_client.c - see ipmi_test_client.h. Packet layouts follow the
 * IPMI v2.0 rev 1.1 tables they cite; nothing here calls rakp.c or
 * rmcpplus.c, only the pure algorithms of cipher.h.
 */
#include "ipmi_test_client.h"

#include "cursor.h"
#include "ipmi.h"
#include "ipmi_msg.h"
#include "secret.h"
#include "throttle.h"

#include <arpa/inet.h>
#include <string.h>

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

void tc_seed(uint64_t seed)
{
	rng_state = seed ? seed : 0x9E3779B97F4A7C15ull;
}

int tc_rand(void *buf, size_t n)
{
	uint8_t *p = buf;
	for (size_t i = 0; i < n; i++) {
		rng_state ^= rng_state << 13;
		rng_state ^= rng_state >> 7;
		rng_state ^= rng_state << 17;
		p[i] = (uint8_t)(rng_state >> 24);
	}
	return 0;
}

void tc_default_config(struct config *cfg)
{
	config_defaults(cfg);
	/* Every suite the tests use; 3 and 17 are the defaults. */
	cfg->cipher_suites[0] = 3;
	cfg->cipher_suites[1] = 17;
	cfg->cipher_suite_count = 2;
}

int tc_world_init(struct tc_world *w)
{
	w->personas = persona_table_new();
	if (!w->personas)
		return -1;
	if (engine_init(&w->e, &w->cfg, w->personas, NULL) < 0)
		return -1;
	w->e.rand = tc_rand;
	w->e.now = 1000;
	memset(&w->local, 0, sizeof(w->local));
	w->local.ops = &backend_local_ops;
	engine_attach_backend(&w->e, &w->local);
	return 0;
}

void tc_world_free(struct tc_world *w)
{
	engine_free(&w->e);
	persona_table_free(w->personas);
	w->personas = NULL;
	config_free(&w->cfg);
}

void tc_world_reset(struct tc_world *w)
{
	for (size_t i = 0; i < w->e.sessions.cap; i++)
		if (w->e.sessions.slots[i].state != SESS_FREE)
			engine_end_session(&w->e, &w->e.sessions.slots[i], "reset");
	w->e.sessions.next_handle = 0;
	throttle_reset(w->e.throttle);
	memset(&w->e.stats, 0, sizeof(w->e.stats));
	w->e.token_counter = 0;
	w->e.now = 1000;
	persona_table_free(w->personas);
	w->personas = persona_table_new();
	w->e.personas = w->personas;
}

struct persona *tc_world_add(struct tc_world *w, const char *name, const char *password)
{
	struct persona *p = persona_add(w->personas, name);
	if (!p)
		return NULL;
	snprintf(p->user, sizeof(p->user), "%s", name);
	snprintf(p->short_id, sizeof(p->short_id), "%s", name);
	snprintf(p->hostname, sizeof(p->hostname), "%s.example", name);
	p->backend = &w->local;
	persona_set_power(p, POWER_ON, w->e.now);
	if (secret_set(&p->password, password, strlen(password)) < 0)
		return NULL;
	persona_table_reindex(w->personas);
	return p;
}

void tc_init(struct tc *c, struct tc_world *w, const char *src_ip, uint16_t src_port,
             uint8_t suite, const char *user, const char *password)
{
	const struct cipher_suite *s = cipher_suite_by_id(suite);
	struct sockaddr_in *a = (struct sockaddr_in *)&c->peer.addr;
	struct sockaddr_in *l = (struct sockaddr_in *)&c->peer.local;

	memset(c, 0, sizeof(*c));
	c->w = w;
	a->sin_family = AF_INET;
	a->sin_port = htons(src_port);
	inet_pton(AF_INET, src_ip, &a->sin_addr);
	c->peer.addr_len = sizeof(*a);
	l->sin_family = AF_INET;
	l->sin_port = htons(623);
	inet_pton(AF_INET, "127.0.0.1", &l->sin_addr);
	c->peer.local_len = sizeof(*l);
	if (s) {
		c->auth = s->auth;
		c->integ = s->integ;
		c->conf = s->conf;
	}
	c->user_len = (uint8_t)strnlen(user, sizeof(c->user));
	memcpy(c->user, user, c->user_len);
	memcpy(c->pw, password, strnlen(password, sizeof(c->pw)));
	c->role = PRIV_ADMIN; /* name-only lookup (bit 4 clear) */
	c->console_sid = 0xA0A1A2A3u;
	c->seq = 1;
	c->last_status = -1;
}

size_t tc_send(struct tc *c, const uint8_t *pkt, size_t len)
{
	c->rsp_len = engine_handle(&c->w->e, &c->peer, pkt, len, c->rsp, sizeof(c->rsp));
	return c->rsp_len;
}

/* ---- builders ------------------------------------------------------- */

static void rmcp_header(struct wcur *w)
{
	wcur_u8(w, RMCP_VERSION);
	wcur_u8(w, 0x00);
	wcur_u8(w, RMCP_SEQ_NO_ACK);
	wcur_u8(w, RMCP_CLASS_IPMI);
}

size_t tc_build_rmcpp_sessionless(uint8_t ptype, const uint8_t *payload, size_t plen,
                                  uint8_t *out, size_t cap)
{
	struct wcur w = wcur_make(out, cap);
	rmcp_header(&w);
	wcur_u8(&w, AUTHTYPE_RMCPP);
	wcur_u8(&w, ptype);
	wcur_le32(&w, 0);
	wcur_le32(&w, 0);
	wcur_le16(&w, (uint16_t)plen);
	wcur_bytes(&w, payload, plen);
	return wcur_ok(&w) ? wcur_len(&w) : 0;
}

/* Table 13-9: one algorithm record. */
static void alg_record(struct wcur *w, uint8_t type, uint8_t alg)
{
	wcur_u8(w, type);
	wcur_le16(w, 0);
	wcur_u8(w, 8);
	wcur_u8(w, alg);
	wcur_fill(w, 0, 3);
}

size_t tc_build_open(struct tc *c, uint8_t max_priv, uint8_t *out, size_t cap)
{
	uint8_t p[32];
	struct wcur w = wcur_make(p, sizeof(p));
	wcur_u8(&w, ++c->tag);
	wcur_u8(&w, max_priv);
	wcur_le16(&w, 0);
	wcur_le32(&w, c->console_sid);
	alg_record(&w, 0x00, c->auth);
	alg_record(&w, 0x01, c->integ);
	alg_record(&w, 0x02, c->conf);
	return tc_build_rmcpp_sessionless(PAYLOAD_OPEN_REQ, p, wcur_len(&w), out, cap);
}

size_t tc_build_rakp1(struct tc *c, uint8_t *out, size_t cap)
{
	uint8_t p[64];
	struct wcur w = wcur_make(p, sizeof(p));
	wcur_u8(&w, ++c->tag);
	wcur_fill(&w, 0, 3);
	wcur_le32(&w, c->bmc_sid);
	wcur_bytes(&w, c->rm, sizeof(c->rm));
	wcur_u8(&w, c->role);
	wcur_le16(&w, 0);
	wcur_u8(&w, c->user_len);
	wcur_bytes(&w, c->user, c->user_len);
	return tc_build_rmcpp_sessionless(PAYLOAD_RAKP1, p, wcur_len(&w), out, cap);
}

size_t tc_build_rakp3(struct tc *c, uint8_t status, const uint8_t *code, size_t code_len,
                      uint8_t *out, size_t cap)
{
	uint8_t p[64];
	struct wcur w = wcur_make(p, sizeof(p));
	wcur_u8(&w, ++c->tag);
	wcur_u8(&w, status);
	wcur_le16(&w, 0);
	wcur_le32(&w, c->bmc_sid);
	wcur_bytes(&w, code, code_len);
	return tc_build_rmcpp_sessionless(PAYLOAD_RAKP3, p, wcur_len(&w), out, cap);
}

size_t tc_build_msg(uint8_t netfn, uint8_t cmd, uint8_t rq_seq, const uint8_t *data,
                    size_t len, uint8_t *out, size_t cap)
{
	struct wcur w = wcur_make(out, cap);
	wcur_u8(&w, BMC_SLAVE_ADDR);
	wcur_u8(&w, (uint8_t)(netfn << 2));
	if (!wcur_ok(&w))
		return 0;
	wcur_u8(&w, ipmi_checksum(out, 2));
	wcur_u8(&w, 0x81);                      /* rqAddr: remote console SWID */
	wcur_u8(&w, (uint8_t)((rq_seq & 0x3f) << 2));
	wcur_u8(&w, cmd);
	wcur_bytes(&w, data, len);
	if (!wcur_ok(&w))
		return 0;
	wcur_u8(&w, ipmi_checksum(out + 3, wcur_len(&w) - 3));
	return wcur_ok(&w) ? wcur_len(&w) : 0;
}

size_t tc_build_v15_sessionless(const uint8_t *msg, size_t mlen, uint8_t *out, size_t cap)
{
	struct wcur w = wcur_make(out, cap);
	rmcp_header(&w);
	wcur_u8(&w, AUTHTYPE_NONE);
	wcur_le32(&w, 0);
	wcur_le32(&w, 0);
	wcur_u8(&w, (uint8_t)mlen);
	wcur_bytes(&w, msg, mlen);
	return wcur_ok(&w) ? wcur_len(&w) : 0;
}

size_t tc_wrap(struct tc *c, uint32_t seq, const uint8_t *msg, size_t mlen,
               uint8_t *out, size_t cap)
{
	struct wcur w = wcur_make(out, cap);
	uint8_t ptype = PAYLOAD_IPMI;

	if (c->integ != INTEG_NONE)
		ptype |= PAYLOAD_AUTHENTICATED;
	if (c->conf != CONF_NONE)
		ptype |= PAYLOAD_ENCRYPTED;
	rmcp_header(&w);
	size_t start = wcur_len(&w);
	wcur_u8(&w, AUTHTYPE_RMCPP);
	wcur_u8(&w, ptype);
	wcur_le32(&w, c->bmc_sid);
	wcur_le32(&w, seq);
	size_t len_at = wcur_reserve(&w, 2);
	size_t body = wcur_len(&w);
	if (c->conf != CONF_NONE) {
		uint8_t iv[16];
		tc_rand(iv, sizeof(iv));
		int n = cipher_conf_encrypt(&c->keys, iv, msg, mlen, out + w.off, wcur_room(&w));
		if (n < 0 || !wcur_claim(&w, (size_t)n))
			return 0;
	} else {
		wcur_bytes(&w, msg, mlen);
	}
	wcur_patch_le16(&w, len_at, (uint16_t)(wcur_len(&w) - body));
	if (c->integ != INTEG_NONE) {
		/* Table 13-8: pad so AuthType..Next Header is a multiple of 4. */
		size_t covered = wcur_len(&w) - start + 2;
		size_t pad = (4 - covered % 4) % 4;
		wcur_fill(&w, 0xff, pad);
		wcur_u8(&w, (uint8_t)pad);
		wcur_u8(&w, 0x07);
		size_t ilen = cipher_integ_len(c->integ);
		uint8_t *code = wcur_claim(&w, ilen);
		if (!code || cipher_integ_sign(c->integ, &c->keys, out + start,
		                               wcur_len(&w) - start - ilen, code) < 0)
			return 0;
	}
	return wcur_ok(&w) ? wcur_len(&w) : 0;
}

/* ---- conversations -------------------------------------------------- */

static void rakp_params(const struct tc *c, struct rakp_params *rp)
{
	memset(rp, 0, sizeof(*rp));
	rp->auth = c->auth;
	rp->console_sid = c->console_sid;
	rp->bmc_sid = c->bmc_sid;
	memcpy(rp->console_rand, c->rm, 16);
	memcpy(rp->bmc_rand, c->rc, 16);
	memcpy(rp->bmc_guid, c->guid, 16);
	rp->role = c->role;
	rp->user_len = c->user_len;
	memcpy(rp->user, c->user, c->user_len);
}

/* Checks the RMCP and session-less RMCP+ header of a reply and returns a
 * cursor on its payload, or err set. */
static struct cur sessionless_payload(const struct tc *c, uint8_t want_type)
{
	struct cur r = cur_make(c->rsp, c->rsp_len);
	bool ok = cur_u8(&r) == RMCP_VERSION;
	cur_skip(&r, 2);
	ok = cur_u8(&r) == RMCP_CLASS_IPMI && ok;
	ok = cur_u8(&r) == AUTHTYPE_RMCPP && ok;
	ok = cur_u8(&r) == want_type && ok;
	ok = cur_le32(&r) == 0 && ok;
	ok = cur_le32(&r) == 0 && ok;
	uint16_t plen = cur_le16(&r);
	struct cur p = cur_sub(&r, plen);
	if (!ok || !cur_done(&r))
		p.err = true;
	return p;
}

int tc_open_only(struct tc *c, uint8_t max_priv)
{
	uint8_t pkt[MAX_DATAGRAM];
	size_t n;
	struct cur p;

	c->last_status = -1;
	c->bmc_sid = 0;
	n = tc_build_open(c, max_priv, pkt, sizeof(pkt));
	if (!tc_send(c, pkt, n))
		return -1;
	p = sessionless_payload(c, PAYLOAD_OPEN_RSP);
	uint8_t tag = cur_u8(&p);
	uint8_t status = cur_u8(&p);
	if (!cur_ok(&p) || tag != c->tag)
		return -1;
	if (status != RMCPP_OK) {
		c->last_status = status;
		return -1;
	}
	cur_skip(&p, 2);
	if (cur_le32(&p) != c->console_sid)
		return -1;
	c->bmc_sid = cur_le32(&p);
	cur_skip(&p, 24);
	if (!cur_done(&p) || c->bmc_sid == 0)
		return -1;
	return 0;
}

int tc_open_session(struct tc *c, uint8_t max_priv)
{
	uint8_t pkt[MAX_DATAGRAM];
	size_t n;
	struct cur p;

	if (tc_open_only(c, max_priv) < 0)
		return -1;

	/* RAKP 1 / 2 */
	tc_rand(c->rm, sizeof(c->rm));
	n = tc_build_rakp1(c, pkt, sizeof(pkt));
	if (!tc_send(c, pkt, n))
		return -1;
	p = sessionless_payload(c, PAYLOAD_RAKP2);
	uint8_t tag = cur_u8(&p);
	uint8_t status = cur_u8(&p);
	if (!cur_ok(&p) || tag != c->tag)
		return -1;
	if (status != RMCPP_OK) {
		c->last_status = status;
		return -1;
	}
	cur_skip(&p, 2);
	if (cur_le32(&p) != c->console_sid)
		return -1;
	cur_bytes(&p, c->rc, 16);
	cur_bytes(&p, c->guid, 16);
	size_t maclen = cipher_auth_mac_len(c->auth);
	const uint8_t *code = cur_view(&p, maclen);
	if (!cur_done(&p))
		return -1;
	struct rakp_params rp;
	uint8_t want[CIPHER_MAX_MAC];
	rakp_params(c, &rp);
	if (cipher_rakp2_code(&rp, c->pw, sizeof(c->pw), want) != (int)maclen ||
	    (maclen && memcmp(want, code, maclen) != 0)) {
		c->last_status = RMCPP_INVALID_ICV; /* the BMC does not know our password */
		return -1;
	}

	/* RAKP 3 / 4 */
	uint8_t code3[CIPHER_MAX_MAC];
	int l3 = cipher_rakp3_code(&rp, c->pw, sizeof(c->pw), code3);
	if (l3 < 0)
		return -1;
	n = tc_build_rakp3(c, RMCPP_OK, code3, (size_t)l3, pkt, sizeof(pkt));
	if (!tc_send(c, pkt, n))
		return -1;
	p = sessionless_payload(c, PAYLOAD_RAKP4);
	tag = cur_u8(&p);
	status = cur_u8(&p);
	if (!cur_ok(&p) || tag != c->tag)
		return -1;
	if (status != RMCPP_OK) {
		c->last_status = status;
		return -1;
	}
	cur_skip(&p, 2);
	if (cur_le32(&p) != c->console_sid)
		return -1;
	if (cipher_derive_keys(&rp, c->pw, sizeof(c->pw), NULL, 0, &c->keys) < 0)
		return -1;
	uint8_t icv[CIPHER_MAX_MAC];
	int il = cipher_rakp4_icv(&rp, &c->keys, icv);
	const uint8_t *got = cur_view(&p, (size_t)(il < 0 ? 0 : il));
	if (il < 0 || !cur_done(&p) || (il && memcmp(icv, got, (size_t)il) != 0))
		return -1;
	c->seq = 1;
	c->last_status = RMCPP_OK;
	return 0;
}

int tc_unwrap(struct tc *c, const uint8_t *pkt, size_t len, uint8_t *msg, size_t *mlen)
{
	struct cur r = cur_make(pkt, len);
	if (cur_u8(&r) != RMCP_VERSION)
		return -1;
	cur_skip(&r, 2);
	if (cur_u8(&r) != RMCP_CLASS_IPMI)
		return -1;
	size_t start = r.off;
	if (cur_u8(&r) != AUTHTYPE_RMCPP)
		return -1;
	uint8_t ptype = cur_u8(&r);
	if (cur_le32(&r) != c->console_sid)
		return -1;
	(void)cur_le32(&r);
	uint16_t plen = cur_le16(&r);
	struct cur pl = cur_sub(&r, plen);
	if (!cur_ok(&r) || (ptype & 0x3f) != PAYLOAD_IPMI)
		return -1;
	if (c->integ != INTEG_NONE) {
		size_t ilen = cipher_integ_len(c->integ);
		size_t trailer = cur_remaining(&r);
		if (!(ptype & PAYLOAD_AUTHENTICATED) || trailer < 2 + ilen)
			return -1;
		const uint8_t *t = cur_view(&r, trailer);
		size_t pad = trailer - 2 - ilen;
		if (t[pad] != pad || t[pad + 1] != 0x07)
			return -1;
		if (!cipher_integ_verify(c->integ, &c->keys, pkt + start,
		                         len - start - ilen, t + pad + 2, ilen))
			return -1;
	} else if (cur_remaining(&r)) {
		return -1;
	}
	size_t n;
	const uint8_t *body = cur_rest(&pl, &n);
	if (!body)
		return -1;
	if (c->conf != CONF_NONE) {
		if (!(ptype & PAYLOAD_ENCRYPTED))
			return -1;
		int m = cipher_conf_decrypt(&c->keys, body, n, msg, MAX_DATAGRAM);
		if (m < 0)
			return -1;
		*mlen = (size_t)m;
	} else {
		memcpy(msg, body, n);
		*mlen = n;
	}
	return 0;
}

/* Checks a response message against its request and splits out cc/data. */
static int parse_rsp(const uint8_t *msg, size_t mlen, uint8_t netfn, uint8_t cmd,
                     uint8_t rq_seq, uint8_t *rdata, size_t *rlen)
{
	if (mlen < 8)
		return -1;
	if (ipmi_checksum(msg, 2) != msg[2] || ipmi_checksum(msg + 3, mlen - 4) != msg[mlen - 1])
		return -1;
	if (msg[0] != 0x81 || (msg[1] >> 2) != (netfn | 1) || msg[3] != BMC_SLAVE_ADDR ||
	    (msg[4] >> 2) != (rq_seq & 0x3f) || msg[5] != cmd)
		return -1;
	size_t n = mlen - 8;
	if (rdata)
		memcpy(rdata, msg + 7, n);
	if (rlen)
		*rlen = n;
	return msg[6];
}

int tc_request(struct tc *c, uint8_t netfn, uint8_t cmd, const uint8_t *data, size_t len,
               uint8_t *rdata, size_t *rlen)
{
	uint8_t msg[MAX_DATAGRAM], pkt[MAX_DATAGRAM], rmsg[MAX_DATAGRAM];
	size_t mlen, n, rml;
	uint8_t seq6 = c->rq_seq++ & 0x3f;

	mlen = tc_build_msg(netfn, cmd, seq6, data, len, msg, sizeof(msg));
	n = tc_wrap(c, c->seq++, msg, mlen, pkt, sizeof(pkt));
	if (!n || !tc_send(c, pkt, n))
		return -1;
	if (tc_unwrap(c, c->rsp, c->rsp_len, rmsg, &rml) < 0)
		return -1;
	return parse_rsp(rmsg, rml, netfn, cmd, seq6, rdata, rlen);
}

int tc_sessionless(struct tc *c, uint8_t netfn, uint8_t cmd, const uint8_t *data,
                   size_t len, uint8_t *rdata, size_t *rlen)
{
	uint8_t msg[MAX_DATAGRAM], pkt[MAX_DATAGRAM];
	uint8_t seq6 = c->rq_seq++ & 0x3f;
	size_t mlen = tc_build_msg(netfn, cmd, seq6, data, len, msg, sizeof(msg));
	size_t n = tc_build_v15_sessionless(msg, mlen, pkt, sizeof(pkt));
	if (!n || !tc_send(c, pkt, n))
		return -1;
	/* RMCP (4) + auth type, seq, session ID (9) + length byte */
	if (c->rsp_len < 14 || c->rsp[4] != AUTHTYPE_NONE || c->rsp[13] != c->rsp_len - 14)
		return -1;
	return parse_rsp(c->rsp + 14, c->rsp_len - 14, netfn, cmd, seq6, rdata, rlen);
}

/* ---- IPMI v1.5 (table 13-4) ------------------------------------------ */

size_t tc_v15_wrap(struct tc *c, uint32_t sid, uint32_t seq, const uint8_t *msg, size_t mlen,
                   uint8_t *out, size_t cap)
{
	struct wcur w = wcur_make(out, cap);
	uint8_t pw16[16];
	rmcp_header(&w);
	wcur_u8(&w, c->v15_authtype);
	wcur_le32(&w, seq);
	wcur_le32(&w, sid);
	if (c->v15_authtype != AUTHTYPE_NONE) {
		uint8_t *code = wcur_claim(&w, 16);
		memcpy(pw16, c->pw, 16);
		if (!code || cipher_v15_authcode(c->v15_authtype, pw16, sid, msg, mlen, seq, code) < 0)
			return 0;
	}
	wcur_u8(&w, (uint8_t)mlen);
	wcur_bytes(&w, msg, mlen);
	return wcur_ok(&w) ? wcur_len(&w) : 0;
}

/* Checks a v1.5 reply's AuthCode and returns its message. */
static int v15_unwrap(struct tc *c, uint8_t *msg, size_t *mlen)
{
	struct cur r = cur_make(c->rsp, c->rsp_len);
	uint8_t pw16[16], want[16];
	cur_skip(&r, 4);
	uint8_t at = cur_u8(&r);
	uint32_t seq = cur_le32(&r);
	uint32_t sid = cur_le32(&r);
	const uint8_t *code = at != AUTHTYPE_NONE ? cur_view(&r, 16) : NULL;
	uint8_t n = cur_u8(&r);
	const uint8_t *m = cur_view(&r, n);
	if (!cur_ok(&r) || at != c->v15_authtype || sid != c->v15_sid)
		return -1;
	if (code) {
		memcpy(pw16, c->pw, 16);
		if (cipher_v15_authcode(at, pw16, sid, m, n, seq, want) < 0 ||
		    memcmp(want, code, 16) != 0)
			return -1;
	}
	memcpy(msg, m, n);
	*mlen = n;
	return 0;
}

int tc_v15_request(struct tc *c, uint8_t netfn, uint8_t cmd, const uint8_t *data, size_t len,
                   uint8_t *rdata, size_t *rlen)
{
	uint8_t msg[MAX_DATAGRAM], pkt[MAX_DATAGRAM], rmsg[MAX_DATAGRAM];
	size_t ml, n, rml;
	uint8_t seq6 = c->rq_seq++ & 0x3f;
	ml = tc_build_msg(netfn, cmd, seq6, data, len, msg, sizeof(msg));
	n = tc_v15_wrap(c, c->v15_sid, c->v15_seq++, msg, ml, pkt, sizeof(pkt));
	if (!n || !tc_send(c, pkt, n) || v15_unwrap(c, rmsg, &rml) < 0)
		return -1;
	return parse_rsp(rmsg, rml, netfn, cmd, seq6, rdata, rlen);
}

int tc_v15_open(struct tc *c, uint8_t authtype, uint8_t priv)
{
	uint8_t req[32], d[64];
	size_t n;
	int cc;

	memset(req, 0, sizeof(req));
	req[0] = authtype;
	memcpy(req + 1, c->user, c->user_len);
	cc = tc_sessionless(c, NETFN_APP, CMD_GET_SESSION_CHALLENGE, req, 17, d, &n);
	if (cc != CC_OK)
		return cc;
	if (n != 20)
		return -1;
	uint32_t tmp = (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 |
	               (uint32_t)d[3] << 24;
	/* Activate Session inside the temporary session, sequence 0 */
	c->v15_authtype = authtype;
	c->v15_sid = tmp;
	req[0] = authtype;
	req[1] = priv;
	memcpy(req + 2, d + 4, 16);
	req[18] = 0x01; /* our first outbound sequence number from the BMC: 1 */
	req[19] = req[20] = req[21] = 0;
	uint8_t msg[64], pkt[256], rmsg[256];
	size_t rml;
	uint8_t seq6 = c->rq_seq++ & 0x3f;
	size_t ml = tc_build_msg(NETFN_APP, CMD_ACTIVATE_SESSION, seq6, req, 22, msg, sizeof(msg));
	n = tc_v15_wrap(c, tmp, 0, msg, ml, pkt, sizeof(pkt));
	if (!n || !tc_send(c, pkt, n) || v15_unwrap(c, rmsg, &rml) < 0)
		return -1;
	cc = parse_rsp(rmsg, rml, NETFN_APP, CMD_ACTIVATE_SESSION, seq6, d, &n);
	if (cc != CC_OK)
		return cc;
	if (n != 10)
		return -1;
	c->v15_sid = (uint32_t)d[1] | (uint32_t)d[2] << 8 | (uint32_t)d[3] << 16 |
	             (uint32_t)d[4] << 24;
	c->v15_seq = (uint32_t)d[5] | (uint32_t)d[6] << 8 | (uint32_t)d[7] << 16 |
	             (uint32_t)d[8] << 24;
	return 0;
}
