/*
 * ipmi_msg.h - the IPMI LAN message inside a session payload (section
 * 13.8, figure 13-4): rsAddr, netFn/rsLUN, checksum, rqAddr, rqSeq/rqLUN,
 * cmd, data, checksum.
 */
#ifndef METALBMC_IPMI_MSG_H
#define METALBMC_IPMI_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "cursor.h"

struct ipmi_req {
	uint8_t rs_addr;
	uint8_t netfn;   /* request netFn (even) */
	uint8_t rs_lun;
	uint8_t rq_addr;
	uint8_t rq_seq;  /* 6 bits */
	uint8_t rq_lun;
	uint8_t cmd;
	const uint8_t *data; /* borrowed from the datagram */
	size_t len;
};

/* 2's complement checksum: the byte that makes the sum of the range 0. */
uint8_t ipmi_checksum(const uint8_t *p, size_t n);

/* Parses and checks both checksums. Returns 0, or -1 for a malformed
 * message (too short, bad checksum, a response netFn). */
int ipmi_msg_parse(const uint8_t *buf, size_t len, struct ipmi_req *out);

/* Writes the response to rq: cc then data. */
void ipmi_msg_write_rsp(struct wcur *w, const struct ipmi_req *rq,
                        const uint8_t *cc_and_data, size_t len);

/* A hash identifying a request for retransmission detection. */
uint64_t ipmi_req_key(const struct ipmi_req *rq);

#endif
