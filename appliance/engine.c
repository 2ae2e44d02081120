/*
 * engine.c - datagram entry point, session lifecycle, request execution
 * and the completion of requests that a backend answers later.
 */
#include "engine.h"
#include "cmd.h"
#include "ipmi.h"
#include "ipmi_msg.h"
#include "log.h"
#include "loop.h"
#include "secret.h"
#include "throttle.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define SESSION_OF_TIMER(t) \
	((struct session *)((char *)(t) - offsetof(struct session, timer)))

static int default_rand(void *buf, size_t n) { return secret_random(buf, n); }

static void session_timer_fired(struct loop *l, struct loop_timer *t);
static void engine_backend_done(void *arg, uint64_t token, uint8_t cc);

int engine_init(struct engine *e, const struct config *cfg,
                struct persona_table *personas, struct loop *loop)
{
	memset(e, 0, sizeof(*e));
	e->cfg = cfg;
	e->personas = personas;
	e->loop = loop;
	e->rand = default_rand;
	if (session_table_init(&e->sessions, cfg->max_sessions) < 0)
		return -1;
	for (size_t i = 0; i < e->sessions.cap; i++)
		loop_timer_init(&e->sessions.slots[i].timer, session_timer_fired, e);
	e->throttle = throttle_new(cfg->setup_rate, cfg->setup_burst);
	if (!e->throttle) {
		session_table_free(&e->sessions);
		return -1;
	}
	for (size_t i = 0; i < cfg->cipher_suite_count; i++) {
		uint8_t id = cfg->cipher_suites[i];
		if (id == 0 && !cfg->allow_cipher_zero)
			continue;
		e->suites_enabled[id / 8] |= (uint8_t)(1u << (id % 8));
	}
	return 0;
}

void engine_free(struct engine *e)
{
	for (size_t i = 0; i < e->sessions.cap; i++) {
		struct session *s = &e->sessions.slots[i];
		if (e->loop)
			loop_timer_cancel(e->loop, &s->timer);
	}
	session_table_free(&e->sessions);
	throttle_free(e->throttle);
	e->throttle = NULL;
}

bool engine_suite_enabled(const struct engine *e, uint8_t id)
{
	return e->suites_enabled[id / 8] & (1u << (id % 8));
}

size_t engine_sessions_active(const struct engine *e)
{
	return e->sessions.active;
}

void engine_attach_backend(struct engine *e, struct backend *b)
{
	b->done = engine_backend_done;
	b->done_arg = e;
}

void engine_describe_peer(const struct engine_peer *from, const uint8_t *user,
                          size_t user_len, char *out, size_t cap)
{
	char addr[INET6_ADDRSTRLEN + 8], name[MAX_USER_NAME * 4 + 1] = "";

	sockaddr_format((const struct sockaddr *)&from->addr, addr, sizeof(addr));
	if (user && user_len)
		log_escape(user, user_len, name, sizeof(name));
	snprintf(out, cap, "%s%s%s", addr, name[0] ? " user " : "", name);
}

/* ---- session lifecycle ---------------------------------------------- */

static uint64_t session_deadline(const struct engine *e, const struct session *s)
{
	if (s->state == SESS_ACTIVE) {
		uint64_t d = s->last_ms + (uint64_t)e->cfg->session_timeout_s * 1000u;
		/* A backend call in flight keeps its session alive. */
		if (s->pending && s->pending_since_ms + PENDING_TIMEOUT_MS > d)
			d = s->pending_since_ms + PENDING_TIMEOUT_MS;
		return d;
	}
	return s->created_ms + HALF_OPEN_TIMEOUT_MS;
}

/* Arms the session's expiry timer for its current state. */
static void engine_session_touch(struct engine *e, struct session *s)
{
	if (!e->loop)
		return;
	uint64_t d = session_deadline(e, s);
	/* Lazy re-arming: an armed timer that fires early re-arms itself, so
	 * a busy session costs no heap work per packet. Only move it when the
	 * new deadline is earlier (a state change to half-open timing). */
	if (!loop_timer_armed(&s->timer) || d < s->timer.deadline_ms)
		loop_timer_at(e->loop, &s->timer, d);
}

/* A backend that never answers must not leave the session "busy" for
 * ever: after PENDING_TIMEOUT_MS the request is given up (a late answer
 * then finds no matching token and is dropped). */
static void abandon_stale_pending(struct engine *e, struct session *s)
{
	if (s->pending && e->now >= s->pending_since_ms + PENDING_TIMEOUT_MS) {
		s->pending = false;
		log_debug("session %08x: backend request abandoned after %d ms",
		          s->id, PENDING_TIMEOUT_MS);
	}
}

/*
 * A console that got RAKP 2 and never sent RAKP 3 most likely found that
 * our RAKP 2 code did not match its password (ipmitool and pyghmi simply
 * stop), or it only came for the password hash (CVE-2013-4786). Either way
 * it counts as a failed login for its source when the handshake times out.
 */
static void count_abandoned_handshake(struct engine *e, struct session *s)
{
	struct engine_peer from;
	char who[128];

	if (s->state != SESS_RAKP2)
		return;
	engine_login_failed(e, &s->peer);
	if (!s->persona)
		return;
	memset(&from, 0, sizeof(from));
	memcpy(&from.addr, &s->peer, sizeof(from.addr));
	from.addr_len = s->peer_len;
	engine_describe_peer(&from, s->user, s->user_len, who, sizeof(who));
	persona_log_event(s->persona, "login failed (no RAKP 3: wrong password at the console?)",
	                  who, RMCPP_INVALID_ICV);
}

static void session_timer_fired(struct loop *l, struct loop_timer *t)
{
	struct engine *e = t->arg;
	struct session *s = SESSION_OF_TIMER(t);

	if (s->state == SESS_FREE)
		return;
	e->now = loop_now(l);
	abandon_stale_pending(e, s);
	uint64_t d = session_deadline(e, s);
	if (d > e->now) {
		loop_timer_at(l, t, d);
		return;
	}
	e->stats.sessions_expired++;
	count_abandoned_handshake(e, s);
	engine_end_session(e, s, s->state == SESS_ACTIVE ? "idle timeout"
	                                                 : "handshake timeout");
}

void engine_bind_persona(struct engine *e, struct session *s, struct persona *p)
{
	(void)e;
	if (s->persona == p)
		return;
	if (s->persona && s->persona->sessions)
		s->persona->sessions--;
	s->persona = p;
	s->persona_gen = p ? p->generation : 0;
	if (p)
		p->sessions++;
}

void engine_login_failed(struct engine *e, const struct sockaddr_storage *source)
{
	const struct sockaddr *sa = (const struct sockaddr *)source;
	struct engine_peer from;
	char who[128];

	e->stats.login_failures++;
	uint64_t lock = throttle_fail(e->throttle, sa, e->now);
	/* Own log budget (the key differs from the per-packet lines'), so a
	 * lock-out is not hidden behind the failures that caused it. */
	if (!lock || !log_peer_allowed(throttle_source_key(sa) ^ 0x4c4f434bull, e->now))
		return;
	memset(&from, 0, sizeof(from));
	memcpy(&from.addr, source, sizeof(from.addr));
	engine_describe_peer(&from, NULL, 0, who, sizeof(who));
	log_warnx("ipmi: source %s locked out for %llu ms after repeated failed logins",
	          who, (unsigned long long)lock);
}

bool engine_same_source(const struct session *s, const struct engine_peer *from)
{
	if (s->peer.ss_family != from->addr.ss_family)
		return false;
	if (from->addr.ss_family == AF_INET)
		return ((const struct sockaddr_in *)&s->peer)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)&from->addr)->sin_addr.s_addr;
	if (from->addr.ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)&s->peer)->sin6_addr,
		              &((const struct sockaddr_in6 *)&from->addr)->sin6_addr, 16) == 0;
	return false;
}

bool engine_session_usable(const struct session *s, const struct engine_peer *from)
{
	const struct persona *p = s->persona;

	if (!engine_same_source(s, from))
		return false;
	if (!p)
		return true;
	if (s->persona_gen != p->generation)
		return false; /* retired, its slot reused */
	/* The allow-list is checked at every packet, not only at login: a
	 * narrowed ipmi.allow tag shuts out sessions already open. */
	return !p->allowed_sources ||
	       cidr_list_match(p->allowed_sources, (const struct sockaddr *)&from->addr);
}

void engine_activate_session(struct engine *e, struct session *s,
                             const struct engine_peer *from)
{
	if (s->state != SESS_ACTIVE && e->sessions.half_open)
		e->sessions.half_open--;
	s->state = SESS_ACTIVE;
	s->last_ms = e->now;
	e->stats.sessions_opened++;
	throttle_success(e->throttle, (const struct sockaddr *)&from->addr);
	engine_session_touch(e, s);
}

void engine_end_session(struct engine *e, struct session *s, const char *reason)
{
	if (s->state == SESS_FREE)
		return;
	log_debug("session %08x ended: %s", s->id, reason);
	if (s->state == SESS_ACTIVE)
		e->stats.sessions_closed++;
	engine_bind_persona(e, s, NULL);
	if (e->loop)
		loop_timer_cancel(e->loop, &s->timer);
	if (s->state != SESS_ACTIVE && e->sessions.half_open)
		e->sessions.half_open--;
	cipher_keys_wipe(&s->keys);
	session_release(&e->sessions, s);
}

/* Frees sessions whose deadline passed (needed when no loop runs timers,
 * and as a first resort when the table is full). */
static void reap_expired(struct engine *e)
{
	for (size_t i = 0; i < e->sessions.cap; i++) {
		struct session *s = &e->sessions.slots[i];
		if (s->state != SESS_FREE && session_deadline(e, s) <= e->now) {
			e->stats.sessions_expired++;
			count_abandoned_handshake(e, s);
			engine_end_session(e, s, "expired");
		}
	}
}

/* The oldest handshake that never finished, other than keep: of persona p
 * (any when NULL), from source `from` (any when NULL). NULL when none. */
static struct session *oldest_handshake(struct engine *e, const struct persona *p,
                                        const struct engine_peer *from,
                                        const struct session *keep)
{
	struct session *oldest = NULL;
	for (size_t i = 0; i < e->sessions.cap; i++) {
		if (e->sessions.ids[i] == 0)
			continue; /* free */
		struct session *c = &e->sessions.slots[i];
		if (c != keep && (!p || c->persona == p) && c->state != SESS_FREE &&
		    c->state != SESS_ACTIVE && (!from || engine_same_source(c, from)) &&
		    (!oldest || c->created_ms < oldest->created_ms))
			oldest = c;
	}
	return oldest;
}

void engine_make_room(struct engine *e, struct persona *p, const struct session *keep)
{
	struct session *oldest = oldest_handshake(e, p, NULL, keep);
	if (oldest)
		engine_end_session(e, oldest, "evicted: the persona's sessions are full");
}

/*
 * A source may hold MAX_HALF_OPEN_PER_SRC unfinished handshakes, so that
 * one address cannot fill the table with them. At the cap its oldest one
 * makes way rather than the new one being refused: a refusal would let
 * anyone who forges a victim's address (or shares its NAT) block its
 * logins with a few packets, while an eviction only recycles that
 * source's own slots, and a console finishing its handshake within a
 * few round trips keeps it.
 */
void engine_make_room_for_source(struct engine *e, const struct engine_peer *from)
{
	for (unsigned k = 0; k < MAX_HALF_OPEN_PER_SRC + 1; k++) { /* bounded */
		if (session_count_from(&e->sessions, (const struct sockaddr *)&from->addr, true) <
		    MAX_HALF_OPEN_PER_SRC)
			return;
		struct session *oldest = oldest_handshake(e, NULL, from, NULL);
		if (!oldest)
			return;
		engine_end_session(e, oldest, "evicted: its source holds too many handshakes");
	}
}

struct session *engine_new_session(struct engine *e, const struct engine_peer *from)
{
	struct session *s;

	if (e->sessions.active >= e->sessions.cap)
		reap_expired(e);
	if (e->sessions.active >= e->sessions.cap) {
		/* Still full: evict the oldest handshake that never finished. A
		 * flood of Open Session requests then only recycles its own
		 * half-open slots and cannot hold out a console that completes
		 * its handshake in a few round trips. */
		struct session *oldest = oldest_handshake(e, NULL, NULL, NULL);
		if (!oldest)
			return NULL;
		engine_end_session(e, oldest, "evicted by a newer handshake");
	}
	s = session_alloc(&e->sessions, e->rand);
	if (!s)
		return NULL;
	e->sessions.half_open++;
	s->created_ms = e->now;
	s->last_ms = e->now;
	memcpy(&s->peer, &from->addr, sizeof(s->peer));
	s->peer_len = from->addr_len;
	memcpy(&s->local, &from->local, sizeof(s->local));
	s->local_len = from->local_len;
	s->listener = from->listener;
	s->out_seq = 1;
	engine_session_touch(e, s);
	return s;
}

void engine_close_persona_sessions(struct engine *e, struct persona *p)
{
	for (size_t i = 0; i < e->sessions.cap; i++) {
		struct session *s = &e->sessions.slots[i];
		if (s->state != SESS_FREE && s->persona == p)
			engine_end_session(e, s, "persona retired");
	}
}

struct persona *engine_lookup_user(struct engine *e, const struct engine_peer *from,
                                   const uint8_t *name, size_t len)
{
	struct persona *p;

	if (from->bound) {
		size_t ul = strlen(e->cfg->ipmi_user);
		if (len != ul || memcmp(name, e->cfg->ipmi_user, ul) != 0)
			return NULL;
		p = from->bound;
	} else {
		p = persona_by_user(e->personas, name, len);
	}
	if (!p || !p->enabled || !secret_present(&p->password))
		return NULL;
	/* A source outside the persona's own allow-list is told what an
	 * unknown name is told: the persona's existence is not revealed. */
	if (p->allowed_sources &&
	    !cidr_list_match(p->allowed_sources, (const struct sockaddr *)&from->addr))
		return NULL;
	return p;
}

/* ---- requests -------------------------------------------------------- */

/* The RMCP header of every IPMI reply: version, reserved, no RMCP ACK
 * wanted, class IPMI. */
static void put_rmcp_ipmi(struct wcur *w)
{
	wcur_u8(w, RMCP_VERSION);
	wcur_u8(w, 0);
	wcur_u8(w, RMCP_SEQ_NO_ACK);
	wcur_u8(w, RMCP_CLASS_IPMI);
}

_Static_assert(ENGINE_CMD_SLOTS == 1u << 9, "engine_count_request takes 9 hash bits");

void engine_count_request(struct engine_stats *st, uint8_t netfn, uint8_t cmd,
                          uint8_t cc)
{
	uint16_t key = cc == CC_INVALID_COMMAND ? ENGINE_CMD_UNKNOWN
	                                        : (uint16_t)(netfn << 8 | cmd);
	uint32_t h = ((uint32_t)key << 8 | cc) * 0x9E3779B1u;
	size_t i = h >> (32 - 9); /* top 9 bits: ENGINE_CMD_SLOTS == 512 */

	for (size_t n = 0; n < ENGINE_CMD_PROBES; n++, i = (i + 1) % ENGINE_CMD_SLOTS) {
		struct engine_cmd_count *c = &st->by_cmd[i];
		if (!c->used) {
			c->used = true;
			c->netfn_cmd = key;
			c->cc = cc;
		}
		if (c->netfn_cmd == key && c->cc == cc) {
			c->count++;
			return;
		}
	}
	st->by_cmd_overflow++;
}

static void save_framing(struct session *s, const struct ipmi_req *rq)
{
	s->pending_rq[0] = rq->rs_addr;
	s->pending_rq[1] = rq->netfn;
	s->pending_rq[2] = rq->rs_lun;
	s->pending_rq[3] = rq->rq_addr;
	s->pending_rq[4] = rq->rq_seq;
	s->pending_rq[5] = rq->rq_lun;
	s->pending_rq[6] = rq->cmd;
}

static void load_framing(const struct session *s, struct ipmi_req *rq)
{
	memset(rq, 0, sizeof(*rq));
	rq->rs_addr = s->pending_rq[0];
	rq->netfn = s->pending_rq[1];
	rq->rs_lun = s->pending_rq[2];
	rq->rq_addr = s->pending_rq[3];
	rq->rq_seq = s->pending_rq[4];
	rq->rq_lun = s->pending_rq[5];
	rq->cmd = s->pending_rq[6];
}

bool engine_run_request(struct engine *e, const struct engine_peer *from,
                        struct session *s, const uint8_t *msg, size_t len,
                        struct wcur *rsp, bool *close_after)
{
	struct ipmi_req rq;
	uint8_t data[1 + MAX_IPMI_DATA];
	struct wcur dw = wcur_make(data + 1, MAX_IPMI_DATA);
	uint64_t key;
	int cc;

	*close_after = false;
	if (ipmi_msg_parse(msg, len, &rq) < 0) {
		e->stats.dropped_malformed++;
		return false;
	}
	key = ipmi_req_key(&rq);
	if (s) {
		abandon_stale_pending(e, s);
		if (s->pending && s->pending_key == key)
			return false; /* the answer goes out when the backend is done */
		const struct cached_rsp *hit = session_cache_find(s, key);
		if (hit) {
			/* A retransmission: same answer, the command is not run twice. */
			e->stats.retransmits_answered++;
			ipmi_msg_write_rsp(rsp, &rq, hit->rsp, hit->len);
			return wcur_ok(rsp);
		}
	}

	struct cmd_ctx c = {
		.eng = e,
		.from = from,
		.p = s ? s->persona : NULL,
		.s = s,
		.priv = s && s->state == SESS_ACTIVE ? s->priv : PRIV_NONE,
		.netfn = rq.netfn,
		.cmd = rq.cmd,
		.req = cur_make(rq.data, rq.len),
		.rsp = &dw,
	};
	e->stats.requests++;
	cc = cmd_dispatch(&c);
	if (cc == CMD_PENDING) {
		s->pending = true;
		s->pending_key = key;
		s->pending_token = c.token;
		s->pending_since_ms = e->now;
		s->pending_apply_boot = c.apply_boot;
		memcpy(s->pending_boot_flags, c.boot_flags, sizeof(s->pending_boot_flags));
		save_framing(s, &rq);
		engine_session_touch(e, s);
		return false;
	}
	data[0] = (uint8_t)cc;
	size_t n = 1 + (cc == CC_OK && wcur_ok(&dw) ? wcur_len(&dw) : 0);
	e->stats.cc_counts[cc & 0xff]++;
	engine_count_request(&e->stats, rq.netfn, rq.cmd, (uint8_t)cc);
	ipmi_msg_write_rsp(rsp, &rq, data, n);
	if (s)
		session_cache_put(s, key, data, n);
	*close_after = c.close_session;
	return wcur_ok(rsp);
}

static void peer_of_session(const struct session *s, struct engine_peer *to)
{
	memset(to, 0, sizeof(*to));
	memcpy(&to->addr, &s->peer, sizeof(to->addr));
	to->addr_len = s->peer_len;
	memcpy(&to->local, &s->local, sizeof(to->local));
	to->local_len = s->local_len;
	to->listener = s->listener;
}

/* Backend completion (struct backend's done callback). */
static void engine_backend_done(void *arg, uint64_t token, uint8_t cc)
{
	struct engine *e = arg;
	size_t slot = (size_t)(token & 0xffff);
	struct session *s;
	struct ipmi_req rq;
	uint8_t msg[64], pkt[MAX_DATAGRAM];
	struct wcur mw = wcur_make(msg, sizeof(msg));
	struct wcur pw = wcur_make(pkt, sizeof(pkt));
	struct engine_peer to;
	size_t n;

	if (slot >= e->sessions.cap)
		return;
	s = &e->sessions.slots[slot];
	if (s->state != SESS_ACTIVE || !s->pending || s->pending_token != token)
		return; /* the session ended meanwhile; nobody waits for this */
	if (e->loop)
		e->now = loop_now(e->loop);
	s->pending = false;
	if (cc == CC_OK && s->pending_apply_boot && s->persona)
		memcpy(s->persona->boot.flags, s->pending_boot_flags,
		       sizeof(s->persona->boot.flags));
	load_framing(s, &rq);
	e->stats.cc_counts[cc]++;
	engine_count_request(&e->stats, rq.netfn, rq.cmd, cc);
	ipmi_msg_write_rsp(&mw, &rq, &cc, 1);
	session_cache_put(s, s->pending_key, &cc, 1);
	if (!wcur_ok(&mw))
		return;
	put_rmcp_ipmi(&pw);
	n = s->v15 ? lan15_wrap(e, s, msg, wcur_len(&mw), &pw)
	           : rmcpplus_wrap(e, s, msg, wcur_len(&mw), &pw);
	if (n == 0 || !e->send)
		return;
	peer_of_session(s, &to);
	e->stats.tx_datagrams++;
	e->send(e->send_arg, &to, pkt, n);
}

/* ---- datagrams ------------------------------------------------------- */

/* ASF presence ping -> pong (DSP0136 section 3.2.4), which FreeIPMI's
 * ipmiping/ipmipower use to find a BMC. */
static size_t asf_handle(struct engine *e, uint8_t rmcp_seq, struct cur *c,
                         struct wcur *w)
{
	uint32_t iana = cur_be32(c);
	uint8_t type = cur_u8(c);
	uint8_t tag = cur_u8(c);
	cur_skip(c, 1);
	uint8_t dlen = cur_u8(c);
	if (!cur_ok(c) || iana != ASF_IANA || type != ASF_TYPE_PING || dlen != 0) {
		e->stats.dropped_malformed++;
		return 0;
	}
	e->stats.asf_pings++;
	wcur_u8(w, RMCP_VERSION);
	wcur_u8(w, 0);
	wcur_u8(w, rmcp_seq);
	wcur_u8(w, RMCP_CLASS_ASF);
	wcur_be32(w, ASF_IANA);
	wcur_u8(w, ASF_TYPE_PONG);
	wcur_u8(w, tag);
	wcur_u8(w, 0);
	wcur_u8(w, 16);
	wcur_be32(w, ASF_IANA); /* IANA enterprise number */
	wcur_be32(w, 0);        /* OEM defined */
	wcur_u8(w, 0x81);       /* IPMI supported, ASF version 1.0 */
	wcur_u8(w, 0x00);       /* no RMCP security extensions, no DASH */
	wcur_fill(w, 0, 6);
	return wcur_ok(w) ? wcur_len(w) : 0;
}

size_t engine_handle(struct engine *e, const struct engine_peer *from,
                     const uint8_t *pkt, size_t len, uint8_t *out, size_t cap)
{
	struct cur c = cur_make(pkt, len);
	struct wcur w = wcur_make(out, cap);
	size_t n;

	e->stats.rx_datagrams++;
	/* Without a loop (unit tests, fuzzing) no timer ends sessions: reap
	 * here, so e->now alone drives idle and half-open expiry. */
	if (!e->loop)
		reap_expired(e);
	if (e->cfg->allowed_sources.len &&
	    !cidr_list_match(&e->cfg->allowed_sources, (const struct sockaddr *)&from->addr)) {
		e->stats.dropped_source++;
		return 0;
	}
	/* A persona's own listener drops sources outside its allow-list
	 * before any work, like the global list. */
	if (from->bound && from->bound->allowed_sources &&
	    !cidr_list_match(from->bound->allowed_sources, (const struct sockaddr *)&from->addr)) {
		e->stats.dropped_source++;
		return 0;
	}
	uint8_t version = cur_u8(&c);
	cur_skip(&c, 1);
	uint8_t seq = cur_u8(&c);
	uint8_t cls = cur_u8(&c);
	if (!cur_ok(&c) || version != RMCP_VERSION || (cls & RMCP_CLASS_ACK)) {
		e->stats.dropped_malformed++;
		return 0;
	}
	switch (cls & 0x1f) {
	case RMCP_CLASS_ASF:
		n = asf_handle(e, seq, &c, &w);
		break;
	case RMCP_CLASS_IPMI:
		if (cur_remaining(&c) < 1) {
			e->stats.dropped_malformed++;
			return 0;
		}
		put_rmcp_ipmi(&w);
		if ((c.base[c.off] & 0x0f) == AUTHTYPE_RMCPP)
			n = rmcpplus_handle(e, from, &c, &w);
		else
			n = lan15_handle(e, from, &c, &w);
		break;
	default:
		e->stats.dropped_malformed++;
		return 0;
	}
	if (n)
		e->stats.tx_datagrams++;
	return n;
}
