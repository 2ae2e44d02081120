/*
 * --listen HOST:PORT and [V6]:PORT.  Numeric addresses only (plus
 * "localhost" for 127.0.0.1): the simulator must never resolve names, since
 * tests run without DNS.
 */
#include "metal_sim.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static bool parse_port(const char *s, unsigned *port)
{
	char *end;
	unsigned long v;

	if (*s == '\0' || strspn(s, "0123456789") != strlen(s))
		return false;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || v > 65535)
		return false;
	*port = (unsigned)v;
	return true;
}

bool listen_addr_parse(const char *spec, struct listen_addr *out, char *err,
		       size_t errlen)
{
	char host[64];
	const char *port_str;

	memset(out, 0, sizeof(*out));
	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');

		if (close == NULL || close[1] != ':' ||
		    (size_t)(close - spec - 1) >= sizeof(host)) {
			snprintf(err, errlen, "--listen %s: expected [V6ADDR]:PORT", spec);
			return false;
		}
		memcpy(host, spec + 1, (size_t)(close - spec - 1));
		host[close - spec - 1] = '\0';
		port_str = close + 2;
		out->ipv6 = true;
	} else {
		const char *colon = strrchr(spec, ':');

		if (colon == NULL || (size_t)(colon - spec) >= sizeof(host) ||
		    memchr(spec, ':', (size_t)(colon - spec)) != NULL) {
			snprintf(err, errlen, "--listen %s: expected HOST:PORT or [V6ADDR]:PORT", spec);
			return false;
		}
		memcpy(host, spec, (size_t)(colon - spec));
		host[colon - spec] = '\0';
		port_str = colon + 1;
		if (strcmp(host, "localhost") == 0)
			strcpy(host, "127.0.0.1");
	}
	if (!parse_port(port_str, &out->port)) {
		snprintf(err, errlen, "--listen %s: bad port '%s' (0-65535)", spec, port_str);
		return false;
	}
	if (out->ipv6) {
		struct sockaddr_in6 sa6;

		memset(&sa6, 0, sizeof(sa6));
		sa6.sin6_family = AF_INET6;
		sa6.sin6_port = htons((uint16_t)out->port);
		if (inet_pton(AF_INET6, host, &sa6.sin6_addr) != 1) {
			snprintf(err, errlen, "--listen %s: '%s' is not a numeric IPv6 address", spec, host);
			return false;
		}
		memcpy(&out->sa, &sa6, sizeof(sa6));
		out->sa_len = sizeof(sa6);
		snprintf(out->host, sizeof(out->host), "[%s]", host);
	} else {
		struct sockaddr_in sa4;

		memset(&sa4, 0, sizeof(sa4));
		sa4.sin_family = AF_INET;
		sa4.sin_port = htons((uint16_t)out->port);
		if (inet_pton(AF_INET, host, &sa4.sin_addr) != 1) {
			snprintf(err, errlen, "--listen %s: '%s' is not a numeric IPv4 address", spec, host);
			return false;
		}
		memcpy(&out->sa, &sa4, sizeof(sa4));
		out->sa_len = sizeof(sa4);
		snprintf(out->host, sizeof(out->host), "%s", host);
	}
	return true;
}
