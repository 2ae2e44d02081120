/*
 * Small JSON and string helpers shared by the handlers: the API's error
 * bodies, compact serialisation, id checks.
 */
#include "metal_sim.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

bool is_uuid(const char *s)
{
	/* 8-4-4-4-12 hex digits, any version: the spec only says format uuid. */
	for (size_t i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (s[i] == '\0')
			return false;
		if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return false;
	}
	return s[36] == '\0';
}

char *json_compact(const json_t *v)
{
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

/* Messages may quote client input cut to a length, so possibly in the
 * middle of a UTF-8 sequence: sanitised, or jansson would refuse them. */
static char *error_body(const char *msg, bool list)
{
	char *clean = utf8_sanitize(msg, strlen(msg));
	json_t *o = !clean ? NULL
	            : list ? json_pack("{s:[s]}", "errors", clean)
	                   : json_pack("{s:s}", "error", clean);
	char *s = o ? json_compact(o) : NULL;

	free(clean);
	json_decref(o);
	return s;
}

char *json_errors_body(const char *msg) { return error_body(msg, true); }
char *json_error_body(const char *msg) { return error_body(msg, false); }

const char *json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_INTEGER: return "integer";
	case JSON_REAL: return "number";
	case JSON_TRUE:
	case JSON_FALSE: return "boolean";
	case JSON_NULL: return "null";
	}
	return "unknown";
}

bool contains_ci(const char *haystack, const char *needle)
{
	size_t n = strlen(needle);

	if (n == 0)
		return true;
	for (const char *h = haystack; *h != '\0'; h++)
		if (strncasecmp(h, needle, n) == 0)
			return true;
	return false;
}

void reply_json(struct sim_reply *r, unsigned status, json_t *owned)
{
	char *text = owned ? json_compact(owned) : NULL;

	json_decref(owned);
	if (text == NULL) {
		reply_errors(r, 500, "Internal Server Error");
		return;
	}
	reply_text(r, status, text);
}

void reply_text(struct sim_reply *r, unsigned status, char *owned_json)
{
	reply_free(r);
	r->status = status;
	r->body = owned_json;
	r->body_len = owned_json ? strlen(owned_json) : 0;
	r->faultable = status == 200 && owned_json != NULL;
}

void reply_empty(struct sim_reply *r, unsigned status)
{
	reply_free(r);
	r->status = status;
}

void reply_errors(struct sim_reply *r, unsigned status, const char *msg)
{
	reply_text(r, status, json_errors_body(msg));
	r->faultable = false;
}

json_t *request_object(const struct sim_request *req, struct sim_reply *reply,
                       const char *empty_refusal)
{
	json_error_t jerr;
	json_t *in;
	char msg[256];

	if (req->body == NULL || req->body_len == 0) {
		if (empty_refusal != NULL) {
			reply_errors(reply, 422, empty_refusal);
			return NULL;
		}
		in = json_object();
		if (in == NULL)
			reply_errors(reply, 500, "Internal Server Error");
		return in;
	}
	in = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (in == NULL) {
		snprintf(msg, sizeof(msg), "Invalid JSON at line %d column %d: %s",
			 jerr.line, jerr.column, jerr.text);
		reply_errors(reply, 422, msg);
		return NULL;
	}
	if (!json_is_object(in)) {
		json_decref(in);
		reply_errors(reply, 422, "Request body must be a JSON object");
		return NULL;
	}
	return in;
}

void reply_free(struct sim_reply *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/* Length of the valid UTF-8 sequence at p (1-4), or 0.  Overlongs,
 * surrogates and code points above U+10FFFF are invalid, as jansson
 * requires. */
static size_t utf8_seq(const unsigned char *p, size_t avail)
{
	unsigned cp;
	size_t n;

	if (p[0] < 0x80)
		return p[0] != 0;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (n > avail)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

char *utf8_sanitize(const char *s, size_t len)
{
	struct strbuf sb;
	size_t i = 0;

	sb_init(&sb);
	while (i < len) {
		size_t n = utf8_seq((const unsigned char *)s + i, len - i);

		if (n == 0) {
			sb_append(&sb, "?", 1); /* NUL or a broken sequence */
			i++;
		} else {
			sb_append(&sb, s + i, n);
			i += n;
		}
	}
	sb_append(&sb, "", 0);
	return sb_steal(&sb);
}
