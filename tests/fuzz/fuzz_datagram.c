/*
 * fuzz_datagram.c - the whole receive path before authentication:
 * engine_handle() with RMCP, ASF, IPMI v1.5 and RMCP+ session-less
 * datagrams (Get Channel Authentication Capabilities, Open Session,
 * RAKP 1 and 3, Get Session Challenge, Activate Session).
 *
 * Header byte: bit 0 picks the configuration (default, or permissive:
 * cipher 0, suites 1/2, IPMI v1.5 on); bits 1-2 the source address of
 * each datagram (127.0.0.1..4); bit 3 patches the newest handshake's
 * session ID into RAKP 1/3 and v1.5 datagrams, so a conversation replayed
 * from a capture reaches RAKP 2 and Activate Session although the engine
 * picks new session IDs.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "ipmi.h"

static uint32_t newest_session(const struct engine *e)
{
	const struct session *best = NULL;
	for (size_t i = 0; i < e->sessions.cap; i++) {
		const struct session *s = &e->sessions.slots[i];
		if (s->state != SESS_FREE && (!best || s->created_ms >= best->created_ms))
			best = s;
	}
	return best ? best->id : 0;
}

static void patch_sid(uint8_t *d, size_t n, uint32_t sid)
{
	if (n < 16 || d[3] != RMCP_CLASS_IPMI)
		return;
	size_t at;
	if ((d[4] & 0x0f) == AUTHTYPE_RMCPP) {
		uint8_t pt = d[5] & 0x3f;
		if (pt != PAYLOAD_RAKP1 && pt != PAYLOAD_RAKP3)
			return;
		at = 16 + 4; /* payload: tag, 3 bytes, then the BMC session ID */
	} else {
		at = 4 + 1 + 4; /* v1.5: auth type, sequence, session ID */
	}
	if (at + 4 > n)
		return;
	for (int i = 0; i < 4; i++)
		d[at + (size_t)i] = (uint8_t)(sid >> (8 * i));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* one world per configuration, built once, reset for every input */
	static struct tc_world worlds[2];
	static bool ready[2];
	struct tc c;
	uint8_t buf[MAX_DATAGRAM + 64];
	const uint8_t *rec;
	size_t rec_len;

	if (size < 1)
		return 0;
	uint8_t hdr = data[0];
	data++;
	size--;

	struct tc_world *wp = &worlds[hdr & 1];
	if (!ready[hdr & 1]) {
		fuzz_quiet_logs();
		tc_default_config(&wp->cfg);
		wp->cfg.max_sessions = 16; /* small: eviction and the caps get exercised */
		if (hdr & 1) {
			static const uint8_t ids[] = { 0, 1, 2, 3, 17 };
			memcpy(wp->cfg.cipher_suites, ids, sizeof(ids));
			wp->cfg.cipher_suite_count = sizeof(ids);
			wp->cfg.allow_cipher_zero = true;
			wp->cfg.allow_ipmi15 = true;
		}
		if (tc_world_init(wp) < 0)
			abort();
		ready[hdr & 1] = true;
	}
	tc_world_add(wp, "a", "fuzz-password-2");

	char ip[16];
	snprintf(ip, sizeof(ip), "127.0.0.%u", 1u + ((hdr >> 1) & 3));
	tc_init(&c, wp, ip, 4242, 17, "node1", "fuzz-password-1");
	while (fuzz_next_record(&data, &size, &rec, &rec_len)) {
		if (rec_len > MAX_DATAGRAM)
			rec_len = MAX_DATAGRAM;
		/* an exact-size heap copy, so ASan sees any read past the end */
		uint8_t *d = malloc(rec_len ? rec_len : 1);
		memcpy(d, rec, rec_len);
		if (hdr & 8)
			patch_sid(d, rec_len, newest_session(&wp->e));
		size_t n = engine_handle(&wp->e, &c.peer, d, rec_len, buf, sizeof(buf));
		if (n > MAX_DATAGRAM)
			abort(); /* a reply must fit one datagram */
		free(d);
		wp->e.now += 7;
	}
	tc_world_reset(wp);
	return 0;
}
