/*
 * cmd_chassis.c - Chassis netFn (00h): status, control, identify, power
 * restore policy, restart cause, System Boot Options, POH counter
 * (section 28).
 */
#include "cmd.h"
#include "engine.h"
#include "ipmi.h"
#include "log.h"

#include <stdio.h>
#include <string.h>

#define BOOT_PARAM_VERSION 0x01
#define IDENTIFY_DEFAULT_S 15 /* seconds, when Chassis Identify gives none */

static int get_chassis_caps(struct cmd_ctx *c)
{
	wcur_u8(c->rsp, 0x00);         /* no intrusion sensor, no lockout */
	wcur_u8(c->rsp, BMC_SLAVE_ADDR); /* FRU info device */
	wcur_u8(c->rsp, BMC_SLAVE_ADDR); /* SDR device */
	wcur_u8(c->rsp, BMC_SLAVE_ADDR); /* SEL device */
	wcur_u8(c->rsp, BMC_SLAVE_ADDR); /* system management device */
	return CC_OK;
}

static uint8_t identify_state(const struct cmd_ctx *c)
{
	uint64_t until = c->p->identify_until_ms;
	if (until == UINT64_MAX)
		return 2;                  /* indefinite */
	return until > c->eng->now ? 1 : 0; /* temporary / off */
}

static int get_chassis_status(struct cmd_ctx *c)
{
	struct persona *p = c->p;
	/* current power state: bit 0 power on; bits 6:5 restore policy */
	wcur_u8(c->rsp, (uint8_t)((p->power == POWER_ON ? 0x01 : 0x00) |
	                          (p->restore_policy & 3) << 5));
	wcur_u8(c->rsp, p->last_power_event);
	/* misc: identify supported (bit 6) and its state (bits 5:4) */
	wcur_u8(c->rsp, (uint8_t)(0x40 | identify_state(c) << 4));
	wcur_u8(c->rsp, 0x00);         /* front panel: nothing to disable */
	return CC_OK;
}

static int chassis_control(struct cmd_ctx *c)
{
	uint8_t action = cur_u8(&c->req) & 0x0f;
	struct backend_req r = { .kind = BREQ_POWER, .action = action };
	int cc;

	if (action > CTL_SOFT_OFF)
		return CC_INVALID_DATA_FIELD;
	engine_describe_peer(c->from, c->s->user, c->s->user_len, r.source, sizeof(r.source));
	cc = cmd_submit(c, &r);
	if (cc == CC_OK || cc == CMD_PENDING) {
		/* bit 4: the last power-on state came from an IPMI command */
		c->p->last_power_event = 0x10;
		c->p->restart_cause = 0x01; /* Chassis Control command */
	}
	return cc;
}

static int chassis_identify(struct cmd_ctx *c)
{
	unsigned interval = IDENTIFY_DEFAULT_S;
	bool force = false;

	if (cur_remaining(&c->req) >= 1)
		interval = cur_u8(&c->req);
	if (cur_remaining(&c->req) >= 1)
		force = cur_u8(&c->req) & 0x01;
	if (force)
		c->p->identify_until_ms = UINT64_MAX;
	else if (interval == 0)
		c->p->identify_until_ms = 0;
	else
		c->p->identify_until_ms = c->eng->now + (uint64_t)interval * 1000u;
	return CC_OK;
}

static int set_power_restore(struct cmd_ctx *c)
{
	uint8_t policy = cur_u8(&c->req) & 0x07;
	if (policy > 3)
		return CC_INVALID_DATA_FIELD;
	if (policy != 3)
		c->p->restore_policy = policy;
	wcur_u8(c->rsp, 0x07); /* always off, previous, always on all supported */
	return CC_OK;
}

static int get_restart_cause(struct cmd_ctx *c)
{
	wcur_u8(c->rsp, c->p->restart_cause & 0x0f);
	wcur_u8(c->rsp, IPMI_CHANNEL_LAN);
	return CC_OK;
}

static int get_poh_counter(struct cmd_ctx *c)
{
	struct persona *p = c->p;
	uint64_t minutes = p->poh_minutes;
	if (p->power == POWER_ON && p->power_on_since_ms && c->eng->now > p->power_on_since_ms)
		minutes += (c->eng->now - p->power_on_since_ms) / 60000u;
	wcur_u8(c->rsp, 1); /* minutes per count */
	wcur_le32(c->rsp, minutes > UINT32_MAX ? UINT32_MAX : (uint32_t)minutes);
	return CC_OK;
}

/* ---- System Boot Options (section 28.12, table 28-14) -------------- */

/* The boot flags the persona reports: the backend's view when it has one
 * (a Metal device's always_pxe), else what was last written. */
static void current_flags(struct cmd_ctx *c, uint8_t flags[5])
{
	struct persona *p = c->p;
	struct boot_target t;

	memcpy(flags, p->boot.flags, 5);
	if (p->backend && p->backend->ops->boot_get &&
	    p->backend->ops->boot_get(p->backend, p, &t)) {
		uint8_t dev = (flags[1] >> 2) & 0x0f;
		if (t.dev != dev || !(flags[0] & 0x80) ||
		    t.persistent != !!(flags[0] & 0x40)) {
			/* The device changed behind our back (someone used the
			 * Metal API): report the device, keep the EFI bit. */
			flags[0] = (uint8_t)((t.dev != BOOTDEV_NONE ? 0x80 : 0) |
			                     (t.persistent ? 0x40 : 0) | (flags[0] & 0x20));
			flags[1] = (uint8_t)((flags[1] & ~0x3c) | (t.dev & 0x0f) << 2);
		}
	}
}

static int get_boot_options(struct cmd_ctx *c)
{
	uint8_t param = cur_u8(&c->req) & 0x7f;
	struct boot_params *b = &c->p->boot;
	uint8_t flags[5];

	wcur_u8(c->rsp, BOOT_PARAM_VERSION);
	wcur_u8(c->rsp, param);
	switch (param) {
	case 0: wcur_u8(c->rsp, b->set_in_progress); break;
	case 1: wcur_u8(c->rsp, b->service_partition); break;
	case 2: wcur_u8(c->rsp, b->partition_scan); break;
	case 3: wcur_u8(c->rsp, b->valid_bit_clearing); break;
	case 4: wcur_bytes(c->rsp, b->info_ack, 2); break;
	case 5:
		current_flags(c, flags);
		wcur_bytes(c->rsp, flags, 5);
		break;
	case 6: wcur_bytes(c->rsp, b->initiator_info, sizeof(b->initiator_info)); break;
	case 7:
		wcur_u8(c->rsp, 0); /* set selector: one block */
		wcur_bytes(c->rsp, b->mailbox, sizeof(b->mailbox));
		break;
	default:
		return 0x80; /* parameter not supported */
	}
	return CC_OK;
}

static int set_boot_flags(struct cmd_ctx *c, const uint8_t *d)
{
	struct backend_req r = { .kind = BREQ_BOOT };
	uint8_t dev = (d[1] >> 2) & 0x0f;
	bool valid = d[0] & 0x80;
	int cc;

	r.boot.dev = valid ? dev : BOOTDEV_NONE;
	r.boot.persistent = d[0] & 0x40;
	r.boot.efi = d[0] & 0x20;
	engine_describe_peer(c->from, c->s->user, c->s->user_len, r.source, sizeof(r.source));
	cc = cmd_submit(c, &r);
	if (cc == CC_OK)
		memcpy(c->p->boot.flags, d, 5);
	else if (cc == CMD_PENDING) {
		c->apply_boot = true;
		memcpy(c->boot_flags, d, 5);
	}
	return cc;
}

static int set_boot_options(struct cmd_ctx *c)
{
	uint8_t param = cur_u8(&c->req) & 0x7f;
	size_t n = cur_remaining(&c->req);
	const uint8_t *d = cur_view(&c->req, n);
	struct boot_params *b = &c->p->boot;

	switch (param) {
	case 0:
		if (n != 1 || (d[0] & 3) == 3)
			return n != 1 ? CC_DATA_LENGTH : CC_INVALID_DATA_FIELD;
		/* Lenient on purpose: a console that died mid-update must not
		 * lock the next one out, so "in progress" never refuses. */
		b->set_in_progress = d[0] & 3;
		return CC_OK;
	case 1:
		if (n != 1)
			return CC_DATA_LENGTH;
		b->service_partition = d[0];
		return CC_OK;
	case 2:
		if (n != 1)
			return CC_DATA_LENGTH;
		b->partition_scan = d[0] & 0x03;
		return CC_OK;
	case 3:
		if (n != 1)
			return CC_DATA_LENGTH;
		b->valid_bit_clearing = d[0] & 0x1f;
		return CC_OK;
	case 4:
		if (n != 2)
			return CC_DATA_LENGTH;
		b->info_ack[1] = (uint8_t)((b->info_ack[1] & ~d[0]) | (d[1] & d[0]));
		return CC_OK;
	case 5:
		if (n != 5)
			return CC_DATA_LENGTH;
		return set_boot_flags(c, d);
	case 6:
		if (n != sizeof(b->initiator_info))
			return CC_DATA_LENGTH;
		memcpy(b->initiator_info, d, n);
		return CC_OK;
	case 7:
		if (n < 1 || n > 1 + sizeof(b->mailbox))
			return CC_DATA_LENGTH;
		if (d[0] != 0)
			return CC_PARAM_OUT_OF_RANGE;
		memcpy(b->mailbox, d + 1, n - 1);
		return CC_OK;
	default:
		return 0x80; /* parameter not supported */
	}
}

const struct cmd_def cmd_chassis_table[] = {
	CMD_ROW(NETFN_CHASSIS, CMD_GET_CHASSIS_CAPS, PRIV_USER, 0, 0, 0, get_chassis_caps),
	CMD_ROW(NETFN_CHASSIS, CMD_GET_CHASSIS_STATUS, PRIV_USER, 0, 0, 0, get_chassis_status),
	CMD_ROW(NETFN_CHASSIS, CMD_CHASSIS_CONTROL, PRIV_OPERATOR, 1, 1, 0, chassis_control),
	CMD_ROW(NETFN_CHASSIS, CMD_CHASSIS_IDENTIFY, PRIV_OPERATOR, 0, 2, 0, chassis_identify),
	CMD_ROW(NETFN_CHASSIS, CMD_SET_POWER_RESTORE, PRIV_OPERATOR, 1, 1, 0, set_power_restore),
	CMD_ROW(NETFN_CHASSIS, CMD_GET_RESTART_CAUSE, PRIV_USER, 0, 0, 0, get_restart_cause),
	CMD_ROW(NETFN_CHASSIS, CMD_SET_BOOT_OPTIONS, PRIV_OPERATOR, 1, 17, 0, set_boot_options),
	CMD_ROW(NETFN_CHASSIS, CMD_GET_BOOT_OPTIONS, PRIV_OPERATOR, 3, 3, 0, get_boot_options),
	CMD_ROW(NETFN_CHASSIS, CMD_GET_POH_COUNTER, PRIV_USER, 0, 0, 0, get_poh_counter),
};
const size_t cmd_chassis_count = sizeof(cmd_chassis_table) / sizeof(cmd_chassis_table[0]);
