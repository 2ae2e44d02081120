/*
 * test_assign.c - own ports and addresses (discovery/assign.c): auto ports
 * from the range, fixed ports, conflicts settled in favour of the holder,
 * release, and the state file: written atomically with mode 0600, read
 * back after a "restart" with every assignment unchanged, a corrupt file
 * moved aside.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "assign.h"
#include "log.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/metalbmc-assign-XXXXXX");
	assert_non_null(mkdtemp(dir));
	log_set_level(LOG_LVL_ERROR);
	return 0;
}

static int teardown(void **state)
{
	char p[128];
	(void)state;
	snprintf(p, sizeof(p), "%s/%s", dir, ASSIGN_FILE);
	unlink(p);
	snprintf(p, sizeof(p), "%s/%s.bad", dir, ASSIGN_FILE);
	unlink(p);
	rmdir(dir);
	return 0;
}

static struct tag_config tags_port(enum tag_port mode, uint16_t port, const char *addr)
{
	struct tag_config tc;
	memset(&tc, 0, sizeof(tc));
	tc.enabled = true;
	tc.port_mode = mode;
	tc.port = port;
	snprintf(tc.address, sizeof(tc.address), "%s", addr ? addr : "");
	return tc;
}

static void open_fresh(struct assign *a)
{
	char why[200];
	uint16_t reserved[] = { 10623 };
	assert_int_equal(assign_open(a, dir, 20000, 20004, reserved, 1, why, sizeof(why)), 0);
}

static uint16_t settle(struct assign *a, const char *id, struct tag_config tc, int want_rc,
                       char *addr_out)
{
	uint16_t port = 0xffff;
	char addr[64], why[200];
	int rc = assign_settle(a, id, &tc, &port, addr, sizeof(addr), why, sizeof(why));
	if (rc != want_rc)
		fail_msg("settle %s: rc %d (%s), want %d", id, rc, why, want_rc);
	if (addr_out)
		strcpy(addr_out, addr);
	return port;
}

static void auto_ports_lowest_free(void **state)
{
	struct assign a;
	(void)state;
	open_fresh(&a);
	struct tag_config au = tags_port(TAG_PORT_AUTO, 0, NULL);
	assert_int_equal(settle(&a, "dev-a", au, 0, NULL), 20000);
	assert_int_equal(settle(&a, "dev-b", au, 0, NULL), 20001);
	assert_int_equal(settle(&a, "dev-c", au, 0, NULL), 20002);
	/* Asking again keeps what it has. */
	assert_int_equal(settle(&a, "dev-b", au, 0, NULL), 20001);
	/* Released ports are handed out again, lowest first. */
	assign_release(&a, "dev-a");
	assert_null(assign_get(&a, "dev-a"));
	assert_int_equal(settle(&a, "dev-d", au, 0, NULL), 20000);
	assert_int_equal(settle(&a, "dev-e", au, 0, NULL), 20003);
	assert_int_equal(settle(&a, "dev-f", au, 0, NULL), 20004);
	/* The range is full. */
	assert_int_equal(settle(&a, "dev-g", au, -1, NULL), 0);
	assert_null(assign_get(&a, "dev-g"));
	/* Tag removed: port released. */
	assert_int_equal(settle(&a, "dev-c", tags_port(TAG_PORT_NONE, 0, NULL), 0, NULL), 0);
	assert_null(assign_get(&a, "dev-c"));
	assert_int_equal(settle(&a, "dev-g", au, 0, NULL), 20002);
	assign_close(&a);
}

static void fixed_ports_and_conflicts(void **state)
{
	struct assign a;
	(void)state;
	open_fresh(&a);
	assert_int_equal(settle(&a, "dev-a", tags_port(TAG_PORT_FIXED, 6231, NULL), 0, NULL), 6231);
	/* Someone else asks for it: the holder keeps it. */
	assert_int_equal(settle(&a, "dev-b", tags_port(TAG_PORT_FIXED, 6231, NULL), -1, NULL), 0);
	/* The holder's second look changes nothing. */
	assert_int_equal(settle(&a, "dev-a", tags_port(TAG_PORT_FIXED, 6231, NULL), 0, NULL), 6231);
	/* A shared listener's port is never handed out. */
	assert_int_equal(settle(&a, "dev-c", tags_port(TAG_PORT_FIXED, 10623, NULL), -1, NULL), 0);
	/* Auto never picks a fixed one. */
	assert_int_equal(settle(&a, "dev-d", tags_port(TAG_PORT_FIXED, 20000, NULL), 0, NULL), 20000);
	assert_int_equal(settle(&a, "dev-e", tags_port(TAG_PORT_AUTO, 0, NULL), 0, NULL), 20001);
	/* Switching from auto to fixed frees the auto port. */
	assert_int_equal(settle(&a, "dev-e", tags_port(TAG_PORT_FIXED, 7000, NULL), 0, NULL), 7000);
	assert_int_equal(settle(&a, "dev-f", tags_port(TAG_PORT_AUTO, 0, NULL), 0, NULL), 20001);
	/* Once the holder lets go, the other device may have it. */
	assign_release(&a, "dev-a");
	assert_int_equal(settle(&a, "dev-b", tags_port(TAG_PORT_FIXED, 6231, NULL), 0, NULL), 6231);
	assign_close(&a);
}

static void addresses(void **state)
{
	struct assign a;
	char addr[64];
	(void)state;
	open_fresh(&a);
	assert_int_equal(settle(&a, "dev-a", tags_port(TAG_PORT_NONE, 0, "127.0.0.2"), 0, addr), 0);
	assert_string_equal(addr, "127.0.0.2");
	/* Same address on the shared port: the holder keeps it. */
	settle(&a, "dev-b", tags_port(TAG_PORT_NONE, 0, "127.0.0.2"), -1, addr);
	assert_string_equal(addr, "");
	/* Same address on an own port is a different endpoint. */
	assert_int_equal(settle(&a, "dev-b", tags_port(TAG_PORT_FIXED, 9000, "127.0.0.2"), 0, addr),
	                 9000);
	assert_string_equal(addr, "127.0.0.2");
	const struct assign_entry *e = assign_get(&a, "dev-b");
	assert_non_null(e);
	assert_int_equal(e->port, 9000);
	assert_string_equal(e->address, "127.0.0.2");
	assign_close(&a);
}

static void survives_restart(void **state)
{
	struct assign a, b;
	char path[128], why[200];
	struct stat st;
	(void)state;
	open_fresh(&a);
	struct tag_config au = tags_port(TAG_PORT_AUTO, 0, NULL);
	/* Many devices, so the index grows and rebuilds on the way. */
	char id[40];
	for (int i = 0; i < 5; i++) {
		snprintf(id, sizeof(id), "device-%03d", i);
		assert_int_equal(settle(&a, id, au, 0, NULL), 20000 + i);
	}
	settle(&a, "fixed", tags_port(TAG_PORT_FIXED, 6231, "127.0.0.3"), 0, NULL);
	assign_release(&a, "device-002");
	assert_true(a.dirty);
	assert_int_equal(assign_save(&a), 0);
	assert_false(a.dirty);
	snprintf(path, sizeof(path), "%s/%s", dir, ASSIGN_FILE);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/%s.tmp", dir, ASSIGN_FILE);
	assert_int_not_equal(stat(path, &st), 0); /* renamed, not left behind */
	assign_close(&a);

	/* The restart: same answers whatever order devices come back in. */
	uint16_t reserved[] = { 10623 };
	assert_int_equal(assign_open(&b, dir, 20000, 20004, reserved, 1, why, sizeof(why)), 0);
	assert_int_equal(settle(&b, "device-004", au, 0, NULL), 20004);
	assert_int_equal(settle(&b, "newcomer", au, 0, NULL), 20002); /* the freed one */
	assert_int_equal(settle(&b, "device-000", au, 0, NULL), 20000);
	assert_int_equal(settle(&b, "device-003", au, 0, NULL), 20003);
	assert_int_equal(settle(&b, "device-001", au, 0, NULL), 20001);
	char addr[64];
	assert_int_equal(settle(&b, "fixed", tags_port(TAG_PORT_FIXED, 6231, "127.0.0.3"), 0, addr),
	                 6231);
	assert_string_equal(addr, "127.0.0.3");
	/* A device that asks for a held port after the restart still loses. */
	assert_int_equal(settle(&b, "other", tags_port(TAG_PORT_FIXED, 6231, NULL), -1, NULL), 0);
	assert_int_equal(assign_save(&b), 0);
	assign_close(&b);
}

static void corrupt_file_moved_aside(void **state)
{
	struct assign a;
	char path[128], bad[140], why[200];
	struct stat st;
	(void)state;
	static const char *const bodies[] = {
		"{not json",
		"[]",
		"{\"version\":2,\"assignments\":[]}",
		"{\"version\":1,\"assignments\":{}}",
		"{\"version\":1,\"assignments\":[{\"device_id\":7}]}",
		"{\"version\":1,\"assignments\":[{\"device_id\":\"a\",\"port\":70000}]}",
		"{\"version\":1,\"assignments\":[{\"device_id\":\"a\",\"port\":1},{\"device_id\":\"a\",\"port\":2}]}",
		"{\"version\":1,\"assignments\":[{\"device_id\":\"a\",\"port\":5},{\"device_id\":\"b\",\"port\":5}]}",
	};
	snprintf(path, sizeof(path), "%s/%s", dir, ASSIGN_FILE);
	snprintf(bad, sizeof(bad), "%s.bad", path);
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fputs(bodies[i], f);
		fclose(f);
		unlink(bad);
		assert_int_equal(assign_open(&a, dir, 20000, 20004, NULL, 0, why, sizeof(why)), 0);
		assert_int_equal(a.live, 0);
		assert_int_equal(stat(bad, &st), 0);
		assert_int_not_equal(stat(path, &st), 0);
		assign_close(&a);
	}
	unlink(bad);
	/* A state directory that is a file is an error at start. */
	FILE *f = fopen(path, "w");
	fclose(f);
	char notdir[160];
	snprintf(notdir, sizeof(notdir), "%s/sub", path);
	assert_int_equal(assign_open(&a, notdir, 20000, 20004, NULL, 0, why, sizeof(why)), -1);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(auto_ports_lowest_free),
		cmocka_unit_test(fixed_ports_and_conflicts),
		cmocka_unit_test(addresses),
		cmocka_unit_test(survives_restart),
		cmocka_unit_test(corrupt_file_moved_aside),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
