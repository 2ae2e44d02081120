/*
 * privdrop.h - giving up root once the sockets are bound.
 *
 * Started as root (a plain `metalbmc` from a shell, a container, an init
 * script), the daemon binds its listeners and reads its secrets as root,
 * then becomes the configured user (config `user`, METALBMC_USER; default
 * "metalbmc" when that account exists, else "nobody") with setgroups,
 * setresgid and setresuid. It keeps one capability, CAP_NET_BIND_SERVICE,
 * because personas that discovery creates later bind new sockets on port
 * 623 at their own address; the bounding set is cut to that one too, and
 * no_new_privs is set. Core dumps are off (RLIMIT_CORE 0, not dumpable) in
 * every case, root or not, because a core would hold the API token.
 *
 * Under systemd (images/metalbmc.service) the daemon starts as User=metalbmc
 * with AmbientCapabilities=CAP_NET_BIND_SERVICE: nothing to drop then.
 */
#ifndef METALBMC_PRIVDROP_H
#define METALBMC_PRIVDROP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct privdrop {
	bool drop;          /* running as root and told to become someone else */
	uid_t uid;
	gid_t gid;
	char name[64];
	bool state_unused;  /* nothing writes state_dir once running (no Metal
	                     * project, no status page): an unreachable one is
	                     * no reason to refuse the start */
};

/* Decides what to become: user "" picks metalbmc or nobody; "root" keeps
 * root (with a warning). Looks the account up now, while NSS works. 0, or
 * -1 with why (an unknown user). */
int privdrop_plan(const char *user, struct privdrop *p, char *why, size_t why_len);

/* Core dumps off; then, if p->drop, hands state_dir (and the files in it)
 * to the user and drops to it, keeping only CAP_NET_BIND_SERVICE. 0, or -1
 * with why: the caller must not go on running as root by accident. */
int privdrop_apply(const struct privdrop *p, const char *state_dir, char *why, size_t why_len);

#endif
