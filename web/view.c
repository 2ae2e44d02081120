/*
 * view.c - labels and reachability of a persona; see view.h.
 */
#include "view.h"
#include "backend.h"
#include "discovery.h"
#include "escape.h"
#include "ipmi.h"
#include "udp.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void view_time(uint64_t wall_ms, char *out, size_t cap)
{
	struct tm tm;
	time_t t = (time_t)(wall_ms / 1000u);

	if (!wall_ms || !gmtime_r(&t, &tm)) {
		snprintf(out, cap, "%s", "");
		return;
	}
	strftime(out, cap, "%Y-%m-%d %H:%M:%SZ", &tm);
}

void view_time_iso(uint64_t wall_ms, char *out, size_t cap)
{
	struct tm tm;
	time_t t = (time_t)(wall_ms / 1000u);
	char base[32];

	if (!gmtime_r(&t, &tm)) {
		snprintf(out, cap, "%s", "");
		return;
	}
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, cap, "%s.%03uZ", base, (unsigned)(wall_ms % 1000u));
}

static const char *cc_name(uint8_t cc)
{
	switch (cc) {
	case CC_NODE_BUSY: return "busy";
	case CC_INVALID_COMMAND: return "invalid command";
	case CC_TIMEOUT: return "timeout";
	case CC_DATA_LENGTH: return "bad request length";
	case CC_PARAM_OUT_OF_RANGE: return "parameter out of range";
	case CC_INVALID_DATA_FIELD: return "invalid data field";
	case CC_DESTINATION_UNAVAIL: return "destination unavailable";
	case CC_INSUFFICIENT_PRIV: return "insufficient privilege";
	case CC_NOT_SUPPORTED_NOW: return "not supported now";
	case CC_UNSPECIFIED: return "unspecified error";
	default: return "";
	}
}

void view_result(uint8_t cc, char *out, size_t cap)
{
	const char *name = cc_name(cc);

	if (cc == CC_OK)
		snprintf(out, cap, "ok");
	else
		snprintf(out, cap, "failed: 0x%02X%s%s", cc, name[0] ? " " : "", name);
}

/* Badge class for a Metal device state. */
static const char *view_state_class(const char *s)
{
	if (strcmp(s, "active") == 0)
		return "ok";
	if (strcmp(s, "inactive") == 0)
		return "off";
	if (strcmp(s, "failed") == 0)
		return "bad";
	if (s[0] == 0)
		return "unknown";
	return "warn"; /* queued, provisioning, powering_on, reinstalling, ... */
}

/* Numeric host and port of a bound address; a wildcard address becomes
 * local_host (our address as the browser reached us). */
static void host_of(const struct listen_addr *la, const char *local_host,
                    char *host, size_t cap, uint16_t *port)
{
	char a[INET6_ADDRSTRLEN] = "";
	bool wildcard = false;

	if (la->ss.ss_family == AF_INET) {
		const struct sockaddr_in *v4 = (const struct sockaddr_in *)&la->ss;
		inet_ntop(AF_INET, &v4->sin_addr, a, sizeof(a));
		wildcard = v4->sin_addr.s_addr == htonl(INADDR_ANY);
		*port = ntohs(v4->sin_port);
	} else if (la->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&la->ss;
		inet_ntop(AF_INET6, &v6->sin6_addr, a, sizeof(a));
		wildcard = IN6_IS_ADDR_UNSPECIFIED(&v6->sin6_addr);
		*port = ntohs(v6->sin6_port);
	}
	if (wildcard)
		snprintf(host, cap, "%s", local_host && local_host[0] ? local_host
		                                                      : "APPLIANCE-ADDRESS");
	else
		snprintf(host, cap, "%s", a);
}

bool view_persona_path(const struct persona *p, char *out, size_t cap)
{
	struct wbuf b;
	bool ok;

	wbuf_init(&b, cap - 1);
	wbuf_puts(&b, "/personas/");
	esc_url(&b, p->device_id);
	ok = wbuf_ok(&b) && b.data;
	snprintf(out, cap, "%s", ok ? b.data : "");
	wbuf_free(&b);
	return ok;
}

static void boot_view(const struct persona *p, struct view_persona *v)
{
	uint8_t f0 = p->boot.flags[0], dev = (p->boot.flags[1] >> 2) & 0x0f;
	struct boot_target t;

	v->boot_override = f0 & 0x80;
	v->boot_persistent = f0 & 0x40;
	v->boot_efi = f0 & 0x20;
	/* The backend's view wins, as in Get System Boot Options: a device
	 * changed through the Metal API shows what it will really do. */
	if (p->backend && p->backend->ops->boot_get &&
	    p->backend->ops->boot_get(p->backend, p, &t)) {
		dev = t.dev;
		v->boot_override = t.dev != BOOTDEV_NONE;
		v->boot_persistent = t.persistent;
	}
	if (!v->boot_override)
		dev = BOOTDEV_NONE;
	v->boot_dev = boot_dev_name(dev);
	if (dev == BOOTDEV_NONE) {
		snprintf(v->boot, sizeof(v->boot), "default");
		return;
	}
	snprintf(v->boot, sizeof(v->boot), "%s %s%s",
	         dev == BOOTDEV_PXE ? "PXE" : v->boot_dev,
	         v->boot_persistent ? "persistent" : "once", v->boot_efi ? " (EFI)" : "");
}

/* A word as a POSIX shell would read it back: bare when it is plain,
 * else in single quotes (a user name from the Metal API may be anything). */
static void shell_word(const char *s, char *out, size_t cap)
{
	bool plain = s[0] != 0;
	size_t o = 0;

	for (const char *c = s; *c; c++)
		if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
		      (*c >= '0' && *c <= '9') || strchr("._-:[]@%+,/", *c)))
			plain = false;
	if (plain) {
		snprintf(out, cap, "%s", s);
		return;
	}
	if (cap < 3) {
		snprintf(out, cap, "%s", "");
		return;
	}
	out[o++] = '\'';
	for (const char *c = s; *c && o + 5 < cap; c++) {
		if (*c == '\'') {
			memcpy(out + o, "'\\''", 4);
			o += 4;
		} else {
			out[o++] = *c;
		}
	}
	out[o++] = '\'';
	out[o] = 0;
}

void view_persona(const struct config *cfg, const char *local_host,
                  const struct persona *p, struct view_persona *v)
{
	const struct listen_addr *shared = &cfg->ipmi_listen[0];
	const struct udp_listener *own = p->listener;
	char port_arg[16] = "";

	memset(v, 0, sizeof(*v));
	v->power = p->power == POWER_ON ? "on" : p->power == POWER_OFF ? "off" : "unknown";
	v->power_class = p->power_transition ? "warn"
	               : p->power == POWER_ON ? "ok"
	               : p->power == POWER_OFF ? "off" : "warn";
	v->state_class = view_state_class(p->metal_state);
	boot_view(p, v);
	v->backend = p->backend && p->backend->ops ? p->backend->ops->name : "none";
	v->origin = p->from_config ? "config" : "discovery";

	if (own) {
		v->reach_kind = p->own_address[0] ? "own_address" : "own_port";
		host_of(&own->addr, local_host, v->host, sizeof(v->host), &v->port);
		snprintf(v->listener, sizeof(v->listener), "%s", own->addr.text);
		snprintf(v->user, sizeof(v->user), "%s", cfg->ipmi_user);
	} else {
		v->reach_kind = "shared";
		host_of(shared, local_host, v->host, sizeof(v->host), &v->port);
		snprintf(v->listener, sizeof(v->listener), "%s", shared->text);
		snprintf(v->user, sizeof(v->user), "%s", p->user);
	}
	if (v->port != 623)
		snprintf(port_arg, sizeof(port_arg), " -p %u", v->port);
	/* Suite 17 when on (SHA-256 everywhere), else the first one enabled. */
	unsigned suite = cfg->cipher_suite_count ? cfg->cipher_suites[0] : 3;
	for (size_t i = 0; i < cfg->cipher_suite_count; i++)
		if (cfg->cipher_suites[i] == 17)
			suite = 17;
	char host_w[140], user_w[80];
	shell_word(v->host, host_w, sizeof(host_w));
	shell_word(v->user, user_w, sizeof(user_w));
	snprintf(v->ipmitool, sizeof(v->ipmitool),
	         "ipmitool -I lanplus -H %s%s -U %s -P <password> -C %u chassis power status",
	         host_w, port_arg, user_w, suite);

	if (p->last_action[0]) {
		view_time(p->last_action_wall_ms, v->last_when, sizeof(v->last_when));
		view_result(p->last_action_cc, v->last_result, sizeof(v->last_result));
	}
}

void view_project_badge(const struct discovery_project_status *ps, const char **cls,
                        const char **label)
{
	if (ps->polls == 0) {
		*cls = ps->polling ? "warn" : "off";
		*label = ps->polling ? "polling" : "not yet";
	} else if (ps->last_ok) {
		*cls = "ok";
		*label = "ok";
	} else {
		*cls = "bad";
		*label = "failed";
	}
}

void view_api_badge(const struct discovery_status *ds, const char **cls, const char **label)
{
	if (ds->rate_limited_for_ms) {
		*cls = "warn";
		*label = "rate limited";
	} else if (ds->api.requests == 0) {
		*cls = "off";
		*label = "no calls yet";
	} else if (ds->api_healthy) {
		*cls = "ok";
		*label = "healthy";
	} else {
		*cls = "bad";
		*label = "failing";
	}
}
