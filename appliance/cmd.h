/*
 * cmd.h - command dispatch: one table row per command holding netFn,
 * command, minimum privilege, request length bounds and handler, so the
 * privilege check, the length check and the "unknown command" answer are
 * one lookup (OpenIPMI's priv_table idea, taken further).
 */
#ifndef METALBMC_CMD_H
#define METALBMC_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "cursor.h"
#include "ipmi.h"

struct engine;
struct engine_peer;
struct persona;
struct session;

/* A handler's return: a completion code, or CMD_PENDING when a backend
 * will answer later (the handler called cmd_submit). */
#define CMD_PENDING 0x100

struct cmd_ctx {
	struct engine *eng;
	const struct engine_peer *from;
	struct persona *p;      /* NULL for session-less requests */
	struct session *s;      /* NULL for session-less requests */
	uint8_t priv;           /* effective privilege of the caller */
	uint8_t netfn, cmd;
	struct cur req;         /* request data, after the command byte */
	struct wcur *rsp;       /* response data, after the completion code */
	bool close_session;     /* Close Session of this very session */
	/* filled by cmd_submit when the request goes pending */
	uint64_t token;
	/* applied to the persona only when the backend reports success */
	bool apply_boot;
	uint8_t boot_flags[5];
};

typedef int (*cmd_fn)(struct cmd_ctx *c);

#define CMD_F_SESSIONLESS 0x01 /* may arrive outside a session */
#define CMD_F_NO_SESSION_OK_ONLY 0x02

struct cmd_def {
	uint8_t netfn;
	uint8_t cmd;
	uint8_t min_priv;
	uint8_t min_len;  /* request data bytes */
	uint8_t max_len;
	uint8_t flags;
	cmd_fn fn;
	const char *name;
};

/* One row: netFn, command, minimum privilege, request length bounds, flags
 * and handler, whose name becomes the row's name. */
#define CMD_ROW(netfn, cmd, min_priv, min_len, max_len, flags, fn) \
	{ netfn, cmd, min_priv, min_len, max_len, flags, fn, #fn }

/* Each netFn family file exports its rows. */
extern const struct cmd_def cmd_app_table[];
extern const size_t cmd_app_count;
extern const struct cmd_def cmd_chassis_table[];
extern const size_t cmd_chassis_count;
extern const struct cmd_def cmd_storage_table[];
extern const size_t cmd_storage_count;
extern const struct cmd_def cmd_transport_table[];
extern const size_t cmd_transport_count;

const struct cmd_def *cmd_lookup(uint8_t netfn, uint8_t cmd);

/* Checks privilege and length, runs the handler. Returns a completion
 * code or CMD_PENDING; response data (after the cc) is in c->rsp. */
int cmd_dispatch(struct cmd_ctx *c);

/* Hands a request to the persona's backend (from a handler). Returns a
 * completion code, or CMD_PENDING. */
int cmd_submit(struct cmd_ctx *c, const struct backend_req *r);

#endif
