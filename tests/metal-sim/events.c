/*
 * Device events, as GET /devices/{id}/events serves them.  Each device keeps
 * its newest SIM_MAX_EVENTS; a long soak test must not grow memory without
 * bound.
 */
#include "metal_sim.h"

#include <stdlib.h>
#include <string.h>

static char *interpolate(const char *body, const char *hostname)
{
	static const char mark[] = "{{device}}";
	struct strbuf sb;
	const char *p = body, *hit;

	sb_init(&sb);
	while ((hit = strstr(p, mark)) != NULL) {
		sb_append(&sb, p, (size_t)(hit - p));
		sb_puts(&sb, hostname);
		p = hit + sizeof(mark) - 1;
	}
	sb_puts(&sb, p);
	return sb_steal(&sb);
}

void events_record(struct sim *sim, struct sim_device *dev, const char *type,
		   const char *body, int64_t at_ms)
{
	const char *hostname = json_string_value(json_object_get(dev->obj, "hostname"));
	char id[37], when[32], href[96], devhref[96];
	/* Bodies quote values cut to a length: keep them valid UTF-8. */
	char *clean = utf8_sanitize(body, strlen(body));
	char *text = clean ? interpolate(clean, hostname ? hostname : dev->id) : NULL;
	json_t *ev;

	if (text == NULL) {
		free(clean);
		return;
	}
	body = clean;
	rng_uuid(&sim->id_rng, id);
	clock_format_iso(at_ms, when);
	snprintf(href, sizeof(href), SIM_API_PREFIX "/events/%s", id);
	snprintf(devhref, sizeof(devhref), SIM_API_PREFIX "/devices/%s", dev->id);
	/* `state` carries the device state right after the event, which is
	 * what a client polling events wants to know. */
	ev = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:[{s:s}]}", "id", id,
		       "type", type, "body", body, "state", device_state(dev),
		       "created_at", when, "interpolated", text, "href", href,
		       "relationships", "href", devhref);
	free(text);
	free(clean);
	if (ev == NULL)
		return;
	if (json_array_size(dev->events) >= SIM_MAX_EVENTS)
		json_array_remove(dev->events, 0);
	json_array_append_new(dev->events, ev);
}
