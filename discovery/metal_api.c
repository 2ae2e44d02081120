/*
 * metal_api.c - Metal API request builders and answer decoders; see
 * metal_api.h. The field names and shapes are those of the OpenAPI
 * description (tests/metal-sim/openapi/openapi.yaml): DeviceList, Device,
 * Meta, Href, Error.
 */
#include "metal_api.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Big nested parts of a Device that metalbmc never reads. Objects that
 * carry other fields we do read (plan, facility, operating_system) are
 * trimmed by their dotted sub-fields, as the spec's exclude allows. */
const char metal_exclude[] =
	"actions,created_by,customdata,description,hardware_reservation,"
	"ip_addresses,network_ports,project_lite,provisioning_events,"
	"root_password,ssh_keys,storage,userdata,volumes,facility.address,"
	"facility.features,facility.ip_ranges,facility.metro,"
	"operating_system.pricing,operating_system.provisionable_on,"
	"plan.available_in,plan.available_in_metros,plan.categories,"
	"plan.deployment_types,plan.pricing,plan.specs";

/* ---- requests ------------------------------------------------------------- */

int metal_path_devices(char *out, size_t cap, const char *project_id,
                       unsigned page, unsigned per_page)
{
	int n = snprintf(out, cap,
	                 "/projects/%s/devices?tag=ipmi%%3Denabled&per_page=%u&page=%u"
	                 "&exclude=%s",
	                 project_id, per_page, page, metal_exclude);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int metal_path_device(char *out, size_t cap, const char *device_id)
{
	int n = snprintf(out, cap, "/devices/%s?exclude=%s", device_id, metal_exclude);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int metal_path_actions(char *out, size_t cap, const char *device_id)
{
	int n = snprintf(out, cap, "/devices/%s/actions", device_id);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static char *dump(json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	return s;
}

char *metal_body_action(const char *type)
{
	return dump(json_pack("{s:s}", "type", type));
}

char *metal_body_boot(bool always_pxe, const char *ipxe_url)
{
	json_t *j = json_pack("{s:b}", "always_pxe", always_pxe);
	if (j && ipxe_url && ipxe_url[0] &&
	    json_object_set_new(j, "ipxe_script_url", json_string(ipxe_url)) < 0) {
		json_decref(j);
		return NULL;
	}
	return dump(j);
}

/* ---- decoding helpers ---------------------------------------------------- */

struct dctx {
	char *why;
	size_t why_len;
	char where[64];   /* "devices[3]" or "device" */
};

static int fail(struct dctx *x, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct dctx *x, const char *field, const char *fmt, ...)
{
	char msg[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(x->why, x->why_len, "%s%s%s: %s", x->where, x->where[0] && field[0] ? "." : "",
	         field, msg);
	return -1;
}

static const char *json_kind(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_INTEGER: return "integer";
	case JSON_REAL: return "number";
	case JSON_TRUE:
	case JSON_FALSE: return "boolean";
	case JSON_NULL: return "null";
	}
	return "?";
}

/* The real API prints nulls where the spec has none: null reads as absent. */
static json_t *field(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return v && !json_is_null(v) ? v : NULL;
}

static bool id_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || c == '-';
}

static bool name_char(char c)
{
	return id_char(c) || c == '.' || c == '_';
}

static bool state_char(char c)
{
	return (c >= 'a' && c <= 'z') || c == '_';
}

/* A string that must fit exactly and use only chars accepted by ok(). */
static int strict_string(struct dctx *x, json_t *obj, const char *key, bool required,
                         char *dst, size_t cap, bool (*ok)(char))
{
	json_t *v = field(obj, key);
	dst[0] = 0;
	if (!v)
		return required ? fail(x, key, "missing") : 0;
	if (!json_is_string(v))
		return fail(x, key, "expected a string, got %s", json_kind(v));
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	if (n == 0)
		return required ? fail(x, key, "empty") : 0;
	if (n >= cap)
		return fail(x, key, "longer than %zu bytes", cap - 1);
	for (size_t i = 0; i < n; i++)
		if (!ok(s[i]))
			return fail(x, key, "unexpected character 0x%02x", (unsigned char)s[i]);
	memcpy(dst, s, n + 1);
	return 0;
}

/* A string only shown to people: control characters become '?', and a
 * longer one is cut. Wrong type is still an error. */
static int display_string(struct dctx *x, json_t *obj, const char *key, char *dst,
                          size_t cap)
{
	json_t *v = field(obj, key);
	dst[0] = 0;
	if (!v)
		return 0;
	if (!json_is_string(v))
		return fail(x, key, "expected a string, got %s", json_kind(v));
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	if (n >= cap)
		n = cap - 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		dst[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	dst[n] = 0;
	return 0;
}

/* obj.key.sub as a display string (facility.code, plan.slug ...). */
static int nested_string(struct dctx *x, json_t *obj, const char *key, const char *sub,
                         char *dst, size_t cap)
{
	json_t *v = field(obj, key);
	dst[0] = 0;
	if (!v)
		return 0;
	if (!json_is_object(v))
		return fail(x, key, "expected an object, got %s", json_kind(v));
	char saved[sizeof(x->where)];
	memcpy(saved, x->where, sizeof(saved));
	snprintf(x->where + strlen(x->where), sizeof(x->where) - strlen(x->where),
	         "%s%s", x->where[0] ? "." : "", key);
	int rc = display_string(x, v, sub, dst, cap);
	memcpy(x->where, saved, sizeof(saved));
	return rc;
}

static int decode_tags(struct dctx *x, json_t *obj, struct metal_device *d)
{
	json_t *tags = field(obj, "tags");
	size_t i, total = 0;
	json_t *t;

	if (!tags)
		return 0;
	if (!json_is_array(tags))
		return fail(x, "tags", "expected an array, got %s", json_kind(tags));
	json_array_foreach(tags, i, t) {
		if (!json_is_string(t)) {
			char f[32];
			snprintf(f, sizeof(f), "tags[%zu]", i);
			return fail(x, f, "expected a string, got %s", json_kind(t));
		}
		size_t n = json_string_length(t);
		if (n < MAX_TAG_BYTES && d->tag_count < MAX_TAGS_PER_DEVICE) {
			total += n + 1;
			d->tag_count++;
		} else {
			d->tags_dropped++;
		}
	}
	if (!total)
		return 0;
	d->tags = malloc(total);
	if (!d->tags)
		return fail(x, "tags", "out of memory");
	char *w = d->tags;
	uint16_t kept = 0;
	json_array_foreach(tags, i, t) {
		size_t n = json_string_length(t);
		if (n < MAX_TAG_BYTES && kept < d->tag_count) {
			memcpy(w, json_string_value(t), n + 1);
			w += n + 1;
			kept++;
		}
	}
	return 0;
}

static int decode_project(struct dctx *x, json_t *obj, struct metal_device *d)
{
	json_t *p = field(obj, "project");
	json_t *href;

	d->project_id[0] = 0;
	if (!p)
		return 0;
	if (!json_is_object(p))
		return fail(x, "project", "expected an object, got %s", json_kind(p));
	href = field(p, "href");
	if (!href)
		return 0;
	if (!json_is_string(href))
		return fail(x, "project.href", "expected a string, got %s", json_kind(href));
	const char *s = json_string_value(href);
	const char *slash = strrchr(s, '/');
	const char *id = slash ? slash + 1 : s;
	size_t n = strlen(id);
	if (n == 0 || n >= sizeof(d->project_id))
		return 0; /* not an ID we can use; the polled project stands */
	for (size_t i = 0; i < n; i++)
		if (!id_char(id[i]))
			return 0;
	memcpy(d->project_id, id, n + 1);
	return 0;
}

static int decode_device(struct dctx *x, json_t *obj, struct metal_device *d)
{
	json_t *v;

	memset(d, 0, sizeof(*d));
	if (!json_is_object(obj))
		return fail(x, "", "expected an object, got %s", json_kind(obj));
	if (strict_string(x, obj, "id", true, d->id, sizeof(d->id), id_char) < 0 ||
	    strict_string(x, obj, "short_id", false, d->short_id, sizeof(d->short_id),
	                  name_char) < 0 ||
	    strict_string(x, obj, "state", true, d->state, sizeof(d->state), state_char) < 0 ||
	    display_string(x, obj, "hostname", d->hostname, sizeof(d->hostname)) < 0 ||
	    display_string(x, obj, "sos", d->sos, sizeof(d->sos)) < 0 ||
	    nested_string(x, obj, "operating_system", "slug", d->os_slug, sizeof(d->os_slug)) < 0 ||
	    nested_string(x, obj, "facility", "code", d->facility, sizeof(d->facility)) < 0 ||
	    nested_string(x, obj, "metro", "code", d->metro, sizeof(d->metro)) < 0 ||
	    nested_string(x, obj, "plan", "slug", d->plan, sizeof(d->plan)) < 0 ||
	    decode_project(x, obj, d) < 0)
		goto bad;

	v = field(obj, "always_pxe");
	if (v && !json_is_boolean(v)) {
		fail(x, "always_pxe", "expected a boolean, got %s", json_kind(v));
		goto bad;
	}
	d->always_pxe = v && json_is_true(v);

	v = field(obj, "ipxe_script_url");
	if (v) {
		if (!json_is_string(v)) {
			fail(x, "ipxe_script_url", "expected a string, got %s", json_kind(v));
			goto bad;
		}
		size_t n = json_string_length(v);
		if (n >= MAX_URL) {
			fail(x, "ipxe_script_url", "longer than %d bytes", MAX_URL - 1);
			goto bad;
		}
		const char *s = json_string_value(v);
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
				fail(x, "ipxe_script_url", "control character");
				goto bad;
			}
		if (n && !(d->ipxe_script_url = strdup(s))) {
			fail(x, "ipxe_script_url", "out of memory");
			goto bad;
		}
	}
	if (decode_tags(x, obj, d) < 0)
		goto bad;
	return 0;
bad:
	metal_device_clear(d);
	return -1;
}

static int meta_uint(struct dctx *x, json_t *meta, const char *key, bool required,
                     unsigned lo, unsigned hi, unsigned *out)
{
	json_t *v = field(meta, key);
	*out = 0;
	if (!v)
		return required ? fail(x, key, "missing") : 0;
	if (!json_is_integer(v))
		return fail(x, key, "expected an integer, got %s", json_kind(v));
	json_int_t n = json_integer_value(v);
	if (n < (json_int_t)lo || n > (json_int_t)hi)
		return fail(x, key, "%lld is outside %u..%u", (long long)n, lo, hi);
	*out = (unsigned)n;
	return 0;
}

static json_t *parse(const char *body, size_t len, char *why, size_t why_len)
{
	json_error_t err;
	json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);

	if (!root) {
		/* err.text can quote the input: keep only the position. */
		snprintf(why, why_len, "not valid JSON (line %d, column %d)", err.line,
		         err.column);
		return NULL;
	}
	if (!json_is_object(root)) {
		snprintf(why, why_len, "expected a JSON object, got %s", json_kind(root));
		json_decref(root);
		return NULL;
	}
	return root;
}

/* ---- answers ------------------------------------------------------------------ */

int metal_decode_page(const char *body, size_t len, struct metal_page *out,
                      char *why, size_t why_len)
{
	struct dctx x = { .why = why, .why_len = why_len };
	json_t *root, *devices, *meta, *dev;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (!(root = parse(body, len, why, why_len)))
		return -1;
	devices = field(root, "devices");
	meta = field(root, "meta");
	if (!devices || !json_is_array(devices)) {
		fail(&x, "devices", devices ? "expected an array" : "missing");
		goto bad;
	}
	if (!meta || !json_is_object(meta)) {
		/* Without meta, nobody can tell whether the list is whole. */
		fail(&x, "meta", meta ? "expected an object" : "missing");
		goto bad;
	}
	snprintf(x.where, sizeof(x.where), "meta");
	if (meta_uint(&x, meta, "last_page", true, 1, API_MAX_PAGES, &out->last_page) < 0 ||
	    meta_uint(&x, meta, "total", true, 0, API_MAX_TOTAL, &out->total) < 0 ||
	    meta_uint(&x, meta, "current_page", false, 0, API_MAX_PAGES * 100,
	              &out->current_page) < 0)
		goto bad;
	json_t *next = field(meta, "next");
	out->has_next = next != NULL;
	if (json_array_size(devices) > API_MAX_PER_PAGE) {
		x.where[0] = 0;
		fail(&x, "devices", "%zu devices on one page (at most %d)",
		     json_array_size(devices), API_MAX_PER_PAGE);
		goto bad;
	}
	if (json_array_size(devices)) {
		out->devices = calloc(json_array_size(devices), sizeof(*out->devices));
		if (!out->devices) {
			snprintf(why, why_len, "out of memory");
			goto bad;
		}
	}
	json_array_foreach(devices, i, dev) {
		snprintf(x.where, sizeof(x.where), "devices[%zu]", i);
		if (decode_device(&x, dev, &out->devices[i]) < 0)
			goto bad;
		out->count++;
	}
	json_decref(root);
	return 0;
bad:
	json_decref(root);
	metal_page_clear(out);
	return -1;
}

int metal_decode_device(const char *body, size_t len, struct metal_device *out,
                        char *why, size_t why_len)
{
	struct dctx x = { .why = why, .why_len = why_len, .where = "device" };
	json_t *root;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!(root = parse(body, len, why, why_len)))
		return -1;
	rc = decode_device(&x, root, out);
	json_decref(root);
	return rc;
}

static void printable_copy(const char *s, char *out, size_t cap)
{
	size_t o = 0;
	for (; *s && o + 1 < cap; s++)
		out[o++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	out[o] = 0;
}

void metal_decode_error(const char *body, size_t len, char *out, size_t cap)
{
	json_error_t err;
	json_t *root, *v;

	if (cap == 0)
		return;
	out[0] = 0;
	if (!body || !len || !(root = json_loadb(body, len, 0, &err)))
		return;
	if ((v = json_object_get(root, "errors")) && json_is_array(v) &&
	    json_array_size(v) && json_is_string(json_array_get(v, 0)))
		printable_copy(json_string_value(json_array_get(v, 0)), out, cap);
	else if ((v = json_object_get(root, "error")) && json_is_string(v))
		printable_copy(json_string_value(v), out, cap);
	json_decref(root);
}

void metal_device_clear(struct metal_device *d)
{
	free(d->ipxe_script_url);
	free(d->tags);
	memset(d, 0, sizeof(*d));
}

void metal_page_clear(struct metal_page *p)
{
	for (size_t i = 0; i < p->count; i++)
		metal_device_clear(&p->devices[i]);
	free(p->devices);
	memset(p, 0, sizeof(*p));
}

void metal_device_move(struct metal_device *dst, struct metal_device *src)
{
	metal_device_clear(dst);
	*dst = *src;
	memset(src, 0, sizeof(*src));
}

const char *metal_device_tag(const struct metal_device *d, const char *prev)
{
	if (!d->tags || d->tag_count == 0)
		return NULL;
	if (!prev)
		return d->tags;
	/* Find which tag prev is, then step over it. */
	const char *t = d->tags;
	for (uint16_t i = 0; i < d->tag_count; i++) {
		if (t == prev)
			return i + 1 < d->tag_count ? t + strlen(t) + 1 : NULL;
		t += strlen(t) + 1;
	}
	return NULL;
}

/* ---- device states ----------------------------------------------------------- */

struct state_meaning {
	const char *state;
	enum power_state power;
	bool transition;
};

/* Why each reads as it does: docs/metal.md, "Power state mapping". */
static const struct state_meaning states[] = {
	{ "active", POWER_ON, false },
	{ "inactive", POWER_OFF, false },
	{ "powering_on", POWER_ON, true },
	{ "powering_off", POWER_OFF, true },
	{ "queued", POWER_ON, false },
	{ "provisioning", POWER_ON, false },
	{ "reinstalling", POWER_ON, false },
	{ "deprovisioning", POWER_ON, false },
	{ "failed", POWER_OFF, false },
	{ "deleted", POWER_OFF, false },
};

static const struct state_meaning *lookup_state(const char *state)
{
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		if (strcmp(states[i].state, state) == 0)
			return &states[i];
	return NULL;
}

enum power_state metal_state_power(const char *state)
{
	const struct state_meaning *m = lookup_state(state);
	return m ? m->power : POWER_UNKNOWN;
}

bool metal_state_transition(const char *state)
{
	const struct state_meaning *m = lookup_state(state);
	return m && m->transition;
}

bool metal_state_settled(const char *state)
{
	return strcmp(state, "active") == 0 || strcmp(state, "inactive") == 0;
}
