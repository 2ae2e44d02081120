/*
 * test_reconcile.c - complete listings into persona changes
 * (discovery/reconcile.c) against a bare persona table: new devices get
 * personas, renames and tag changes update them (and their routing), a
 * missing device is retired only when a second listing confirms it,
 * ipmi=disabled retires at once, config personas are left alone, projects
 * do not touch each other, and older answers never overwrite newer state.
 * Also the listing checks that keep a partial or shifting listing (the
 * poller's) from ever reaching reconcile, and the Metal backend's pure
 * decisions (action per chassis control, completion code per answer).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "backend_metal.h"
#include "ipmi.h"
#include "log.h"
#include "poller.h"
#include "reconcile.h"

struct world {
	struct persona_table *personas;
	struct devtable devs;
	struct assign assign;
	struct backend backend;
	struct reconcile_ctx rx;
	char dir[64];
	unsigned passwords, opened, closed, retired, forgotten, observed;
	bool fail_listener;
	FILE *log;
};

static int hook_set_password(void *arg, struct persona *p)
{
	struct world *w = arg;
	w->passwords++;
	return secret_set(&p->password, "pw", 2);
}

static int hook_open(void *arg, struct persona *p)
{
	struct world *w = arg;
	if (w->fail_listener)
		return -1;
	w->opened++;
	p->listener = (void *)p; /* any non-NULL token */
	return 0;
}

static void hook_close(void *arg, struct persona *p)
{
	struct world *w = arg;
	w->closed++;
	p->listener = NULL;
}

static void hook_retire(void *arg, struct persona *p)
{
	struct world *w = arg;
	w->retired++;
	persona_remove(w->personas, p);
}

static void hook_forget(void *arg, struct devrec *r)
{
	struct world *w = arg;
	(void)r;
	w->forgotten++;
}

static void hook_observed(void *arg, struct devrec *r)
{
	struct world *w = arg;
	(void)r;
	w->observed++;
}

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	char why[200];
	snprintf(w->dir, sizeof(w->dir), "/tmp/metalbmc-reconcile-XXXXXX");
	assert_non_null(mkdtemp(w->dir));
	w->personas = persona_table_new();
	assert_int_equal(devtable_init(&w->devs), 0);
	assert_int_equal(assign_open(&w->assign, w->dir, 30000, 30099, NULL, 0, why, sizeof(why)), 0);
	w->log = tmpfile();
	log_set_stream(w->log);
	log_set_level(LOG_LVL_INFO);
	w->rx = (struct reconcile_ctx){
		.personas = w->personas,
		.devs = &w->devs,
		.assign = &w->assign,
		.backend = &w->backend,
		.hooks = {
			.arg = w,
			.set_password = hook_set_password,
			.open_listener = hook_open,
			.close_listener = hook_close,
			.retire = hook_retire,
			.forget = hook_forget,
			.observed = hook_observed,
		},
		.now_ms = 1000,
	};
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;
	char p[128];
	log_set_stream(NULL);
	fclose(w->log);
	devtable_free(&w->devs);
	persona_table_free(w->personas);
	assign_close(&w->assign);
	snprintf(p, sizeof(p), "%s/%s", w->dir, ASSIGN_FILE);
	unlink(p);
	rmdir(w->dir);
	free(w);
	return 0;
}

/* A device as the decoder would give it; tags NULL-terminated. */
static void mkdev(struct metal_device *d, const char *id, const char *short_id,
                  const char *hostname, const char *state, const char *const *tags,
                  uint64_t observed)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->id, sizeof(d->id), "%s", id);
	snprintf(d->short_id, sizeof(d->short_id), "%s", short_id);
	snprintf(d->hostname, sizeof(d->hostname), "%s", hostname);
	snprintf(d->state, sizeof(d->state), "%s", state);
	snprintf(d->facility, sizeof(d->facility), "da11");
	snprintf(d->metro, sizeof(d->metro), "da");
	snprintf(d->plan, sizeof(d->plan), "c3.small.x86");
	d->observed_ms = observed;
	size_t len = 0, n = 0;
	for (; tags && tags[n]; n++)
		len += strlen(tags[n]) + 1;
	if (n) {
		d->tags = malloc(len);
		char *w = d->tags;
		for (size_t i = 0; i < n; i++) {
			strcpy(w, tags[i]);
			w += strlen(tags[i]) + 1;
		}
		d->tag_count = (uint16_t)n;
	}
}

static const char *const ENABLED[] = { "ipmi=enabled", "role=web", NULL };

static struct reconcile_stats run(struct world *w, const char *project, struct metal_device *d,
                                  size_t n, bool *confirm)
{
	struct reconcile_stats st;
	bool c;
	reconcile_project(&w->rx, project, d, n, &st, confirm ? confirm : &c);
	for (size_t i = 0; i < n; i++)
		metal_device_clear(&d[i]);
	return st;
}

static struct persona *by(struct world *w, const char *name)
{
	return persona_by_user(w->personas, (const uint8_t *)name, strlen(name));
}

#define PA "11111111-1111-4111-8111-111111111111"
#define PB "22222222-2222-4222-8222-222222222222"

static void add_then_unchanged(void **state)
{
	struct world *w = *state;
	struct metal_device d[3];
	mkdev(&d[0], "aaaaaaaa-0000-4000-8000-000000000001", "aaaaaaaa", "web-01", "active", ENABLED, 10);
	mkdev(&d[1], "bbbbbbbb-0000-4000-8000-000000000002", "bbbbbbbb", "db-01", "inactive", ENABLED, 10);
	mkdev(&d[2], "cccccccc-0000-4000-8000-000000000003", "cccccccc", "a-hostname-longer-than-16",
	      "powering_on", ENABLED, 10);
	struct reconcile_stats st = run(w, PA, d, 3, NULL);
	assert_int_equal(st.added, 3);
	assert_int_equal(persona_count(w->personas), 3);
	assert_int_equal(w->passwords, 3);
	assert_int_equal(w->observed, 3);

	struct persona *p = by(w, "aaaaaaaa");
	assert_non_null(p);
	assert_ptr_equal(by(w, "web-01"), p);     /* unique hostname routes too */
	assert_ptr_equal(p->backend, &w->backend);
	assert_string_equal(p->project_id, PA);
	assert_string_equal(p->facility, "da11");
	assert_string_equal(p->metal_state, "active");
	assert_int_equal(p->power, POWER_ON);
	assert_false(p->from_config);
	p = by(w, "bbbbbbbb");
	assert_int_equal(p->power, POWER_OFF);
	p = by(w, "cccccccc");
	assert_int_equal(p->power, POWER_ON);
	assert_true(p->power_transition);
	assert_null(by(w, "a-hostname-longer-than-16"));
	struct devrec *r = devtable_find(&w->devs, "bbbbbbbb-0000-4000-8000-000000000002");
	assert_non_null(r);
	assert_ptr_equal(devtable_of_persona(&w->devs, by(w, "bbbbbbbb")), r);

	/* Same listing again: nothing changes, nobody is re-added. */
	mkdev(&d[0], "aaaaaaaa-0000-4000-8000-000000000001", "aaaaaaaa", "web-01", "active", ENABLED, 20);
	mkdev(&d[1], "bbbbbbbb-0000-4000-8000-000000000002", "bbbbbbbb", "db-01", "inactive", ENABLED, 20);
	mkdev(&d[2], "cccccccc-0000-4000-8000-000000000003", "cccccccc", "a-hostname-longer-than-16",
	      "active", ENABLED, 20);
	st = run(w, PA, d, 3, NULL);
	assert_int_equal(st.added, 0);
	assert_int_equal(st.unchanged, 3);
	assert_int_equal(w->passwords, 3);
	assert_false(by(w, "cccccccc")->power_transition);
}

static void rename_and_retag(void **state)
{
	struct world *w = *state;
	struct metal_device d[1];
	const char *id = "dddddddd-0000-4000-8000-000000000004";
	mkdev(&d[0], id, "dddddddd", "old-name", "active", ENABLED, 10);
	run(w, PA, d, 1, NULL);
	struct persona *p = by(w, "old-name");
	assert_non_null(p);

	mkdev(&d[0], id, "dddddddd", "new-name", "active", ENABLED, 20);
	struct reconcile_stats st = run(w, PA, d, 1, NULL);
	assert_int_equal(st.updated, 1);
	assert_null(by(w, "old-name"));
	assert_ptr_equal(by(w, "new-name"), p);
	assert_string_equal(p->hostname, "new-name");

	/* ipmi.user replaces the short_id as the routing name. */
	const char *user[] = { "ipmi=enabled", "ipmi.user=rack7-node3", NULL };
	mkdev(&d[0], id, "dddddddd", "new-name", "active", user, 30);
	run(w, PA, d, 1, NULL);
	assert_ptr_equal(by(w, "rack7-node3"), p);
	assert_null(by(w, "dddddddd"));
	assert_ptr_equal(by(w, "new-name"), p);

	/* An own port: assigned, listener opened, kept on the next poll. */
	const char *port[] = { "ipmi=enabled", "ipmi.port=auto", NULL };
	mkdev(&d[0], id, "dddddddd", "new-name", "active", port, 40);
	run(w, PA, d, 1, NULL);
	assert_int_equal(p->own_port, 30000);
	assert_int_equal(w->opened, 1);
	assert_ptr_equal(by(w, "dddddddd"), p);
	mkdev(&d[0], id, "dddddddd", "new-name", "active", port, 50);
	run(w, PA, d, 1, NULL);
	assert_int_equal(p->own_port, 30000);
	assert_int_equal(w->opened, 1);
	assert_int_equal(w->closed, 0);

	/* Fixed port instead: old listener closed, new one opened. */
	const char *fixed[] = { "ipmi=enabled", "ipmi.port=6231", NULL };
	mkdev(&d[0], id, "dddddddd", "new-name", "active", fixed, 60);
	run(w, PA, d, 1, NULL);
	assert_int_equal(p->own_port, 6231);
	assert_int_equal(w->closed, 1);
	assert_int_equal(w->opened, 2);
	assert_non_null(assign_get(&w->assign, id));

	/* Tag gone: back to the shared listener only. */
	mkdev(&d[0], id, "dddddddd", "new-name", "active", ENABLED, 70);
	run(w, PA, d, 1, NULL);
	assert_int_equal(p->own_port, 0);
	assert_null(p->listener);
	assert_int_equal(w->closed, 2);
	assert_null(assign_get(&w->assign, id));
}

static void missing_needs_confirmation(void **state)
{
	struct world *w = *state;
	struct metal_device d[2];
	bool confirm;
	const char *a = "aaaaaaaa-0000-4000-8000-0000000000aa", *b = "bbbbbbbb-0000-4000-8000-0000000000bb";
	const char *port[] = { "ipmi=enabled", "ipmi.port=auto", NULL };
	mkdev(&d[0], a, "aaaa0001", "", "active", ENABLED, 10);
	mkdev(&d[1], b, "bbbb0002", "", "active", port, 10);
	run(w, PA, d, 2, &confirm);
	assert_false(confirm);
	assert_int_equal(persona_count(w->personas), 2);
	assert_non_null(assign_get(&w->assign, b));

	/* b missing once: kept, and a confirming listing is asked for. */
	mkdev(&d[0], a, "aaaa0001", "", "active", ENABLED, 20);
	struct reconcile_stats st = run(w, PA, d, 1, &confirm);
	assert_true(confirm);
	assert_int_equal(st.absent_once, 1);
	assert_int_equal(st.retired, 0);
	assert_non_null(by(w, "bbbb0002"));
	assert_int_equal(w->retired, 0);

	/* Back again: the count starts over. */
	mkdev(&d[0], a, "aaaa0001", "", "active", ENABLED, 30);
	mkdev(&d[1], b, "bbbb0002", "", "active", port, 30);
	run(w, PA, d, 2, &confirm);
	assert_false(confirm);
	mkdev(&d[0], a, "aaaa0001", "", "active", ENABLED, 40);
	run(w, PA, d, 1, &confirm);
	assert_true(confirm);
	assert_non_null(by(w, "bbbb0002"));

	/* Missing twice in a row: retired, its port released. */
	mkdev(&d[0], a, "aaaa0001", "", "active", ENABLED, 50);
	st = run(w, PA, d, 1, &confirm);
	assert_false(confirm);
	assert_int_equal(st.retired, 1);
	assert_int_equal(w->retired, 1);
	assert_int_equal(w->forgotten, 1);
	assert_null(by(w, "bbbb0002"));
	assert_null(devtable_find(&w->devs, b));
	assert_null(assign_get(&w->assign, b));
	assert_int_equal(persona_count(w->personas), 1);

	/* An empty (complete) listing retires the rest, after confirmation. */
	run(w, PA, d, 0, &confirm);
	assert_true(confirm);
	run(w, PA, d, 0, &confirm);
	assert_int_equal(persona_count(w->personas), 0);
}

static void disabled_retires_now(void **state)
{
	struct world *w = *state;
	struct metal_device d[1];
	const char *id = "eeeeeeee-0000-4000-8000-00000000000e";
	mkdev(&d[0], id, "eeeeeeee", "", "active", ENABLED, 10);
	run(w, PA, d, 1, NULL);
	assert_non_null(by(w, "eeeeeeee"));
	const char *off[] = { "ipmi=enabled", "ipmi=disabled", NULL };
	mkdev(&d[0], id, "eeeeeeee", "", "active", off, 20);
	struct reconcile_stats st = run(w, PA, d, 1, NULL);
	assert_int_equal(st.retired, 1);
	assert_null(by(w, "eeeeeeee"));
	/* And listed disabled while unknown: never added. */
	mkdev(&d[0], id, "eeeeeeee", "", "active", off, 30);
	st = run(w, PA, d, 1, NULL);
	assert_int_equal(st.added, 0);
	assert_int_equal(persona_count(w->personas), 0);
}

static void projects_and_config_apart(void **state)
{
	struct world *w = *state;
	struct metal_device d[2];
	bool confirm;
	static const char cfg_ids[1][MAX_DEVICE_ID] = { "ffffffff-0000-4000-8000-00000000000f" };
	w->rx.config_ids = cfg_ids;
	w->rx.config_id_count = 1;

	mkdev(&d[0], "a1a1a1a1-0000-4000-8000-000000000001", "a1a1a1a1", "", "active", ENABLED, 10);
	mkdev(&d[1], cfg_ids[0], "ffffffff", "", "active", ENABLED, 10);
	struct reconcile_stats st = run(w, PA, d, 2, NULL);
	assert_int_equal(st.added, 1);
	assert_null(by(w, "ffffffff"));
	mkdev(&d[0], "b2b2b2b2-0000-4000-8000-000000000002", "b2b2b2b2", "", "active", ENABLED, 10);
	run(w, PB, d, 1, NULL);
	assert_int_equal(persona_count(w->personas), 2);
	assert_string_equal(by(w, "b2b2b2b2")->project_id, PB);

	/* Project B's empty listing leaves project A's persona alone. */
	run(w, PB, d, 0, &confirm);
	run(w, PB, d, 0, &confirm);
	assert_null(by(w, "b2b2b2b2"));
	assert_non_null(by(w, "a1a1a1a1"));
}

static void older_answers_lose(void **state)
{
	struct world *w = *state;
	struct metal_device d[1];
	const char *id = "abcdabcd-0000-4000-8000-000000000001";
	mkdev(&d[0], id, "abcdabcd", "", "active", ENABLED, 100);
	run(w, PA, d, 1, NULL);
	struct devrec *r = devtable_find(&w->devs, id);
	struct persona *p = r->persona;
	/* An accepted power off, stamped when its answer came (t=200). */
	devrec_assume_state(r, "powering_off", 200, 200);
	assert_int_equal(p->power, POWER_OFF);
	/* A listing that left before it still says active: ignored. */
	mkdev(&d[0], id, "abcdabcd", "", "active", ENABLED, 150);
	run(w, PA, d, 1, NULL);
	assert_string_equal(p->metal_state, "powering_off");
	assert_int_equal(p->power, POWER_OFF);
	/* A newer one is believed. */
	mkdev(&d[0], id, "abcdabcd", "", "inactive", ENABLED, 300);
	run(w, PA, d, 1, NULL);
	assert_string_equal(p->metal_state, "inactive");
	assert_int_equal(p->power, POWER_OFF);
}

static size_t count_lines(FILE *f, const char *needle)
{
	char line[1024];
	size_t n = 0;
	fflush(f);
	rewind(f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, needle))
			n++;
	return n;
}

static void bad_tags_logged_once(void **state)
{
	struct world *w = *state;
	struct metal_device d[1];
	const char *id = "99999999-0000-4000-8000-000000000009";
	const char *bad[] = { "ipmi=enabled", "ipmi.port=lots", NULL };
	for (int i = 0; i < 3; i++) {
		mkdev(&d[0], id, "99999999", "", "active", bad, 10 + (uint64_t)i);
		run(w, PA, d, 1, NULL);
	}
	assert_int_equal(count_lines(w->log, "ipmi.port=lots"), 1);
	assert_int_equal(by(w, "99999999")->own_port, 0);
	/* A different bad set is news again. */
	const char *bad2[] = { "ipmi=enabled", "ipmi.port=lots", "ipmi.colour=red", NULL };
	mkdev(&d[0], id, "99999999", "", "active", bad2, 20);
	run(w, PA, d, 1, NULL);
	assert_int_equal(count_lines(w->log, "ipmi.colour=red"), 1);
	assert_int_equal(count_lines(w->log, "ipmi.port=lots"), 2);
}

static void listener_failure_keeps_persona(void **state)
{
	struct world *w = *state;
	struct metal_device d[1];
	const char *id = "12341234-0000-4000-8000-000000000001";
	const char *addr[] = { "ipmi=enabled", "ipmi.address=192.0.2.77", NULL };
	w->fail_listener = true;
	mkdev(&d[0], id, "12341234", "", "active", addr, 10);
	run(w, PA, d, 1, NULL);
	struct persona *p = by(w, "12341234");
	assert_non_null(p);                 /* still on the shared listener */
	assert_null(p->listener);
	assert_string_equal(p->own_address, "192.0.2.77");
	/* Once the address is up, the next poll opens it. */
	w->fail_listener = false;
	mkdev(&d[0], id, "12341234", "", "active", addr, 20);
	run(w, PA, d, 1, NULL);
	assert_non_null(p->listener);
}

/* ---- listings that must never reach reconcile -------------------------------- */

static void mkpage(struct metal_page *p, unsigned last, unsigned total, const char *const *ids)
{
	memset(p, 0, sizeof(*p));
	p->last_page = last;
	p->total = total;
	size_t n = 0;
	while (ids[n])
		n++;
	p->devices = calloc(n ? n : 1, sizeof(*p->devices));
	for (size_t i = 0; i < n; i++)
		snprintf(p->devices[i].id, MAX_DEVICE_ID, "%s", ids[i]);
	p->count = n;
}

static void listing_checks(void **state)
{
	(void)state;
	struct metal_page pg[3];
	char why[200];
	const char *p1[] = { "a", "b", NULL }, *p2[] = { "c", "d", NULL }, *p3[] = { "e", NULL };
	mkpage(&pg[0], 3, 5, p1);
	mkpage(&pg[1], 3, 5, p2);
	mkpage(&pg[2], 3, 5, p3);
	assert_int_equal(poller_check_listing(pg, 3, why, sizeof(why)), 0);
	/* A page short: the count disagrees with the pages. */
	assert_int_equal(poller_check_listing(pg, 2, why, sizeof(why)), -1);
	/* The total moved under the poll. */
	pg[2].total = 6;
	assert_int_equal(poller_check_listing(pg, 3, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "changed while it was read"));
	pg[2].total = 5;
	/* A device shifted into the next page shows twice. */
	snprintf(pg[2].devices[0].id, MAX_DEVICE_ID, "b");
	assert_int_equal(poller_check_listing(pg, 3, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "listed twice"));
	/* Fewer devices than meta.total. */
	pg[2].count = 0;
	assert_int_equal(poller_check_listing(pg, 3, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "meta.total"));
	for (int i = 0; i < 3; i++)
		metal_page_clear(&pg[i]);
	/* One empty page is a complete, empty listing. */
	const char *none[] = { NULL };
	mkpage(&pg[0], 1, 0, none);
	assert_int_equal(poller_check_listing(pg, 1, why, sizeof(why)), 0);
	metal_page_clear(&pg[0]);
}

static void backend_decisions(void **state)
{
	(void)state;
	assert_string_equal(backend_metal_action(CTL_POWER_ON, "inactive"), "power_on");
	assert_string_equal(backend_metal_action(CTL_POWER_OFF, "active"), "power_off");
	assert_string_equal(backend_metal_action(CTL_SOFT_OFF, "active"), "power_off");
	assert_string_equal(backend_metal_action(CTL_POWER_CYCLE, "active"), "reboot");
	assert_string_equal(backend_metal_action(CTL_HARD_RESET, "active"), "reboot");
	assert_string_equal(backend_metal_action(CTL_POWER_CYCLE, "inactive"), "power_on");
	assert_string_equal(backend_metal_action(CTL_HARD_RESET, "powering_off"), "power_on");
	assert_string_equal(backend_metal_action(CTL_DIAG_INTERRUPT, "active"), "");
	assert_string_equal(backend_metal_action(0x0f, "active"), "");

	struct api_result r;
	memset(&r, 0, sizeof(r));
	static const struct { int status; bool rl; uint8_t cc; } t[] = {
		{ 202, false, CC_OK }, { 200, false, CC_OK }, { 422, false, CC_NOT_SUPPORTED_NOW },
		{ 401, false, CC_INSUFFICIENT_PRIV }, { 403, false, CC_INSUFFICIENT_PRIV },
		{ 404, false, CC_DESTINATION_UNAVAIL }, { 429, true, CC_NODE_BUSY },
		{ 0, false, CC_TIMEOUT }, { 500, false, CC_UNSPECIFIED }, { 503, false, CC_UNSPECIFIED },
		{ 400, false, CC_UNSPECIFIED },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		r.status = t[i].status;
		r.rate_limited = t[i].rl;
		assert_int_equal(backend_metal_cc(&r), t[i].cc);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(add_then_unchanged, setup, teardown),
		cmocka_unit_test_setup_teardown(rename_and_retag, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_needs_confirmation, setup, teardown),
		cmocka_unit_test_setup_teardown(disabled_retires_now, setup, teardown),
		cmocka_unit_test_setup_teardown(projects_and_config_apart, setup, teardown),
		cmocka_unit_test_setup_teardown(older_answers_lose, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_tags_logged_once, setup, teardown),
		cmocka_unit_test_setup_teardown(listener_failure_keeps_persona, setup, teardown),
		cmocka_unit_test(listing_checks),
		cmocka_unit_test(backend_decisions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
