/*
 * cmd_transport.c - Transport netFn (0Ch): LAN configuration parameters
 * (section 23.2), read-only: the persona's "LAN interface" is the address
 * the console reached it on, and its cipher suites are the enabled ones.
 */
#include "cmd.h"
#include "cipher.h"
#include "engine.h"
#include "ipmi.h"

#include <arpa/inet.h>
#include <string.h>

#define LAN_PARAM_REVISION 0x11
#define CC_PARAM_NOT_SUPPORTED 0x80
#define CC_PARAM_READ_ONLY     0x82

static bool lan_channel(uint8_t ch)
{
	ch &= 0x0f;
	return ch == IPMI_CHANNEL_LAN || ch == IPMI_CHANNEL_CURRENT;
}

/* The IPv4 address the console sent to: that is where this BMC "is". */
static void local_ipv4(const struct cmd_ctx *c, uint8_t out[4])
{
	const struct sockaddr_storage *l = &c->from->local;
	memset(out, 0, 4);
	if (l->ss_family == AF_INET)
		memcpy(out, &((const struct sockaddr_in *)l)->sin_addr, 4);
	else if (l->ss_family == AF_INET6 &&
	         IN6_IS_ADDR_V4MAPPED(&((const struct sockaddr_in6 *)l)->sin6_addr))
		memcpy(out, ((const struct sockaddr_in6 *)l)->sin6_addr.s6_addr + 12, 4);
}

static size_t enabled_suites(const struct cmd_ctx *c, uint8_t ids[16])
{
	size_t n = 0;
	for (size_t i = 0; i < cipher_suite_count && n < 16; i++)
		if (engine_suite_enabled(c->eng, cipher_suites[i].id))
			ids[n++] = cipher_suites[i].id;
	return n;
}

static int get_lan_config(struct cmd_ctx *c)
{
	uint8_t ch = cur_u8(&c->req);
	uint8_t param = cur_u8(&c->req);
	uint8_t v15 = c->eng->cfg->allow_ipmi15
	                  ? (uint8_t)(1u << AUTHTYPE_MD5 | 1u << AUTHTYPE_PASSWORD) : 0;
	uint8_t ip[4], ids[16];
	size_t n;

	if (!lan_channel(ch))
		return CC_INVALID_DATA_FIELD;
	wcur_u8(c->rsp, LAN_PARAM_REVISION);
	if (ch & 0x80)
		return CC_OK; /* revision only */
	switch (param) {
	case 0:  wcur_u8(c->rsp, 0x00); break;            /* set complete */
	case 1:  wcur_u8(c->rsp, v15); break;             /* auth type support */
	case 2:  wcur_fill(c->rsp, v15, 5); break;        /* enables per level */
	case 3:  local_ipv4(c, ip); wcur_bytes(c->rsp, ip, 4); break;
	case 4:  wcur_u8(c->rsp, 0x01); break;            /* static address */
	case 5:  wcur_bytes(c->rsp, c->p->mac, 6); break;
	case 6:  wcur_fill(c->rsp, 0, 4); break;          /* subnet: not ours to know */
	case 7:  wcur_u8(c->rsp, 0x40); wcur_u8(c->rsp, 0x40); wcur_u8(c->rsp, 0x10); break;
	case 10: wcur_u8(c->rsp, 0x00); break;            /* no BMC ARP */
	case 11: wcur_u8(c->rsp, 0x00); break;
	case 12: wcur_fill(c->rsp, 0, 4); break;          /* default gateway */
	case 13: wcur_fill(c->rsp, 0, 6); break;
	case 14: wcur_fill(c->rsp, 0, 4); break;          /* backup gateway */
	case 15: wcur_fill(c->rsp, 0, 6); break;
	case 16: wcur_bytes(c->rsp, "public", 6); wcur_fill(c->rsp, 0, 12); break;
	case 17: wcur_u8(c->rsp, 0x00); break;            /* no alert destinations */
	case 20: wcur_le16(c->rsp, 0x0000); break;        /* no VLAN */
	case 21: wcur_u8(c->rsp, 0x00); break;
	case 22:
		wcur_u8(c->rsp, (uint8_t)enabled_suites(c, ids));
		break;
	case 23:
		n = enabled_suites(c, ids);
		wcur_u8(c->rsp, 0x00);
		wcur_bytes(c->rsp, ids, n);
		break;
	case 24: {
		/* Maximum privilege per suite entry, two entries per byte. */
		uint8_t lv[8];
		n = enabled_suites(c, ids);
		memset(lv, 0, sizeof(lv));
		for (size_t i = 0; i < n && i < 16; i++)
			lv[i / 2] |= (uint8_t)(PRIV_ADMIN << (4 * (i % 2)));
		wcur_u8(c->rsp, 0x00);
		wcur_bytes(c->rsp, lv, sizeof(lv));
		break;
	}
	default:
		return CC_PARAM_NOT_SUPPORTED;
	}
	return CC_OK;
}

static int set_lan_config(struct cmd_ctx *c)
{
	uint8_t ch = cur_u8(&c->req);
	uint8_t param = cur_u8(&c->req);
	if (!lan_channel(ch))
		return CC_INVALID_DATA_FIELD;
	/* "Set in progress" is accepted so that tools which bracket their
	 * writes with it get a clear refusal on the write itself. */
	if (param == 0)
		return CC_OK;
	return CC_PARAM_READ_ONLY;
}

const struct cmd_def cmd_transport_table[] = {
	CMD_ROW(NETFN_TRANSPORT, CMD_SET_LAN_CONFIG, PRIV_ADMIN, 3, 34, 0, set_lan_config),
	CMD_ROW(NETFN_TRANSPORT, CMD_GET_LAN_CONFIG, PRIV_OPERATOR, 4, 4, 0, get_lan_config),
};
const size_t cmd_transport_count = sizeof(cmd_transport_table) / sizeof(cmd_transport_table[0]);
