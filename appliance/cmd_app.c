/*
 * cmd_app.c - Application netFn (06h): device identity, channel and
 * session commands, users (section 20, 22).
 */
#include "cmd.h"
#include "cipher.h"
#include "engine.h"
#include "ipmi.h"
#include "log.h"
#include "secret.h"
#include "throttle.h"

#include <arpa/inet.h>
#include <string.h>
#include <time.h>

#define IPMI_IANA      7154 /* the IPMI forum's enterprise number (channel vendor ID) */
#define MAX_USER_IDS   2    /* user 1: null user (disabled), user 2: the login */

/* The channel a request names: only the LAN channel (or "this one"). */
static bool lan_channel(uint8_t ch)
{
	ch &= 0x0f;
	return ch == IPMI_CHANNEL_LAN || ch == IPMI_CHANNEL_CURRENT;
}

/* ---- identity -------------------------------------------------------- */

static int get_device_id(struct cmd_ctx *c)
{
	static const unsigned major = 0, minor = 1;
	wcur_u8(c->rsp, 0x20);                     /* device ID */
	wcur_u8(c->rsp, 0x01);                     /* revision; no device SDRs */
	wcur_u8(c->rsp, major & 0x7f);             /* firmware major, available */
	wcur_u8(c->rsp, (uint8_t)((minor / 10) << 4 | minor % 10)); /* BCD */
	wcur_u8(c->rsp, 0x02);                     /* IPMI 2.0 */
	/* chassis device, FRU inventory, SEL device, SDR repository */
	wcur_u8(c->rsp, 0x80 | 0x08 | 0x04 | 0x02);
	wcur_u8(c->rsp, 0x00);                     /* manufacturer ID: none */
	wcur_u8(c->rsp, 0x00);
	wcur_u8(c->rsp, 0x00);
	wcur_le16(c->rsp, 0x6d62);                 /* product ID: "mb" */
	wcur_bytes(c->rsp, "mbmc", 4);             /* auxiliary firmware revision */
	return CC_OK;
}

static int get_self_test(struct cmd_ctx *c)
{
	wcur_u8(c->rsp, 0x55); /* no error */
	wcur_u8(c->rsp, 0x00);
	return CC_OK;
}

static int get_device_guid(struct cmd_ctx *c)
{
	wcur_bytes(c->rsp, c->p->guid, sizeof(c->p->guid));
	return CC_OK;
}

static int reset_bmc(struct cmd_ctx *c)
{
	/* A virtual BMC has nothing to reset; answering keeps tools that
	 * "reset the BMC" as a recovery step working. */
	persona_log_event(c->p, c->cmd == CMD_COLD_RESET ? "bmc cold reset (no-op)"
	                                                  : "bmc warm reset (no-op)", "", 0);
	return CC_OK;
}

static int get_acpi_power(struct cmd_ctx *c)
{
	/* S0/G0 working when on, S5/G2 soft off otherwise; device D0. */
	wcur_u8(c->rsp, c->p->power == POWER_ON ? 0x00 : 0x05);
	wcur_u8(c->rsp, 0x00);
	return CC_OK;
}

static int get_global_enables(struct cmd_ctx *c)
{
	wcur_u8(c->rsp, 0x08); /* system event logging enabled */
	return CC_OK;
}

static int set_global_enables(struct cmd_ctx *c)
{
	return CC_OK;
}

static int get_msg_flags(struct cmd_ctx *c)
{
	wcur_u8(c->rsp, 0x00);
	return CC_OK;
}

static int clear_msg_flags(struct cmd_ctx *c)
{
	return CC_OK;
}

static int get_watchdog(struct cmd_ctx *c)
{
	/* A watchdog that was never started (section 27.7). */
	wcur_u8(c->rsp, 0x00);   /* timer use: reserved, not running */
	wcur_u8(c->rsp, 0x00);   /* no action */
	wcur_u8(c->rsp, 0x00);   /* pre-timeout interval */
	wcur_u8(c->rsp, 0x00);   /* expiration flags */
	wcur_le16(c->rsp, 0);    /* initial countdown */
	wcur_le16(c->rsp, 0);    /* present countdown */
	return CC_OK;
}

/* System Info parameters (section 22.14a): the name tools show. */
static int get_system_info(struct cmd_ctx *c)
{
	uint8_t flags = cur_u8(&c->req);
	uint8_t param = cur_u8(&c->req);
	uint8_t set = cur_u8(&c->req);
	const char *text = NULL;

	wcur_u8(c->rsp, 0x11); /* parameter revision */
	if (flags & 0x80)
		return CC_OK;  /* revision only */
	switch (param) {
	case 0x01: text = "metalbmc " METALBMC_VERSION; break; /* firmware version */
	case 0x02: text = c->p->hostname; break;               /* system name */
	default: return 0x80; /* parameter not supported */
	}
	size_t len = strlen(text);
	if (len > 64)
		len = 64;
	/* Strings are sent in 16-byte blocks; set 0 starts with encoding and
	 * length (ASCII = 0). */
	if (set == 0) {
		wcur_u8(c->rsp, 0);          /* set selector */
		wcur_u8(c->rsp, 0x00);       /* ASCII+Latin1 */
		wcur_u8(c->rsp, (uint8_t)len);
		size_t n = len < 14 ? len : 14;
		wcur_bytes(c->rsp, text, n);
		wcur_fill(c->rsp, 0, 14 - n);
		return CC_OK;
	}
	size_t off = 14 + (size_t)(set - 1) * 16;
	if (off >= len && set > 0)
		return CC_PARAM_OUT_OF_RANGE;
	size_t n = len - off < 16 ? len - off : 16;
	wcur_u8(c->rsp, set);
	wcur_bytes(c->rsp, text + off, n);
	wcur_fill(c->rsp, 0, 16 - n);
	return CC_OK;
}

/* ---- channel --------------------------------------------------------- */

static int get_channel_auth_caps(struct cmd_ctx *c)
{
	uint8_t ch = cur_u8(&c->req);
	uint8_t priv = cur_u8(&c->req) & 0x0f;
	bool v2 = ch & 0x80;
	bool v15 = c->eng->cfg->allow_ipmi15;

	if (!lan_channel(ch) || priv < PRIV_CALLBACK || priv > PRIV_OEM)
		return CC_INVALID_DATA_FIELD;
	wcur_u8(c->rsp, IPMI_CHANNEL_LAN);
	/* v1.5 types only when v1.5 is on; the v2.0 flag when asked. */
	wcur_u8(c->rsp, (uint8_t)((v2 ? 0x80 : 0) |
	                          (v15 ? (1u << AUTHTYPE_MD5 | 1u << AUTHTYPE_PASSWORD) : 0)));
	/* per-message and user-level authentication enabled, non-null user
	 * names only: no anonymous or null-user login */
	wcur_u8(c->rsp, 0x04);
	wcur_u8(c->rsp, (uint8_t)((v2 ? 0x02 : 0) | (v15 ? 0x01 : 0)));
	wcur_u8(c->rsp, 0);
	wcur_u8(c->rsp, 0);
	wcur_u8(c->rsp, 0);
	wcur_u8(c->rsp, 0);
	return CC_OK;
}

/* Writes kind | alg the first time alg is met; seen holds the algorithms
 * of that kind already written. */
static void put_alg_once(struct wcur *w, uint8_t *seen, uint8_t kind, uint8_t alg)
{
	if (*seen & (1u << alg))
		return;
	*seen |= (uint8_t)(1u << alg);
	wcur_u8(w, (uint8_t)(kind | alg));
}

static int get_channel_cipher_suites(struct cmd_ctx *c)
{
	uint8_t ch = cur_u8(&c->req);
	uint8_t payload = cur_u8(&c->req) & 0x3f;
	uint8_t idx = cur_u8(&c->req);
	uint8_t recs[64 * 5];
	struct wcur rw = wcur_make(recs, sizeof(recs));

	if (!lan_channel(ch) || (payload != PAYLOAD_IPMI && payload != PAYLOAD_SOL))
		return CC_INVALID_DATA_FIELD;
	if (idx & 0x80) {
		/* list by cipher suite (table 22-19): C0h, ID, algorithms */
		for (size_t i = 0; i < cipher_suite_count; i++) {
			const struct cipher_suite *s = &cipher_suites[i];
			if (!engine_suite_enabled(c->eng, s->id))
				continue;
			wcur_u8(&rw, 0xC0);
			wcur_u8(&rw, s->id);
			wcur_u8(&rw, s->auth);
			wcur_u8(&rw, (uint8_t)(0x40 | s->integ));
			wcur_u8(&rw, (uint8_t)(0x80 | s->conf));
		}
	} else {
		/* list of supported algorithms, each tagged with its kind */
		uint8_t seen[3] = { 0, 0, 0 };
		for (size_t i = 0; i < cipher_suite_count; i++) {
			const struct cipher_suite *s = &cipher_suites[i];
			if (!engine_suite_enabled(c->eng, s->id))
				continue;
			put_alg_once(&rw, &seen[0], 0x00, s->auth);
			put_alg_once(&rw, &seen[1], 0x40, s->integ);
			put_alg_once(&rw, &seen[2], 0x80, s->conf);
		}
	}
	size_t off = (size_t)(idx & 0x3f) * 16, total = wcur_len(&rw);
	wcur_u8(c->rsp, IPMI_CHANNEL_LAN);
	if (off < total)
		wcur_bytes(c->rsp, recs + off, total - off < 16 ? total - off : 16);
	return CC_OK;
}

static int get_channel_info(struct cmd_ctx *c)
{
	uint8_t ch = cur_u8(&c->req);
	if (!lan_channel(ch))
		return CC_INVALID_DATA_FIELD;
	unsigned active = c->p ? c->p->sessions : 0;
	wcur_u8(c->rsp, IPMI_CHANNEL_LAN);
	wcur_u8(c->rsp, 0x04);                       /* 802.3 LAN */
	wcur_u8(c->rsp, 0x01);                       /* IPMB-1.0 protocol */
	wcur_u8(c->rsp, (uint8_t)(0x80 | (active > 63 ? 63 : active))); /* multi-session */
	wcur_u8(c->rsp, IPMI_IANA & 0xff);
	wcur_u8(c->rsp, (IPMI_IANA >> 8) & 0xff);
	wcur_u8(c->rsp, (IPMI_IANA >> 16) & 0xff);
	wcur_le16(c->rsp, 0);
	return CC_OK;
}

static int get_channel_access(struct cmd_ctx *c)
{
	uint8_t ch = cur_u8(&c->req);
	uint8_t which = cur_u8(&c->req) >> 6;
	if (!lan_channel(ch) || which == 0 || which == 3)
		return CC_INVALID_DATA_FIELD;
	wcur_u8(c->rsp, 0x22);      /* alerting off, auth enabled, always available */
	wcur_u8(c->rsp, PRIV_ADMIN); /* channel privilege limit */
	return CC_OK;
}

static int get_channel_payload_support(struct cmd_ctx *c)
{
	if (!lan_channel(cur_u8(&c->req)))
		return CC_INVALID_DATA_FIELD;
	/* standard payloads: IPMI (0), no SOL yet; session setup payloads */
	wcur_le16(c->rsp, 0x0001);
	wcur_le16(c->rsp, 0x003f); /* 10h-15h */
	wcur_le16(c->rsp, 0);
	wcur_le16(c->rsp, 0);
	return CC_OK;
}

/* ---- users ----------------------------------------------------------- */

static int get_user_access(struct cmd_ctx *c)
{
	uint8_t ch = cur_u8(&c->req);
	uint8_t uid = cur_u8(&c->req) & 0x3f;
	if (!lan_channel(ch) || uid == 0 || uid > MAX_USER_IDS)
		return CC_INVALID_DATA_FIELD;
	wcur_u8(c->rsp, MAX_USER_IDS);
	wcur_u8(c->rsp, 0x40 | 1);  /* enabled by Set User Password; 1 enabled */
	wcur_u8(c->rsp, MAX_USER_IDS); /* both names are fixed */
	if (uid == 1)
		wcur_u8(c->rsp, 0x0f);  /* null user: no access */
	else
		wcur_u8(c->rsp, 0x10 | PRIV_ADMIN); /* IPMI messaging, administrator */
	return CC_OK;
}

static int get_user_name(struct cmd_ctx *c)
{
	uint8_t uid = cur_u8(&c->req) & 0x3f;
	uint8_t name[16];

	if (uid == 0 || uid > MAX_USER_IDS)
		return CC_INVALID_DATA_FIELD;
	memset(name, 0, sizeof(name));
	if (uid == 2)
		memcpy(name, c->s->user, c->s->user_len);
	wcur_bytes(c->rsp, name, sizeof(name));
	return CC_OK;
}

/* ---- sessions -------------------------------------------------------- */

static int set_session_priv(struct cmd_ctx *c)
{
	uint8_t want = cur_u8(&c->req) & 0x0f;
	struct session *s = c->s;

	if (want == 0) {
		wcur_u8(c->rsp, s->priv);
		return CC_OK;
	}
	if (want > PRIV_OEM)
		return CC_INVALID_DATA_FIELD;
	if (want == PRIV_OEM)
		return 0x80; /* level not available for this user */
	if (want > s->max_priv)
		return 0x81; /* exceeds channel or user limit */
	s->priv = want;
	wcur_u8(c->rsp, s->priv);
	return CC_OK;
}

/* The sessions Get Session Info and Close Session may see: the active ones
 * of the caller's persona. */
static bool persona_session(const struct cmd_ctx *c, const struct session *s)
{
	return s->state == SESS_ACTIVE && s->persona == c->p;
}

static struct session *session_by_index(struct cmd_ctx *c, unsigned n)
{
	struct session_table *t = &c->eng->sessions;
	for (size_t i = 0; i < t->cap; i++) {
		struct session *s = &t->slots[i];
		if (persona_session(c, s) && --n == 0)
			return s;
	}
	return NULL;
}

static struct session *session_by_handle(struct cmd_ctx *c, uint8_t h)
{
	struct session_table *t = &c->eng->sessions;
	for (size_t i = 0; i < t->cap; i++) {
		struct session *s = &t->slots[i];
		if (persona_session(c, s) && s->handle == h)
			return s;
	}
	return NULL;
}

static int close_session(struct cmd_ctx *c)
{
	uint32_t id = cur_le32(&c->req);
	struct session *target;

	if (id == 0) {
		if (cur_remaining(&c->req) < 1)
			return CC_DATA_LENGTH;
		target = session_by_handle(c, cur_u8(&c->req));
		if (!target)
			return 0x88; /* invalid session handle */
	} else {
		target = session_find(&c->eng->sessions, id);
		if (!target || target->persona != c->p)
			return 0x87; /* invalid session ID */
	}
	if (target == c->s) {
		c->close_session = true;
		return CC_OK;
	}
	if (c->priv < PRIV_ADMIN)
		return CC_INSUFFICIENT_PRIV;
	engine_end_session(c->eng, target, "closed by another session");
	return CC_OK;
}

static int count_persona_sessions(struct cmd_ctx *c)
{
	struct session_table *t = &c->eng->sessions;
	int n = 0;
	for (size_t i = 0; i < t->cap; i++)
		if (persona_session(c, &t->slots[i]))
			n++;
	return n;
}

static int get_session_info(struct cmd_ctx *c)
{
	uint8_t idx = cur_u8(&c->req);
	struct session *s;
	unsigned limit = c->eng->cfg->max_sessions_per_persona;

	switch (idx) {
	case 0x00:
		s = c->s;
		break;
	case 0xFE:
		if (cur_remaining(&c->req) < 1)
			return CC_DATA_LENGTH;
		s = session_by_handle(c, cur_u8(&c->req));
		break;
	case 0xFF: {
		if (cur_remaining(&c->req) < 4)
			return CC_DATA_LENGTH;
		uint32_t id = cur_le32(&c->req);
		s = session_find(&c->eng->sessions, id);
		if (s && !persona_session(c, s))
			s = NULL;
		break;
	}
	default:
		s = session_by_index(c, idx);
		break;
	}
	wcur_u8(c->rsp, s ? s->handle : 0);
	wcur_u8(c->rsp, (uint8_t)(limit > 63 ? 63 : limit));
	wcur_u8(c->rsp, (uint8_t)count_persona_sessions(c));
	if (!s)
		return CC_OK;
	wcur_u8(c->rsp, 2);                             /* user ID */
	wcur_u8(c->rsp, s->priv);
	wcur_u8(c->rsp, (uint8_t)((s->v15 ? 0x00 : 0x10) | IPMI_CHANNEL_LAN));
	/* LAN channel details: console IP, MAC (unknown here), port */
	if (s->peer.ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)&s->peer;
		wcur_bytes(c->rsp, &a->sin_addr, 4);
		wcur_fill(c->rsp, 0, 6);
		wcur_le16(c->rsp, ntohs(a->sin_port));
	} else {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&s->peer;
		if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr))
			wcur_bytes(c->rsp, a->sin6_addr.s6_addr + 12, 4);
		else
			wcur_fill(c->rsp, 0, 4);
		wcur_fill(c->rsp, 0, 6);
		wcur_le16(c->rsp, ntohs(a->sin6_port));
	}
	return CC_OK;
}

/* ---- IPMI v1.5 session setup (section 22.16, 22.17) ------------------ */

static int get_session_challenge(struct cmd_ctx *c)
{
	struct engine *e = c->eng;
	uint8_t authtype = cur_u8(&c->req) & 0x0f;
	uint8_t name[16];
	size_t ulen;

	if (c->s)
		return CC_INVALID_COMMAND; /* only outside a session */
	if (!e->cfg->allow_ipmi15)
		return CC_INVALID_DATA_FIELD;
	if (authtype != AUTHTYPE_MD5 && authtype != AUTHTYPE_PASSWORD)
		return CC_INVALID_DATA_FIELD;
	cur_bytes(&c->req, name, sizeof(name));
	for (ulen = 0; ulen < sizeof(name) && name[ulen]; ulen++)
		;
	if (ulen == 0)
		return 0x82; /* null user name not enabled */
	switch (throttle_setup(e->throttle, (const struct sockaddr *)&c->from->addr, e->now)) {
	case THROTTLE_OK:
		break;
	case THROTTLE_LOCKED:
		return CC_NODE_BUSY;
	default:
		e->stats.dropped_throttled++;
		return CC_NODE_BUSY;
	}
	struct persona *p = engine_lookup_user(e, c->from, name, ulen);
	if (!p) {
		/* Not a failed login: this one datagram needs no answer to be
		 * sent, so its source may be forged, and counting it would let
		 * anyone lock out any address. Activate Session, which needs
		 * the challenge, counts; the setup throttle bounds the probing. */
		return 0x81; /* invalid user name */
	}
	if (p->sessions >= e->cfg->max_sessions_per_persona)
		engine_make_room(e, p, NULL); /* challenges cost a name, not a password */
	if (p->sessions >= e->cfg->max_sessions_per_persona)
		return CC_OUT_OF_SPACE;
	engine_make_room_for_source(e, c->from);
	struct session *s = engine_new_session(e, c->from);
	if (!s)
		return CC_OUT_OF_SPACE;
	s->v15 = true;
	s->state = SESS_CHALLENGE;
	s->authtype = authtype;
	s->user_len = (uint8_t)ulen;
	memcpy(s->user, name, ulen);
	s->max_priv = PRIV_ADMIN;
	engine_bind_persona(e, s, p);
	if (e->rand(s->challenge, sizeof(s->challenge)) < 0) {
		engine_end_session(e, s, "no randomness");
		return CC_UNSPECIFIED;
	}
	wcur_le32(c->rsp, s->id);
	wcur_bytes(c->rsp, s->challenge, sizeof(s->challenge));
	return CC_OK;
}

static int activate_session(struct cmd_ctx *c)
{
	struct engine *e = c->eng;
	struct session *s = c->s;
	uint8_t authtype = cur_u8(&c->req) & 0x0f;
	uint8_t priv = cur_u8(&c->req) & 0x0f;
	uint8_t challenge[16];
	cur_bytes(&c->req, challenge, sizeof(challenge));
	uint32_t out_seq = cur_le32(&c->req);
	uint32_t in_seq;

	if (!s || !s->v15 || s->state != SESS_CHALLENGE)
		return CC_INVALID_COMMAND;
	if (authtype != s->authtype)
		return CC_INVALID_DATA_FIELD;
	if (!secret_ct_equal(challenge, s->challenge, sizeof(challenge))) {
		engine_end_session(e, s, "v1.5 challenge mismatch");
		return 0x85; /* invalid session ID in request (challenge mismatch) */
	}
	if (priv < PRIV_CALLBACK || priv > PRIV_OEM)
		return CC_INVALID_DATA_FIELD;
	if (priv > s->max_priv)
		return 0x86; /* requested privilege exceeds the user's limit */
	do {
		if (e->rand(&in_seq, sizeof(in_seq)) < 0)
			return CC_UNSPECIFIED;
	} while (in_seq == 0 || in_seq > 0x7fffffff);
	s->max_priv = priv;
	s->priv = priv < PRIV_USER ? priv : PRIV_USER;
	s->out_seq = out_seq ? out_seq : 1;
	/* The console's first packet will carry in_seq. */
	s->in_auth.started = true;
	s->in_auth.top = in_seq - 1;
	s->in_auth.seen = 1;
	engine_activate_session(e, s, c->from);
	wcur_u8(c->rsp, s->authtype);
	wcur_le32(c->rsp, s->id);
	wcur_le32(c->rsp, in_seq);
	wcur_u8(c->rsp, s->max_priv);
	return CC_OK;
}

const struct cmd_def cmd_app_table[] = {
	CMD_ROW(NETFN_APP, CMD_GET_DEVICE_ID, PRIV_USER, 0, 0, 0, get_device_id),
	CMD_ROW(NETFN_APP, CMD_COLD_RESET, PRIV_ADMIN, 0, 0, 0, reset_bmc),
	CMD_ROW(NETFN_APP, CMD_WARM_RESET, PRIV_ADMIN, 0, 0, 0, reset_bmc),
	CMD_ROW(NETFN_APP, CMD_GET_SELF_TEST, PRIV_USER, 0, 0, 0, get_self_test),
	CMD_ROW(NETFN_APP, CMD_GET_ACPI_POWER, PRIV_USER, 0, 0, 0, get_acpi_power),
	CMD_ROW(NETFN_APP, CMD_GET_DEVICE_GUID, PRIV_USER, 0, 0, 0, get_device_guid),
	CMD_ROW(NETFN_APP, CMD_GET_WATCHDOG, PRIV_USER, 0, 0, 0, get_watchdog),
	CMD_ROW(NETFN_APP, CMD_SET_GLOBAL_ENABLES, PRIV_ADMIN, 1, 1, 0, set_global_enables),
	CMD_ROW(NETFN_APP, CMD_GET_GLOBAL_ENABLES, PRIV_USER, 0, 0, 0, get_global_enables),
	CMD_ROW(NETFN_APP, CMD_CLEAR_MSG_FLAGS, PRIV_ADMIN, 1, 1, 0, clear_msg_flags),
	CMD_ROW(NETFN_APP, CMD_GET_MSG_FLAGS, PRIV_USER, 0, 0, 0, get_msg_flags),
	CMD_ROW(NETFN_APP, CMD_GET_SYSTEM_GUID, PRIV_USER, 0, 0, 0, get_device_guid),
	CMD_ROW(NETFN_APP, CMD_GET_CHANNEL_AUTH_CAPS, PRIV_NONE, 2, 2, CMD_F_SESSIONLESS, get_channel_auth_caps),
	CMD_ROW(NETFN_APP, CMD_GET_SESSION_CHALLENGE, PRIV_NONE, 17, 17, CMD_F_SESSIONLESS, get_session_challenge),
	CMD_ROW(NETFN_APP, CMD_ACTIVATE_SESSION, PRIV_NONE, 22, 22, 0, activate_session),
	CMD_ROW(NETFN_APP, CMD_SET_SESSION_PRIV, PRIV_USER, 1, 1, 0, set_session_priv),
	CMD_ROW(NETFN_APP, CMD_CLOSE_SESSION, PRIV_CALLBACK, 4, 5, 0, close_session),
	CMD_ROW(NETFN_APP, CMD_GET_SESSION_INFO, PRIV_USER, 1, 5, 0, get_session_info),
	CMD_ROW(NETFN_APP, CMD_GET_CHANNEL_ACCESS, PRIV_USER, 2, 2, 0, get_channel_access),
	CMD_ROW(NETFN_APP, CMD_GET_CHANNEL_INFO, PRIV_USER, 1, 1, 0, get_channel_info),
	CMD_ROW(NETFN_APP, CMD_GET_USER_ACCESS, PRIV_OPERATOR, 2, 2, 0, get_user_access),
	CMD_ROW(NETFN_APP, CMD_GET_USER_NAME, PRIV_OPERATOR, 1, 1, 0, get_user_name),
	CMD_ROW(NETFN_APP, CMD_GET_CHANNEL_PAYLOAD_SUPPORT, PRIV_USER, 1, 1, 0, get_channel_payload_support),
	CMD_ROW(NETFN_APP, CMD_GET_CHANNEL_CIPHER_SUITES, PRIV_NONE, 3, 3, CMD_F_SESSIONLESS, get_channel_cipher_suites),
	CMD_ROW(NETFN_APP, CMD_GET_SYSTEM_INFO, PRIV_USER, 4, 4, 0, get_system_info),
};
const size_t cmd_app_count = sizeof(cmd_app_table) / sizeof(cmd_app_table[0]);
