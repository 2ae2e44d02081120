/*
 * loop.c - epoll + timer heap + a cross-thread job queue; see loop.h.
 *
 * One iteration: compute the timeout from the earliest timer, epoll_wait,
 * refresh "now", dispatch ready descriptors, then fire due timers. Timers
 * that are re-armed for "now" while firing run on the next iteration, so a
 * timer cannot starve the descriptors.
 */
#include "loop.h"
#include "heap.h"
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define LOOP_MAX_EVENTS 64 /* descriptors handled per epoll_wait */

struct posted {
	struct posted *next;
	loop_job_fn fn;
	void *arg;
};

struct loop {
	int epfd;
	bool stop;
	uint64_t now;
	struct heap timers;
	struct loop_fd wake;      /* eventfd for loop_post */
	pthread_mutex_t post_mu;
	struct posted *post_head, *post_tail;
	struct epoll_event *batch; /* events being dispatched right now */
	int batch_len;
	bool firing;               /* inside fire_timers() */
};

static uint64_t clock_ms(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t loop_clock_ms(void) { return clock_ms(CLOCK_MONOTONIC); }
uint64_t loop_wall_ms(void) { return clock_ms(CLOCK_REALTIME); }

uint64_t loop_now(const struct loop *l) { return l->now; }
void loop_stop(struct loop *l) { l->stop = true; }

static void run_posted(struct loop *l, struct loop_fd *h, uint32_t events)
{
	uint64_t v;
	struct posted *list;

	(void)events;
	if (read(h->fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_warn("loop: eventfd read");
	pthread_mutex_lock(&l->post_mu);
	list = l->post_head;
	l->post_head = l->post_tail = NULL;
	pthread_mutex_unlock(&l->post_mu);
	while (list) {
		struct posted *p = list;
		list = p->next;
		p->fn(l, p->arg);
		free(p);
	}
}

struct loop *loop_new(void)
{
	struct loop *l = calloc(1, sizeof(*l));
	int efd;

	if (!l)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		free(l);
		return NULL;
	}
	pthread_mutex_init(&l->post_mu, NULL);
	l->now = loop_clock_ms();
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd < 0 || loop_fd_add(l, &l->wake, efd, EPOLLIN, run_posted, l) < 0) {
		if (efd >= 0)
			close(efd);
		close(l->epfd);
		free(l);
		return NULL;
	}
	return l;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	/* Jobs still queued own their arguments; run them so nothing leaks. */
	run_posted(l, &l->wake, 0);
	close(l->wake.fd);
	close(l->epfd);
	heap_free(&l->timers);
	pthread_mutex_destroy(&l->post_mu);
	free(l);
}

int loop_fd_add(struct loop *l, struct loop_fd *h, int fd, uint32_t events,
                loop_fd_fn fn, void *arg)
{
	struct epoll_event ev = { .events = events, .data.ptr = h };

	h->fd = fd;
	h->events = events;
	h->fn = fn;
	h->arg = arg;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -1;
	h->registered = true;
	return 0;
}

int loop_fd_mod(struct loop *l, struct loop_fd *h, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = h };

	if (!h->registered)
		return -1;
	if (h->events == events)
		return 0;
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, h->fd, &ev) < 0)
		return -1;
	h->events = events;
	return 0;
}

void loop_fd_del(struct loop *l, struct loop_fd *h)
{
	if (!h->registered)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, h->fd, NULL);
	h->registered = false;
	/* The owner may free h as soon as we return: forget any event for it
	 * that is still waiting in the batch being dispatched. */
	for (int i = 0; i < l->batch_len; i++)
		if (l->batch[i].data.ptr == h)
			l->batch[i].data.ptr = NULL;
}

void loop_timer_init(struct loop_timer *t, loop_timer_fn fn, void *arg)
{
	t->deadline_ms = 0;
	t->heap_index = SIZE_MAX;
	t->fn = fn;
	t->arg = arg;
}

void loop_timer_at(struct loop *l, struct loop_timer *t, uint64_t deadline)
{
	if (l->firing && deadline <= l->now)
		deadline = l->now + 1;
	t->deadline_ms = deadline;
	if (loop_timer_armed(t))
		heap_update(&l->timers, t);
	else if (heap_push(&l->timers, t) < 0)
		fatalx("loop: out of memory arming a timer");
}

void loop_timer_in(struct loop *l, struct loop_timer *t, uint64_t delay)
{
	loop_timer_at(l, t, l->now + delay);
}

void loop_timer_cancel(struct loop *l, struct loop_timer *t)
{
	if (loop_timer_armed(t))
		heap_remove(&l->timers, t);
}

int loop_post(struct loop *l, loop_job_fn fn, void *arg)
{
	struct posted *p = malloc(sizeof(*p));
	uint64_t one = 1;

	if (!p)
		return -1;
	p->next = NULL;
	p->fn = fn;
	p->arg = arg;
	pthread_mutex_lock(&l->post_mu);
	if (l->post_tail)
		l->post_tail->next = p;
	else
		l->post_head = p;
	l->post_tail = p;
	pthread_mutex_unlock(&l->post_mu);
	/* A full eventfd counter still wakes the loop; nothing to handle. */
	(void)!write(l->wake.fd, &one, sizeof(one));
	return 0;
}

static void fire_timers(struct loop *l)
{
	/* A timer re-armed for "now" from its own callback must wait for the
	 * next iteration (loop_timer_at moves it 1 ms on), or it would fire
	 * again in this pass and starve the descriptors. */
	uint64_t now = l->now;
	struct loop_timer *t;

	l->firing = true;
	while ((t = heap_top(&l->timers)) && t->deadline_ms <= now) {
		heap_remove(&l->timers, t);
		t->fn(l, t);
		if (l->stop)
			break;
	}
	l->firing = false;
}

int loop_run(struct loop *l)
{
	struct epoll_event evs[LOOP_MAX_EVENTS];

	while (!l->stop) {
		struct loop_timer *top = heap_top(&l->timers);
		int timeout = -1;
		if (top) {
			uint64_t now = loop_clock_ms();
			uint64_t wait = top->deadline_ms > now ? top->deadline_ms - now : 0;
			timeout = wait > 60000 ? 60000 : (int)wait;
		}
		int n = epoll_wait(l->epfd, evs, LOOP_MAX_EVENTS, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_warn("loop: epoll_wait");
			return -1;
		}
		l->now = loop_clock_ms();
		l->batch = evs;
		l->batch_len = n;
		for (int i = 0; i < n && !l->stop; i++) {
			struct loop_fd *h = evs[i].data.ptr;
			if (h)
				h->fn(l, h, evs[i].events);
		}
		l->batch_len = 0;
		fire_timers(l);
	}
	return 0;
}
