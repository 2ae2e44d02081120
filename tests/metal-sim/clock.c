/*
 * Time.  Everything inside the simulator (request log timestamps, fault
 * windows, state steps) is measured on CLOCK_MONOTONIC from start, so a
 * wall-clock jump cannot reorder anything.  The wall clock is read once, at
 * start, and only used to print API timestamps.
 */
#include "metal_sim.h"

#include <time.h>

static struct timespec start_mono;
static time_t start_wall;

void clock_init(void)
{
	clock_gettime(CLOCK_MONOTONIC, &start_mono);
	start_wall = time(NULL);
}

int64_t clock_now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(now.tv_sec - start_mono.tv_sec) * 1000 +
	       (now.tv_nsec - start_mono.tv_nsec) / 1000000;
}

void clock_format_iso(int64_t at_ms, char out[32])
{
	time_t t = start_wall + (time_t)(at_ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
