/*
 * admin.c - the admin actions behind the page's forms: poll now, disable
 * and enable a persona, reveal one device's derived password.
 *
 * web.c has already checked credentials, the form token and the Origin
 * before any of these runs. Each action is an audit event on the persona
 * and a log line naming who did it, from where; no line carries a secret.
 */
#include "discovery.h"
#include "web_priv.h"
#include "view.h"
#include "log.h"
#include "secret.h"
#include "switches.h"

#include <stdio.h>
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

/* Decodes one form component (+ is a space, %XX a byte) into out.
 * -1 on a bad escape, an embedded NUL, or a value that does not fit. */
static int form_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			int hi, lo;
			if (n - i < 3 || (hi = hexval(s[i + 1])) < 0 || (lo = hexval(s[i + 2])) < 0)
				return -1;
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (c == 0 || o + 1 >= cap)
			return -1;
		out[o++] = c;
	}
	out[o] = 0;
	return 0;
}

int admin_form_value(const char *body, size_t len, const char *key, char *out,
                     size_t cap)
{
	size_t i = 0, kl = strlen(key);
	int found = 0;

	while (i < len) {
		const char *amp = memchr(body + i, '&', len - i);
		size_t end = amp ? (size_t)(amp - body) : len;
		const char *eq = memchr(body + i, '=', end - i);
		size_t name_end = eq ? (size_t)(eq - body) : end;
		char name[64];
		if (form_decode(body + i, name_end - i, name, sizeof(name)) < 0)
			return -1;
		if (eq && strlen(name) == kl && memcmp(name, key, kl) == 0) {
			if (found) /* the same field twice: ambiguous, refuse */
				return -1;
			if (form_decode(eq + 1, end - name_end - 1, out, cap) < 0)
				return -1;
			found = 1;
		} else if (eq) {
			char scratch[WEB_MAX_BODY + 1];
			if (form_decode(eq + 1, end - name_end - 1, scratch, sizeof(scratch)) < 0)
				return -1;
		}
		i = end + 1;
	}
	return found;
}

static struct persona *target(struct web_req *r, struct web_reply *out)
{
	struct persona *p = web_find_persona(r->w, r->arg);
	if (!p)
		web_reply_text(out, 404, "no such persona\n");
	return p;
}

static void back_to(struct web_reply *out, const struct persona *p)
{
	char loc[256];

	if (!view_persona_path(p, loc, sizeof(loc)))
		snprintf(loc, sizeof(loc), "/");
	web_reply_redirect(out, loc);
}

static void set_enabled(struct web_req *r, struct web_reply *out, bool on)
{
	struct persona *p = target(r, out);
	char who[128], why[200];

	if (!p)
		return;
	web_describe(r, who, sizeof(who));
	if (p->enabled != on) {
		p->enabled = on;
		if (!on) /* a disabled BMC keeps no console connected */
			engine_close_persona_sessions(r->w->d.engine, p);
		persona_log_event(p, on ? "enabled by admin" : "disabled by admin", who, 0);
		log_info("web: persona %s %s by %s", p->user, on ? "enabled" : "disabled", who);
	}
	/* Also when p already was: the file may be behind after a failed write. */
	if (r->w->d.switches &&
	    switches_set(r->w->d.switches, p->device_id, !on, why, sizeof(why)) < 0) {
		/* The switch holds now all the same: an admin turning a persona
		 * off wants it off at once. Only a restart would undo it. */
		log_warnx("web: persona %s: the switch is not saved: %s", p->user, why);
		persona_log_event(p, "admin switch not saved", who, 0);
		web_reply_text(out, 500, on ? "enabled, but not saved: a restart disables it "
		                              "again; see the log\n"
		                            : "disabled, but not saved: a restart enables it "
		                              "again; see the log\n");
		return;
	}
	back_to(out, p);
}

void admin_disable(struct web_req *r, struct web_reply *out)
{
	set_enabled(r, out, false);
}

void admin_enable(struct web_req *r, struct web_reply *out)
{
	set_enabled(r, out, true);
}

void admin_reveal(struct web_req *r, struct web_reply *out)
{
	const struct config *c = r->w->d.cfg;
	struct persona *p = target(r, out);
	char pw[MAX_PASSWORD + 1], who[128];

	if (!p)
		return;
	if (secret_present(&c->ipmi_password)) {
		/* Every persona takes the configured shared password, which the
		 * operator already has; the page never shows it. */
		web_reply_text(out, 409, "this appliance uses one shared IPMI password "
		                         "(ipmi.password); it is not shown here\n");
		return;
	}
	if (!r->w->d.master || secret_device_password(r->w->d.master, p->device_id, pw) < 0) {
		web_reply_text(out, 500, "cannot derive the password\n");
		return;
	}
	web_describe(r, who, sizeof(who));
	persona_log_event(p, "password revealed", who, 0);
	log_info("web: IPMI password of persona %s revealed to %s", p->user, who);
	page_reveal(r, out, p, pw);
	secret_wipe(pw, sizeof(pw));
}

void admin_poll(struct web_req *r, struct web_reply *out)
{
	char who[128];

	web_describe(r, who, sizeof(who));
	if (!r->w->d.discovery) {
		web_reply_text(out, 409, "no Metal project is configured: nothing to poll\n");
		return;
	}
	log_info("web: poll requested by %s", who);
	discovery_poll_now(r->w->d.discovery);
	web_reply_redirect(out, "/");
}
