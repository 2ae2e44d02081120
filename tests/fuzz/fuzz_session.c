/*
 * fuzz_session.c - the command handlers behind authentication. For each
 * input the harness opens a real session (RMCP+ with the suite the header
 * picks, or IPMI v1.5) exactly as a console would, then feeds the records
 * into it, correctly wrapped: signed, encrypted, in sequence.
 *
 * Header byte: bits 0-2 pick the session (suite 17, 3, 2, 1, 0, v1.5 MD5,
 * v1.5 straight password, suite 17 again); bit 3 raises the session to
 * Administrator first, unless bit 4 is also set (then it stays at the
 * level it started with, User).
 *
 * Each record's first byte says what the rest is: 0 = netFn, command and
 * data, framed by the harness (checksums right, so the fuzzer reaches the
 * handlers at once); 1 = a whole IPMI message, sent as it is; 2 = a raw
 * datagram with the live session ID patched in (unauthenticated garbage
 * aimed at an established session); 3 = like 0 but sent twice with the
 * same rqSeq (the retransmission cache).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "ipmi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void send_msg(struct tc *c, bool v15, const uint8_t *msg, size_t ml)
{
	uint8_t pkt[MAX_DATAGRAM + 64];
	size_t n = v15 ? tc_v15_wrap(c, c->v15_sid, c->v15_seq++, msg, ml, pkt, sizeof(pkt))
	               : tc_wrap(c, c->seq++, msg, ml, pkt, sizeof(pkt));
	if (n)
		tc_send(c, pkt, n);
	if (c->rsp_len > MAX_DATAGRAM)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tc_world w;
	static const uint8_t suites[8] = { 17, 3, 2, 1, 0, 0xF2, 0xF4, 17 };
	struct tc c;
	const uint8_t *rec;
	size_t rec_len;

	if (size < 1)
		return 0;
	uint8_t hdr = data[0];
	data++;
	size--;

	static bool ready;
	if (!ready) {
		fuzz_quiet_logs();
		tc_default_config(&w.cfg);
		static const uint8_t ids[] = { 0, 1, 2, 3, 17 };
		memcpy(w.cfg.cipher_suites, ids, sizeof(ids));
		w.cfg.cipher_suite_count = sizeof(ids);
		w.cfg.allow_cipher_zero = true;
		w.cfg.allow_ipmi15 = true;
		w.cfg.max_sessions = 16;
		if (tc_world_init(&w) < 0)
			abort();
		ready = true;
	}
	tc_seed(2);
	tc_world_add(&w, "node1", "fuzz-password-1");
	tc_world_add(&w, "node2", "fuzz-password-2");

	uint8_t pick = suites[hdr & 7];
	bool v15 = pick >= 0xF0;
	tc_init(&c, &w, "127.0.0.1", 623, v15 ? 17 : pick, "node1", "fuzz-password-1");
	int rc = v15 ? tc_v15_open(&c, pick & 0x0f, PRIV_ADMIN) : tc_open_session(&c, PRIV_ADMIN);
	if (rc != 0)
		abort(); /* the harness's own login must always work */
	if ((hdr & 8) && !(hdr & 16)) {
		uint8_t lvl = PRIV_ADMIN, d[64];
		size_t n;
		if ((v15 ? tc_v15_request(&c, NETFN_APP, CMD_SET_SESSION_PRIV, &lvl, 1, d, &n)
		         : tc_request(&c, NETFN_APP, CMD_SET_SESSION_PRIV, &lvl, 1, d, &n)) != CC_OK)
			abort();
	}

	while (fuzz_next_record(&data, &size, &rec, &rec_len)) {
		uint8_t msg[MAX_DATAGRAM];
		size_t ml;
		if (rec_len < 1)
			continue;
		uint8_t kind = rec[0] & 3;
		rec++;
		rec_len--;
		if (rec_len > 1024)
			rec_len = 1024;
		switch (kind) {
		case 0:
		case 3:
			if (rec_len < 2)
				continue;
			ml = tc_build_msg(rec[0] & 0xfe, rec[1], c.rq_seq++, rec + 2, rec_len - 2,
			                  msg, sizeof(msg));
			if (!ml)
				continue;
			send_msg(&c, v15, msg, ml);
			if (kind == 3)
				send_msg(&c, v15, msg, ml);
			break;
		case 1:
			memcpy(msg, rec, rec_len);
			send_msg(&c, v15, msg, rec_len);
			break;
		case 2: {
			uint8_t *d = malloc(rec_len ? rec_len : 1);
			memcpy(d, rec, rec_len);
			uint32_t sid = v15 ? c.v15_sid : c.bmc_sid;
			size_t at = rec_len > 5 && (d[4] & 0x0f) == AUTHTYPE_RMCPP ? 6 : 9;
			for (size_t i = 0; i < 4 && at + i < rec_len; i++)
				d[at + i] = (uint8_t)(sid >> (8 * i));
			tc_send(&c, d, rec_len);
			free(d);
			break;
		}
		}
		w.e.now += 3;
	}
	tc_world_reset(&w);
	return 0;
}
