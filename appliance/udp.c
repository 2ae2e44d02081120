/*
 * udp.c - sockets, batches and addressing for the IPMI listeners.
 */
#include "udp.h"
#include "bounds.h"
#include "log.h"
#include "secret.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CMSG_SPACE_PKTINFO 64 /* bytes: room for either pktinfo */

static void udp_send(void *arg, const struct engine_peer *to, const uint8_t *buf,
                     size_t len);

void udp_server_init(struct udp_server *srv, struct engine *eng, struct loop *loop)
{
	memset(srv, 0, sizeof(*srv));
	srv->eng = eng;
	srv->loop = loop;
	eng->send = udp_send;
	eng->send_arg = srv;
}

/* Destination address of a received datagram, from its control data. */
static void read_local(struct msghdr *mh, struct udp_listener *l,
                       struct sockaddr_storage *out, socklen_t *out_len)
{
	memset(out, 0, sizeof(*out));
	*out_len = 0;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			struct sockaddr_in *a = (struct sockaddr_in *)out;
			a->sin_family = AF_INET;
			a->sin_addr = pi.ipi_addr;
			a->sin_port = ((struct sockaddr_in *)&l->addr.ss)->sin_port;
			*out_len = sizeof(*a);
		} else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;
			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)out;
			a->sin6_family = AF_INET6;
			a->sin6_addr = pi.ipi6_addr;
			a->sin6_scope_id = pi.ipi6_ifindex;
			a->sin6_port = ((struct sockaddr_in6 *)&l->addr.ss)->sin6_port;
			*out_len = sizeof(*a);
		}
	}
	if (*out_len == 0) {
		memcpy(out, &l->addr.ss, sizeof(*out));
		*out_len = l->addr.len;
	}
}

/* Makes the len bytes at data mh's one control message, in buf (room for
 * CMSG_SPACE(len), zeroed by the caller). */
static void set_cmsg(struct msghdr *mh, char *buf, int level, int type, const void *data,
                     size_t len)
{
	mh->msg_control = buf;
	mh->msg_controllen = CMSG_SPACE(len);
	struct cmsghdr *cm = CMSG_FIRSTHDR(mh);
	cm->cmsg_level = level;
	cm->cmsg_type = type;
	cm->cmsg_len = CMSG_LEN(len);
	memcpy(CMSG_DATA(cm), data, len);
}

static void send_one(struct udp_listener *l, const struct sockaddr_storage *to,
                     socklen_t to_len, const struct sockaddr_storage *local,
                     const uint8_t *buf, size_t len)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	union {
		char buf[CMSG_SPACE_PKTINFO];
		struct cmsghdr align;
	} ctl;
	struct msghdr mh = {
		.msg_name = (void *)to,
		.msg_namelen = to_len,
		.msg_iov = &iov,
		.msg_iovlen = 1,
	};

	memset(&ctl, 0, sizeof(ctl));
	/* Answer from the address the console used, so its reply matches. */
	if (local && l->family == AF_INET && local->ss_family == AF_INET) {
		struct in_pktinfo pi = { 0 };
		pi.ipi_spec_dst = ((const struct sockaddr_in *)local)->sin_addr;
		set_cmsg(&mh, ctl.buf, IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi));
	} else if (local && l->family == AF_INET6 && local->ss_family == AF_INET6) {
		struct in6_pktinfo pi = { 0 };
		pi.ipi6_addr = ((const struct sockaddr_in6 *)local)->sin6_addr;
		pi.ipi6_ifindex = ((const struct sockaddr_in6 *)local)->sin6_scope_id;
		set_cmsg(&mh, ctl.buf, IPPROTO_IPV6, IPV6_PKTINFO, &pi, sizeof(pi));
	}
	if (sendmsg(l->fd, &mh, MSG_DONTWAIT) < 0) {
		/* A full socket buffer drops the reply; the client retransmits. */
		l->srv->send_errors++;
		if (errno != EAGAIN && errno != ENOBUFS && errno != EHOSTUNREACH &&
		    errno != ENETUNREACH && errno != ECONNREFUSED)
			log_debug("udp: sendmsg on %s failed", l->addr.text);
	}
}

/* The engine's send callback (arg is the server). */
static void udp_send(void *arg, const struct engine_peer *to, const uint8_t *buf, size_t len)
{
	struct udp_server *srv = arg;
	struct udp_listener *l = to->listener;

	/* The listener may have closed while a backend call ran: the reply
	 * must not go to a freed socket. */
	for (struct udp_listener *it = srv->list; it; it = it->next)
		if (it == l) {
			send_one(l, &to->addr, to->addr_len, &to->local, buf, len);
			return;
		}
}

static void on_readable(struct loop *loop, struct loop_fd *h, uint32_t events)
{
	struct udp_listener *l = h->arg;
	struct udp_server *srv = l->srv;
	static uint8_t bufs[RECV_BATCH][MAX_DATAGRAM];
	static struct sockaddr_storage from[RECV_BATCH];
	static union {
		char buf[CMSG_SPACE_PKTINFO];
		struct cmsghdr align;
	} ctl[RECV_BATCH];
	struct mmsghdr msgs[RECV_BATCH];
	struct iovec iov[RECV_BATCH];
	uint8_t out[MAX_DATAGRAM];

	(void)events;
	for (int i = 0; i < RECV_BATCH; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = sizeof(bufs[i]);
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_name = &from[i];
		msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_control = ctl[i].buf;
		msgs[i].msg_hdr.msg_controllen = sizeof(ctl[i].buf);
	}
	int n = recvmmsg(l->fd, msgs, RECV_BATCH, MSG_DONTWAIT, NULL);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("udp: recvmmsg on %s", l->addr.text);
		return;
	}
	srv->eng->now = loop_now(loop);
	for (int i = 0; i < n; i++) {
		struct engine_peer peer;
		struct msghdr *mh = &msgs[i].msg_hdr;

		if (mh->msg_flags & MSG_TRUNC)
			continue; /* larger than any legal IPMI datagram */
		memset(&peer, 0, sizeof(peer));
		memcpy(&peer.addr, &from[i], sizeof(peer.addr));
		peer.addr_len = mh->msg_namelen;
		read_local(mh, l, &peer.local, &peer.local_len);
		peer.listener = l;
		peer.bound = l->persona;
		srv->dispatching = l;
		size_t r = engine_handle(srv->eng, &peer, bufs[i], msgs[i].msg_len,
		                         out, sizeof(out));
		srv->dispatching = NULL;
		if (srv->dispatch_closed) {
			/* The engine retired this listener's persona while handling
			 * the datagram: udp_close() left the freeing to us. */
			srv->dispatch_closed = false;
			free(l);
			break;
		}
		if (r) {
			send_one(l, &peer.addr, peer.addr_len, &peer.local, out, r);
			secret_wipe(out, r); /* a v1.5 password AuthCode goes out too */
		}
	}
	/* The receive buffers are static: leave no datagram behind in them (a
	 * v1.5 straight-password AuthCode is the password itself). */
	for (int i = 0; i < n; i++)
		secret_wipe(bufs[i], msgs[i].msg_len);
}

struct udp_listener *udp_open(struct udp_server *srv, const struct listen_addr *a,
                              struct persona *bound, char *why, size_t why_len)
{
	int fd, one = 1;
	int family = a->ss.ss_family;
	struct udp_listener *l;

	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(why, why_len, "socket: %s", strerror(errno));
		return NULL;
	}
	if (family == AF_INET) {
		setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	} else {
		/* IPv6 only: "0.0.0.0:623" and "[::]:623" are listed separately
		 * and must both be able to bind. */
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
	}
	/* Non-local binds let a persona own an address that is configured a
	 * moment later (or a 127.x alias on loopback). */
	setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) < 0) {
		snprintf(why, why_len, "bind %s: %s", a->text, strerror(errno));
		close(fd);
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		snprintf(why, why_len, "out of memory");
		close(fd);
		return NULL;
	}
	l->fd = fd;
	l->family = family;
	l->persona = bound;
	l->srv = srv;
	l->addr = *a;
	/* Port 0 asked for any port: record the one the kernel chose. */
	struct sockaddr_storage got;
	socklen_t gl = sizeof(got);
	if (getsockname(fd, (struct sockaddr *)&got, &gl) == 0) {
		memcpy(&l->addr.ss, &got, sizeof(got));
		l->addr.len = gl;
	}
	if (loop_fd_add(srv->loop, &l->lfd, fd, EPOLLIN, on_readable, l) < 0) {
		snprintf(why, why_len, "epoll: %s", strerror(errno));
		close(fd);
		free(l);
		return NULL;
	}
	l->next = srv->list;
	srv->list = l;
	return l;
}

void udp_close(struct udp_server *srv, struct udp_listener *l)
{
	for (struct udp_listener **pp = &srv->list; *pp; pp = &(*pp)->next)
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	loop_fd_del(srv->loop, &l->lfd);
	close(l->fd);
	if (l == srv->dispatching)
		srv->dispatch_closed = true; /* on_readable() frees it when back */
	else
		free(l);
}

void udp_close_all(struct udp_server *srv)
{
	while (srv->list)
		udp_close(srv, srv->list);
}
