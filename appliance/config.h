/*
 * config.h - the effective configuration: YAML file, then environment
 * (environment wins), then *_FILE secrets. Every error names its source as
 * "file:line: key: reason" (or "environment: NAME: reason").
 */
#ifndef METALBMC_CONFIG_H
#define METALBMC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "bounds.h"
#include "log.h"
#include "secret.h"

struct cidr {
	struct sockaddr_storage net; /* AF_INET or AF_INET6 */
	uint8_t prefix;
};

struct cidr_list {
	struct cidr items[MAX_CIDRS];
	size_t len;
};

struct listen_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	char text[64]; /* as written, for messages */
};

/* A persona declared in the config file (demo and lab use, or pinning). */
struct config_persona {
	char name[MAX_USER_NAME + 1];     /* user name on the shared listener */
	char device_id[MAX_DEVICE_ID];
	char hostname[MAX_HOSTNAME];
	char backend[16];                 /* "local" */
	uint16_t port;                    /* own UDP port, 0 = shared */
	char address[64];                 /* own local address, "" = shared */
	bool power_on;                    /* initial state for the local backend */
	int line;                         /* for messages */
	struct cidr_list allowed_sources; /* empty: any source the global list allows */
};

#define CONFIG_MAX_KEYS 48 /* entries in config.c's key table */
#define CONFIG_FROM_ENV (-1) /* origin_line of a key the environment set */

struct config {
	char path[512];                   /* file read, "" if none */

	/* metal */
	struct secret token;
	char project_ids[MAX_PROJECTS][MAX_DEVICE_ID];
	size_t project_count;
	char api_url[512];
	unsigned poll_interval_s;
	unsigned per_page;                /* devices per listing page */
	char ipxe_url[1024];
	char ca_file[512];                /* extra CA bundle for the API, optional */

	/* ipmi */
	struct listen_addr ipmi_listen[MAX_LISTEN_ADDRS];
	size_t ipmi_listen_count;
	char ipmi_user[MAX_USER_NAME + 1];
	struct secret ipmi_password;       /* shared password, optional */
	struct secret credential_secret;   /* master for derived passwords */
	uint8_t cipher_suites[16];         /* enabled suite IDs */
	size_t cipher_suite_count;
	bool allow_cipher_zero;
	bool allow_ipmi15;
	unsigned max_sessions;
	unsigned max_sessions_per_persona;
	unsigned session_timeout_s;
	struct cidr_list allowed_sources;
	uint16_t port_range_lo, port_range_hi; /* for ipmi.port=auto */
	unsigned setup_rate;               /* session setups per second per source */
	unsigned setup_burst;

	/* web */
	struct listen_addr web_listen;
	bool web_enabled;
	char web_user[64];
	struct secret web_password;
	char tls_cert[512];
	char tls_key[512];

	/* general */
	char state_dir[512];
	char user[64];                    /* to become after binding when started as
	                                   * root; "" = metalbmc, else nobody (privdrop.h) */
	enum log_level log_level;
	bool log_level_set;               /* given in file or env */

	struct config_persona personas[64];
	size_t persona_count;

	/* Where each key of config.c's table got its value: its line in the
	 * file (path), CONFIG_FROM_ENV, or 0 at its default; so that a check
	 * made once everything is read (a cross-key rule, a file that must
	 * exist) names it too. */
	int origin_line[CONFIG_MAX_KEYS];
	unsigned origin_seq[CONFIG_MAX_KEYS]; /* order applied: the later wins */
	unsigned origin_next;
};

/* Defaults of DESIGN.md. */
void config_defaults(struct config *c);
/*
 * Loads path (may be NULL: then METALBMC_CONFIG, else no file), applies the
 * environment and *_FILE secrets, validates. On error writes one line per
 * problem to err (file:line: key: reason) and returns -1.
 */
int config_load(struct config *c, const char *path, FILE *err);
/* Parses a YAML document from memory (unit tests, fuzzing); name is used in
 * messages. Does not read the environment. */
int config_parse_yaml(struct config *c, const char *name, const char *text,
                      size_t len, FILE *err);
/* Prints the effective configuration as YAML with every secret redacted. */
void config_print(const struct config *c, FILE *out);
void config_free(struct config *c);

/* "HOST:PORT", "[V6]:PORT" or ":PORT" -> sockaddr. 0 or -1. */
int config_parse_listen(const char *text, uint16_t default_port,
                        struct listen_addr *out);
int config_parse_cidr(const char *text, struct cidr *out);
/* "CIDR,CIDR,..." (spaces allowed, empty items skipped) into out. 0; -1
 * with the offending item copied to bad; -2 when there are more than
 * MAX_CIDRS. Used for config personas and the ipmi.allow tag. */
int config_parse_cidr_list(const char *text, struct cidr_list *out, char *bad, size_t bad_len);
bool cidr_list_match(const struct cidr_list *l, const struct sockaddr *sa);
/* sa as numeric "HOST:PORT" ("[V6]:PORT"), the form config_parse_listen()
 * reads, for messages; "?:0" for a family other than IPv4 and IPv6. */
void sockaddr_format(const struct sockaddr *sa, char *out, size_t cap);

#endif
