/*
 * tags.c - the ipmi tag grammar; see tags.h.
 */
#include "tags.h"
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#define PREFIX     "ipmi"
#define PREFIX_LEN 4

/* One bit per key, so a repeated key is noticed. */
enum { SEEN_ENABLE = 1, SEEN_PORT = 2, SEEN_ADDRESS = 4, SEEN_USER = 8, SEEN_BACKEND = 16,
       SEEN_ALLOW = 32 };

static void report(tags_bad_fn bad, void *arg, struct tag_config *out, const char *tag,
                   const char *reason)
{
	out->malformed++;
	if (bad)
		bad(arg, tag, reason);
}

static bool parse_port(const char *v, uint16_t *out)
{
	unsigned long n = 0;
	size_t len = strlen(v);

	if (len == 0 || len > 5 || v[0] == '0')
		return false;
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return false;
		n = n * 10 + (unsigned long)(v[i] - '0');
	}
	if (n == 0 || n > 65535)
		return false;
	*out = (uint16_t)n;
	return true;
}

/* A unicast address this host could own: not unspecified, not multicast
 * or broadcast. Whether it is really local shows when the listener binds. */
static bool parse_address(const char *v, char *out, size_t cap)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (strlen(v) >= cap)
		return false;
	if (inet_pton(AF_INET, v, &a4) == 1) {
		uint32_t h = ntohl(a4.s_addr);
		if (h == 0 || h == 0xffffffffu || (h >> 28) == 0xe)
			return false;
	} else if (inet_pton(AF_INET6, v, &a6) == 1) {
		if (IN6_IS_ADDR_UNSPECIFIED(&a6) || IN6_IS_ADDR_MULTICAST(&a6))
			return false;
	} else {
		return false;
	}
	snprintf(out, cap, "%s", v);
	return true;
}

static bool parse_user(const char *v, char *out)
{
	size_t len = strlen(v);

	if (len == 0 || len > MAX_USER_NAME)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = v[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		      (c >= 'A' && c <= 'Z') || c == '.' || c == '_' || c == '-'))
			return false;
	}
	memcpy(out, v, len + 1);
	return true;
}

/* Parses one tag into out. */
static void tags_apply(const char *tag, struct tag_config *out, unsigned *seen,
                       tags_bad_fn bad, void *arg)
{
	if (strncmp(tag, PREFIX, PREFIX_LEN) != 0)
		return;
	const char *rest = tag + PREFIX_LEN;

	if (rest[0] == '=') {
		const char *v = rest + 1;
		if (strcmp(v, "enabled") == 0) {
			if (!(*seen & SEEN_ENABLE))
				out->enabled = true;
		} else if (strcmp(v, "disabled") == 0) {
			/* An explicit off wins over any on. */
			out->enabled = false;
			*seen |= SEEN_ENABLE;
		} else {
			report(bad, arg, out, tag, "ipmi takes 'enabled' or 'disabled'");
		}
		return;
	}
	if (rest[0] != '.')
		return; /* "ipmitool=..." and the like: not ours */

	const char *key = rest + 1;
	const char *eq = strchr(key, '=');
	if (!eq) {
		report(bad, arg, out, tag, "expected ipmi.KEY=VALUE");
		return;
	}
	size_t klen = (size_t)(eq - key);
	const char *v = eq + 1;
	unsigned bit;

	if (klen == 4 && memcmp(key, "port", 4) == 0)
		bit = SEEN_PORT;
	else if (klen == 7 && memcmp(key, "address", 7) == 0)
		bit = SEEN_ADDRESS;
	else if (klen == 4 && memcmp(key, "user", 4) == 0)
		bit = SEEN_USER;
	else if (klen == 7 && memcmp(key, "backend", 7) == 0)
		bit = SEEN_BACKEND;
	else if (klen == 5 && memcmp(key, "allow", 5) == 0)
		bit = SEEN_ALLOW;
	else {
		report(bad, arg, out, tag, "unknown key (port, address, user, backend, allow)");
		return;
	}
	if (*seen & bit) {
		report(bad, arg, out, tag, "key given twice; the first one counts");
		return;
	}

	switch (bit) {
	case SEEN_PORT:
		if (strcmp(v, "auto") == 0) {
			out->port_mode = TAG_PORT_AUTO;
			out->port = 0;
		} else if (parse_port(v, &out->port)) {
			out->port_mode = TAG_PORT_FIXED;
		} else {
			report(bad, arg, out, tag, "port is 'auto' or a number 1..65535");
			return;
		}
		break;
	case SEEN_ADDRESS:
		if (!parse_address(v, out->address, sizeof(out->address))) {
			report(bad, arg, out, tag, "address is one unicast IPv4 or IPv6 literal");
			return;
		}
		break;
	case SEEN_USER:
		if (!parse_user(v, out->user)) {
			report(bad, arg, out, tag, "user is 1-16 of A-Z a-z 0-9 . _ -");
			return;
		}
		break;
	case SEEN_BACKEND:
		if (strcmp(v, "metal") != 0) {
			report(bad, arg, out, tag, "backend 'metal' is the only one");
			return;
		}
		snprintf(out->backend, sizeof(out->backend), "%s", v);
		break;
	case SEEN_ALLOW: {
		/* Checked here, parsed again when applied: a device record keeps
		 * the text, not 64 parsed entries. */
		struct cidr_list l;
		char item[64];
		if (strlen(v) >= sizeof(out->allow) ||
		    config_parse_cidr_list(v, &l, item, sizeof(item)) < 0 || l.len == 0) {
			out->allow_bad = true;
			report(bad, arg, out, tag, "allow is a comma-separated list of addresses "
			                           "or CIDRs (at most 64); no source may log in "
			                           "until it is fixed");
			return;
		}
		snprintf(out->allow, sizeof(out->allow), "%s", v);
		break;
	}
	}
	*seen |= bit;
}

void tags_parse(const char *packed, size_t count, struct tag_config *out,
                tags_bad_fn bad, void *arg)
{
	unsigned seen = 0;
	const char *t = packed;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < count && t; i++) {
		tags_apply(t, out, &seen, bad, arg);
		t += strlen(t) + 1;
	}
	if (!out->backend[0])
		snprintf(out->backend, sizeof(out->backend), "metal");
}

bool tag_config_equal(const struct tag_config *a, const struct tag_config *b)
{
	return a->enabled == b->enabled && a->port_mode == b->port_mode &&
	       a->port == b->port && strcmp(a->address, b->address) == 0 &&
	       strcmp(a->user, b->user) == 0 && strcmp(a->backend, b->backend) == 0 &&
	       strcmp(a->allow, b->allow) == 0 && a->allow_bad == b->allow_bad;
}
