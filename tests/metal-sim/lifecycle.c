/*
 * Device power states and actions.
 *
 * An accepted action changes the state at once to its first intermediate
 * state and queues the remaining steps, each --transition-ms after the
 * previous one:
 *
 *   power_off:  active   -> powering_off -> inactive
 *   power_on:   inactive -> powering_on  -> active
 *   reboot:     active   -> powering_off -> powering_on -> active
 *   rescue:     like reboot from active, like power_on from inactive
 *   reinstall:  active|inactive|failed -> reinstalling -> active
 *
 * Steps are applied lazily: every request first calls lifecycle_advance(),
 * which applies whatever is due, stamping each change with the time it was
 * due.  No timer thread is needed, and what a client observes is exactly
 * what a timer would have produced.
 */
#include "metal_sim.h"

#include <string.h>

static const char *const valid_states[] = {
	"queued", "provisioning", "deprovisioning", "reinstalling", "active",
	"inactive", "failed", "powering_on", "powering_off", "deleted",
};

struct action_info {
	const char *type;
	const char *name; /* label in Device.actions */
};

static const struct action_info all_actions[] = {
	{ "power_on", "Power On" },   { "power_off", "Power Off" },
	{ "reboot", "Reboot" },       { "rescue", "Rescue" },
	{ "reinstall", "Reinstall" },
};

/* Returns the canonical static string for a valid state, else NULL; the
 * steps keep these pointers, never caller memory. */
static const char *canonical_state(const char *state)
{
	for (size_t i = 0; i < sizeof(valid_states) / sizeof(valid_states[0]); i++)
		if (strcmp(valid_states[i], state) == 0)
			return valid_states[i];
	return NULL;
}

bool lifecycle_is_valid_state(const char *state)
{
	return canonical_state(state) != NULL;
}

const char *device_state(const struct sim_device *dev)
{
	const char *s = json_string_value(json_object_get(dev->obj, "state"));

	return s ? s : "active";
}

/* Why `type` cannot run in `state`, or NULL when it can. */
static const char *action_refusal(const char *state, const char *type)
{
	bool on = strcmp(state, "active") == 0;
	bool off = strcmp(state, "inactive") == 0;

	if (strcmp(state, "deleted") == 0 || strcmp(state, "deprovisioning") == 0)
		return "Device is being deleted";
	if (strcmp(state, "failed") == 0)
		return strcmp(type, "reinstall") == 0 ? NULL
		       : "Device is in a failed state; only reinstall is possible";
	if (!on && !off)
		return "Device is busy with another operation; try again when it has finished";
	if (strcmp(type, "power_on") == 0)
		return on ? "Device is already powered on" : NULL;
	if (strcmp(type, "power_off") == 0)
		return off ? "Device is already powered off" : NULL;
	if (strcmp(type, "reboot") == 0)
		return off ? "Device is powered off; power it on instead of rebooting" : NULL;
	return NULL; /* rescue, reinstall: from active or inactive */
}

void lifecycle_refresh_actions(json_t *dev)
{
	const char *state = json_string_value(json_object_get(dev, "state"));
	json_t *list = json_array();

	if (list == NULL)
		return;
	for (size_t i = 0; i < sizeof(all_actions) / sizeof(all_actions[0]); i++)
		if (action_refusal(state ? state : "active", all_actions[i].type) == NULL)
			json_array_append_new(list, json_pack("{s:s,s:s}", "type",
					      all_actions[i].type, "name",
					      all_actions[i].name));
	json_object_set_new(dev, "actions", list);
}

static void set_state(struct sim *sim, struct sim_device *dev,
		      const char *state, int64_t at_ms, const char *why)
{
	char old[32], body[160], when[32];

	snprintf(old, sizeof(old), "%s", device_state(dev));
	if (strcmp(old, state) == 0)
		return;
	clock_format_iso(at_ms, when);
	json_object_set_new(dev->obj, "state", json_string(state));
	json_object_set_new(dev->obj, "updated_at", json_string(when));
	lifecycle_refresh_actions(dev->obj);
	snprintf(body, sizeof(body), "{{device}} state changed from %s to %s%s",
		 old, state, why);
	events_record(sim, dev, "instance.state", body, at_ms);
}

static void clear_steps(struct sim *sim, struct sim_device *dev)
{
	if (dev->nsteps > 0)
		sim->store.npending--;
	dev->nsteps = 0;
}

static void queue_step(struct sim *sim, struct sim_device *dev, int64_t due,
		       const char *state)
{
	if (dev->nsteps == 0)
		sim->store.npending++;
	if (dev->nsteps < SIM_MAX_STEPS)
		dev->steps[dev->nsteps++] = (struct state_step){ due, state };
}

void lifecycle_advance(struct sim *sim)
{
	struct store *st = &sim->store;
	int64_t now;

	if (st->npending == 0)
		return;
	now = clock_now_ms();
	for (size_t i = 0; i < st->ndevices && st->npending > 0; i++) {
		struct sim_device *dev = st->devices[i];
		size_t done = 0;

		while (done < dev->nsteps && dev->steps[done].due_ms <= now) {
			set_state(sim, dev, dev->steps[done].state,
				  dev->steps[done].due_ms, "");
			done++;
		}
		if (done == 0)
			continue;
		memmove(dev->steps, dev->steps + done,
			(dev->nsteps - done) * sizeof(dev->steps[0]));
		dev->nsteps -= done;
		if (dev->nsteps == 0)
			st->npending--;
	}
}

const char *lifecycle_start_action(struct sim *sim, struct sim_device *dev,
				   const char *type, const json_t *input)
{
	const char *state = device_state(dev);
	const char *refusal = action_refusal(state, type);
	int64_t now = clock_now_ms(), t = sim->transition_ms;
	char body[96];
	bool was_on = strcmp(state, "active") == 0;

	if (refusal != NULL)
		return refusal;
	snprintf(body, sizeof(body), "{{device}}: %s requested", type);
	{
		char evtype[48];

		snprintf(evtype, sizeof(evtype), "instance.%s", type);
		events_record(sim, dev, evtype, body, now);
	}
	clear_steps(sim, dev);
	if (strcmp(type, "power_off") == 0) {
		set_state(sim, dev, "powering_off", now, "");
		queue_step(sim, dev, now + t, "inactive");
	} else if (strcmp(type, "power_on") == 0 ||
		   (strcmp(type, "rescue") == 0 && !was_on)) {
		set_state(sim, dev, "powering_on", now, "");
		queue_step(sim, dev, now + t, "active");
	} else if (strcmp(type, "reboot") == 0 || strcmp(type, "rescue") == 0) {
		set_state(sim, dev, "powering_off", now, "");
		queue_step(sim, dev, now + t, "powering_on");
		queue_step(sim, dev, now + 2 * t, "active");
	} else { /* reinstall */
		const char *os = json_string_value(json_object_get(input, "operating_system"));
		json_t *cur = json_object_get(dev->obj, "operating_system");

		if (os != NULL && os[0] != '\0') {
			if (!json_is_object(cur)) {
				cur = json_object();
				json_object_set_new(dev->obj, "operating_system", cur);
			}
			json_object_set_new(cur, "slug", json_string(os));
		}
		set_state(sim, dev, "reinstalling", now, "");
		queue_step(sim, dev, now + t, "active");
	}
	return NULL;
}

void lifecycle_force_state(struct sim *sim, struct sim_device *dev,
			   const char *state)
{
	const char *canon = canonical_state(state);

	if (canon == NULL)
		return;
	clear_steps(sim, dev);
	set_state(sim, dev, canon, clock_now_ms(), " (out of band)");
}
