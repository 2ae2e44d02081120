/*
 * poller.c - the poll schedule, paging, and fast refreshes; see poller.h.
 *
 * A project's poll asks for page 1 first: its meta says how many pages
 * there are, and the rest are queued at once (the API queue's poll lane
 * keeps API_POLL_INFLIGHT of them in flight). The poll is complete when
 * every page arrived and poller_check_listing() agrees they form one
 * listing; only then does reconcile see it. Any page that fails for good
 * ends the poll with nothing changed.
 */
#include "poller.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct poll_page;

struct project_poll {
	struct poller *pl;
	char id[MAX_DEVICE_ID];
	bool running;
	uint64_t started_ms, started_wall_ms;
	unsigned last_page;             /* from page 1; 0 until it arrives */
	struct poll_page *pages;        /* [last_page] once known */
	struct poll_page *first;        /* page 1 before the array exists */
	unsigned pages_done;
	struct discovery_project_status status;
};

struct poll_page {
	struct project_poll *pp;
	unsigned no;                    /* 1-based */
	struct api_call *call;
	struct metal_page page;
	bool done;
};

struct poller {
	struct loop *loop;
	struct api_queue *q;
	struct reconcile_ctx *rx;
	unsigned interval_s;
	unsigned per_page;
	struct project_poll *projects;
	size_t project_count;
	struct loop_timer poll_timer;
	struct loop_timer refresh_timer;
	struct devrec *watch_head;
	size_t watched;
	struct metal_device scratch;    /* a refresh answer, decode to done */
};

/* ---- listing checks ----------------------------------------------------------- */

static int cmp_id(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int poller_check_listing(const struct metal_page *pages, size_t n, char *why,
                         size_t why_len)
{
	size_t count = 0;

	if (n == 0 || pages[0].last_page != n) {
		snprintf(why, why_len, "page count does not match meta.last_page");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		/* A device added or removed between two page requests shifts the
		 * others across page boundaries: the pages no longer add up. */
		if (pages[i].total != pages[0].total || pages[i].last_page != pages[0].last_page) {
			snprintf(why, why_len, "the listing changed while it was read (page %zu says "
			         "%u devices in %u pages, page 1 said %u in %u)", i + 1,
			         pages[i].total, pages[i].last_page, pages[0].total,
			         pages[0].last_page);
			return -1;
		}
		count += pages[i].count;
	}
	if (count != pages[0].total) {
		snprintf(why, why_len, "%zu devices listed but meta.total is %u", count,
		         pages[0].total);
		return -1;
	}
	if (count < 2)
		return 0;
	const char **ids = malloc(count * sizeof(*ids));
	if (!ids) {
		snprintf(why, why_len, "out of memory");
		return -1;
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < pages[i].count; j++)
			ids[k++] = pages[i].devices[j].id;
	qsort(ids, count, sizeof(*ids), cmp_id);
	for (size_t i = 1; i < count; i++)
		if (strcmp(ids[i - 1], ids[i]) == 0) {
			snprintf(why, why_len, "device %s listed twice", ids[i]);
			free(ids);
			return -1;
		}
	free(ids);
	return 0;
}

/* ---- schedule ------------------------------------------------------------------ */

static void start_project(struct poller *pl, struct project_poll *pp);

static void schedule_soon(struct poller *pl, uint64_t delay_ms)
{
	uint64_t at = loop_now(pl->loop) + delay_ms;
	if (!loop_timer_armed(&pl->poll_timer) || pl->poll_timer.deadline_ms > at)
		loop_timer_at(pl->loop, &pl->poll_timer, at);
}

static void on_poll_timer(struct loop *l, struct loop_timer *t)
{
	struct poller *pl = t->arg;

	loop_timer_in(l, &pl->poll_timer, (uint64_t)pl->interval_s * 1000u);
	for (size_t i = 0; i < pl->project_count; i++)
		if (!pl->projects[i].running)
			start_project(pl, &pl->projects[i]);
}

void poller_poll_now(struct poller *pl)
{
	loop_timer_in(pl->loop, &pl->poll_timer, 0);
}

/* ---- one project's poll ------------------------------------------------------- */

static void free_pages(struct project_poll *pp)
{
	struct api_queue *q = pp->pl->q;

	if (pp->pages) {
		for (unsigned i = 0; i < pp->last_page; i++) {
			api_cancel(q, pp->pages[i].call);
			metal_page_clear(&pp->pages[i].page);
		}
		free(pp->pages);
		pp->pages = NULL;
	}
	if (pp->first) {
		api_cancel(q, pp->first->call);
		metal_page_clear(&pp->first->page);
		free(pp->first);
		pp->first = NULL;
	}
	pp->last_page = 0;
	pp->pages_done = 0;
}

static void end_poll(struct project_poll *pp, bool ok, const char *result)
{
	struct discovery_project_status *st = &pp->status;
	uint64_t took = loop_clock_ms() - pp->started_ms;

	pp->running = false;
	st->polling = false;
	st->polls++;
	st->last_ok = ok;
	st->last_poll_wall_ms = pp->started_wall_ms;
	st->last_duration_ms = took > UINT32_MAX ? UINT32_MAX : (uint32_t)took;
	snprintf(st->last_result, sizeof(st->last_result), "%s", result);
	if (ok) {
		st->last_ok_wall_ms = pp->started_wall_ms;
		st->consecutive_failures = 0;
	} else {
		st->consecutive_failures++;
		/* The first failure is news; repeats are counted on the page. */
		if (st->consecutive_failures == 1)
			log_warnx("discovery: project %s: poll failed, nothing changed: %s",
			          pp->id, result);
		else
			log_info("discovery: project %s: poll failed again (%u in a row): %s",
			         pp->id, st->consecutive_failures, result);
	}
	free_pages(pp);
}

static void complete_poll(struct project_poll *pp)
{
	struct poller *pl = pp->pl;
	struct metal_page *pages;
	char why[200];
	size_t n = pp->last_page, total = 0;
	bool need_confirm = false;
	struct reconcile_stats rs;

	/* calloc: gcc 12 -O2 cannot see the loop below fill every entry. */
	pages = calloc(n ? n : 1, sizeof(*pages));
	if (!pages) {
		end_poll(pp, false, "out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++)
		pages[i] = pp->pages[i].page;
	if (poller_check_listing(pages, n, why, sizeof(why)) < 0) {
		free(pages);
		end_poll(pp, false, why);
		/* Paging raced a change; a fresh listing will likely agree. */
		schedule_soon(pl, CONFIRM_POLL_MS);
		return;
	}
	for (size_t i = 0; i < n; i++)
		total += pages[i].count;
	struct metal_device *all = calloc(total ? total : 1, sizeof(*all));
	if (!all) {
		free(pages);
		end_poll(pp, false, "out of memory");
		return;
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < pp->pages[i].page.count; j++)
			metal_device_move(&all[k++], &pp->pages[i].page.devices[j]);
	free(pages);

	uint64_t t0 = loop_clock_ms();
	pl->rx->now_ms = loop_now(pl->loop);
	reconcile_project(pl->rx, pp->id, all, total, &rs, &need_confirm);
	uint64_t t1 = loop_clock_ms();
	for (size_t i = 0; i < total; i++)
		metal_device_clear(&all[i]);
	free(all);

	pp->status.devices = (unsigned)total;
	pp->status.pages = (unsigned)n;
	pp->status.added = rs.added;
	pp->status.retired = rs.retired;
	pp->status.updated = rs.updated;
	snprintf(why, sizeof(why), "ok: %zu device(s) in %zu page(s)", total, n);
	uint64_t took = t1 - pp->started_ms;
	if (rs.added || rs.retired || rs.updated || rs.absent_once || rs.failed)
		log_info("discovery: project %s: %zu tagged device(s) in %zu page(s), "
		         "%llu ms (reconcile %llu ms): +%u -%u ~%u, %u missing once%s",
		         pp->id, total, n, (unsigned long long)took,
		         (unsigned long long)(t1 - t0), rs.added, rs.retired, rs.updated,
		         rs.absent_once, rs.failed ? ", some could not be added" : "");
	else
		log_debug("discovery: project %s: %zu device(s), %zu page(s), %llu ms, "
		          "no change (reconcile %llu ms)", pp->id, total, n,
		          (unsigned long long)took, (unsigned long long)(t1 - t0));
	end_poll(pp, true, why);
	if (need_confirm)
		schedule_soon(pl, CONFIRM_POLL_MS);
}

static int decode_page(void *arg, const char *body, size_t len, char *why, size_t why_len)
{
	struct poll_page *pg = arg;
	metal_page_clear(&pg->page);
	return metal_decode_page(body, len, &pg->page, why, why_len);
}

static void on_page(void *arg, const struct api_result *r);

static bool submit_page(struct project_poll *pp, struct poll_page *pg)
{
	struct poller *pl = pp->pl;
	char path[API_MAX_PATH];

	if (metal_path_devices(path, sizeof(path), pp->id, pg->no, pl->per_page) < 0)
		return false;
	struct api_call_spec spec = {
		.method = HTTP_GET,
		.path = path,
		.lane = API_LANE_POLL,
		.budget_ms = API_POLL_BUDGET_MS,
		.decode = decode_page,
		.done = on_page,
		.arg = pg,
	};
	pg->call = api_submit(pl->q, &spec);
	return pg->call != NULL;
}

static void on_page(void *arg, const struct api_result *r)
{
	struct poll_page *pg = arg;
	struct project_poll *pp = pg->pp;
	char why[200];

	pg->call = NULL;
	if (!http_status_ok(r->status) || r->malformed) {
		snprintf(why, sizeof(why), "page %u: %s", pg->no, r->why);
		end_poll(pp, false, why); /* frees pg */
		return;
	}
	for (size_t i = 0; i < pg->page.count; i++)
		pg->page.devices[i].observed_ms = r->sent_ms;
	if (pg->no == 1) {
		/* Now the page count is known: queue the rest. */
		unsigned n = pg->page.last_page;
		struct poll_page *pages = calloc(n, sizeof(*pages));
		if (!pages) {
			end_poll(pp, false, "out of memory");
			return;
		}
		pages[0] = *pg;
		memset(&pg->page, 0, sizeof(pg->page));
		free(pp->first);
		pp->first = NULL;
		pp->pages = pages;
		pp->last_page = n;
		pp->pages[0].done = true;
		pp->pages_done = 1;
		for (unsigned i = 1; i < n; i++) {
			pages[i].pp = pp;
			pages[i].no = i + 1;
			if (!submit_page(pp, &pages[i])) {
				end_poll(pp, false, "cannot queue a page request");
				return;
			}
		}
	} else {
		pg->done = true;
		pp->pages_done++;
	}
	if (pp->pages_done == pp->last_page)
		complete_poll(pp);
}

static void start_project(struct poller *pl, struct project_poll *pp)
{
	free_pages(pp);
	pp->running = true;
	pp->status.polling = true;
	pp->started_ms = loop_clock_ms();
	pp->started_wall_ms = loop_wall_ms();
	pp->first = calloc(1, sizeof(*pp->first));
	if (!pp->first) {
		end_poll(pp, false, "out of memory");
		return;
	}
	pp->first->pp = pp;
	pp->first->no = 1;
	if (!submit_page(pp, pp->first))
		end_poll(pp, false, "cannot queue a page request");
}

/* ---- fast refresh ------------------------------------------------------------------ */

static int decode_refresh(void *arg, const char *body, size_t len, char *why, size_t why_len)
{
	struct devrec *r = arg;
	struct poller *pl = r->watcher;
	metal_device_clear(&pl->scratch);
	return metal_decode_device(body, len, &pl->scratch, why, why_len);
}

static void on_refresh(void *arg, const struct api_result *res)
{
	struct devrec *r = arg;
	struct poller *pl = r->watcher;
	struct metal_device *d = &pl->scratch;

	r->refresh = NULL;
	if (res->status == 200 && !res->malformed && strcmp(d->id, r->id) == 0) {
		d->observed_ms = res->sent_ms;
		if (devrec_observe(r, d, loop_now(pl->loop)) && pl->rx->hooks.observed)
			pl->rx->hooks.observed(pl->rx->hooks.arg, r); /* may unwatch r */
	} else if (res->status == 404) {
		/* Gone; the next complete listing retires it. */
		poller_unwatch(pl, r);
	}
	metal_device_clear(d);
}

static void on_refresh_timer(struct loop *l, struct loop_timer *t)
{
	struct poller *pl = t->arg;
	uint64_t now = loop_now(l);
	struct devrec *next;
	char path[API_MAX_PATH];

	for (struct devrec *r = pl->watch_head; r; r = next) {
		next = r->wnext;
		if (now >= r->watch_until_ms) {
			poller_unwatch(pl, r);
			continue;
		}
		if (r->refresh || metal_path_device(path, sizeof(path), r->id) < 0)
			continue;
		struct api_call_spec spec = {
			.method = HTTP_GET,
			.path = path,
			.lane = API_LANE_REFRESH,
			.budget_ms = FAST_REFRESH_MS * 5,
			.decode = decode_refresh,
			.done = on_refresh,
			.arg = r,
		};
		r->refresh = api_submit(pl->q, &spec);
	}
	if (pl->watch_head)
		loop_timer_in(l, &pl->refresh_timer, FAST_REFRESH_MS);
}

void poller_watch(struct poller *pl, struct devrec *r, uint64_t for_ms)
{
	uint64_t until = loop_now(pl->loop) + for_ms;

	if (r->watched) {
		if (until > r->watch_until_ms)
			r->watch_until_ms = until;
		return;
	}
	if (pl->watched >= FAST_REFRESH_MAX)
		return; /* the regular poll catches it up */
	r->watched = true;
	r->watcher = pl;
	r->watch_until_ms = until;
	r->wprev = NULL;
	r->wnext = pl->watch_head;
	if (pl->watch_head)
		pl->watch_head->wprev = r;
	pl->watch_head = r;
	pl->watched++;
	if (!loop_timer_armed(&pl->refresh_timer))
		loop_timer_in(pl->loop, &pl->refresh_timer, FAST_REFRESH_MS);
}

void poller_unwatch(struct poller *pl, struct devrec *r)
{
	if (!r->watched)
		return;
	api_cancel(pl->q, r->refresh);
	r->refresh = NULL;
	if (r->wprev)
		r->wprev->wnext = r->wnext;
	else
		pl->watch_head = r->wnext;
	if (r->wnext)
		r->wnext->wprev = r->wprev;
	r->wprev = r->wnext = NULL;
	r->watched = false;
	r->watcher = NULL;
	pl->watched--;
	if (!pl->watch_head)
		loop_timer_cancel(pl->loop, &pl->refresh_timer);
}

/* ---- life ---------------------------------------------------------------------- */

struct poller *poller_new(struct loop *l, struct api_queue *q, struct reconcile_ctx *rx,
                          const struct poller_config *pc)
{
	struct poller *pl = calloc(1, sizeof(*pl));

	if (!pl)
		return NULL;
	pl->loop = l;
	pl->q = q;
	pl->rx = rx;
	pl->interval_s = pc->interval_s ? pc->interval_s : 30;
	pl->per_page = pc->per_page ? pc->per_page : API_DEFAULT_PER_PAGE;
	pl->projects = calloc(pc->project_count ? pc->project_count : 1, sizeof(*pl->projects));
	if (!pl->projects) {
		free(pl);
		return NULL;
	}
	pl->project_count = pc->project_count;
	for (size_t i = 0; i < pc->project_count; i++) {
		struct project_poll *pp = &pl->projects[i];
		pp->pl = pl;
		snprintf(pp->id, sizeof(pp->id), "%s", pc->projects[i]);
		snprintf(pp->status.project_id, sizeof(pp->status.project_id), "%s", pp->id);
		snprintf(pp->status.last_result, sizeof(pp->status.last_result), "not polled yet");
	}
	loop_timer_init(&pl->poll_timer, on_poll_timer, pl);
	loop_timer_init(&pl->refresh_timer, on_refresh_timer, pl);
	loop_timer_in(l, &pl->poll_timer, 0); /* the first poll at once */
	return pl;
}

void poller_free(struct poller *pl)
{
	if (!pl)
		return;
	while (pl->watch_head)
		poller_unwatch(pl, pl->watch_head);
	for (size_t i = 0; i < pl->project_count; i++)
		free_pages(&pl->projects[i]);
	loop_timer_cancel(pl->loop, &pl->poll_timer);
	loop_timer_cancel(pl->loop, &pl->refresh_timer);
	metal_device_clear(&pl->scratch);
	free(pl->projects);
	free(pl);
}

void poller_status(const struct poller *pl, struct discovery_status *out)
{
	uint64_t now = loop_clock_ms();

	out->poll_interval_s = pl->interval_s;
	out->project_count = pl->project_count < MAX_PROJECTS ? pl->project_count : MAX_PROJECTS;
	for (size_t i = 0; i < out->project_count; i++)
		out->projects[i] = pl->projects[i].status;
	out->next_poll_in_ms = loop_timer_armed(&pl->poll_timer) &&
	                       pl->poll_timer.deadline_ms > now
	                       ? pl->poll_timer.deadline_ms - now : 0;
	out->watched = pl->watched;
}
