/*
 * backend_metal.c - the Metal backend; see backend_metal.h.
 *
 * One request per device at a time (a second one, from another session,
 * is answered Node Busy). A request is a small state machine:
 *
 *   POST action ──202──> done, CC_OK; the device is watched until it settles
 *        │
 *        └─422──> GET the device: already where it was asked to go (a power
 *                 on of a server that is on, or our own earlier attempt that
 *                 a retry repeated)? CC_OK. A cycle or reset of a server that
 *                 turned out to be off? POST power_on. On its way to the
 *                 other state (power on while powering_off)? CC_OK now, and
 *                 the action is sent once the device settles. Otherwise 0xD5.
 *
 * The queued case is what provisioning systems do: Ironic and MAAS power
 * off, read "off" (powering_off reads as off), and power on at once. Metal
 * refuses an action mid-transition; a BMC does not, so neither do we.
 *
 * Boot changes are one PUT. A one-time PXE request sets always_pxe and is
 * undone (always_pxe false) once a boot that metalbmc caused has happened:
 * the device went through a transition and came back active, or stayed
 * active for PXE_ONCE_GRACE_MS after the action was accepted (the real
 * API may show a reboot as one opaque step).
 */
#include "backend_metal.h"
#include "ipmi.h"
#include "log.h"
#include "metal_api.h"
#include "persona.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum op_stage { OP_ACTION, OP_VERIFY, OP_BOOT, OP_QUEUED };

struct metal_op {
	struct metal_backend *m;
	struct devrec *r;
	uint64_t token;
	enum op_stage stage;
	char action[16];                /* Metal action sent: power_on, ... */
	uint8_t ctl;                    /* the chassis control asked for */
	bool fallback_done;             /* a cycle of an off device became power_on */
	bool pxe;                       /* boot: always_pxe asked for */
	bool persistent;
	struct api_call *call;
	char what[96];                  /* "power cycle", "boot pxe once" */
	char source[64];
	uint64_t started_ms;
	bool replied;                   /* the IPMI client already has its answer */
	uint64_t queued_until_ms;       /* OP_QUEUED: give up after this */
	struct metal_device dev;        /* a decoded answer, decode to done */
};

#define ACTION_WATCH_MS  5000 /* ms: refresh at least this long after an action */
#define QUEUED_LIMIT_MS  120000 /* ms: a queued action waits this long for a
                                  * transition to end, then is dropped */
#define SYSTEM_SOURCE "metalbmc"

/* ---- pure decisions (unit-tested) --------------------------------------------- */

const char *backend_metal_action(uint8_t ctl, const char *state)
{
	switch (ctl) {
	case CTL_POWER_ON:
		return "power_on";
	case CTL_POWER_OFF:
	case CTL_SOFT_OFF:
		/* Metal has no graceful power-off action: soft off is hard. */
		return "power_off";
	case CTL_POWER_CYCLE:
	case CTL_HARD_RESET:
		/* A cycle or reset of a server that is off turns it on, as the
		 * IPMI spec allows and every BMC does; Metal refuses a reboot
		 * of an inactive device. */
		return metal_state_power(state) == POWER_OFF ? "power_on" : "reboot";
	default:
		return "";
	}
}

uint8_t backend_metal_cc(const struct api_result *r)
{
	if (http_status_ok(r->status))
		return CC_OK;
	if (r->rate_limited)
		return CC_NODE_BUSY;
	switch (r->status) {
	case 0:
		return CC_TIMEOUT;               /* no answer: timeout, connection */
	case 401:
	case 403:
		return CC_INSUFFICIENT_PRIV;     /* the API token may not do this */
	case 404:
		return CC_DESTINATION_UNAVAIL;   /* the device is gone */
	case 422:
		return CC_NOT_SUPPORTED_NOW;     /* not possible in its state */
	case 429:
		return CC_NODE_BUSY;
	default:
		return CC_UNSPECIFIED;           /* 5xx after retries, other 4xx */
	}
}

/* ---- outcome ------------------------------------------------------------------------ */

static void op_free(struct metal_op *op)
{
	metal_device_clear(&op->dev);
	free(op);
}

static void finish_op(struct metal_op *op, uint8_t cc, const char *detail)
{
	struct metal_backend *m = op->m;
	struct devrec *r = op->r;
	struct persona *p = r->persona;
	uint64_t took = loop_clock_ms() - op->started_ms;

	r->op = NULL;
	if (p) {
		persona_record_action(p, op->what, op->source, cc);
		p->power_transition = metal_state_transition(r->state);
		if (cc == CC_OK)
			log_info("persona %s: %s by %s: accepted by the API (%s, %llu ms)",
			         p->user, op->what, op->source, detail, (unsigned long long)took);
		else
			log_warnx("persona %s: %s by %s: failed with cc 0x%02x: %s", p->user,
			          op->what, op->source, cc, detail);
	}
	if (cc == CC_OK)
		m->actions_ok++;
	else
		m->actions_failed++;
	uint64_t token = op->token;
	bool replied = op->replied;
	op_free(op);
	if (!replied)
		backend_complete(&m->b, token, cc);
}

static int decode_dev(void *arg, const char *body, size_t len, char *why, size_t why_len)
{
	struct metal_op *op = arg;
	metal_device_clear(&op->dev);
	return metal_decode_device(body, len, &op->dev, why, why_len);
}

/* Takes a decoded device answer into the record, if it is about it, as of
 * stamp_ms: a read's send time; for the answer to our own write, its
 * arrival, because a read sent before that may have been served before the
 * write and must not overwrite it. */
static void take_answer(struct metal_op *op, uint64_t stamp_ms)
{
	struct devrec *r = op->r;
	if (strcmp(op->dev.id, r->id) != 0)
		return;
	op->dev.observed_ms = stamp_ms;
	devrec_observe(r, &op->dev, loop_now(op->m->loop));
}

static bool submit(struct metal_op *op, enum http_method method, const char *path,
                   const char *body, api_decode_fn decode, api_done_fn done)
{
	/* A reboot sent twice reboots twice: it is repeated only when the
	 * API surely did not act on it. Power on and off may be repeated (a
	 * second one is refused with 422 and read back), and so may a PUT. */
	bool once = method == HTTP_POST && strcmp(op->action, "reboot") == 0;
	struct api_call_spec spec = {
		.once = once,
		.method = method,
		.path = path,
		.body = body,
		.lane = API_LANE_ACTION,
		.budget_ms = API_ACTION_BUDGET_MS - (uint32_t)(loop_clock_ms() - op->started_ms),
		.decode = decode,
		.done = done,
		.arg = op,
	};
	if (spec.budget_ms > API_ACTION_BUDGET_MS)
		spec.budget_ms = 0; /* the subtraction wrapped: no time left */
	op->call = api_submit(op->m->api, &spec);
	return op->call != NULL;
}

/* ---- power ------------------------------------------------------------------------ */

static void on_action(void *arg, const struct api_result *res);
static void on_verify(void *arg, const struct api_result *res);

static bool post_action(struct metal_op *op)
{
	char path[API_MAX_PATH];
	char *body = metal_body_action(op->action);
	bool ok = body && metal_path_actions(path, sizeof(path), op->r->id) == 0 &&
	          submit(op, HTTP_POST, path, body, NULL, on_action);
	free(body);
	op->stage = OP_ACTION;
	return ok;
}

/* The action was accepted: what the device does next. */
static void accepted(struct metal_op *op)
{
	struct metal_backend *m = op->m;
	struct devrec *r = op->r;
	uint64_t now = loop_clock_ms();

	/* Metal moves an accepted power action straight into its transition
	 * state; showing it now makes "power off; power status" agree at once.
	 * A reboot's first step is not documented, so it is left to the
	 * refresh. Stamped with the answer's arrival: any listing sent before
	 * it is older news. */
	if (strcmp(op->action, "power_on") == 0)
		devrec_assume_state(r, "powering_on", now, loop_now(m->loop));
	else if (strcmp(op->action, "power_off") == 0)
		devrec_assume_state(r, "powering_off", now, loop_now(m->loop));
	if (r->pxe_once && strcmp(op->action, "power_off") != 0) {
		r->boot_armed = true;
		r->boot_saw_transition = false;
		r->boot_armed_ms = loop_now(m->loop);
	}
	r->expect_until_ms = loop_now(m->loop) + ACTION_WATCH_MS;
	if (m->watch)
		m->watch(m->watch_arg, r, FAST_REFRESH_LIMIT_MS);
}

static void on_action(void *arg, const struct api_result *res)
{
	struct metal_op *op = arg;
	char detail[200];

	op->call = NULL;
	if (http_status_ok(res->status)) {
		accepted(op);
		snprintf(detail, sizeof(detail), "%s", op->action);
		finish_op(op, CC_OK, detail);
		return;
	}
	if (res->status == 422) {
		/* Refused in the device's present state: find out which. */
		char path[API_MAX_PATH];
		snprintf(op->dev.id, sizeof(op->dev.id), "%s", ""); /* no answer yet */
		op->stage = OP_VERIFY;
		if (metal_path_device(path, sizeof(path), op->r->id) == 0 &&
		    submit(op, HTTP_GET, path, NULL, decode_dev, on_verify))
			return;
		snprintf(detail, sizeof(detail), "%s refused: %s", op->action, res->why);
		finish_op(op, CC_NOT_SUPPORTED_NOW, detail);
		return;
	}
	snprintf(detail, sizeof(detail), "%s: %s", op->action, res->why);
	finish_op(op, backend_metal_cc(res), detail);
}

/* After a 422: is the device already where it was asked to go? */
static void on_verify(void *arg, const struct api_result *res)
{
	struct metal_op *op = arg;
	struct devrec *r = op->r;
	char detail[200];

	op->call = NULL;
	if (res->status != 200 || res->malformed) {
		snprintf(detail, sizeof(detail), "%s refused (422), and the device could not "
		         "be read back: %s", op->action, res->why);
		finish_op(op, CC_NOT_SUPPORTED_NOW, detail);
		return;
	}
	take_answer(op, res->sent_ms);
	const char *s = r->state;
	bool on_way_on = strcmp(s, "active") == 0 || strcmp(s, "powering_on") == 0;
	bool on_way_off = strcmp(s, "inactive") == 0 || strcmp(s, "powering_off") == 0;
	bool there;
	if (strcmp(op->action, "power_on") == 0)
		there = on_way_on;
	else if (strcmp(op->action, "power_off") == 0)
		there = on_way_off;
	else
		there = metal_state_transition(s); /* a reboot already under way */

	if (there) {
		/* Like a BMC asked to power on a server that is on: done. */
		if (metal_state_transition(s) && op->m->watch)
			op->m->watch(op->m->watch_arg, r, FAST_REFRESH_LIMIT_MS);
		snprintf(detail, sizeof(detail), "already %s", s);
		finish_op(op, CC_OK, detail);
		return;
	}
	if (metal_state_transition(s) && !op->replied) {
		/* On its way to the other state: accept now, act once it
		 * settles (backend_metal_observed sends it). */
		struct persona *p = r->persona;
		op->stage = OP_QUEUED;
		op->replied = true;
		op->queued_until_ms = loop_now(op->m->loop) + QUEUED_LIMIT_MS;
		if (op->m->watch)
			op->m->watch(op->m->watch_arg, r, QUEUED_LIMIT_MS);
		if (p) {
			log_info("persona %s: %s by %s: queued until the device leaves %s",
			         p->user, op->what, op->source, s);
			p->power_transition = true;
		}
		backend_complete(&op->m->b, op->token, CC_OK);
		return;
	}
	if ((op->ctl == CTL_POWER_CYCLE || op->ctl == CTL_HARD_RESET) &&
	    strcmp(s, "inactive") == 0 && !op->fallback_done) {
		/* Our view was stale: the server is off. Turn it on instead. */
		op->fallback_done = true;
		snprintf(op->action, sizeof(op->action), "power_on");
		if (post_action(op))
			return;
	}
	snprintf(detail, sizeof(detail), "%s not possible while the device is %s", op->action,
	         s);
	finish_op(op, CC_NOT_SUPPORTED_NOW, detail);
}

/* ---- boot -------------------------------------------------------------------------- */

static void on_boot(void *arg, const struct api_result *res)
{
	struct metal_op *op = arg;
	struct devrec *r = op->r;
	char detail[200];

	op->call = NULL;
	if (!http_status_ok(res->status)) {
		snprintf(detail, sizeof(detail), "always_pxe=%s: %s", op->pxe ? "true" : "false",
		         res->why);
		finish_op(op, backend_metal_cc(res), detail);
		return;
	}
	/* The PUT happened even when its answer does not read back (a
	 * malformed body): record what was asked for, the poll confirms. */
	uint64_t arrived = loop_clock_ms();
	if (!res->malformed) {
		take_answer(op, arrived);
	} else {
		r->always_pxe = op->pxe;
		if (arrived > r->observed_ms)
			r->observed_ms = arrived;
	}
	r->pxe_once = op->pxe && !op->persistent;
	r->boot_armed = false;
	snprintf(detail, sizeof(detail), "always_pxe=%s%s", op->pxe ? "true" : "false",
	         r->pxe_once ? ", until the next boot metalbmc causes" : "");
	finish_op(op, CC_OK, detail);
}

static bool put_boot(struct metal_op *op)
{
	char path[API_MAX_PATH];
	char *body = metal_body_boot(op->pxe, op->pxe ? op->m->ipxe_url : NULL);
	bool ok = body && metal_path_device(path, sizeof(path), op->r->id) == 0 &&
	          submit(op, HTTP_PUT, path, body, decode_dev, on_boot);
	free(body);
	op->stage = OP_BOOT;
	return ok;
}

/* ---- the backend interface ----------------------------------------------------------- */

/* A request answered at once with value, recorded as the persona's action. */
static enum backend_status answer_now(struct persona *p, const char *what, const char *source,
                                      uint8_t *cc, uint8_t value)
{
	*cc = value;
	persona_record_action(p, what, source, value);
	return BACKEND_DONE;
}

static enum backend_status metal_submit(struct backend *b, struct persona *p,
                                        const struct backend_req *req, uint64_t token,
                                        uint8_t *cc)
{
	struct metal_backend *m = b->ctx;
	struct devrec *r = devtable_of_persona(m->devs, p);
	char what[96];
	bool started;

	if (req->kind == BREQ_POWER)
		snprintf(what, sizeof(what), "%s", chassis_ctl_name(req->action));
	else
		snprintf(what, sizeof(what), "boot %s%s", boot_dev_name(req->boot.dev),
		         req->boot.dev == BOOTDEV_NONE ? ""
		         : req->boot.persistent ? " persistent" : " once");
	if (!r)
		return answer_now(p, what, req->source, cc, CC_NOT_SUPPORTED_NOW);
	if (r->op) {
		/* One request per device at a time; the client may retry. */
		*cc = CC_NODE_BUSY;
		log_info("persona %s: %s by %s: busy with %s", p->user, what, req->source,
		         r->op->what);
		return BACKEND_DONE;
	}

	struct metal_op *op = calloc(1, sizeof(*op));
	if (!op) {
		*cc = CC_OUT_OF_SPACE;
		return BACKEND_DONE;
	}
	op->m = m;
	op->r = r;
	op->token = token;
	op->started_ms = loop_clock_ms();
	snprintf(op->what, sizeof(op->what), "%s", what);
	snprintf(op->source, sizeof(op->source), "%s", req->source);

	if (req->kind == BREQ_POWER) {
		const char *action = backend_metal_action(req->action, r->state);
		if (!action[0]) {
			/* diagnostic interrupt: no Metal action */
			log_info("persona %s: %s by %s: Metal has no such action", p->user, what,
			         req->source);
			op_free(op);
			return answer_now(p, what, req->source, cc, CC_INVALID_DATA_FIELD);
		}
		op->ctl = req->action;
		snprintf(op->action, sizeof(op->action), "%s", action);
		started = post_action(op);
	} else {
		switch (req->boot.dev) {
		case BOOTDEV_PXE:
			op->pxe = true;
			op->persistent = req->boot.persistent;
			break;
		case BOOTDEV_NONE:
		case BOOTDEV_DISK:
		case BOOTDEV_DISK_SAFE:
			op->pxe = false;
			break;
		default:
			/* CD-ROM, BIOS setup, floppy, remote media: Metal servers
			 * boot from disk or the network, nothing else. */
			log_info("persona %s: %s by %s: refused, a Metal server boots only "
			         "from PXE or disk", p->user, what, req->source);
			op_free(op);
			return answer_now(p, what, req->source, cc, CC_INVALID_DATA_FIELD);
		}
		started = put_boot(op);
	}
	if (!started) {
		op_free(op);
		return answer_now(p, what, req->source, cc, CC_OUT_OF_SPACE);
	}
	r->op = op;
	p->power_transition = true;
	return BACKEND_PENDING;
}

static bool metal_boot_get(struct backend *b, const struct persona *p,
                           struct boot_target *out)
{
	struct metal_backend *m = b->ctx;
	const struct devrec *r = devtable_of_persona(m->devs, p);
	uint8_t recorded = (p->boot.flags[1] >> 2) & 0x0f;
	bool valid = p->boot.flags[0] & 0x80;

	if (!r)
		return false;
	memset(out, 0, sizeof(*out));
	out->efi = p->boot.flags[0] & 0x20;
	if (r->always_pxe) {
		out->dev = BOOTDEV_PXE;
		out->persistent = !r->pxe_once;
	} else if (valid && (recorded == BOOTDEV_DISK || recorded == BOOTDEV_DISK_SAFE)) {
		/* always_pxe false is what "disk" asked for: report it as set. */
		out->dev = recorded;
		out->persistent = p->boot.flags[0] & 0x40;
	} else {
		out->dev = BOOTDEV_NONE;
		out->persistent = false;
	}
	return true;
}

static void metal_detach(struct backend *b, struct persona *p)
{
	struct metal_backend *m = b->ctx;
	struct devrec *r = devtable_of_persona(m->devs, p);
	if (r)
		backend_metal_forget(m, r);
}

const struct backend_ops backend_metal_ops = {
	.name = "metal",
	.submit = metal_submit,
	.boot_get = metal_boot_get,
	.detach = metal_detach,
};

/* ---- one-time PXE ---------------------------------------------------------------------- */

static void on_undo(void *arg, const struct api_result *res)
{
	struct devrec *r = arg;
	struct persona *p = r->persona;

	r->undo = NULL;
	if (http_status_ok(res->status)) {
		uint64_t arrived = loop_clock_ms();
		r->pxe_once = false;
		r->boot_armed = false;
		r->always_pxe = false;
		/* Listings sent before this answer may predate the PUT. */
		if (arrived > r->observed_ms)
			r->observed_ms = arrived;
		if (p) {
			/* The boot flags' valid bit clears after the boot it was for,
			 * as on any BMC (section 28.12, parameter 5). */
			p->boot.flags[0] &= (uint8_t)~0xC0;
			p->boot.flags[1] &= (uint8_t)~0x3C;
			persona_log_event(p, "one-time PXE boot done: always_pxe off",
			                  SYSTEM_SOURCE, CC_OK);
			log_info("persona %s: one-time PXE boot done; always_pxe set back to false",
			         p->user);
		}
		return;
	}
	/* Try again later: re-arming the grace period spaces the attempts. */
	r->boot_saw_transition = false;
	r->boot_armed_ms = res->sent_ms;
	if (p) {
		persona_log_event(p, "one-time PXE undo failed", SYSTEM_SOURCE,
		                  backend_metal_cc(res));
		log_warnx("persona %s: could not set always_pxe back to false: %s; trying "
		          "again later", p->user, res->why);
	}
}

/* A queued action: send it once the device has settled. True while it
 * still waits. */
static bool run_queued(struct metal_backend *m, struct devrec *r)
{
	struct metal_op *op = r->op;
	char detail[200];

	if (metal_state_transition(r->state)) {
		if (loop_now(m->loop) < op->queued_until_ms)
			return true;
		snprintf(detail, sizeof(detail), "queued %s dropped: the device stayed %s",
		         op->action, r->state);
		finish_op(op, CC_TIMEOUT, detail);
		return false;
	}
	const char *action = backend_metal_action(op->ctl, r->state);
	snprintf(op->action, sizeof(op->action), "%s", action);
	op->started_ms = loop_clock_ms(); /* a fresh time budget for the call */
	if (!post_action(op))
		finish_op(op, CC_OUT_OF_SPACE, "queued action could not be sent");
	return false;
}

bool backend_metal_observed(struct metal_backend *m, struct devrec *r)
{
	char path[API_MAX_PATH];
	uint64_t now = loop_now(m->loop);
	bool queued = false;

	if (r->op && r->op->stage == OP_QUEUED && !r->op->call)
		queued = run_queued(m, r);
	if (!r->boot_armed)
		return queued;
	if (metal_state_transition(r->state))
		r->boot_saw_transition = true;
	if (r->undo || strcmp(r->state, "active") != 0)
		return true;
	if (!r->boot_saw_transition && now < r->boot_armed_ms + PXE_ONCE_GRACE_MS)
		return true;
	char *body = metal_body_boot(false, NULL);
	struct api_call_spec spec = {
		.method = HTTP_PUT,
		.path = path,
		.body = body,
		.lane = API_LANE_ACTION,
		.budget_ms = API_POLL_BUDGET_MS,
		.done = on_undo,
		.arg = r,
	};
	if (body && metal_path_device(path, sizeof(path), r->id) == 0)
		r->undo = api_submit(m->api, &spec);
	free(body);
	return true;
}

void backend_metal_forget(struct metal_backend *m, struct devrec *r)
{
	if (r->op) {
		/* Nobody gets a reply: the persona's sessions are closing. */
		api_cancel(m->api, r->op->call);
		op_free(r->op);
		r->op = NULL;
	}
	api_cancel(m->api, r->undo);
	r->undo = NULL;
	r->boot_armed = false;
	r->pxe_once = false;
}

void backend_metal_init(struct metal_backend *m, struct loop *l, struct api_queue *q,
                        struct devtable *devs, const char *ipxe_url)
{
	memset(m, 0, sizeof(*m));
	m->b.ops = &backend_metal_ops;
	m->b.ctx = m;
	m->loop = l;
	m->api = q;
	m->devs = devs;
	m->ipxe_url = ipxe_url ? ipxe_url : "";
}
