/*
 * The fixture file: {"projects": [{"id": UUID, "devices": [Device, ...]}]}.
 *
 * A fixture is test input written by hand or by gen_fixture.py, so mistakes
 * are reported precisely (file, JSON path, what was expected) and are fatal:
 * a simulator quietly serving half a fixture makes tests lie.  Fields the
 * simulator does not know are kept and served back as they are.
 */
#include "metal_sim.h"

#include <stdarg.h>
#include <string.h>

/* The fields metalbmc (or the simulator itself) reads, with the JSON type
 * the spec gives them.  Anything else is passed through unchecked. */
struct known_field {
	const char *name;
	json_type type; /* JSON_TRUE stands for "boolean" */
};

static const struct known_field known_fields[] = {
	{ "id", JSON_STRING },           { "short_id", JSON_STRING },
	{ "hostname", JSON_STRING },     { "description", JSON_STRING },
	{ "state", JSON_STRING },        { "tags", JSON_ARRAY },
	{ "always_pxe", JSON_TRUE },     { "ipxe_script_url", JSON_STRING },
	{ "locked", JSON_TRUE },         { "customdata", JSON_OBJECT },
	{ "userdata", JSON_STRING },     { "operating_system", JSON_OBJECT },
	{ "facility", JSON_OBJECT },     { "metro", JSON_OBJECT },
	{ "plan", JSON_OBJECT },         { "project", JSON_OBJECT },
	{ "ip_addresses", JSON_ARRAY },  { "sos", JSON_STRING },
	{ "actions", JSON_ARRAY },       { "created_at", JSON_STRING },
	{ "updated_at", JSON_STRING },   { "href", JSON_STRING },
	{ "billing_cycle", JSON_STRING }, { "network_frozen", JSON_TRUE },
	{ "spot_instance", JSON_TRUE },  { "bonding_mode", JSON_INTEGER },
	{ "switch_uuid", JSON_STRING },  { "iqn", JSON_STRING },
	{ "user", JSON_STRING },         { "image_url", JSON_STRING },
};

static bool type_matches(const json_t *v, json_type want)
{
	if (want == JSON_TRUE)
		return json_is_boolean(v);
	return json_typeof(v) == want;
}

static const char *type_word(json_type t)
{
	switch (t) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_INTEGER: return "integer";
	case JSON_TRUE: return "boolean";
	default: return "value";
	}
}

static bool fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static bool fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return false;
}

/* Sets `key` to `value` (stolen) when absent. */
static void set_default(json_t *dev, const char *key, json_t *value)
{
	if (json_object_get(dev, key) == NULL)
		json_object_set_new(dev, key, value);
	else
		json_decref(value);
}

bool fixture_prepare_device(json_t *dev, const char *project_id,
			    const char *where, char *err, size_t errlen)
{
	const char *id, *state, *hostname;
	json_t *tags, *facility;
	char now[32], buf[256];

	if (!json_is_object(dev))
		return fail(err, errlen, "%s: expected a Device object, got %s",
			    where, json_type_name(dev));
	/* The real API prints null for unset fields; the spec does not allow
	 * null for them, so a null known field reads as absent. */
	for (size_t i = 0; i < sizeof(known_fields) / sizeof(known_fields[0]); i++) {
		json_t *v = json_object_get(dev, known_fields[i].name);

		if (v == NULL)
			continue;
		if (json_is_null(v)) {
			json_object_del(dev, known_fields[i].name);
			continue;
		}
		if (!type_matches(v, known_fields[i].type))
			return fail(err, errlen, "%s.%s: expected %s, got %s", where,
				    known_fields[i].name,
				    type_word(known_fields[i].type),
				    json_type_name(v));
	}
	id = json_string_value(json_object_get(dev, "id"));
	if (id == NULL)
		return fail(err, errlen, "%s: missing \"id\" (a UUID)", where);
	if (!is_uuid(id))
		return fail(err, errlen, "%s.id: \"%s\" is not a UUID", where, id);
	state = json_string_value(json_object_get(dev, "state"));
	if (state != NULL && !lifecycle_is_valid_state(state))
		return fail(err, errlen, "%s.state: \"%s\" is not a Device state (queued, provisioning, deprovisioning, reinstalling, active, inactive, failed, powering_on, powering_off, deleted)",
			    where, state);
	tags = json_object_get(dev, "tags");
	for (size_t i = 0; tags != NULL && i < json_array_size(tags); i++)
		if (!json_is_string(json_array_get(tags, i)))
			return fail(err, errlen, "%s.tags[%zu]: expected string, got %s",
				    where, i, json_type_name(json_array_get(tags, i)));

	clock_format_iso(clock_now_ms(), now);
	snprintf(buf, sizeof(buf), "%.8s", id);
	set_default(dev, "short_id", json_string(buf));
	snprintf(buf, sizeof(buf), "device-%.8s", id);
	set_default(dev, "hostname", json_string(buf));
	set_default(dev, "state", json_string("active"));
	set_default(dev, "tags", json_array());
	set_default(dev, "always_pxe", json_false());
	set_default(dev, "locked", json_false());
	set_default(dev, "customdata", json_object());
	set_default(dev, "ip_addresses", json_array());
	set_default(dev, "created_at", json_string(now));
	set_default(dev, "updated_at",
		    json_copy(json_object_get(dev, "created_at")));
	snprintf(buf, sizeof(buf), SIM_API_PREFIX "/devices/%s", id);
	set_default(dev, "href", json_string(buf));
	snprintf(buf, sizeof(buf), SIM_API_PREFIX "/projects/%s", project_id);
	set_default(dev, "project", json_pack("{s:s}", "href", buf));
	set_default(dev, "operating_system",
		    json_pack("{s:s,s:s,s:s,s:s}", "slug", "ubuntu_22_04",
			      "name", "Ubuntu 22.04 LTS", "distro", "ubuntu",
			      "version", "22.04"));
	set_default(dev, "metro", json_pack("{s:s,s:s,s:s}", "code", "da",
					    "name", "Dallas", "country", "US"));
	set_default(dev, "facility", json_pack("{s:s,s:s}", "code", "da11",
					       "name", "Dallas DA11"));
	set_default(dev, "plan", json_pack("{s:s,s:s,s:s}", "slug", "c3.small.x86",
					   "name", "c3.small.x86", "class",
					   "c3.small.x86"));
	facility = json_object_get(dev, "facility");
	if (json_is_string(json_object_get(facility, "code"))) {
		/* The SOS console host is named after the facility. */
		snprintf(buf, sizeof(buf), "sos.%s.platformequinix.com",
			 json_string_value(json_object_get(facility, "code")));
		set_default(dev, "sos", json_string(buf));
	}
	hostname = json_string_value(json_object_get(dev, "hostname"));
	if (hostname == NULL || hostname[0] == '\0')
		return fail(err, errlen, "%s.hostname: must not be empty", where);
	lifecycle_refresh_actions(dev);
	return true;
}

bool fixture_load(struct store *st, const char *path, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root, *projects;
	char where[128], inner[512];
	bool ok = false;

	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return fail(err, errlen, "%s:%d:%d: %s", path, jerr.line,
			    jerr.column, jerr.text);
	projects = json_object_get(root, "projects");
	if (!json_is_object(root) || !json_is_array(projects)) {
		fail(err, errlen, "%s: top level must be {\"projects\": [...]}", path);
		goto out;
	}
	for (size_t pi = 0; pi < json_array_size(projects); pi++) {
		json_t *pj = json_array_get(projects, pi);
		json_t *devices = json_object_get(pj, "devices");
		const char *pid = json_string_value(json_object_get(pj, "id"));
		struct sim_project *p;

		if (!json_is_object(pj)) {
			fail(err, errlen, "%s: projects[%zu]: expected an object", path, pi);
			goto out;
		}
		if (pid == NULL || !is_uuid(pid)) {
			fail(err, errlen, "%s: projects[%zu].id: expected a UUID string", path, pi);
			goto out;
		}
		if (store_find_project(st, pid) != NULL) {
			fail(err, errlen, "%s: projects[%zu].id: project %s appears twice", path, pi, pid);
			goto out;
		}
		if (devices != NULL && !json_is_array(devices)) {
			fail(err, errlen, "%s: projects[%zu].devices: expected an array", path, pi);
			goto out;
		}
		p = store_add_project(st, pid);
		if (p == NULL) {
			fail(err, errlen, "%s: out of memory", path);
			goto out;
		}
		for (size_t di = 0; di < json_array_size(devices); di++) {
			json_t *dev = json_array_get(devices, di);
			const char *id;

			snprintf(where, sizeof(where), "projects[%zu].devices[%zu]", pi, di);
			if (!fixture_prepare_device(dev, pid, where, inner, sizeof(inner))) {
				fail(err, errlen, "%s: %s", path, inner);
				goto out;
			}
			id = json_string_value(json_object_get(dev, "id"));
			if (store_find_device(st, id) != NULL) {
				fail(err, errlen, "%s: %s.id: device %s appears twice", path, where, id);
				goto out;
			}
			if (store_add_device(st, p, json_incref(dev)) == NULL) {
				fail(err, errlen, "%s: out of memory", path);
				goto out;
			}
		}
	}
	ok = true;
out:
	json_decref(root);
	return ok;
}
