/*
 * ipmi_msg.c - LAN message framing and checksums.
 */
#include "ipmi_msg.h"
#include "fnv.h"

uint8_t ipmi_checksum(const uint8_t *p, size_t n)
{
	uint8_t sum = 0;
	for (size_t i = 0; i < n; i++)
		sum = (uint8_t)(sum + p[i]);
	return (uint8_t)-sum;
}

int ipmi_msg_parse(const uint8_t *buf, size_t len, struct ipmi_req *out)
{
	struct cur c = cur_make(buf, len);
	uint8_t b;

	/* rsAddr netFn/LUN chk1 rqAddr rqSeq/LUN cmd chk2: 7 bytes minimum. */
	if (len < 7)
		return -1;
	if (ipmi_checksum(buf, 2) != buf[2])
		return -1;
	if (ipmi_checksum(buf + 3, len - 4) != buf[len - 1])
		return -1;
	out->rs_addr = cur_u8(&c);
	b = cur_u8(&c);
	out->netfn = b >> 2;
	out->rs_lun = b & 3;
	cur_skip(&c, 1);
	out->rq_addr = cur_u8(&c);
	b = cur_u8(&c);
	out->rq_seq = b >> 2;
	out->rq_lun = b & 3;
	out->cmd = cur_u8(&c);
	out->len = cur_remaining(&c) - 1;
	out->data = cur_view(&c, out->len);
	if (!cur_ok(&c) || (out->netfn & 1))
		return -1;
	return 0;
}

void ipmi_msg_write_rsp(struct wcur *w, const struct ipmi_req *rq,
                        const uint8_t *cc_and_data, size_t len)
{
	size_t start = w->off;

	wcur_u8(w, rq->rq_addr);
	wcur_u8(w, (uint8_t)(((rq->netfn | 1) << 2) | rq->rq_lun));
	if (!wcur_ok(w))
		return;
	wcur_u8(w, ipmi_checksum(w->base + start, 2));
	size_t body = w->off;
	wcur_u8(w, rq->rs_addr);
	wcur_u8(w, (uint8_t)((rq->rq_seq << 2) | rq->rs_lun));
	wcur_u8(w, rq->cmd);
	wcur_bytes(w, cc_and_data, len);
	if (!wcur_ok(w))
		return;
	wcur_u8(w, ipmi_checksum(w->base + body, w->off - body));
}

uint64_t ipmi_req_key(const struct ipmi_req *rq)
{
	uint8_t hdr[6] = { rq->rq_addr, rq->rq_seq, rq->rq_lun, rq->netfn,
	                   rq->cmd, rq->rs_lun };
	return fnv1a(fnv1a(FNV1A_INIT, hdr, sizeof(hdr)), rq->data, rq->len);
}
