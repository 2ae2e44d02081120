/*
 * cmd_storage.c - Storage netFn (0Ah): FRU inventory, and SDR repository
 * and SEL information answered consistently for a BMC that has no
 * sensors and an empty event log (sections 31 - 33).
 */
#include "cmd.h"
#include "engine.h"
#include "fru.h"
#include "ipmi.h"

#include <string.h>
#include <time.h>

#define SDR_SEL_VERSION 0x51 /* IPMI 1.5/2.0 format */

/* The image of FRU device id (only 0, the persona's inventory) into img:
 * CC_OK with its size in *n, or the completion code that refuses. */
static int fru_image(const struct cmd_ctx *c, uint8_t id, uint8_t img[FRU_MAX], size_t *n)
{
	if (id != 0)
		return CC_NOT_PRESENT;
	*n = fru_build(c->p, img, FRU_MAX);
	return *n == 0 ? CC_UNSPECIFIED : CC_OK;
}

static int get_fru_info(struct cmd_ctx *c)
{
	uint8_t img[FRU_MAX];
	size_t n;
	int cc = fru_image(c, cur_u8(&c->req), img, &n);

	if (cc != CC_OK)
		return cc;
	wcur_le16(c->rsp, (uint16_t)n);
	wcur_u8(c->rsp, 0x00); /* accessed by bytes */
	return CC_OK;
}

static int read_fru(struct cmd_ctx *c)
{
	uint8_t id = cur_u8(&c->req);
	uint16_t off = cur_le16(&c->req);
	uint8_t count = cur_u8(&c->req);
	uint8_t img[FRU_MAX];
	size_t n;
	int cc = fru_image(c, id, img, &n);

	if (cc != CC_OK)
		return cc;
	if (off >= n)
		return CC_PARAM_OUT_OF_RANGE;
	size_t take = n - off < count ? n - off : count;
	if (take > MAX_IPMI_DATA - 1)
		take = MAX_IPMI_DATA - 1;
	wcur_u8(c->rsp, (uint8_t)take);
	wcur_bytes(c->rsp, img + off, take);
	return CC_OK;
}

static int write_fru(struct cmd_ctx *c)
{
	/* The inventory mirrors Metal's record of the device. */
	return 0x80; /* write-protected offset */
}

static uint32_t now_seconds(void)
{
	return (uint32_t)time(NULL);
}

/*
 * The SDR repository holds one record: the Management Controller Device
 * Locator (type 12h, section 43.9) of this BMC, named after the device.
 * Every real BMC has one, and an empty repository makes ipmitool try to
 * rebuild it from sensors.
 */
#define SDR_MC_RECORD_ID 0x0001

static size_t mc_locator(const struct persona *p, uint8_t *out, size_t cap)
{
	struct wcur w = wcur_make(out, cap);
	const char *name = p->hostname[0] ? p->hostname : p->user;
	size_t n = strlen(name);

	if (n > 16)
		n = 16;
	wcur_le16(&w, SDR_MC_RECORD_ID);
	wcur_u8(&w, SDR_SEL_VERSION);
	wcur_u8(&w, 0x12);                  /* record type */
	wcur_u8(&w, (uint8_t)(11 + n));     /* bytes after the header */
	wcur_u8(&w, BMC_SLAVE_ADDR);        /* device slave address */
	wcur_u8(&w, 0x00);                  /* channel 0 */
	wcur_u8(&w, 0x00);                  /* no event generation */
	wcur_u8(&w, 0x80 | 0x08 | 0x04 | 0x02); /* chassis, FRU, SEL, SDR */
	wcur_fill(&w, 0, 3);
	wcur_u8(&w, 0x06);                  /* entity: system management module */
	wcur_u8(&w, 0x01);                  /* entity instance */
	wcur_u8(&w, 0x00);                  /* OEM */
	wcur_u8(&w, (uint8_t)(0xC0 | n));   /* 8-bit ASCII ID string */
	wcur_bytes(&w, name, n);
	return wcur_ok(&w) ? wcur_len(&w) : 0;
}

static int get_sdr_repo_info(struct cmd_ctx *c)
{
	wcur_u8(c->rsp, SDR_SEL_VERSION);
	wcur_le16(c->rsp, 1);            /* records */
	wcur_le16(c->rsp, 0);            /* free space: none, read-only */
	wcur_le32(c->rsp, 0);            /* most recent addition: never */
	wcur_le32(c->rsp, 0);            /* most recent erase: never */
	wcur_u8(c->rsp, 0x02);           /* reserve supported */
	return CC_OK;
}

static int reserve(struct cmd_ctx *c)
{
	/* Reservations only guard partial reads of records; with none to
	 * read any ID will do, but keep them distinct as the spec expects. */
	static uint16_t next;
	if (++next == 0)
		next = 1;
	wcur_le16(c->rsp, next);
	return CC_OK;
}

static int get_sdr(struct cmd_ctx *c)
{
	cur_skip(&c->req, 2); /* reservation: needed only for partial reads
	                         of records that can change; ours cannot */
	uint16_t id = cur_le16(&c->req);
	uint8_t off = cur_u8(&c->req);
	uint8_t count = cur_u8(&c->req);
	uint8_t rec[32];
	size_t n = mc_locator(c->p, rec, sizeof(rec));

	if (id != 0x0000 && id != SDR_MC_RECORD_ID && id != 0xFFFF)
		return CC_NOT_PRESENT;
	if (n == 0)
		return CC_UNSPECIFIED;
	if (off > n)
		return CC_PARAM_OUT_OF_RANGE;
	size_t take = count == 0xFF || count > n - off ? n - off : count;
	wcur_le16(c->rsp, 0xFFFF);       /* next record: none, this is the last */
	wcur_bytes(c->rsp, rec + off, take);
	return CC_OK;
}

static int get_sel_info(struct cmd_ctx *c)
{
	wcur_u8(c->rsp, SDR_SEL_VERSION);
	wcur_le16(c->rsp, 0);            /* entries */
	wcur_le16(c->rsp, 0);            /* free space in bytes */
	wcur_le32(c->rsp, 0xFFFFFFFF);   /* last addition: unspecified */
	wcur_le32(c->rsp, 0xFFFFFFFF);   /* last erase: unspecified */
	wcur_u8(c->rsp, 0x02);           /* reserve supported */
	return CC_OK;
}

static int get_sel_alloc(struct cmd_ctx *c)
{
	wcur_le16(c->rsp, 0);  /* allocation units */
	wcur_le16(c->rsp, 16); /* unit size */
	wcur_le16(c->rsp, 0);  /* free units */
	wcur_le16(c->rsp, 0);  /* largest free block */
	wcur_u8(c->rsp, 16);   /* maximum record size */
	return CC_OK;
}

static int get_sel_entry(struct cmd_ctx *c)
{
	return CC_NOT_PRESENT;
}

static int clear_sel(struct cmd_ctx *c)
{
	cur_skip(&c->req, 2); /* reservation */
	uint8_t clr[3];
	cur_bytes(&c->req, clr, 3);
	uint8_t op = cur_u8(&c->req);
	if (memcmp(clr, "CLR", 3) != 0 || (op != 0x00 && op != 0xAA))
		return CC_INVALID_DATA_FIELD;
	wcur_u8(c->rsp, 0x01); /* erasure completed */
	return CC_OK;
}

static int get_sel_time(struct cmd_ctx *c)
{
	wcur_le32(c->rsp, now_seconds());
	return CC_OK;
}

static int set_sel_time(struct cmd_ctx *c)
{
	/* The clock is the appliance's (NTP-disciplined); nothing to set. */
	return CC_OK;
}

static int get_sel_utc_offset(struct cmd_ctx *c)
{
	wcur_le16(c->rsp, 0); /* times are UTC */
	return CC_OK;
}

const struct cmd_def cmd_storage_table[] = {
	CMD_ROW(NETFN_STORAGE, CMD_GET_FRU_INFO, PRIV_USER, 1, 1, 0, get_fru_info),
	CMD_ROW(NETFN_STORAGE, CMD_READ_FRU, PRIV_USER, 4, 4, 0, read_fru),
	CMD_ROW(NETFN_STORAGE, CMD_WRITE_FRU, PRIV_OPERATOR, 3, 255, 0, write_fru),
	CMD_ROW(NETFN_STORAGE, CMD_GET_SDR_REPO_INFO, PRIV_USER, 0, 0, 0, get_sdr_repo_info),
	CMD_ROW(NETFN_STORAGE, CMD_RESERVE_SDR_REPO, PRIV_USER, 0, 0, 0, reserve),
	CMD_ROW(NETFN_STORAGE, CMD_GET_SDR, PRIV_USER, 6, 6, 0, get_sdr),
	CMD_ROW(NETFN_STORAGE, CMD_GET_SEL_INFO, PRIV_USER, 0, 0, 0, get_sel_info),
	CMD_ROW(NETFN_STORAGE, CMD_GET_SEL_ALLOC, PRIV_USER, 0, 0, 0, get_sel_alloc),
	CMD_ROW(NETFN_STORAGE, CMD_RESERVE_SEL, PRIV_USER, 0, 0, 0, reserve),
	CMD_ROW(NETFN_STORAGE, CMD_GET_SEL_ENTRY, PRIV_USER, 6, 6, 0, get_sel_entry),
	CMD_ROW(NETFN_STORAGE, CMD_CLEAR_SEL, PRIV_OPERATOR, 6, 6, 0, clear_sel),
	CMD_ROW(NETFN_STORAGE, CMD_GET_SEL_TIME, PRIV_USER, 0, 0, 0, get_sel_time),
	CMD_ROW(NETFN_STORAGE, CMD_SET_SEL_TIME, PRIV_OPERATOR, 4, 4, 0, set_sel_time),
	CMD_ROW(NETFN_STORAGE, CMD_GET_SEL_UTC_OFFSET, PRIV_USER, 0, 0, 0, get_sel_utc_offset),
};
const size_t cmd_storage_count = sizeof(cmd_storage_table) / sizeof(cmd_storage_table[0]);
