/*
 * health.c - /healthz, for load balancers and supervisors: no credentials,
 * no detail beyond what is needed to act on it.
 *
 * Healthy when the loop's heartbeat timer fired recently (timers are
 * running, so sessions expire and polls start) and, when Metal projects
 * are polled, the last poll succeeded.
 */
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

	snprintf(text, sizeof(text), "%s\nloop: %s\npoll: %s\n",
	         loop_ok && poll_ok ? "ok" : "unhealthy",
	         loop_ok ? "ok" : "stalled", !w->d.discovery ? "off" : poll_ok ? "ok" : "failing");
	web_reply_text(out, loop_ok && poll_ok ? 200 : 503, text);
}
