/*
 * privdrop.c - see privdrop.h. The order matters: groups before the user
 * ID (a non-root process cannot change its groups), the bounding set while
 * CAP_SETPCAP is still held, capabilities re-raised after setresuid (which
 * clears the effective set), dumpable cleared last (credential changes
 * reset it). Then a check that root cannot be regained.
 */
#include "privdrop.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int privdrop_plan(const char *user, struct privdrop *p, char *why, size_t why_len)
{
	const struct passwd *pw;

	memset(p, 0, sizeof(*p));
	if (geteuid() != 0)
		return 0; /* nothing to drop; systemd or the caller chose the user */
	if (user && strcmp(user, "root") == 0) {
		snprintf(p->name, sizeof(p->name), "root");
		return 0;
	}
	if (user && *user) {
		pw = getpwnam(user);
		if (!pw) {
			snprintf(why, why_len, "user: no such account '%s'", user);
			return -1;
		}
	} else {
		pw = getpwnam("metalbmc");
		if (!pw)
			pw = getpwnam("nobody");
		if (!pw) {
			snprintf(why, why_len, "user: neither 'metalbmc' nor 'nobody' exists; "
			                       "set user to an unprivileged account");
			return -1;
		}
	}
	if (pw->pw_uid == 0) {
		snprintf(why, why_len, "user: '%s' has uid 0; use 'root' to keep root on purpose",
		         pw->pw_name);
		return -1;
	}
	p->drop = true;
	p->uid = pw->pw_uid;
	p->gid = pw->pw_gid;
	snprintf(p->name, sizeof(p->name), "%s", pw->pw_name);
	return 0;
}

static int no_core_dumps(void)
{
	struct rlimit rl = { 0, 0 }, now;
	/* Under systemd (LimitCORE=0) setrlimit may itself be filtered out
	 * (SystemCallFilter=~@resources): a limit already at zero is enough. */
	if ((getrlimit(RLIMIT_CORE, &now) < 0 || now.rlim_cur || now.rlim_max) &&
	    setrlimit(RLIMIT_CORE, &rl) < 0)
		return -1;
	return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/* The state directory and what is directly in it (the credential secret,
 * port assignments) change owner, so the dropped daemon can keep writing
 * there and a later start as that user can read them. */
static int hand_over_state_dir(const char *dir, uid_t uid, gid_t gid, char *why, size_t why_len)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		if (errno == ENOENT)
			return 0; /* nothing kept yet (no state needed) */
		snprintf(why, why_len, "state_dir %s: %s", dir, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(dfd, &st) < 0 || (st.st_mode & 077) || (st.st_uid != 0 && st.st_uid != uid)) {
		/* Only a private directory (0700, as metalbmc creates it) that
		 * root or the user owns changes hands: a state_dir pointed at
		 * a shared place must never be given away. */
		log_warnx("state_dir %s is not a private directory of root's; not handing it "
		          "to the unprivileged user (writes there may fail)", dir);
		close(dfd);
		return 0;
	}
	if (fchown(dfd, uid, gid) < 0) {
		snprintf(why, why_len, "state_dir %s: chown: %s", dir, strerror(errno));
		close(dfd);
		return -1;
	}
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -1;
	}
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		if (fchownat(dirfd(d), e->d_name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0) {
			snprintf(why, why_len, "state_dir %s/%s: chown: %s", dir, e->d_name,
			         strerror(errno));
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	return 0;
}

static int keep_only_bind_service(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];
	memset(data, 0, sizeof(data));
	data[0].effective = data[0].permitted = 1u << CAP_NET_BIND_SERVICE;
	return (int)syscall(SYS_capset, &hdr, data);
}

int privdrop_apply(const struct privdrop *p, const char *state_dir, char *why, size_t why_len)
{
	if (no_core_dumps() < 0) {
		snprintf(why, why_len, "cannot disable core dumps: %s", strerror(errno));
		return -1;
	}
	if (!p->drop) {
		if (geteuid() == 0)
			log_warnx("running as root (user: root): the daemon keeps every privilege");
		return 0;
	}
	if (state_dir && *state_dir && hand_over_state_dir(state_dir, p->uid, p->gid, why, why_len) < 0)
		return -1;
	/* Nothing but CAP_NET_BIND_SERVICE may ever come back. */
	for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
		if (cap != CAP_NET_BIND_SERVICE && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 &&
		    errno != EINVAL) {
			snprintf(why, why_len, "cannot shrink the capability bounding set: %s",
			         strerror(errno));
			return -1;
		}
	if (setgroups(1, &p->gid) < 0 || setresgid(p->gid, p->gid, p->gid) < 0) {
		snprintf(why, why_len, "cannot become group %u: %s", (unsigned)p->gid, strerror(errno));
		return -1;
	}
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 || setresuid(p->uid, p->uid, p->uid) < 0) {
		snprintf(why, why_len, "cannot become user %s: %s", p->name, strerror(errno));
		return -1;
	}
	if (keep_only_bind_service() < 0) {
		snprintf(why, why_len, "cannot keep CAP_NET_BIND_SERVICE: %s", strerror(errno));
		return -1;
	}
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    no_core_dumps() < 0) {
		snprintf(why, why_len, "cannot lock the process down: %s", strerror(errno));
		return -1;
	}
	/* Paranoia, as OpenBSD daemons do: root must be gone for good. */
	if (setuid(0) == 0 || seteuid(0) == 0 || getuid() != p->uid || geteuid() != p->uid ||
	    getgid() != p->gid || getegid() != p->gid) {
		snprintf(why, why_len, "privileges were not dropped");
		return -1;
	}
	/* Port assignments are written there later, by path: find out now
	 * if a parent directory shuts the user out, not at the first write. */
	/* A state dir that does not exist yet is made later; one hidden by
	 * an unsearchable parent (EACCES) is as unusable as an unwritable one. */
	if (state_dir && *state_dir && !p->state_unused &&
	    (access(state_dir, F_OK) == 0 || errno != ENOENT) &&
	    access(state_dir, W_OK | X_OK) < 0) {
		snprintf(why, why_len, "state_dir %s is not writable by user %s (%s); give it to "
		         "that user or make its parent directories searchable", state_dir, p->name,
		         strerror(errno));
		return -1;
	}
	log_info("privileges: now user %s (uid %u, gid %u), keeping only CAP_NET_BIND_SERVICE",
	         p->name, (unsigned)p->uid, (unsigned)p->gid);
	return 0;
}
