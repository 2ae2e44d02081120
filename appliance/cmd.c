/*
 * cmd.c - the dispatch table and the backend hand-off.
 *
 * The per-family tables (cmd_app.c, cmd_chassis.c, ...) are merged once
 * into one array sorted by (netFn, cmd); a lookup is a binary search.
 */
#include "cmd.h"
#include "engine.h"
#include "log.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static const struct cmd_def **merged;
static size_t merged_len;
static pthread_once_t merged_once = PTHREAD_ONCE_INIT;

static int cmp_def(const void *a, const void *b)
{
	const struct cmd_def *x = *(const struct cmd_def *const *)a;
	const struct cmd_def *y = *(const struct cmd_def *const *)b;
	int kx = x->netfn << 8 | x->cmd, ky = y->netfn << 8 | y->cmd;
	return (kx > ky) - (kx < ky);
}

static void build_table(void)
{
	const struct { const struct cmd_def *t; size_t n; } parts[] = {
		{ cmd_app_table, cmd_app_count },
		{ cmd_chassis_table, cmd_chassis_count },
		{ cmd_storage_table, cmd_storage_count },
		{ cmd_transport_table, cmd_transport_count },
	};
	size_t n = 0, k = 0;

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		n += parts[i].n;
	merged = calloc(n, sizeof(*merged));
	if (!merged)
		fatalx("cmd: out of memory building the command table");
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		for (size_t j = 0; j < parts[i].n; j++)
			merged[k++] = &parts[i].t[j];
	qsort(merged, n, sizeof(*merged), cmp_def);
	for (size_t i = 1; i < n; i++)
		if (cmp_def(&merged[i - 1], &merged[i]) == 0)
			fatalx("cmd: netfn %02x cmd %02x defined twice",
			       merged[i]->netfn, merged[i]->cmd);
	merged_len = n;
}

const struct cmd_def *cmd_lookup(uint8_t netfn, uint8_t cmd)
{
	struct cmd_def key = { .netfn = netfn, .cmd = cmd };
	const struct cmd_def *kp = &key, *const *hit;

	pthread_once(&merged_once, build_table);
	hit = bsearch(&kp, merged, merged_len, sizeof(*merged), cmp_def);
	return hit ? *hit : NULL;
}

int cmd_dispatch(struct cmd_ctx *c)
{
	const struct cmd_def *d = cmd_lookup(c->netfn, c->cmd);
	size_t len = cur_remaining(&c->req);

	if (!d)
		return CC_INVALID_COMMAND;
	if (!c->s && !(d->flags & CMD_F_SESSIONLESS))
		return CC_INSUFFICIENT_PRIV;
	if (c->priv < d->min_priv)
		return CC_INSUFFICIENT_PRIV;
	if (len < d->min_len || len > d->max_len)
		return CC_DATA_LENGTH;
	return d->fn(c);
}

int cmd_submit(struct cmd_ctx *c, const struct backend_req *r)
{
	struct engine *e = c->eng;
	struct persona *p = c->p;
	uint8_t cc = CC_UNSPECIFIED;
	uint64_t token;

	if (!p || !p->backend || !c->s)
		return CC_NOT_SUPPORTED_NOW;
	if (c->s->pending)
		return CC_NODE_BUSY;
	/* The low 16 bits name the session slot, so a completion finds its
	 * session without a search; the counter makes a stale one harmless. */
	token = (uint64_t)++e->token_counter << 16 |
	        (uint64_t)(c->s - e->sessions.slots);
	if (p->backend->ops->submit(p->backend, p, r, token, &cc) == BACKEND_PENDING) {
		c->token = token;
		return CMD_PENDING;
	}
	return cc;
}
