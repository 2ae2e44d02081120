/*
 * metrics.h - the Prometheus text exposition (format 0.0.4) behind
 * /metrics. Every name starts with metalbmc_. Rendering takes plain
 * inputs, so unit tests check the exact text without a server.
 */
#ifndef METALBMC_METRICS_H
#define METALBMC_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "persona.h"
#include "wbuf.h"

struct web_stats;
struct discovery_status;

struct metrics_input {
	const struct engine_stats *engine;
	size_t sessions_open;
	const struct persona_table *personas;
	const struct web_stats *web;        /* may be NULL */
	const struct discovery_status *disc; /* NULL when no project is polled */
	uint64_t start_wall_s;              /* when the web server started */
};

void metrics_render(const struct metrics_input *in, struct wbuf *b);

#endif
