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
/* Per source, generous on purpose: one provisioning controller (Ironic,
 * MAAS) polls the power state of a whole fleet from one address. Guessing
 * is stopped by the failed-login lock-out below, not by these. */
#define THROTTLE_SETUP_BURST    200  /* session setups a source may start at once */
#define THROTTLE_SETUP_PER_S    100  /* session setups per second sustained per source */
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

/* Metal API client (discovery/) */
#define API_MAX_BODY            (64 * 1024 * 1024) /* bytes: largest API answer read */
#define API_MAX_CA_BYTES        (4 * 1024 * 1024)  /* bytes: metal.ca_file, read at start */
#define API_BODY_FIRST          (16 * 1024) /* bytes: first allocation for an answer */
#define API_MAX_REQUEST_BODY    (64 * 1024) /* bytes: largest JSON body sent */
#define API_MAX_PATH            2048  /* bytes: path and query of one call, with NUL */
#define API_CONNECT_TIMEOUT_MS  5000  /* ms: TCP and TLS set-up of one attempt */
#define API_ATTEMPT_TIMEOUT_MS  30000 /* ms: one attempt, start to last byte */
#define API_MIN_ATTEMPT_MS      1000  /* ms: shortest attempt worth starting */
#define API_ACTION_BUDGET_MS    20000 /* ms: an IPMI-triggered call, retries included
                                       * (under PENDING_TIMEOUT_MS) */
#define API_POLL_BUDGET_MS      120000 /* ms: one page or refresh, retries included */
#define API_MAX_INFLIGHT        8     /* HTTP requests in flight, all kinds */
#define API_POLL_INFLIGHT       4     /* page requests in flight */
#define API_REFRESH_INFLIGHT    4     /* device refreshes in flight */
#define API_MAX_ATTEMPTS        5     /* tries of one call (waits for 429 aside) */
#define API_MAX_RATE_WAITS      30    /* 429 answers one call sits out before failing */
#define API_BACKOFF_BASE_MS     250   /* ms: first retry delay, doubled per try */
#define API_BACKOFF_MAX_MS      30000 /* ms: longest retry delay */
#define API_RETRY_AFTER_MAX_S   300   /* s: longest Retry-After honoured */
#define API_RETRY_AFTER_NONE_MS 2000  /* ms: hold after a 429 without Retry-After */
#define API_MAX_PAGES           1000  /* pages of one project listing */
#define API_MAX_PER_PAGE        1000  /* devices per page (the API's maximum) */
#define API_DEFAULT_PER_PAGE    100   /* devices per page unless configured: decoding
                                       * one holds the loop ~2 ms (500: ~60 ms;
                                       * docs/performance.md, "Discovery") */
#define API_MAX_TOTAL           200000 /* devices one listing may claim */
#define MAX_TAGS_PER_DEVICE     64    /* tags kept per device; more are ignored */
#define MAX_TAG_BYTES           256   /* bytes: a longer tag is ignored */
#define MAX_URL                 2048  /* bytes with NUL: ipxe_script_url */
#define MAX_METAL_STATE         24    /* bytes with NUL: a device state */

/* Discovery */
#define FAST_REFRESH_MS         1000  /* ms between refreshes of a device in transition */
#define FAST_REFRESH_MAX        64    /* devices refreshed quickly at once */
#define FAST_REFRESH_LIMIT_MS   600000 /* ms: longest fast refresh; then polls take over */
#define CONFIRM_POLL_MS         2000  /* ms: a poll that lost devices is re-run this soon */
#define PXE_ONCE_GRACE_MS       60000 /* ms: active this long after a boot we caused
                                       * without a visible transition: boot done */

/* Web page (web/) */
#define WEB_MAX_CONNECTIONS     64    /* HTTP connections open at once */
#define WEB_MAX_PER_IP          16    /* HTTP connections from one address */
#define WEB_CONN_MEMORY         (32 * 1024) /* bytes per connection: request line and headers must fit */
#define WEB_CONN_TIMEOUT_S      30    /* seconds: an idle HTTP connection is closed */
#define WEB_MAX_BODY            4096  /* bytes: largest POST body (admin forms are tiny) */
#define WEB_MAX_AUTH_HEADER     512   /* bytes: Authorization header accepted */
#define WEB_MAX_RESPONSE        (64 * 1024 * 1024) /* bytes: largest page or JSON document built */
#define WEB_CSRF_TTL_S          43200 /* seconds: an admin form's token stays valid (12 h) */
#define WEB_EVENTS_DEFAULT      100   /* events /api/v1/events returns without ?limit= */
#define WEB_REFRESH_MS          2000  /* ms: the page re-reads the JSON API this often */
#define WEB_HEARTBEAT_MS        1000  /* ms: loop heartbeat behind /healthz */
#define WEB_LOOP_STALL_MS       5000  /* ms: heartbeat older than this makes /healthz 503 */
#define WEB_STREAM_SLICE        64    /* personas rendered per slice of a long page or list */

#endif
