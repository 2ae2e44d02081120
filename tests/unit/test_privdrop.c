/*
 * test_privdrop.c - appliance/privdrop.c: what the daemon becomes when
 * started as root. The drop itself runs in a forked child (it cannot be
 * undone), which reports through its exit status. Skipped when not root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <pwd.h>

#include "privdrop.h"

static void test_plan(void **state)
{
	struct privdrop p;
	char why[160];
	if (geteuid() != 0)
		skip();
	assert_int_equal(privdrop_plan("no-such-user-xyz", &p, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "no such account 'no-such-user-xyz'"));
	assert_int_equal(privdrop_plan("root", &p, why, sizeof(why)), 0);
	assert_false(p.drop);
	assert_int_equal(privdrop_plan("nobody", &p, why, sizeof(why)), 0);
	assert_true(p.drop);
	assert_int_equal(p.uid, getpwnam("nobody")->pw_uid);
	/* the default: metalbmc when it exists, else nobody */
	assert_int_equal(privdrop_plan("", &p, why, sizeof(why)), 0);
	assert_true(p.drop);
	assert_string_equal(p.name, getpwnam("metalbmc") ? "metalbmc" : "nobody");
}

/* In a child: drop, then check everything the kernel says about us. */
static int child_checks(const char *state_dir)
{
	struct privdrop p;
	char why[160], line[256];
	if (privdrop_plan("nobody", &p, why, sizeof(why)) < 0 ||
	    privdrop_apply(&p, state_dir, why, sizeof(why)) < 0)
		return 10;
	if (getuid() != p.uid || geteuid() != p.uid || getgid() != p.gid)
		return 11;
	if (setuid(0) == 0 || setgid(0) == 0)
		return 12;
	struct rlimit rl;
	if (getrlimit(RLIMIT_CORE, &rl) < 0 || rl.rlim_cur || rl.rlim_max)
		return 13;
	if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0 || prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return 14;
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		return 15;
	int seen = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v;
		if (sscanf(line, "CapEff: %llx", &v) == 1 || sscanf(line, "CapPrm: %llx", &v) == 1 ||
		    sscanf(line, "CapBnd: %llx", &v) == 1) {
			if (v != 1ull << 10) /* CAP_NET_BIND_SERVICE only */
				return 16;
			seen++;
		}
	}
	fclose(f);
	if (seen != 3)
		return 17;
	/* the state directory was handed over and stays writable */
	if (access(state_dir, W_OK | X_OK) < 0)
		return 18;
	return 0;
}

static void test_drop_in_child(void **state)
{
	char dir[] = "/tmp/metalbmc-privdrop-XXXXXX";
	if (geteuid() != 0)
		skip();
	assert_non_null(mkdtemp(dir));
	char file[64];
	snprintf(file, sizeof(file), "%s/credential-secret", dir);
	FILE *f = fopen(file, "w");
	fputs("x\n", f);
	fclose(f);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(child_checks(dir));
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	struct stat sb;
	assert_int_equal(stat(file, &sb), 0);
	assert_int_equal(sb.st_uid, getpwnam("nobody")->pw_uid);
	unlink(file);
	rmdir(dir);
}

static void test_shared_state_dir_not_given_away(void **state)
{
	char dir[] = "/tmp/metalbmc-privdrop-XXXXXX";
	if (geteuid() != 0)
		skip();
	assert_non_null(mkdtemp(dir));
	chmod(dir, 0755); /* not private: must stay root's */
	pid_t pid = fork();
	if (pid == 0) {
		struct privdrop p;
		char why[160];
		privdrop_plan("nobody", &p, why, sizeof(why));
		/* not writable by nobody afterwards: the start must fail, loudly */
		_exit(privdrop_apply(&p, dir, why, sizeof(why)) == -1 &&
		      strstr(why, "not writable by user nobody") ? 0 : 1);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(WEXITSTATUS(st), 0);
	struct stat sb;
	assert_int_equal(stat(dir, &sb), 0);
	assert_int_equal(sb.st_uid, 0);
	rmdir(dir);
}

static void test_unused_state_dir_no_reason_to_refuse(void **state)
{
	char dir[] = "/tmp/metalbmc-privdrop-XXXXXX", sub[64];
	if (geteuid() != 0)
		skip();
	assert_non_null(mkdtemp(dir)); /* 0700, root's: nobody cannot search it */
	snprintf(sub, sizeof(sub), "%s/state", dir);
	pid_t pid = fork();
	if (pid == 0) {
		struct privdrop p;
		char why[160];
		privdrop_plan("nobody", &p, why, sizeof(why));
		/* nothing writes state while running (no Metal project, no page):
		 * a state_dir behind an unsearchable parent does not stop it */
		p.state_unused = true;
		_exit(privdrop_apply(&p, sub, why, sizeof(why)) == 0 && geteuid() != 0 ? 0 : 1);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(WEXITSTATUS(st), 0);
	pid = fork();
	if (pid == 0) {
		struct privdrop p;
		char why[160];
		privdrop_plan("nobody", &p, why, sizeof(why));
		/* ... but when something will write it, the start fails */
		_exit(privdrop_apply(&p, sub, why, sizeof(why)) == -1 &&
		      strstr(why, "not writable by user nobody") ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(WEXITSTATUS(st), 0);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_drop_in_child),
		cmocka_unit_test(test_shared_state_dir_not_given_away),
		cmocka_unit_test(test_unused_state_dir_no_reason_to_refuse),
	};
	return cmocka_run_group_tests_name("privdrop", tests, NULL, NULL);
}
