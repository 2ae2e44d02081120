/*
 * The test-only control surface, outside the API prefix:
 *
 *   GET  /_sim/requests[?since=SEQ]   API requests received (see reqlog.c)
 *   POST /_sim/requests/clear         forget them
 *   GET  /_sim/faults                 current fault settings
 *   POST /_sim/faults                 change some of them (JSON object)
 *   GET  /_sim/devices/{id}           raw device state, pending steps
 *   POST /_sim/devices/{id}           change a device out of band
 *   POST /_sim/projects/{id}/devices  add a device (a Device object)
 *
 * Same token as the API; never subject to faults; not in the request log.
 */
#include "metal_sim.h"

#include <stdlib.h>
#include <string.h>

/* The control surface reads an empty body as {}. */
static json_t *parse_object(const struct sim_request *req, struct sim_reply *reply)
{
	return request_object(req, reply, NULL);
}

static json_t *raw_device(struct sim_device *dev)
{
	json_t *steps = json_array();
	int64_t now = clock_now_ms();

	for (size_t i = 0; steps != NULL && i < dev->nsteps; i++)
		json_array_append_new(steps, json_pack("{s:s,s:I}", "state",
						       dev->steps[i].state, "due_in_ms",
						       (json_int_t)(dev->steps[i].due_ms - now)));
	return json_pack("{s:O,s:s,s:b,s:o,s:I}", "device", dev->obj, "project_id",
			 dev->project->id, "deleted", dev->deleted, "pending", steps,
			 "events", (json_int_t)json_array_size(dev->events));
}

/* Body: any of {"state": S, "deleted": bool, "set": {field: value|null}}.
 * Validated whole before anything changes. */
static void change_device(struct sim *sim, const struct sim_request *req,
			  struct sim_device *dev, struct sim_reply *reply)
{
	json_t *in = parse_object(req, reply), *state, *deleted, *set, *v;
	const char *key, *problem = NULL;

	if (in == NULL)
		return;
	state = json_object_get(in, "state");
	deleted = json_object_get(in, "deleted");
	set = json_object_get(in, "set");
	json_object_foreach(in, key, v)
		if (strcmp(key, "state") != 0 && strcmp(key, "deleted") != 0 &&
		    strcmp(key, "set") != 0)
			problem = "unknown key: use state, deleted or set";
	if (state != NULL && !(json_is_string(state) &&
			       lifecycle_is_valid_state(json_string_value(state))))
		problem = "state must be one of the Device states";
	if (deleted != NULL && !json_is_boolean(deleted))
		problem = "deleted must be a boolean";
	if (set != NULL && !json_is_object(set))
		problem = "set must be an object of top-level Device fields";
	if (json_object_get(set, "id") != NULL || json_object_get(set, "state") != NULL)
		problem = "set cannot change id or state (use \"state\")";
	if (problem != NULL) {
		json_decref(in);
		reply_errors(reply, 422, problem);
		return;
	}
	json_object_foreach(set, key, v) {
		if (json_is_null(v))
			json_object_del(dev->obj, key);
		else
			json_object_set(dev->obj, key, v);
	}
	if (state != NULL)
		lifecycle_force_state(sim, dev, json_string_value(state));
	if (deleted != NULL)
		dev->deleted = json_is_true(deleted);
	lifecycle_refresh_actions(dev->obj);
	json_decref(in);
	reply_json(reply, 200, raw_device(dev));
}

static void add_device(struct sim *sim, const struct sim_request *req,
		       struct sim_project *p, struct sim_reply *reply)
{
	json_t *in = parse_object(req, reply);
	struct sim_device *dev;
	char err[512];
	const char *id;

	if (in == NULL)
		return;
	if (!fixture_prepare_device(in, p->id, "device", err, sizeof(err))) {
		json_decref(in);
		reply_errors(reply, 422, err);
		return;
	}
	id = json_string_value(json_object_get(in, "id"));
	if (store_find_device(&sim->store, id) != NULL) {
		json_decref(in);
		reply_errors(reply, 409, "a device with this id exists");
		return;
	}
	dev = store_add_device(&sim->store, p, in);
	if (dev == NULL) {
		reply_errors(reply, 500, "out of memory");
		return;
	}
	reply_json(reply, 201, raw_device(dev));
}

static json_t *fault_settings(const struct sim *sim)
{
	json_t *o = faults_to_json(&sim->faults);

	if (o != NULL)
		json_object_set_new(o, "transition_ms", json_integer(sim->transition_ms));
	return o;
}

void control_handle(struct sim *sim, const struct sim_request *req,
		    const char *path, struct sim_reply *reply)
{
	bool get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
	bool post = strcmp(req->method, "POST") == 0;

	if (strcmp(path, "/requests") == 0) {
		const char *since = query_get(&req->query, "since");

		if (!get)
			goto bad_method;
		reply_json(reply, 200, reqlog_to_json(&sim->log,
			   since ? strtoull(since, NULL, 10) : 0));
	} else if (strcmp(path, "/requests/clear") == 0) {
		if (!post)
			goto bad_method;
		reqlog_clear(&sim->log);
		reply_json(reply, 200, json_pack("{s:b}", "cleared", 1));
	} else if (strcmp(path, "/faults") == 0) {
		if (post) {
			json_t *in = parse_object(req, reply);
			const char *problem;

			if (in == NULL)
				return;
			problem = faults_apply_json(sim, in);
			json_decref(in);
			if (problem != NULL) {
				reply_errors(reply, 422, problem);
				return;
			}
		} else if (!get) {
			goto bad_method;
		}
		reply_json(reply, 200, fault_settings(sim));
	} else if (strncmp(path, "/devices/", 9) == 0 && strchr(path + 9, '/') == NULL) {
		struct sim_device *dev = store_find_device(&sim->store, path + 9);

		if (dev == NULL)
			reply_errors(reply, 404, "Not found");
		else if (get)
			reply_json(reply, 200, raw_device(dev));
		else if (post)
			change_device(sim, req, dev, reply);
		else
			goto bad_method;
	} else if (strncmp(path, "/projects/", 10) == 0) {
		char id[64];
		const char *slash = strchr(path + 10, '/');
		struct sim_project *p = NULL;

		if (slash != NULL && strcmp(slash, "/devices") == 0 &&
		    (size_t)(slash - (path + 10)) < sizeof(id)) {
			memcpy(id, path + 10, (size_t)(slash - (path + 10)));
			id[slash - (path + 10)] = '\0';
			p = store_find_project(&sim->store, id);
		}
		if (p == NULL)
			reply_errors(reply, 404, "Not found");
		else if (!post)
			goto bad_method;
		else
			add_device(sim, req, p, reply);
	} else {
		reply_errors(reply, 404, "Not found");
	}
	return;
bad_method:
	reply_errors(reply, 405, "Method not allowed");
}
