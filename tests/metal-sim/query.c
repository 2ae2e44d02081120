/*
 * Query strings.  The raw URI comes from libmicrohttpd's URI log callback,
 * so we parse it ourselves: the API handlers see every parameter decoded
 * exactly once, and the request log can show the query as it arrived.
 */
#include "metal_sim.h"

#include <stdlib.h>
#include <string.h>

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool percent_decode(char *s, bool plus_is_space)
{
	char *w = s;
	bool ok = true;

	for (const char *r = s; *r != '\0'; r++) {
		if (*r == '%') {
			int hi = hexval(r[1]);
			int lo = hi < 0 ? -1 : hexval(r[2]);

			if (hi < 0 || lo < 0) {
				ok = false;
				*w++ = *r;
				continue;
			}
			if (hi == 0 && lo == 0)
				ok = false; /* an encoded NUL would cut the string */
			*w++ = (char)(hi * 16 + lo);
			r += 2;
		} else if (*r == '+' && plus_is_space) {
			*w++ = ' ';
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
	return ok;
}

void query_parse(struct query *q, const char *raw)
{
	const char *p = raw;

	memset(q, 0, sizeof(*q));
	while (p != NULL && *p != '\0' && q->count < SIM_MAX_QUERY_PARAMS) {
		const char *amp = strchr(p, '&');
		size_t n = amp ? (size_t)(amp - p) : strlen(p);
		char *pair = strndup(p, n);
		char *eq;

		p = amp ? amp + 1 : NULL;
		if (pair == NULL)
			return;
		if (n == 0) {
			free(pair);
			continue;
		}
		eq = strchr(pair, '=');
		if (eq != NULL)
			*eq = '\0';
		q->params[q->count].key = pair;
		q->params[q->count].value = strdup(eq ? eq + 1 : "");
		if (q->params[q->count].value == NULL) {
			free(pair);
			return;
		}
		/* A parameter with a broken escape keeps its literal text. */
		percent_decode(q->params[q->count].key, true);
		percent_decode(q->params[q->count].value, true);
		q->count++;
	}
}

void query_free(struct query *q)
{
	for (size_t i = 0; i < q->count; i++) {
		free(q->params[i].key);
		free(q->params[i].value);
	}
	q->count = 0;
}

const char *query_get(const struct query *q, const char *key)
{
	for (size_t i = 0; i < q->count; i++)
		if (strcmp(q->params[i].key, key) == 0)
			return q->params[i].value;
	return NULL;
}

void sb_append_query_escaped(struct strbuf *sb, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
		    *p == '.' || *p == '~' || *p == ',') {
			/* ',' stays literal: include/exclude lists read better. */
			sb_append(sb, (const char *)p, 1);
		} else {
			char esc[3] = { '%', hex[*p >> 4], hex[*p & 15] };

			sb_append(sb, esc, 3);
		}
	}
}
