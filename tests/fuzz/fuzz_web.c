/*
 * fuzz_web.c - HTTP request handling of the status/admin page: the input
 * is sent as raw bytes over a loopback TCP connection to the real web
 * server (libmicrohttpd in the daemon's loop, handlers, auth, forms, JSON
 * API, /metrics), then the write side is shut so the server answers and
 * closes. A fresh server per input keeps lock-outs and form tokens from
 * leaking between inputs.
 *
 * Seeds (tests/fuzz/corpus/web/) carry Basic credentials for the harness's
 * admin (user "admin", password "fuzz-web-password") so the fuzzer starts
 * behind the login.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "loop.h"
#include "web.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct client {
	struct loop_fd lfd;
	struct loop_timer guard;
	size_t got;
	char head[65536];   /* the start of the answer, to find where it ends */
};

/* true once a whole response is in: MHD keeps the connection open after
 * answering (keep-alive) even though the write side is shut. */
static bool response_complete(const struct client *c)
{
	size_t have = c->got < sizeof(c->head) ? c->got : sizeof(c->head);
	const char *end = memmem(c->head, have, "\r\n\r\n", 4);
	if (!end)
		return false;
	size_t hdr = (size_t)(end - c->head) + 4;
	for (const char *p = c->head; p && p < end; p = memmem(p, (size_t)(end - p), "\r\n", 2)) {
		p += p == c->head ? 0 : 2;
		if (strncasecmp(p, "content-length:", 15) == 0)
			return c->got >= hdr + strtoul(p + 15, NULL, 10);
		if (strncasecmp(p, "transfer-encoding:", 18) == 0)
			return have >= 5 && memcmp(c->head + have - 5, "0\r\n\r\n", 5) == 0;
	}
	return false;
}

static void on_client(struct loop *l, struct loop_fd *h, uint32_t events)
{
	struct client *c = h->arg;
	char buf[16384];
	for (;;) {
		ssize_t n = read(h->fd, buf, sizeof(buf));
		if (n > 0) {
			if (c->got < sizeof(c->head)) {
				size_t k = sizeof(c->head) - c->got < (size_t)n ? sizeof(c->head) - c->got
				                                              : (size_t)n;
				memcpy(c->head + c->got, buf, k);
			}
			c->got += (size_t)n;
			if (response_complete(c)) {
				loop_stop(l);
				return;
			}
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			loop_stop(l); /* the server answered and closed */
		return;
	}
}

static void on_guard(struct loop *l, struct loop_timer *t)
{
	(void)t;
	loop_stop(l); /* the server kept the connection open: move on */
}

static uint16_t pick_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(s, (struct sockaddr *)&a, &len) < 0)
		abort();
	close(s);
	return ntohs(a.sin_port);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tc_world w;
	static bool ready;
	static uint16_t port;
	static const char web_pw[] = "fuzz-web-password";

	if (size > 256 * 1024)
		return 0;
	if (!ready) {
		fuzz_quiet_logs();
		tc_default_config(&w.cfg);
		port = pick_port();
		char text[32];
		snprintf(text, sizeof(text), "127.0.0.1:%u", port);
		if (config_parse_listen(text, 8623, &w.cfg.web_listen) < 0)
			abort();
		w.cfg.web_enabled = true;
		secret_set(&w.cfg.web_password, web_pw, strlen(web_pw));
		if (tc_world_init(&w) < 0)
			abort();
		tc_world_add(&w, "node1", "fuzz-password-1");
		tc_world_add(&w, "web-2", "fuzz-password-2");
		ready = true;
	}

	struct loop *l = loop_new();
	struct web *web = NULL;
	struct secret master = { 0 };
	secret_set(&master, "fuzz-master-secret", 18);
	struct web_deps deps = {
		.cfg = &w.cfg, .loop = l, .personas = w.personas, .engine = &w.e,
		.master = &master, .discovery = NULL,
	};
	if (!l || web_start(&deps, &web) < 0 || !web)
		abort();

	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	/* Close with a reset: tens of thousands of runs must not leave as
	 * many connections in TIME_WAIT and use up the ephemeral ports (a
	 * long run then failed connect() with EADDRNOTAVAIL). */
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("fuzz_web: connect");
		abort();
	}
	/* Small inputs fit the socket buffers, so a blocking write is fine;
	 * what does not fit in 1 s is cut (the server may stop reading). */
	struct timeval tv = { .tv_sec = 1 };
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	size_t off = 0;
	while (off < size) {
		ssize_t n = send(fd, data + off, size - off, MSG_NOSIGNAL);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	shutdown(fd, SHUT_WR);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	static struct client c;
	c.got = 0;
	loop_timer_init(&c.guard, on_guard, &c);
	loop_timer_in(l, &c.guard, 100);
	if (loop_fd_add(l, &c.lfd, fd, EPOLLIN, on_client, &c) < 0)
		abort();
	loop_run(l);
	if (getenv("FUZZ_WEB_DEBUG"))
		fprintf(stderr, "fuzz_web: %zu bytes back\n", c.got);
	loop_fd_del(l, &c.lfd);
	loop_timer_cancel(l, &c.guard);
	close(fd);
	web_stop(web);
	loop_free(l);
	secret_clear(&master);
	return 0;
}
