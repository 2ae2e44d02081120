/*
 * test_boot_options.c - Get/Set System Boot Options (IPMI v2.0 section
 * 28.12/28.13, table 28-14) through a real RMCP+ session on the engine.
 *
 * Parameter 5 data 1: bit 7 valid, bit 6 persistent, bit 5 EFI;
 * data 2 bits 5:2 the boot device (0001b PXE, 0010b disk, 0101b CD/DVD,
 * 0110b BIOS setup). The bytes below are what ipmitool's `chassis bootdev`
 * sends (ipmitool lib/ipmi_chassis.c), so they pin what clients rely on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ipmi.h"
#include "ipmi_test_client.h"

#define PW "boot-options-pw"

struct fx {
	struct tc_world w;
	struct persona *p;
	struct tc c;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	uint8_t d[8], lvl = PRIV_OPERATOR;
	size_t n;

	tc_seed(7);
	tc_default_config(&f->w.cfg);
	assert_int_equal(tc_world_init(&f->w), 0);
	f->p = tc_world_add(&f->w, "node1", PW);
	tc_init(&f->c, &f->w, "127.0.0.1", 40001, 17, "node1", PW);
	assert_int_equal(tc_open_session(&f->c, PRIV_ADMIN), 0);
	assert_int_equal(tc_request(&f->c, NETFN_APP, CMD_SET_SESSION_PRIV, &lvl, 1, d, &n), CC_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	tc_world_free(&f->w);
	free(f);
	return 0;
}

static int set_param(struct fx *f, uint8_t param, const uint8_t *data, size_t len)
{
	uint8_t req[32], d[32];
	size_t n;
	req[0] = param;
	memcpy(req + 1, data, len);
	return tc_request(&f->c, NETFN_CHASSIS, CMD_SET_BOOT_OPTIONS, req, 1 + len, d, &n);
}

/* Returns the cc; on success out gets the parameter data after the
 * version and selector bytes, which are checked here. */
static int get_param(struct fx *f, uint8_t param, uint8_t *out, size_t *len)
{
	uint8_t req[3] = { param, 0, 0 }, d[64];
	size_t n;
	int cc = tc_request(&f->c, NETFN_CHASSIS, CMD_GET_BOOT_OPTIONS, req, 3, d, &n);
	if (cc != CC_OK)
		return cc;
	assert_true(n >= 2);
	assert_int_equal(d[0], 0x01);            /* parameter version */
	assert_int_equal(d[1] & 0x7f, param);    /* selector, valid */
	memcpy(out, d + 2, n - 2);
	*len = n - 2;
	return cc;
}

static void check_flags(struct fx *f, const uint8_t want[5])
{
	uint8_t got[16];
	size_t n;
	assert_int_equal(get_param(f, 5, got, &n), CC_OK);
	assert_int_equal(n, 5);
	assert_memory_equal(got, want, 5);
	assert_memory_equal(f->p->boot.flags, want, 5);
}

static void test_flags_pxe_disk_none(void **state)
{
	struct fx *f = *state;
	/* default: no override (valid bit clear) */
	static const uint8_t none[5] = { 0, 0, 0, 0, 0 };
	check_flags(f, none);
	/* ipmitool chassis bootdev pxe: one-time, legacy */
	static const uint8_t pxe[5] = { 0x80, 0x04, 0, 0, 0 };
	assert_int_equal(set_param(f, 5, pxe, 5), CC_OK);
	check_flags(f, pxe);
	assert_string_equal(f->p->last_action, "boot pxe");
	/* bootdev disk options=persistent */
	static const uint8_t disk_p[5] = { 0xC0, 0x08, 0, 0, 0 };
	assert_int_equal(set_param(f, 5, disk_p, 5), CC_OK);
	check_flags(f, disk_p);
	assert_string_equal(f->p->last_action, "boot disk persistent");
	/* bootdev pxe options=persistent,efiboot */
	static const uint8_t pxe_pe[5] = { 0xE0, 0x04, 0, 0, 0 };
	assert_int_equal(set_param(f, 5, pxe_pe, 5), CC_OK);
	check_flags(f, pxe_pe);
	assert_string_equal(f->p->last_action, "boot pxe persistent efi");
	/* bootdev pxe options=efiboot (one time) */
	static const uint8_t pxe_e[5] = { 0xA0, 0x04, 0, 0, 0 };
	assert_int_equal(set_param(f, 5, pxe_e, 5), CC_OK);
	check_flags(f, pxe_e);
	/* CD/DVD and BIOS setup */
	static const uint8_t cd[5] = { 0x80, 0x14, 0, 0, 0 };
	assert_int_equal(set_param(f, 5, cd, 5), CC_OK);
	check_flags(f, cd);
	static const uint8_t bios[5] = { 0x80, 0x18, 0, 0, 0 };
	assert_int_equal(set_param(f, 5, bios, 5), CC_OK);
	check_flags(f, bios);
	/* bootdev none: valid bit clear means "no override" */
	static const uint8_t clear[5] = { 0x00, 0x00, 0, 0, 0 };
	assert_int_equal(set_param(f, 5, clear, 5), CC_OK);
	check_flags(f, clear);
	assert_string_equal(f->p->last_action, "boot none");
}

static void test_param5_bad_length(void **state)
{
	struct fx *f = *state;
	static const uint8_t six[6] = { 0x80, 0x04, 0, 0, 0, 0 };
	assert_int_equal(set_param(f, 5, six, 4), CC_DATA_LENGTH);
	assert_int_equal(set_param(f, 5, six, 6), CC_DATA_LENGTH);
	assert_int_equal(set_param(f, 5, six, 0), CC_DATA_LENGTH);
	/* nothing changed */
	static const uint8_t none[5] = { 0 };
	check_flags(f, none);
	/* Get needs exactly selector, set selector, block selector */
	uint8_t req[4] = { 5, 0, 0, 0 }, d[32];
	size_t n;
	assert_int_equal(tc_request(&f->c, NETFN_CHASSIS, CMD_GET_BOOT_OPTIONS, req, 2, d, &n),
	                 CC_DATA_LENGTH);
	assert_int_equal(tc_request(&f->c, NETFN_CHASSIS, CMD_GET_BOOT_OPTIONS, req, 4, d, &n),
	                 CC_DATA_LENGTH);
	/* 17 data bytes is the most Set accepts (mailbox block) */
	uint8_t big[32] = { 7 };
	assert_int_equal(tc_request(&f->c, NETFN_CHASSIS, CMD_SET_BOOT_OPTIONS, big, 19, d, &n),
	                 CC_DATA_LENGTH);
}

static void test_param0_set_in_progress(void **state)
{
	struct fx *f = *state;
	uint8_t v, got[8];
	size_t n;
	v = 0x01; /* set in progress */
	assert_int_equal(set_param(f, 0, &v, 1), CC_OK);
	assert_int_equal(get_param(f, 0, got, &n), CC_OK);
	assert_int_equal(n, 1);
	assert_int_equal(got[0], 0x01);
	v = 0x00; /* set complete */
	assert_int_equal(set_param(f, 0, &v, 1), CC_OK);
	assert_int_equal(get_param(f, 0, got, &n), CC_OK);
	assert_int_equal(got[0], 0x00);
	v = 0x03; /* reserved */
	assert_int_equal(set_param(f, 0, &v, 1), CC_INVALID_DATA_FIELD);
	uint8_t two[2] = { 0, 0 };
	assert_int_equal(set_param(f, 0, two, 2), CC_DATA_LENGTH);
}

static void test_param3_and_4(void **state)
{
	struct fx *f = *state;
	uint8_t got[8], v;
	size_t n;
	/* param 3: boot info valid bit clearing, 5 bits */
	v = 0xFF;
	assert_int_equal(set_param(f, 3, &v, 1), CC_OK);
	assert_int_equal(get_param(f, 3, got, &n), CC_OK);
	assert_int_equal(n, 1);
	assert_int_equal(got[0], 0x1F);
	uint8_t two[2] = { 1, 1 };
	assert_int_equal(set_param(f, 3, two, 2), CC_DATA_LENGTH);
	/* param 4: boot info acknowledge; data 1 is a write mask for data 2 */
	uint8_t ack[2] = { 0x03, 0x01 };
	assert_int_equal(set_param(f, 4, ack, 2), CC_OK);
	assert_int_equal(get_param(f, 4, got, &n), CC_OK);
	assert_int_equal(n, 2);
	assert_int_equal(got[1], 0x01);
	uint8_t masked[2] = { 0x02, 0xFF }; /* only bit 1 may change */
	assert_int_equal(set_param(f, 4, masked, 2), CC_OK);
	assert_int_equal(get_param(f, 4, got, &n), CC_OK);
	assert_int_equal(got[1], 0x03);
	assert_int_equal(set_param(f, 4, masked, 1), CC_DATA_LENGTH);
}

static void test_unknown_param(void **state)
{
	struct fx *f = *state;
	uint8_t got[8], v = 0;
	size_t n;
	/* 80h: parameter not supported (table 28-13) */
	assert_int_equal(set_param(f, 0x60, &v, 1), 0x80);
	assert_int_equal(get_param(f, 0x60, got, &n), 0x80);
	assert_int_equal(get_param(f, 0x7F, got, &n), 0x80);
}

static void test_needs_operator(void **state)
{
	struct fx *f = *state;
	uint8_t d[8], lvl = PRIV_USER;
	size_t n;
	assert_int_equal(tc_request(&f->c, NETFN_APP, CMD_SET_SESSION_PRIV, &lvl, 1, d, &n), CC_OK);
	static const uint8_t pxe[5] = { 0x80, 0x04, 0, 0, 0 };
	assert_int_equal(set_param(f, 5, pxe, 5), CC_INSUFFICIENT_PRIV);
	assert_int_equal(get_param(f, 5, d, &n), CC_INSUFFICIENT_PRIV);
	assert_int_equal(f->p->boot.flags[0], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_flags_pxe_disk_none, setup, teardown),
		cmocka_unit_test_setup_teardown(test_param5_bad_length, setup, teardown),
		cmocka_unit_test_setup_teardown(test_param0_set_in_progress, setup, teardown),
		cmocka_unit_test_setup_teardown(test_param3_and_4, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_param, setup, teardown),
		cmocka_unit_test_setup_teardown(test_needs_operator, setup, teardown),
	};
	return cmocka_run_group_tests_name("boot_options", tests, NULL, NULL);
}
