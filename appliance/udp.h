/*
 * udp.h - UDP listeners: the shared one(s) on port 623 that route by user
 * name, and per-persona ones on their own port or address. Each readable
 * event drains a batch of datagrams with recvmmsg; replies leave from the
 * very address the request came to (IP_PKTINFO), which matters when the
 * listener is bound to a wildcard address on a multi-homed host.
 */
#ifndef METALBMC_UDP_H
#define METALBMC_UDP_H

#include <stdbool.h>

#include "config.h"
#include "engine.h"
#include "loop.h"

struct udp_listener {
	struct loop_fd lfd;
	int fd;
	int family;
	struct persona *persona;       /* dedicated listener, or NULL */
	struct udp_server *srv;
	struct listen_addr addr;
	struct udp_listener *next;
};

struct udp_server {
	struct engine *eng;
	struct loop *loop;
	struct udp_listener *list;
	struct udp_listener *dispatching; /* whose datagram the engine handles now */
	bool dispatch_closed;             /* ... and it was closed meanwhile */
	uint64_t send_errors;
};

void udp_server_init(struct udp_server *srv, struct engine *eng, struct loop *loop);
/* Opens and registers a listener; bound is NULL for a shared one. On
 * failure writes the reason to why and returns NULL. */
struct udp_listener *udp_open(struct udp_server *srv, const struct listen_addr *a,
                              struct persona *bound, char *why, size_t why_len);
void udp_close(struct udp_server *srv, struct udp_listener *l);
void udp_close_all(struct udp_server *srv);

#endif
