/*
 * config.c - YAML (libyaml document API, so every node keeps its line),
 * then the environment, then *_FILE secrets, then validation.
 *
 * Keys are a table: one row per setting with its YAML path, its environment
 * name and its type. Unknown keys are errors, so a typo never silently falls
 * back to a default.
 */
#include "config.h"
#include "cipher.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <unistd.h>
#include <limits.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

enum ktype {
	K_STR,        /* char[size] */
	K_SECRET,     /* struct secret, value inline */
	K_SECRET_FILE,/* struct secret, value is a path */
	K_UINT,       /* unsigned, min..max */
	K_BOOL,
	K_LISTEN_LIST,/* ipmi_listen[] */
	K_LISTEN,     /* one struct listen_addr */
	K_PROJECTS,
	K_SUITES,
	K_CIDRS,
	K_LOGLEVEL,
	K_PORTRANGE,
};

struct key {
	const char *path;  /* YAML section.key */
	const char *env;   /* environment variable, or NULL */
	enum ktype type;
	size_t off;
	size_t size;       /* K_STR: buffer size */
	unsigned min, max; /* K_UINT */
};

#define F(field) offsetof(struct config, field), sizeof(((struct config *)0)->field)

static const struct key keys[] = {
	{ "metal.token", "METAL_AUTH_TOKEN", K_SECRET, F(token), 0, 0 },
	{ "metal.token_file", "METAL_AUTH_TOKEN_FILE", K_SECRET_FILE, F(token), 0, 0 },
	{ "metal.project_ids", "METAL_PROJECT_ID", K_PROJECTS, F(project_ids), 0, 0 },
	{ "metal.api_url", "METAL_API_URL", K_STR, F(api_url), 0, 0 },
	{ "metal.poll_interval", "METALBMC_POLL_INTERVAL", K_UINT, F(poll_interval_s), 1, 86400 },
	{ "metal.per_page", "METALBMC_PER_PAGE", K_UINT, F(per_page), 1, API_MAX_PER_PAGE },
	{ "metal.ipxe_url", "METALBMC_IPXE_URL", K_STR, F(ipxe_url), 0, 0 },
	{ "metal.ca_file", "METALBMC_CA_FILE", K_STR, F(ca_file), 0, 0 },
	{ "ipmi.listen", "METALBMC_IPMI_LISTEN", K_LISTEN_LIST, F(ipmi_listen), 0, 0 },
	{ "ipmi.user", "METALBMC_IPMI_USER", K_STR, F(ipmi_user), 0, 0 },
	{ "ipmi.password", "METALBMC_IPMI_PASSWORD", K_SECRET, F(ipmi_password), 0, 0 },
	{ "ipmi.password_file", "METALBMC_IPMI_PASSWORD_FILE", K_SECRET_FILE, F(ipmi_password), 0, 0 },
	{ "ipmi.credential_secret", "METALBMC_CREDENTIAL_SECRET", K_SECRET, F(credential_secret), 0, 0 },
	{ "ipmi.credential_secret_file", "METALBMC_CREDENTIAL_SECRET_FILE", K_SECRET_FILE, F(credential_secret), 0, 0 },
	{ "ipmi.cipher_suites", "METALBMC_CIPHER_SUITES", K_SUITES, F(cipher_suites), 0, 0 },
	{ "ipmi.allow_cipher_zero", "METALBMC_ALLOW_CIPHER_ZERO", K_BOOL, F(allow_cipher_zero), 0, 0 },
	{ "ipmi.allow_ipmi15", "METALBMC_ALLOW_IPMI15", K_BOOL, F(allow_ipmi15), 0, 0 },
	{ "ipmi.max_sessions", "METALBMC_MAX_SESSIONS", K_UINT, F(max_sessions), 1, 65536 },
	{ "ipmi.max_sessions_per_persona", "METALBMC_MAX_SESSIONS_PER_PERSONA", K_UINT, F(max_sessions_per_persona), 1, 1024 },
	{ "ipmi.session_timeout", "METALBMC_SESSION_TIMEOUT", K_UINT, F(session_timeout_s), 5, 3600 },
	{ "ipmi.allowed_sources", "METALBMC_ALLOWED_SOURCES", K_CIDRS, F(allowed_sources), 0, 0 },
	{ "ipmi.setup_rate", "METALBMC_SETUP_RATE", K_UINT, F(setup_rate), 1, 100000 },
	{ "ipmi.setup_burst", "METALBMC_SETUP_BURST", K_UINT, F(setup_burst), 1, 100000 },
	{ "ipmi.port_range", "METALBMC_PORT_RANGE", K_PORTRANGE, 0, 0, 0, 0 },
	{ "web.listen", "METALBMC_WEB_LISTEN", K_LISTEN, F(web_listen), 0, 0 },
	{ "web.enabled", "METALBMC_WEB_ENABLED", K_BOOL, F(web_enabled), 0, 0 },
	{ "web.user", "METALBMC_WEB_USER", K_STR, F(web_user), 0, 0 },
	{ "web.password", "METALBMC_WEB_PASSWORD", K_SECRET, F(web_password), 0, 0 },
	{ "web.password_file", "METALBMC_WEB_PASSWORD_FILE", K_SECRET_FILE, F(web_password), 0, 0 },
	{ "web.tls_cert", "METALBMC_WEB_TLS_CERT", K_STR, F(tls_cert), 0, 0 },
	{ "web.tls_key", "METALBMC_WEB_TLS_KEY", K_STR, F(tls_key), 0, 0 },
	{ "state_dir", "METALBMC_STATE_DIR", K_STR, F(state_dir), 0, 0 },
	{ "log_level", "METALBMC_LOG_LEVEL", K_LOGLEVEL, F(log_level), 0, 0 },
	{ "user", "METALBMC_USER", K_STR, F(user), 0, 0 },
};

#undef F

#define NKEYS (sizeof(keys) / sizeof(keys[0]))
_Static_assert(NKEYS <= CONFIG_MAX_KEYS, "config.h: CONFIG_MAX_KEYS is too small");

void config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->api_url, sizeof(c->api_url), "https://api.equinix.com/metal/v1");
	c->poll_interval_s = 30;
	c->per_page = API_DEFAULT_PER_PAGE;
	config_parse_listen("0.0.0.0:623", 623, &c->ipmi_listen[0]);
	c->ipmi_listen_count = 1;
	snprintf(c->ipmi_user, sizeof(c->ipmi_user), "admin");
	c->cipher_suites[0] = 3;
	c->cipher_suites[1] = 17;
	c->cipher_suite_count = 2;
	c->max_sessions = DEFAULT_MAX_SESSIONS;
	c->max_sessions_per_persona = DEFAULT_MAX_PER_PERSONA;
	c->session_timeout_s = DEFAULT_SESSION_IDLE_S;
	c->port_range_lo = 16230;
	c->port_range_hi = 26229;
	c->setup_rate = THROTTLE_SETUP_PER_S;
	c->setup_burst = THROTTLE_SETUP_BURST;
	config_parse_listen("0.0.0.0:8623", 8623, &c->web_listen);
	c->web_enabled = true;
	snprintf(c->web_user, sizeof(c->web_user), "admin");
	snprintf(c->state_dir, sizeof(c->state_dir), "/var/lib/metalbmc");
	c->log_level = LOG_LVL_INFO;
}

void config_free(struct config *c)
{
	secret_clear(&c->token);
	secret_clear(&c->ipmi_password);
	secret_clear(&c->credential_secret);
	secret_clear(&c->web_password);
}

/* ---- small parsers ---------------------------------------------------- */

int config_parse_listen(const char *text, uint16_t default_port,
                        struct listen_addr *out)
{
	char host[64], *end;
	const char *port_s = NULL;
	unsigned long port = default_port;
	size_t tl = strlen(text);

	if (tl == 0 || tl >= sizeof(out->text))
		return -1;
	memset(out, 0, sizeof(*out));
	snprintf(out->text, sizeof(out->text), "%s", text);
	if (text[0] == '[') {
		const char *rb = strchr(text, ']');
		if (!rb || (size_t)(rb - text - 1) >= sizeof(host))
			return -1;
		memcpy(host, text + 1, (size_t)(rb - text - 1));
		host[rb - text - 1] = 0;
		if (rb[1] == ':')
			port_s = rb + 2;
		else if (rb[1] != 0)
			return -1;
	} else {
		const char *colon = strrchr(text, ':');
		size_t hl = colon ? (size_t)(colon - text) : tl;
		if (colon && strchr(text, ':') != colon)
			return -1; /* bare IPv6 needs brackets */
		if (hl >= sizeof(host))
			return -1;
		memcpy(host, text, hl);
		host[hl] = 0;
		if (colon)
			port_s = colon + 1;
	}
	if (port_s) {
		errno = 0;
		port = strtoul(port_s, &end, 10);
		if (errno || *end || end == port_s || port > 65535)
			return -1;
	}
	if (host[0] == 0)
		snprintf(host, sizeof(host), "0.0.0.0");
	struct sockaddr_in *v4 = (struct sockaddr_in *)&out->ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&out->ss;
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		out->len = sizeof(*v4);
	} else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		out->len = sizeof(*v6);
	} else {
		return -1;
	}
	return 0;
}

int config_parse_cidr(const char *text, struct cidr *out)
{
	char addr[64];
	const char *slash = strchr(text, '/');
	size_t al = slash ? (size_t)(slash - text) : strlen(text);
	unsigned long prefix;
	char *end;

	if (al == 0 || al >= sizeof(addr))
		return -1;
	memcpy(addr, text, al);
	addr[al] = 0;
	memset(out, 0, sizeof(*out));
	struct sockaddr_in *v4 = (struct sockaddr_in *)&out->net;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&out->net;
	unsigned maxp;
	if (inet_pton(AF_INET, addr, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		maxp = 32;
	} else if (inet_pton(AF_INET6, addr, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		maxp = 128;
	} else {
		return -1;
	}
	prefix = maxp;
	if (slash) {
		errno = 0;
		prefix = strtoul(slash + 1, &end, 10);
		if (errno || *end || end == slash + 1 || prefix > maxp)
			return -1;
	}
	out->prefix = (uint8_t)prefix;
	return 0;
}

int config_parse_cidr_list(const char *text, struct cidr_list *out, char *bad,
                           size_t bad_len)
{
	const char *p = text;

	memset(out, 0, sizeof(*out));
	while (*p) {
		char item[64];
		size_t n = strcspn(p, ",");
		const char *s = p, *e = p + n;
		while (s < e && isspace((unsigned char)*s))
			s++;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		p += n + (p[n] == ',');
		if (s == e)
			continue;
		snprintf(bad, bad_len, "%.*s", (int)(e - s), s);
		if (out->len == MAX_CIDRS)
			return -2;
		if ((size_t)(e - s) >= sizeof(item))
			return -1;
		memcpy(item, s, (size_t)(e - s));
		item[e - s] = 0;
		if (config_parse_cidr(item, &out->items[out->len]) < 0)
			return -1;
		out->len++;
	}
	if (bad_len)
		bad[0] = 0;
	return 0;
}

static bool prefix_match(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;
	if (memcmp(a, b, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a[whole] & mask) == (b[whole] & mask);
}

void sockaddr_format(const struct sockaddr *sa, char *out, size_t cap)
{
	char a[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *v4 = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &v4->sin_addr, a, sizeof(a));
		port = ntohs(v4->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &v6->sin6_addr, a, sizeof(a));
		port = ntohs(v6->sin6_port);
	}
	snprintf(out, cap, "%s%s%s:%u", sa->sa_family == AF_INET6 ? "[" : "", a,
	         sa->sa_family == AF_INET6 ? "]" : "", port);
}

bool cidr_list_match(const struct cidr_list *l, const struct sockaddr *sa)
{
	uint8_t v4[4];
	const uint8_t *v6 = NULL;
	bool is4 = false;

	if (sa->sa_family == AF_INET) {
		memcpy(v4, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		is4 = true;
	} else if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		v6 = a->s6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a)) {
			memcpy(v4, a->s6_addr + 12, 4);
			is4 = true;
		}
	} else {
		return false;
	}
	for (size_t i = 0; i < l->len; i++) {
		const struct cidr *c = &l->items[i];
		if (c->net.ss_family == AF_INET && is4) {
			if (prefix_match((const uint8_t *)&((const struct sockaddr_in *)&c->net)->sin_addr,
			                 v4, c->prefix))
				return true;
		} else if (c->net.ss_family == AF_INET6 && v6) {
			if (prefix_match(((const struct sockaddr_in6 *)&c->net)->sin6_addr.s6_addr,
			                 v6, c->prefix))
				return true;
		}
	}
	return false;
}

static int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

static int parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* Splits a comma list in place; trims spaces; skips empty items. */
static size_t split_list(char *s, char **items, size_t max)
{
	size_t n = 0;
	char *save = NULL;
	for (char *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		while (isspace((unsigned char)*t))
			t++;
		char *e = t + strlen(t);
		while (e > t && isspace((unsigned char)e[-1]))
			*--e = 0;
		if (!*t)
			continue;
		if (n == max)
			return max + 1;
		items[n++] = t;
	}
	return n;
}

static bool valid_project_id(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= MAX_DEVICE_ID)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) && s[i] != '-')
			return false;
	return true;
}

/* ---- applying one value ------------------------------------------------ */

struct origin {
	FILE *err;
	const char *file; /* NULL for environment */
	int line;
	int errors;
};

static void report(struct origin *o, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void report(struct origin *o, const char *key, const char *fmt, ...)
{
	va_list ap;
	if (o->file)
		fprintf(o->err, "%s:%d: %s: ", o->file, o->line, key);
	else
		fprintf(o->err, "environment: %s: ", key);
	va_start(ap, fmt);
	vfprintf(o->err, fmt, ap);
	va_end(ap);
	fputc('\n', o->err);
	o->errors++;
}

static void note_origin(struct config *c, const struct key *k, const struct origin *o)
{
	size_t i = (size_t)(k - keys);

	c->origin_line[i] = o->file ? o->line : CONFIG_FROM_ENV;
	c->origin_seq[i] = ++c->origin_next;
}

/* Room for "FILE:LINE: key" (origin_of). */
#define ORIGIN_MAX (sizeof(((struct config *)0)->path) + 80)

/*
 * Where the value of the field behind key name came from, for a message
 * written after loading: the key (or its _file twin, whichever was applied
 * last) with its file and line, or its environment variable; "config:
 * name" for a default. Written into buf (ORIGIN_MAX bytes), returned.
 */
static const char *origin_of(const struct config *c, const char *name, char *buf, size_t cap)
{
	const struct key *k = NULL, *best = NULL;

	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].path, name) == 0)
			k = &keys[i];
	for (size_t i = 0; k && i < NKEYS; i++)
		if (keys[i].off == k->off && keys[i].type != K_PORTRANGE && c->origin_line[i] &&
		    (!best || c->origin_seq[i] > c->origin_seq[best - keys]))
			best = &keys[i];
	if (!best)
		snprintf(buf, cap, "config: %s", name);
	else if (c->origin_line[best - keys] == CONFIG_FROM_ENV)
		snprintf(buf, cap, "environment: %s", best->env);
	else
		snprintf(buf, cap, "%s:%d: %s", c->path, c->origin_line[best - keys], best->path);
	return buf;
}

/* Never echo the value of a secret key in a message. */
static int apply(struct config *c, const struct key *k, const char *name,
                 const char *value, struct origin *o)
{
	void *field = (char *)c + k->off;
	char why[160];
	char buf[4096];
	char *items[64];
	size_t n;

	switch (k->type) {
	case K_STR:
		if (strlen(value) >= k->size) {
			report(o, name, "too long (at most %zu bytes)", k->size - 1);
			return -1;
		}
		snprintf(field, k->size, "%s", value);
		return 0;
	case K_SECRET:
		if (!*value) {
			report(o, name, "empty secret");
			return -1;
		}
		if (secret_set(field, value, strlen(value)) < 0) {
			report(o, name, "out of memory");
			return -1;
		}
		return 0;
	case K_SECRET_FILE:
		if (secret_read_file(value, field, why, sizeof(why)) < 0) {
			report(o, name, "%s: %s", value, why);
			return -1;
		}
		return 0;
	case K_UINT:
		if (parse_uint(value, k->min, k->max, field) < 0) {
			report(o, name, "'%s' is not a whole number in %u..%u", value,
			       k->min, k->max);
			return -1;
		}
		return 0;
	case K_BOOL:
		if (parse_bool(value, field) < 0) {
			report(o, name, "'%s' is not a boolean (true/false, yes/no, on/off, 1/0)",
			       value);
			return -1;
		}
		return 0;
	case K_LOGLEVEL:
		if (log_level_parse(value, field) < 0) {
			report(o, name, "'%s' is not one of error, warn, info, debug", value);
			return -1;
		}
		c->log_level_set = true;
		return 0;
	case K_LISTEN:
		if (config_parse_listen(value, 8623, field) < 0) {
			report(o, name, "'%s' is not HOST:PORT or [V6]:PORT", value);
			return -1;
		}
		return 0;
	default:
		break;
	}

	/* List types: a comma-separated scalar. */
	if (strlen(value) >= sizeof(buf)) {
		report(o, name, "too long");
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", value);
	n = split_list(buf, items, 64);

	switch (k->type) {
	case K_LISTEN_LIST:
		if (n == 0 || n > MAX_LISTEN_ADDRS) {
			report(o, name, "needs 1 to %d addresses", MAX_LISTEN_ADDRS);
			return -1;
		}
		for (size_t i = 0; i < n; i++)
			if (config_parse_listen(items[i], 623, &c->ipmi_listen[i]) < 0) {
				report(o, name, "'%s' is not HOST:PORT or [V6]:PORT", items[i]);
				return -1;
			}
		c->ipmi_listen_count = n;
		return 0;
	case K_PROJECTS:
		if (n == 0 || n > MAX_PROJECTS) {
			report(o, name, "needs 1 to %d project IDs", MAX_PROJECTS);
			return -1;
		}
		for (size_t i = 0; i < n; i++) {
			if (!valid_project_id(items[i])) {
				report(o, name, "'%s' is not a project UUID", items[i]);
				return -1;
			}
			snprintf(c->project_ids[i], MAX_DEVICE_ID, "%s", items[i]);
		}
		c->project_count = n;
		return 0;
	case K_SUITES:
		if (n == 0 || n > sizeof(c->cipher_suites)) {
			report(o, name, "needs 1 to %zu cipher suite IDs", sizeof(c->cipher_suites));
			return -1;
		}
		for (size_t i = 0; i < n; i++) {
			unsigned id;
			if (parse_uint(items[i], 0, 255, &id) < 0 ||
			    !cipher_suite_by_id((uint8_t)id)) {
				report(o, name, "'%s' is not an implemented cipher suite "
				       "(0, 1, 2, 3, 6, 7, 8, 11, 12, 15, 16, 17)", items[i]);
				return -1;
			}
			c->cipher_suites[i] = (uint8_t)id;
		}
		c->cipher_suite_count = n;
		return 0;
	case K_CIDRS:
		if (n > MAX_CIDRS) {
			report(o, name, "at most %d entries", MAX_CIDRS);
			return -1;
		}
		for (size_t i = 0; i < n; i++)
			if (config_parse_cidr(items[i], &c->allowed_sources.items[i]) < 0) {
				report(o, name, "'%s' is not an address or CIDR", items[i]);
				return -1;
			}
		c->allowed_sources.len = n;
		return 0;
	case K_PORTRANGE: {
		unsigned lo, hi;
		char *dash = strchr(value, '-');
		char a[16], b[16];
		if (!dash || (size_t)(dash - value) >= sizeof(a) || strlen(dash + 1) >= sizeof(b))
			goto bad_range;
		memcpy(a, value, (size_t)(dash - value));
		a[dash - value] = 0;
		snprintf(b, sizeof(b), "%s", dash + 1);
		if (parse_uint(a, 1, 65535, &lo) < 0 || parse_uint(b, 1, 65535, &hi) < 0 || lo > hi)
			goto bad_range;
		c->port_range_lo = (uint16_t)lo;
		c->port_range_hi = (uint16_t)hi;
		return 0;
bad_range:
		report(o, name, "'%s' is not LOW-HIGH with 1 <= LOW <= HIGH <= 65535", value);
		return -1;
	}
	default:
		report(o, name, "internal: unhandled type");
		return -1;
	}
}

static const struct key *find_key(const char *path)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].path, path) == 0)
			return &keys[i];
	return NULL;
}

/* ---- YAML -------------------------------------------------------------- */

static const char *scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* A sequence of scalars becomes "a,b,c" for the list parsers. */
static int node_text(yaml_document_t *doc, yaml_node_t *n, char *buf, size_t cap)
{
	if (n->type == YAML_SCALAR_NODE) {
		if (strlen((const char *)n->data.scalar.value) >= cap)
			return -1;
		snprintf(buf, cap, "%s", n->data.scalar.value);
		return 0;
	}
	if (n->type != YAML_SEQUENCE_NODE)
		return -1;
	size_t o = 0;
	buf[0] = 0;
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++) {
		const char *s = scalar(yaml_document_get_node(doc, *it));
		if (!s)
			return -1;
		int w = snprintf(buf + o, cap - o, "%s%s", o ? "," : "", s);
		if (w < 0 || (size_t)w >= cap - o)
			return -1;
		o += (size_t)w;
	}
	return 0;
}

static void load_persona(struct config *c, yaml_document_t *doc, yaml_node_t *m,
                         struct origin *o)
{
	struct config_persona *p;
	char key[64];

	o->line = (int)m->start_mark.line + 1;
	if (m->type != YAML_MAPPING_NODE) {
		report(o, "personas", "each entry must be a mapping");
		return;
	}
	if (c->persona_count == sizeof(c->personas) / sizeof(c->personas[0])) {
		report(o, "personas", "too many personas in the file");
		return;
	}
	p = &c->personas[c->persona_count];
	memset(p, 0, sizeof(*p));
	snprintf(p->backend, sizeof(p->backend), "local");
	p->power_on = true;
	p->line = o->line;
	for (yaml_node_pair_t *pr = m->data.mapping.pairs.start;
	     pr < m->data.mapping.pairs.top; pr++) {
		yaml_node_t *kn = yaml_document_get_node(doc, pr->key);
		yaml_node_t *vn = yaml_document_get_node(doc, pr->value);
		const char *k = scalar(kn), *v = scalar(vn);
		o->line = (int)vn->start_mark.line + 1;
		snprintf(key, sizeof(key), "personas.%s", k ? k : "?");
		if (k && strcmp(k, "allowed_sources") == 0) {
			char text[4096], bad[64];
			int rc = node_text(doc, vn, text, sizeof(text)) < 0 ? -3 :
			         config_parse_cidr_list(text, &p->allowed_sources, bad, sizeof(bad));
			if (rc == -3)
				report(o, key, "expected an address, a CIDR or a list of them");
			else if (rc == -2)
				report(o, key, "at most %d entries", MAX_CIDRS);
			else if (rc < 0)
				report(o, key, "'%s' is not an address or CIDR", bad);
			continue;
		}
		if (!k || !v) {
			report(o, key, "expected a scalar value");
			continue;
		}
		size_t vl = strlen(v);
		if (strcmp(k, "name") == 0) {
			if (vl == 0 || vl > MAX_USER_NAME)
				report(o, key, "must be 1 to %d bytes", MAX_USER_NAME);
			else
				memcpy(p->name, v, vl + 1);
		} else if (strcmp(k, "device_id") == 0) {
			if (vl == 0 || vl >= sizeof(p->device_id))
				report(o, key, "must be 1 to %zu bytes", sizeof(p->device_id) - 1);
			else
				memcpy(p->device_id, v, vl + 1);
		} else if (strcmp(k, "hostname") == 0) {
			if (vl >= sizeof(p->hostname))
				report(o, key, "too long");
			else
				memcpy(p->hostname, v, vl + 1);
		} else if (strcmp(k, "backend") == 0) {
			if (strcmp(v, "local") != 0)
				report(o, key, "'%s' is not a backend a config persona can use (local)", v);
			else
				snprintf(p->backend, sizeof(p->backend), "%s", v);
		} else if (strcmp(k, "port") == 0) {
			unsigned port;
			if (parse_uint(v, 1, 65535, &port) < 0)
				report(o, key, "'%s' is not a port number", v);
			else
				p->port = (uint16_t)port;
		} else if (strcmp(k, "address") == 0) {
			struct listen_addr la;
			if (config_parse_listen(v, 623, &la) < 0 || vl >= sizeof(p->address))
				report(o, key, "'%s' is not an IP address", v);
			else
				memcpy(p->address, v, vl + 1);
		} else if (strcmp(k, "power") == 0) {
			if (strcmp(v, "on") == 0)
				p->power_on = true;
			else if (strcmp(v, "off") == 0)
				p->power_on = false;
			else
				report(o, key, "'%s' is not on or off", v);
		} else {
			report(o, key, "unknown key");
		}
	}
	o->line = p->line;
	if (!p->name[0])
		report(o, "personas.name", "missing");
	/* name is at most 16 bytes, so it always fits both fields */
	if (!p->device_id[0])
		memcpy(p->device_id, p->name, sizeof(p->name));
	if (!p->hostname[0])
		memcpy(p->hostname, p->name, sizeof(p->name));
	c->persona_count++;
}

/* A list is applied as one "a,b,c" value, which would put an error on the
 * list's first line; each item is checked on its own first (into a scratch
 * config), so the message names the line of the item that is wrong. */
static bool list_items_valid(yaml_document_t *doc, const struct key *key,
                             const char *path, yaml_node_t *seq, struct origin *o)
{
	struct config *scratch = malloc(sizeof(*scratch));
	int before = o->errors;

	if (!scratch)
		return true; /* the whole-list check still runs */
	for (yaml_node_item_t *it = seq->data.sequence.items.start;
	     it < seq->data.sequence.items.top; it++) {
		yaml_node_t *item = yaml_document_get_node(doc, *it);
		const char *v = scalar(item);
		if (!v)
			continue; /* node_text() already refused non-scalars */
		config_defaults(scratch);
		o->line = (int)item->start_mark.line + 1;
		apply(scratch, key, path, v, o);
		config_free(scratch);
	}
	free(scratch);
	return o->errors == before;
}

static void load_section(struct config *c, yaml_document_t *doc, const char *section,
                         yaml_node_t *map, struct origin *o)
{
	char path[96], text[4096];

	for (yaml_node_pair_t *pr = map->data.mapping.pairs.start;
	     pr < map->data.mapping.pairs.top; pr++) {
		yaml_node_t *kn = yaml_document_get_node(doc, pr->key);
		yaml_node_t *vn = yaml_document_get_node(doc, pr->value);
		const char *k = scalar(kn);
		o->line = (int)kn->start_mark.line + 1;
		if (!k) {
			report(o, section ? section : "(top)", "keys must be scalars");
			continue;
		}
		if (section)
			snprintf(path, sizeof(path), "%s.%s", section, k);
		else
			snprintf(path, sizeof(path), "%s", k);

		if (!section && vn->type == YAML_MAPPING_NODE &&
		    (strcmp(k, "metal") == 0 || strcmp(k, "ipmi") == 0 ||
		     strcmp(k, "web") == 0)) {
			load_section(c, doc, k, vn, o);
			continue;
		}
		if (!section && strcmp(k, "personas") == 0) {
			if (vn->type != YAML_SEQUENCE_NODE) {
				report(o, path, "must be a list");
				continue;
			}
			for (yaml_node_item_t *it = vn->data.sequence.items.start;
			     it < vn->data.sequence.items.top; it++)
				load_persona(c, doc, yaml_document_get_node(doc, *it), o);
			continue;
		}
		const struct key *key = find_key(path);
		if (!key) {
			report(o, path, "unknown key");
			continue;
		}
		o->line = (int)vn->start_mark.line + 1;
		if (node_text(doc, vn, text, sizeof(text)) < 0) {
			report(o, path, "expected a value or a list of values");
			continue;
		}
		if (vn->type == YAML_SEQUENCE_NODE && !list_items_valid(doc, key, path, vn, o))
			continue;
		o->line = (int)vn->start_mark.line + 1;
		if (apply(c, key, path, text, o) == 0)
			note_origin(c, key, o);
		secret_wipe(text, sizeof(text));
	}
}

/* libyaml frees its copies of the text without clearing them: wipe every
 * scalar (token, passwords) and the parser's buffers first. */
static void wipe_yaml(yaml_parser_t *parser, yaml_document_t *doc)
{
	for (yaml_node_t *n = doc ? doc->nodes.start : NULL; n && n < doc->nodes.top; n++)
		if (n->type == YAML_SCALAR_NODE && n->data.scalar.value)
			secret_wipe(n->data.scalar.value, n->data.scalar.length);
	if (parser->buffer.start)
		secret_wipe(parser->buffer.start,
		            (size_t)(parser->buffer.end - parser->buffer.start));
	if (parser->raw_buffer.start)
		secret_wipe(parser->raw_buffer.start,
		            (size_t)(parser->raw_buffer.end - parser->raw_buffer.start));
}

int config_parse_yaml(struct config *c, const char *name, const char *text,
                      size_t len, FILE *err)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct origin o = { .err = err, .file = name, .line = 0, .errors = 0 };
	yaml_node_t *root;

	if (!yaml_parser_initialize(&parser)) {
		fprintf(err, "%s: cannot initialise the YAML parser\n", name);
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		fprintf(err, "%s:%zu: (syntax): %s\n", name,
		        parser.problem_mark.line + 1,
		        parser.problem ? parser.problem : "malformed YAML");
		wipe_yaml(&parser, NULL);
		yaml_parser_delete(&parser);
		return -1;
	}
	root = yaml_document_get_root_node(&doc);
	if (root && root->type == YAML_MAPPING_NODE) {
		load_section(c, &doc, NULL, root, &o);
	} else if (root && !(root->type == YAML_SCALAR_NODE &&
	                     root->data.scalar.length == 0)) {
		o.line = (int)root->start_mark.line + 1;
		report(&o, "(top)", "the file must be a mapping of keys");
	}
	wipe_yaml(&parser, &doc);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return o.errors ? -1 : 0;
}

static int load_file(struct config *c, const char *path, FILE *err)
{
	FILE *f = fopen(path, "re");
	struct stat st;
	char *buf;
	size_t n;
	int rc;

	if (!f) {
		fprintf(err, "%s: cannot open: %s\n", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) < 0 || st.st_size > MAX_CONFIG_BYTES) {
		fprintf(err, "%s: larger than %d bytes\n", path, MAX_CONFIG_BYTES);
		fclose(f);
		return -1;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		fclose(f);
		fprintf(err, "%s: out of memory\n", path);
		return -1;
	}
	n = fread(buf, 1, (size_t)st.st_size, f);
	buf[n] = 0;
	fclose(f);
	snprintf(c->path, sizeof(c->path), "%s", path);
	rc = config_parse_yaml(c, path, buf, n, err);
	if (rc == 0 && (st.st_mode & 0044) &&
	    (secret_present(&c->token) || secret_present(&c->ipmi_password) ||
	     secret_present(&c->web_password) || secret_present(&c->credential_secret)))
		log_warnx("config: %s holds secrets and is readable by others; "
		          "chmod 600 it or use *_file keys", path);
	secret_wipe(buf, n);
	free(buf);
	return rc;
}

/* "http://HOST[:PORT][/...]" where HOST is an IPv4 address in 127/8,
 * [::1] or localhost. The host is parsed whole, so "127.0.0.1.example.com"
 * is not mistaken for loopback. */
static bool is_loopback_url(const char *url)
{
	char host[64];
	const char *h, *end;
	struct in_addr a4;

	if (strncmp(url, "http://", 7) != 0)
		return false;
	h = url + 7;
	if (h[0] == '[') {
		end = strchr(h, ']');
		if (!end)
			return false;
		h++;
		if ((size_t)(end - h) >= sizeof(host))
			return false;
		memcpy(host, h, (size_t)(end - h));
		host[end - h] = 0;
		end++;
		struct in6_addr a6;
		if (inet_pton(AF_INET6, host, &a6) != 1 || !IN6_IS_ADDR_LOOPBACK(&a6))
			return false;
	} else {
		end = h + strcspn(h, ":/?#");
		if ((size_t)(end - h) >= sizeof(host) || end == h)
			return false;
		memcpy(host, h, (size_t)(end - h));
		host[end - h] = 0;
		if (strcmp(host, "localhost") != 0 &&
		    (inet_pton(AF_INET, host, &a4) != 1 ||
		     (ntohl(a4.s_addr) >> 24) != 127))
			return false;
	}
	return *end == 0 || *end == ':' || *end == '/';
}

/* A file the daemon reads at start-up (before dropping privileges). */
static int check_readable(const struct config *c, const char *key, const char *path,
                          FILE *err)
{
	char buf[ORIGIN_MAX];

	if (!path[0] || access(path, R_OK) == 0)
		return 0;
	fprintf(err, "%s: %s: %s\n", origin_of(c, key, buf, sizeof(buf)), path, strerror(errno));
	return 1;
}

static int validate(struct config *c, FILE *err)
{
	int errors = 0;
	char b[ORIGIN_MAX];

	if (strncmp(c->api_url, "https://", 8) != 0 && !is_loopback_url(c->api_url)) {
		fprintf(err, "%s: plain http is allowed only to a loopback address (the "
		             "emulator); use https\n", origin_of(c, "metal.api_url", b, sizeof(b)));
		errors++;
	}
	for (size_t i = 0; i < c->cipher_suite_count; i++)
		if (c->cipher_suites[i] == 0 && !c->allow_cipher_zero) {
			fprintf(err, "%s: suite 0 (no authentication) needs ipmi.allow_cipher_zero: "
			             "true\n", origin_of(c, "ipmi.cipher_suites", b, sizeof(b)));
			errors++;
		}
	if (c->ipmi_user[0] == 0) {
		fprintf(err, "%s: must not be empty\n", origin_of(c, "ipmi.user", b, sizeof(b)));
		errors++;
	}
	if (secret_present(&c->ipmi_password) && c->ipmi_password.len > MAX_PASSWORD) {
		fprintf(err, "%s: longer than %d bytes (IPMI v2.0 limit)\n",
		        origin_of(c, "ipmi.password", b, sizeof(b)), MAX_PASSWORD);
		errors++;
	}
	if ((c->tls_cert[0] != 0) != (c->tls_key[0] != 0)) {
		fprintf(err, "%s: web.tls_cert and web.tls_key go together\n",
		        origin_of(c, c->tls_cert[0] ? "web.tls_cert" : "web.tls_key", b, sizeof(b)));
		errors++;
	}
	errors += check_readable(c, "web.tls_cert", c->tls_cert, err);
	errors += check_readable(c, "web.tls_key", c->tls_key, err);
	errors += check_readable(c, "metal.ca_file", c->ca_file, err);
	if (c->project_count && !secret_present(&c->token)) {
		fprintf(err, "%s: a project to poll, but no API token (metal.token, "
		             "METAL_AUTH_TOKEN or METAL_AUTH_TOKEN_FILE)\n",
		        origin_of(c, "metal.project_ids", b, sizeof(b)));
		errors++;
	}
	for (size_t i = 0; i < c->persona_count; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(c->personas[i].name, c->personas[j].name) == 0) {
				fprintf(err, "%s:%d: personas.name: '%s' already used on line %d\n",
				        c->path, c->personas[i].line, c->personas[i].name,
				        c->personas[j].line);
				errors++;
			}
	return errors ? -1 : 0;
}

extern char **environ;

/* A METALBMC_* variable that is not ours is most likely a typo
 * (METALBMC_POLL_INTERVALL): say so, without its value, and go on. */
static void warn_unknown_variables(FILE *err)
{
	for (char **e = environ; e && *e; e++) {
		size_t n = strcspn(*e, "=");
		bool known = false;

		if (strncmp(*e, "METALBMC_", 9) != 0 || strncmp(*e, "METALBMC_DEMO_", 14) == 0 ||
		    (n == 15 && strncmp(*e, "METALBMC_CONFIG", n) == 0))
			continue;
		for (size_t i = 0; i < NKEYS && !known; i++)
			known = keys[i].env && strlen(keys[i].env) == n &&
			        strncmp(keys[i].env, *e, n) == 0;
		if (!known)
			fprintf(err, "environment: %.*s: not a metalbmc setting, ignored "
			             "(docs/configuration.md lists them)\n", (int)n, *e);
	}
}

int config_load(struct config *c, const char *path, FILE *err)
{
	struct origin o = { .err = err, .file = NULL };

	if (!path || !*path)
		path = getenv("METALBMC_CONFIG");
	if (path && *path && load_file(c, path, err) < 0)
		return -1;
	/* The environment wins over the file; a *_FILE variable after its
	 * plain sibling in the table, so the file form wins when both are set. */
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char *v = keys[i].env ? getenv(keys[i].env) : NULL;
		if (v && *v && apply(c, &keys[i], keys[i].env, v, &o) == 0)
			note_origin(c, &keys[i], &o);
		if (v && keys[i].type == K_SECRET) {
			/* The secret now lives in its own buffer: scrub the
			 * environment's copy, so no child process inherits it and
			 * no later read of the environment finds it. */
			secret_wipe(v, strlen(v));
			unsetenv(keys[i].env);
		}
	}
	warn_unknown_variables(err);
	if (o.errors)
		return -1;
	return validate(c, err);
}

/* ---- --check-config ---------------------------------------------------- */

static void print_cidrs(FILE *out, const struct cidr_list *l)
{
	fprintf(out, "[");
	for (size_t i = 0; i < l->len; i++) {
		char a[INET6_ADDRSTRLEN];
		const struct cidr *ci = &l->items[i];
		if (ci->net.ss_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)&ci->net)->sin_addr, a, sizeof(a));
		else
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&ci->net)->sin6_addr, a, sizeof(a));
		fprintf(out, "%s%s/%u", i ? ", " : "", a, ci->prefix);
	}
	fprintf(out, "]");
}

static void print_secret(FILE *out, const char *key, const struct secret *s)
{
	fprintf(out, "  %s: %s\n", key, secret_present(s) ? "(set, redacted)" : "(not set)");
}

void config_print(const struct config *c, FILE *out)
{
	fprintf(out, "# effective configuration%s%s (secrets redacted)\n",
	        c->path[0] ? " from " : "", c->path);
	fprintf(out, "metal:\n");
	print_secret(out, "token", &c->token);
	fprintf(out, "  project_ids: [");
	for (size_t i = 0; i < c->project_count; i++)
		fprintf(out, "%s%s", i ? ", " : "", c->project_ids[i]);
	fprintf(out, "]\n  api_url: %s\n  poll_interval: %u\n  per_page: %u\n"
	             "  ipxe_url: \"%s\"\n",
	        c->api_url, c->poll_interval_s, c->per_page, c->ipxe_url);
	if (c->ca_file[0])
		fprintf(out, "  ca_file: %s\n", c->ca_file);
	fprintf(out, "ipmi:\n  listen: [");
	for (size_t i = 0; i < c->ipmi_listen_count; i++)
		fprintf(out, "%s\"%s\"", i ? ", " : "", c->ipmi_listen[i].text);
	fprintf(out, "]\n  user: %s\n", c->ipmi_user);
	print_secret(out, "password", &c->ipmi_password);
	print_secret(out, "credential_secret", &c->credential_secret);
	fprintf(out, "  cipher_suites: [");
	for (size_t i = 0; i < c->cipher_suite_count; i++)
		fprintf(out, "%s%u", i ? ", " : "", c->cipher_suites[i]);
	fprintf(out, "]\n  allow_cipher_zero: %s\n  allow_ipmi15: %s\n",
	        c->allow_cipher_zero ? "true" : "false",
	        c->allow_ipmi15 ? "true" : "false");
	fprintf(out, "  max_sessions: %u\n  max_sessions_per_persona: %u\n"
	             "  session_timeout: %u\n  port_range: %u-%u\n"
	             "  setup_rate: %u\n  setup_burst: %u\n",
	        c->max_sessions, c->max_sessions_per_persona, c->session_timeout_s,
	        c->port_range_lo, c->port_range_hi, c->setup_rate, c->setup_burst);
	fprintf(out, "  allowed_sources: ");
	print_cidrs(out, &c->allowed_sources);
	fprintf(out, "\nweb:\n  enabled: %s\n  listen: \"%s\"\n  user: %s\n",
	        c->web_enabled ? "true" : "false", c->web_listen.text, c->web_user);
	print_secret(out, "password", &c->web_password);
	if (c->tls_cert[0])
		fprintf(out, "  tls_cert: %s\n  tls_key: %s\n", c->tls_cert, c->tls_key);
	if (c->user[0])
		fprintf(out, "user: \"%s\"\n", c->user);
	else
		fprintf(out, "user: \"\"  # metalbmc when that user exists, else nobody\n");
	fprintf(out, "state_dir: %s\nlog_level: %s\n", c->state_dir,
	        log_level_name(c->log_level));
	if (c->persona_count) {
		fprintf(out, "personas:\n");
		for (size_t i = 0; i < c->persona_count; i++) {
			const struct config_persona *p = &c->personas[i];
			fprintf(out, "  - name: %s\n    device_id: %s\n    hostname: %s\n"
			             "    backend: %s\n    power: %s\n",
			        p->name, p->device_id, p->hostname, p->backend,
			        p->power_on ? "on" : "off");
			if (p->port)
				fprintf(out, "    port: %u\n", p->port);
			if (p->address[0])
				fprintf(out, "    address: %s\n", p->address);
			if (p->allowed_sources.len) {
				fprintf(out, "    allowed_sources: ");
				print_cidrs(out, &p->allowed_sources);
				fprintf(out, "\n");
			}
		}
	}
}
