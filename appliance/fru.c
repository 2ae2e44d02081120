/*
 * fru.c - FRU image: common header, chassis, board and product areas.
 *
 * Fields come from the device: plan as product name and part number,
 * device UUID as product serial, short ID as board serial, hostname as
 * asset tag, so `ipmitool fru print` tells an operator which Metal
 * device this persona is.
 */
#include "fru.h"
#include "cursor.h"
#include "ipmi_msg.h"
#include "persona.h"

#include <string.h>

#define FRU_MANUFACTURER "Equinix Metal"
#define FRU_FIELD_MAX    63 /* type/length byte holds 6 bits of length */

/* An 8-bit ASCII field: type/length byte C0h | length, then the bytes. */
static void field(struct wcur *w, const char *s)
{
	size_t n = strlen(s);
	if (n > FRU_FIELD_MAX)
		n = FRU_FIELD_MAX;
	if (n == 1) {
		/* C1h would be the end-of-fields marker (section 13), and
		 * readers stop there: a one-character field gets a trailing
		 * space instead. */
		wcur_u8(w, 0xC2);
		wcur_u8(w, (uint8_t)s[0]);
		wcur_u8(w, ' ');
		return;
	}
	wcur_u8(w, (uint8_t)(0xC0 | n));
	wcur_bytes(w, s, n);
}

/* Ends an area begun at `start`: end marker C1h, zero pad to a multiple
 * of 8 including the checksum byte, length byte patched, checksum. */
static void close_area(struct wcur *w, size_t start)
{
	wcur_u8(w, 0xC1);
	size_t len = w->off - start + 1;
	wcur_fill(w, 0, (8 - len % 8) % 8);
	if (!wcur_ok(w))
		return;
	size_t total = w->off - start + 1;
	wcur_patch_u8(w, start + 1, (uint8_t)(total / 8));
	wcur_u8(w, ipmi_checksum(w->base + start, total - 1));
}

size_t fru_build(const struct persona *p, uint8_t *out, size_t cap)
{
	struct wcur w = wcur_make(out, cap);
	size_t chassis, board, product;
	const char *plan = p->plan[0] ? p->plan : "metal-server";

	wcur_fill(&w, 0, 8); /* common header, patched below */

	chassis = w.off;
	wcur_u8(&w, 0x01);  /* area format version */
	wcur_u8(&w, 0);     /* length, patched */
	wcur_u8(&w, 0x17);  /* chassis type: rack mount chassis */
	field(&w, plan);          /* part number */
	field(&w, p->short_id);   /* serial number */
	close_area(&w, chassis);

	board = w.off;
	wcur_u8(&w, 0x01);
	wcur_u8(&w, 0);
	wcur_u8(&w, 0x00);  /* language: English */
	wcur_fill(&w, 0, 3); /* manufacturing date: unspecified */
	field(&w, FRU_MANUFACTURER);
	field(&w, plan);          /* board product name */
	field(&w, p->short_id);   /* board serial */
	field(&w, plan);          /* board part number */
	field(&w, "");            /* FRU file ID */
	close_area(&w, board);

	product = w.off;
	wcur_u8(&w, 0x01);
	wcur_u8(&w, 0);
	wcur_u8(&w, 0x00);
	field(&w, FRU_MANUFACTURER);
	field(&w, plan);          /* product name */
	field(&w, plan);          /* part/model number */
	field(&w, p->metro[0] ? p->metro : ""); /* version: where it runs */
	field(&w, p->device_id);  /* serial number */
	field(&w, p->hostname);   /* asset tag */
	field(&w, "");            /* FRU file ID */
	close_area(&w, product);

	if (!wcur_ok(&w) || w.off % 8)
		return 0;
	out[0] = 0x01;                       /* format version */
	out[1] = 0;                          /* internal use: none */
	out[2] = (uint8_t)(chassis / 8);
	out[3] = (uint8_t)(board / 8);
	out[4] = (uint8_t)(product / 8);
	out[5] = 0;                          /* multirecord: none */
	out[6] = 0;
	out[7] = ipmi_checksum(out, 7);
	return w.off;
}
