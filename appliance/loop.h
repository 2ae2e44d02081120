/*
 * loop.h - the daemon's single event loop: epoll for file descriptors, a
 * min-heap of monotonic deadlines for timers (Redis ae.c in spirit).
 *
 * All state belongs to the thread that runs the loop. Other threads talk to
 * it only through loop_post() (an eventfd-backed queue).
 */
#ifndef METALBMC_LOOP_H
#define METALBMC_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>

struct loop;

struct loop_fd;
typedef void (*loop_fd_fn)(struct loop *l, struct loop_fd *h, uint32_t events);

/* Embedded in the owner's struct; the loop never allocates one. */
struct loop_fd {
	int fd;
	uint32_t events; /* EPOLLIN | EPOLLOUT ... as registered */
	loop_fd_fn fn;
	void *arg;
	bool registered;
};

struct loop_timer;
typedef void (*loop_timer_fn)(struct loop *l, struct loop_timer *t);

struct loop_timer {
	uint64_t deadline_ms; /* monotonic */
	size_t heap_index;    /* position in the heap, or SIZE_MAX when idle */
	loop_timer_fn fn;
	void *arg;
};

/* Work posted from another thread, run on the loop thread. */
struct loop_job;
typedef void (*loop_job_fn)(struct loop *l, void *arg);

struct loop *loop_new(void);
void loop_free(struct loop *l);
int loop_run(struct loop *l);     /* until loop_stop(); 0 or -1 */
void loop_stop(struct loop *l);

/* Monotonic milliseconds, refreshed once per loop iteration. */
uint64_t loop_now(const struct loop *l);
/* A fresh reading of the clock (for code outside the loop thread). */
uint64_t loop_clock_ms(void);
/* The wall clock (CLOCK_REALTIME) in milliseconds: for display only, never
 * for deadlines, which use the monotonic clocks above. */
uint64_t loop_wall_ms(void);

int loop_fd_add(struct loop *l, struct loop_fd *h, int fd, uint32_t events,
                loop_fd_fn fn, void *arg);
int loop_fd_mod(struct loop *l, struct loop_fd *h, uint32_t events);
void loop_fd_del(struct loop *l, struct loop_fd *h);

void loop_timer_init(struct loop_timer *t, loop_timer_fn fn, void *arg);
/* Arm (or re-arm) to fire at an absolute monotonic time. */
void loop_timer_at(struct loop *l, struct loop_timer *t, uint64_t deadline_ms);
void loop_timer_in(struct loop *l, struct loop_timer *t, uint64_t delay_ms);
void loop_timer_cancel(struct loop *l, struct loop_timer *t);
static inline bool loop_timer_armed(const struct loop_timer *t)
{
	return t->heap_index != (size_t)-1;
}

/* Thread-safe: queue fn(arg) to run on the loop thread. 0 or -1 (ENOMEM). */
int loop_post(struct loop *l, loop_job_fn fn, void *arg);

#endif
