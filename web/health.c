/*
 * health.c - /healthz, for load balancers and supervisors: no credentials,
 * no detail beyond what is needed to act on it.
 *
 * Healthy when the loop's heartbeat timer fired recently (timers are
 * running, so sessions expire and polls start) and, when Metal projects
 * are polled, the last poll succeeded.
 */
#include "discovery.h"
#include "web_priv.h"

#include <stdio.h>

void web_healthz(struct web_req *r, struct web_reply *out)
{
	struct web *w = r->w;
	uint64_t now = loop_clock_ms();
	uint64_t lag = now > w->last_heartbeat_ms ? now - w->last_heartbeat_ms : 0;
	bool loop_ok = lag <= WEB_LOOP_STALL_MS;
	bool poll_ok = true;
	char text[160];

	/* The last poll of every project must have been complete; before the
	 * first poll finishes there is nothing to hold against it. */
	if (w->d.discovery) {
		struct discovery_status ds;
		discovery_get_status(w->d.discovery, &ds);
		for (size_t i = 0; i < ds.project_count; i++)
			if (ds.projects[i].polls > 0 && !ds.projects[i].last_ok)
				poll_ok = false;
	}

	snprintf(text, sizeof(text), "%s\nloop: %s\npoll: %s\n",
	         loop_ok && poll_ok ? "ok" : "unhealthy",
	         loop_ok ? "ok" : "stalled", !w->d.discovery ? "off" : poll_ok ? "ok" : "failing");
	web_reply_text(out, loop_ok && poll_ok ? 200 : 503, text);
}
