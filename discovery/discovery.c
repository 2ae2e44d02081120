/*
 * discovery.c - puts the Metal side together (http client, API queue,
 * device records, assignments, poller, reconcile, Metal backend) and
 * connects it to the appliance through reconcile's hooks; see discovery.h.
 */
#include "discovery.h"
#include "appliance.h"
#include "assign.h"
#include "backend_metal.h"
#include "devices.h"
#include "http.h"
#include "log.h"
#include "poller.h"
#include "reconcile.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct discovery {
	struct appliance *a;
	struct http_client *http;
	struct api_queue *api;
	struct devtable devs;
	struct assign assign;
	bool assign_open;
	struct reconcile_ctx rx;
	struct poller *poller;
	struct metal_backend metal;
	char (*config_ids)[MAX_DEVICE_ID];
};

/* ---- hooks: reconcile -> appliance ----------------------------------------- */

static int hook_set_password(void *arg, struct persona *p)
{
	struct discovery *d = arg;
	return appliance_set_password(d->a, p);
}

static int hook_open_listener(void *arg, struct persona *p)
{
	struct discovery *d = arg;
	return appliance_open_persona_listener(d->a, p);
}

static void hook_close_listener(void *arg, struct persona *p)
{
	struct discovery *d = arg;
	/* Its consoles talk to an address that is going away. */
	engine_close_persona_sessions(&d->a->engine, p);
	if (p->listener) {
		udp_close(&d->a->udp, p->listener);
		p->listener = NULL;
	}
}

static void hook_retire(void *arg, struct persona *p)
{
	struct discovery *d = arg;
	appliance_retire_persona(d->a, p);
}

static void hook_forget(void *arg, struct devrec *r)
{
	struct discovery *d = arg;
	backend_metal_forget(&d->metal, r);
	poller_unwatch(d->poller, r);
}

static void hook_observed(void *arg, struct devrec *r)
{
	struct discovery *d = arg;
	bool boot_pending = backend_metal_observed(&d->metal, r);
	uint64_t now = loop_now(d->a->loop);

	/* A transition is watched when it starts (or an action of ours
	 * expects one), not again at every poll: a device stuck in one would
	 * otherwise be refreshed every second for good. */
	bool entering = metal_state_transition(r->state) &&
	                (r->state_changed || now < r->expect_until_ms);
	if (boot_pending || entering)
		poller_watch(d->poller, r, FAST_REFRESH_LIMIT_MS);
	else if (r->watched && !metal_state_transition(r->state) && now >= r->expect_until_ms)
		poller_unwatch(d->poller, r);
}

static void backend_watch(void *arg, struct devrec *r, uint64_t for_ms)
{
	struct discovery *d = arg;
	poller_watch(d->poller, r, for_ms);
}

/* ---- life ------------------------------------------------------------------------ */

static uint16_t listen_port(const struct listen_addr *la)
{
	if (la->ss.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&la->ss)->sin_port);
	if (la->ss.ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)&la->ss)->sin6_port);
	return 0;
}

int discovery_start(struct appliance *a)
{
	const struct config *c = &a->cfg;
	struct discovery *d;
	char why[200];
	uint16_t reserved[ASSIGN_MAX_RESERVED];
	size_t nreserved = 0;

	a->discovery = NULL;
	if (c->project_count == 0)
		return 0;
	d = calloc(1, sizeof(*d));
	if (!d || devtable_init(&d->devs) < 0) {
		free(d);
		log_warnx("discovery: out of memory");
		return -1;
	}
	d->a = a;
	a->discovery = d;

	d->http = http_client_new(a->loop, c->api_url, &c->token, c->ca_file, why, sizeof(why));
	if (!d->http) {
		log_warnx("discovery: metal.api_url %s: %s", c->api_url, why);
		return -1;
	}
	d->api = api_queue_new(a->loop, d->http);
	if (!d->api) {
		log_warnx("discovery: out of memory");
		return -1;
	}
	for (size_t i = 0; i < c->ipmi_listen_count && nreserved < ASSIGN_MAX_RESERVED; i++)
		reserved[nreserved++] = listen_port(&c->ipmi_listen[i]);
	if (assign_open(&d->assign, c->state_dir, c->port_range_lo, c->port_range_hi,
	                reserved, nreserved, why, sizeof(why)) < 0) {
		log_warnx("discovery: state: %s", why);
		return -1;
	}
	d->assign_open = true;

	backend_metal_init(&d->metal, a->loop, d->api, &d->devs, c->ipxe_url);
	d->metal.watch = backend_watch;
	d->metal.watch_arg = d;
	engine_attach_backend(&a->engine, &d->metal.b);

	if (c->persona_count) {
		d->config_ids = calloc(c->persona_count, sizeof(*d->config_ids));
		if (!d->config_ids) {
			log_warnx("discovery: out of memory");
			return -1;
		}
		for (size_t i = 0; i < c->persona_count; i++)
			snprintf(d->config_ids[i], MAX_DEVICE_ID, "%s", c->personas[i].device_id);
	}
	d->rx = (struct reconcile_ctx){
		.personas = a->personas,
		.devs = &d->devs,
		.assign = &d->assign,
		.backend = &d->metal.b,
		.config_ids = (const char (*)[MAX_DEVICE_ID])d->config_ids,
		.config_id_count = c->persona_count,
		.hooks = {
			.arg = d,
			.set_password = hook_set_password,
			.open_listener = hook_open_listener,
			.close_listener = hook_close_listener,
			.retire = hook_retire,
			.forget = hook_forget,
			.observed = hook_observed,
		},
	};
	struct poller_config pc = {
		.projects = (const char (*)[MAX_DEVICE_ID])c->project_ids,
		.project_count = c->project_count,
		.interval_s = c->poll_interval_s,
		.per_page = c->per_page,
	};
	d->poller = poller_new(a->loop, d->api, &d->rx, &pc);
	if (!d->poller) {
		log_warnx("discovery: out of memory");
		return -1;
	}
	log_info("discovery: polling %zu project(s) at %s every %u s, %u devices per page%s",
	         c->project_count, c->api_url, c->poll_interval_s, c->per_page,
	         c->ipxe_url[0] ? "" : "; no metal.ipxe_url: PXE requests keep each "
	                                "device's own ipxe_script_url");
	return 0;
}

void discovery_free(struct appliance *a)
{
	struct discovery *d = a->discovery;

	if (!d)
		return;
	/* Requests in flight are dropped: their sessions are closing too. */
	for (struct devrec *r = d->devs.all; r; r = r->next)
		backend_metal_forget(&d->metal, r);
	poller_free(d->poller);
	api_queue_free(d->api);
	http_client_free(d->http);
	if (d->assign_open) {
		assign_save(&d->assign);
		assign_close(&d->assign);
	}
	/* The personas stay in their table (freed with it) but lose the
	 * backend that is going away. */
	for (struct devrec *r = d->devs.all; r; r = r->next)
		if (r->persona)
			r->persona->backend = NULL;
	devtable_free(&d->devs);
	free(d->config_ids);
	free(d);
	a->discovery = NULL;
}

void discovery_poll_now(struct discovery *d)
{
	if (d)
		poller_poll_now(d->poller);
}

void discovery_get_status(const struct discovery *d, struct discovery_status *out)
{
	memset(out, 0, sizeof(*out));
	if (!d)
		return;
	out->enabled = true;
	poller_status(d->poller, out);
	out->personas = 0;
	for (const struct devrec *r = d->devs.all; r; r = r->next)
		out->personas += r->persona != NULL;
	api_queue_stats(d->api, &out->api);
	out->api_healthy = http_status_ok(out->api.last_status);
	uint64_t now = loop_clock_ms();
	out->rate_limited_for_ms = out->api.held_until_ms > now ? out->api.held_until_ms - now : 0;
}

bool discovery_device_info(const struct discovery *d, const struct persona *p,
                           struct discovery_device_info *out)
{
	memset(out, 0, sizeof(*out));
	if (!d || !p)
		return false;
	const struct devrec *r = devtable_of_persona(&d->devs, p);
	if (!r)
		return false;
	out->always_pxe = r->always_pxe;
	out->pxe_once = r->pxe_once;
	out->action_pending = r->op != NULL;
	out->fast_refresh = r->watched;
	snprintf(out->os_slug, sizeof(out->os_slug), "%s", r->os_slug);
	snprintf(out->sos, sizeof(out->sos), "%s", r->sos);
	snprintf(out->ipxe_script_url, sizeof(out->ipxe_script_url), "%s",
	         r->ipxe_script_url ? r->ipxe_script_url : "");
	snprintf(out->own_port_source, sizeof(out->own_port_source), "%s", r->own_source);
	return true;
}
