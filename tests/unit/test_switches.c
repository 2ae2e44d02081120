/*
 * test_switches.c - the admin's persisted disable switch
 * (appliance/switches.c): written at every change with mode 0600, read
 * back after a "restart", applied to new personas, a damaged file refused
 * with its path and reason (never silently dropped), the cap.
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

#include "log.h"
#include "persona.h"
#include "switches.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/metalbmc-switches-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/%s", dir, SWITCHES_FILE);
	log_set_level(LOG_LVL_ERROR);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	rmdir(dir);
	return 0;
}

static void write_file(const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_absent_file_is_empty(void **state)
{
	struct switches s;
	char why[300] = "";
	(void)state;
	assert_int_equal(switches_open(&s, dir, why, sizeof(why)), 0);
	assert_int_equal(s.n, 0);
	assert_false(switches_is_off(&s, "dev-1"));
	assert_false(switches_is_off(NULL, "dev-1"));
	switches_close(&s);
	assert_int_equal(access(path, F_OK), -1); /* reading never creates it */
}

static void test_survives_a_restart(void **state)
{
	struct switches s;
	struct stat st;
	char why[300] = "";
	(void)state;
	assert_int_equal(switches_open(&s, dir, why, sizeof(why)), 0);
	assert_int_equal(switches_set(&s, "dev-1", true, why, sizeof(why)), 0);
	assert_int_equal(switches_set(&s, "dev-2", true, why, sizeof(why)), 0);
	assert_int_equal(switches_set(&s, "dev-3", true, why, sizeof(why)), 0);
	assert_int_equal(switches_set(&s, "dev-2", false, why, sizeof(why)), 0);
	assert_int_equal(switches_set(&s, "dev-1", true, why, sizeof(why)), 0); /* again */
	assert_int_equal(s.n, 2);
	switches_close(&s);

	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(switches_open(&s, dir, why, sizeof(why)), 0);
	assert_true(switches_is_off(&s, "dev-1"));
	assert_false(switches_is_off(&s, "dev-2"));
	assert_true(switches_is_off(&s, "dev-3"));
	assert_false(switches_is_off(&s, "dev-4"));
	assert_int_equal(switches_set(&s, "dev-1", false, why, sizeof(why)), 0);
	assert_int_equal(switches_set(&s, "dev-3", false, why, sizeof(why)), 0);
	switches_close(&s);
	assert_int_equal(switches_open(&s, dir, why, sizeof(why)), 0);
	assert_int_equal(s.n, 0);
	switches_close(&s);
}

static void test_new_personas_take_the_switch(void **state)
{
	struct switches s;
	char why[300] = "";
	(void)state;
	assert_int_equal(switches_open(&s, dir, why, sizeof(why)), 0);
	assert_int_equal(switches_set(&s, "dev-off", true, why, sizeof(why)), 0);
	struct persona_table *t = persona_table_new();
	assert_non_null(t);
	struct persona *on = persona_add(t, "dev-on");
	assert_non_null(on);
	assert_true(on->enabled); /* no switches in use yet */
	persona_table_use_switches(t, &s);
	struct persona *off = persona_add(t, "dev-off");
	struct persona *on2 = persona_add(t, "dev-on2");
	assert_non_null(off);
	assert_non_null(on2);
	assert_false(off->enabled);
	assert_true(on2->enabled);
	persona_table_free(t);
	switches_close(&s);
}

static void expect_refused(const char *text, const char *reason)
{
	struct switches s;
	char why[300] = "";
	write_file(text);
	assert_int_equal(switches_open(&s, dir, why, sizeof(why)), -1);
	assert_non_null(strstr(why, path));
	if (!strstr(why, reason))
		fail_msg("why '%s' lacks '%s'", why, reason);
	assert_non_null(strstr(why, "remove it to enable them all"));
	assert_int_equal(access(path, F_OK), 0); /* left where it is */
}

static void test_damaged_file_stops_start_up(void **state)
{
	(void)state;
	expect_refused("{\"version\": 1, \"disabled\": [\"dev-1\"", "not valid JSON (line 1");
	expect_refused("[]", "not a version 1 switches file");
	expect_refused("{\"version\": 2, \"disabled\": []}", "not a version 1 switches file");
	expect_refused("{\"version\": 1}", "disabled: expected an array");
	expect_refused("{\"version\": 1, \"disabled\": [\"a\", 7]}", "disabled[1]: not a device ID");
	expect_refused("{\"version\": 1, \"disabled\": [\"\"]}", "disabled[0]: not a device ID");
	expect_refused("{\"version\": 1, \"disabled\": [\"a\\u0000b\"]}", "not valid JSON");
	expect_refused("{\"version\": 1, \"disabled\": [\"0123456789012345678901234567890123456789\"]}",
	               "disabled[0]: not a device ID");
	expect_refused("{\"version\": 1, \"version\": 1, \"disabled\": []}", "not valid JSON");
}

static void test_cap(void **state)
{
	struct switches s;
	char why[300] = "", id[32];
	(void)state;
	assert_int_equal(switches_open(&s, dir, why, sizeof(why)), 0);
	for (int i = 0; i < MAX_SWITCHED_OFF; i++) {
		snprintf(id, sizeof(id), "dev-%d", i);
		assert_int_equal(switches_set(&s, id, true, why, sizeof(why)), 0);
	}
	assert_int_equal(switches_set(&s, "one-more", true, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "enable one first"));
	assert_false(switches_is_off(&s, "one-more"));
	switches_close(&s);
	assert_int_equal(switches_open(&s, dir, why, sizeof(why)), 0);
	assert_int_equal(s.n, MAX_SWITCHED_OFF);
	switches_close(&s);
}

static void test_unwritable_state_keeps_the_switch_in_memory(void **state)
{
	struct switches s;
	char why[300] = "", notdir[128];
	(void)state;
	/* A state "directory" that is a file: unwritable even for root. */
	snprintf(notdir, sizeof(notdir), "%s/plain-file", dir);
	FILE *f = fopen(notdir, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(switches_open(&s, notdir, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "Not a directory"));
	memset(&s, 0, sizeof(s));
	snprintf(s.dir, sizeof(s.dir), "%s", notdir);
	snprintf(s.path, sizeof(s.path), "%s/%s", notdir, SWITCHES_FILE);
	assert_int_equal(switches_set(&s, "dev-1", true, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "cannot write"));
	assert_true(switches_is_off(&s, "dev-1"));
	switches_close(&s);
	unlink(notdir);
}

static void test_retry_writes_what_failed(void **state)
{
	struct switches s;
	char why[300] = "", tmp[160];
	(void)state;
	assert_int_equal(switches_open(&s, dir, why, sizeof(why)), 0);
	/* a directory where the temporary file goes: the write fails */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(mkdir(tmp, 0700), 0);
	assert_int_equal(switches_set(&s, "dev-1", true, why, sizeof(why)), -1);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(rmdir(tmp), 0);
	/* the admin clicks again: nothing changes in memory, but the file is
	 * written now, and the answer says so */
	assert_int_equal(switches_set(&s, "dev-1", true, why, sizeof(why)), 0);
	switches_close(&s);
	assert_int_equal(switches_open(&s, dir, why, sizeof(why)), 0);
	assert_true(switches_is_off(&s, "dev-1"));
	switches_close(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_absent_file_is_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_survives_a_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_personas_take_the_switch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_file_stops_start_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unwritable_state_keeps_the_switch_in_memory,
		                                setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_writes_what_failed, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
