/*
 * bounds.h - every limit in one place, each with its unit.
 */
#ifndef METALBMC_BOUNDS_H
#define METALBMC_BOUNDS_H

/* Wire */
#define MAX_DATAGRAM            1500 /* bytes: largest UDP datagram accepted or sent */
#define MAX_IPMI_DATA           255  /* bytes: request/response data after the command byte */
#define RECV_BATCH              32   /* datagrams drained per readable event (recvmmsg) */

/* Sessions */
#define DEFAULT_MAX_SESSIONS    256  /* open or half-open sessions, all personas */
#define DEFAULT_MAX_PER_PERSONA 16   /* sessions per persona (a real BMC offers 4-16) */
#define DEFAULT_SESSION_IDLE_S  60   /* seconds: idle authenticated session lifetime */
#define HALF_OPEN_TIMEOUT_MS    5000 /* ms: Open Session -> RAKP 3 must finish within */
#define MAX_HALF_OPEN_PER_SRC   4    /* half-open sessions one source address may hold */
#define RESPONSE_CACHE_SLOTS    8    /* recent responses kept per session for retries */
#define PENDING_TIMEOUT_MS      30000 /* ms: a backend job still unanswered is abandoned */

/* Login throttling (throttle.c) */
#define THROTTLE_SLOTS          4096 /* sources tracked at once */
#define THROTTLE_SETUP_BURST    20   /* session setups a source may start at once */
#define THROTTLE_SETUP_PER_S    10   /* session setups per second sustained per source */
#define THROTTLE_FAIL_FREE      5    /* failed logins before a source is slowed down */
#define THROTTLE_LOCK_MS_MAX    60000 /* ms: longest lock-out after repeated failures */

/* Personas */
#define MAX_PERSONAS            20000 /* personas in the table */
#define MAX_USER_NAME           16    /* bytes: IPMI user name field */
#define MAX_PASSWORD            20    /* bytes: IPMI v2.0 password field */
#define MAX_HOSTNAME            128   /* bytes: hostname kept per persona, with NUL */
#define MAX_DEVICE_ID           40    /* bytes: UUID text with NUL */
#define MAX_SHORT_ID            16    /* bytes: short_id text with NUL */

/* Configuration */
#define MAX_CONFIG_BYTES        (1024 * 1024) /* bytes: config file size */
#define MAX_SECRET_FILE_BYTES   4096  /* bytes: a *_FILE secret */
#define MAX_LISTEN_ADDRS        8     /* entries in a listen list */
#define MAX_PROJECTS            32    /* Metal project IDs polled */
#define MAX_CIDRS               64    /* entries in an allow-list */

#endif
