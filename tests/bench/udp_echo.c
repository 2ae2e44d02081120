/*
 * udp_echo.c - the benchmark's floor: a daemon that does nothing but answer
 * each datagram, with metalbmc's system call pattern (epoll_wait, recvmmsg,
 * sendmsg). Its CPU per exchange is what any event-driven UDP daemon pays
 * the kernel on this machine before doing any work of its own.
 *
 *   udp_echo PORT      listens on 127.0.0.1:PORT until killed
 *
 * Built by tests/bench/ipmi_bench.py with the system's cc; not part of the
 * product and not built by CMake.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct epoll_event ev = { .events = EPOLLIN };
	static unsigned char buf[1500];
	int fd, ep, port;

	if (argc != 2 || (port = atoi(argv[1])) <= 0 || port > 65535) {
		fprintf(stderr, "usage: udp_echo PORT\n");
		return 2;
	}
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("udp_echo: bind");
		return 1;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		perror("udp_echo: epoll");
		return 1;
	}
	for (;;) {
		struct epoll_event got[8];
		struct sockaddr_storage from;
		struct iovec iov = { buf, sizeof(buf) };
		struct mmsghdr m = { .msg_hdr = { .msg_name = &from, .msg_namelen = sizeof(from),
		                                  .msg_iov = &iov, .msg_iovlen = 1 } };

		if (epoll_wait(ep, got, 8, 5000) <= 0)
			continue;
		if (recvmmsg(fd, &m, 1, MSG_DONTWAIT, NULL) != 1)
			continue;
		iov.iov_len = m.msg_len;
		struct msghdr h = { .msg_name = &from, .msg_namelen = m.msg_hdr.msg_namelen,
		                    .msg_iov = &iov, .msg_iovlen = 1 };
		sendmsg(fd, &h, MSG_DONTWAIT);
	}
}
