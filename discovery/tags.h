/*
 * tags.h - the tag grammar that turns a Metal device's tags into its
 * persona's settings (docs/metal.md, "Tags"):
 *
 *   ipmi=enabled        the device gets a persona (ipmi=disabled wins over it)
 *   ipmi.port=auto      its own UDP port, assigned from ipmi.port_range and
 *                       kept in the state directory
 *   ipmi.port=N         its own UDP port N (1..65535)
 *   ipmi.address=IP     its own local address (IPv4 or IPv6 literal)
 *   ipmi.user=NAME      routing name on the shared listener instead of the
 *                       short_id (1-16 of [A-Za-z0-9._-])
 *   ipmi.backend=metal  where power and boot go (only "metal" today)
 *   ipmi.allow=CIDR,... only these sources may log in to the persona
 *                       (addresses or CIDRs, comma-separated; on top of the
 *                       global ipmi.allowed_sources)
 *
 * Keys and values are case-sensitive. A tag that starts "ipmi=" or "ipmi."
 * but does not fit is reported and ignored; the rest of the tags still
 * apply. For a key given twice, the first one counts. Tags that do not
 * start with "ipmi=" or "ipmi." are not ours.
 */
#ifndef METALBMC_TAGS_H
#define METALBMC_TAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bounds.h"

enum tag_port { TAG_PORT_NONE = 0, TAG_PORT_AUTO, TAG_PORT_FIXED };

struct tag_config {
	bool enabled;                   /* ipmi=enabled and no ipmi=disabled */
	enum tag_port port_mode;
	uint16_t port;                  /* TAG_PORT_FIXED */
	char address[64];               /* "" = the shared listener's address */
	char user[MAX_USER_NAME + 1];   /* "" = the device's short_id */
	char backend[16];               /* "metal" */
	char allow[MAX_TAG_BYTES];      /* ipmi.allow value, checked; "" = any source */
	bool allow_bad;                 /* an ipmi.allow tag was malformed: no source
	                                 * may log in (a typo must not open it to all) */
	unsigned malformed;             /* ipmi tags ignored */
};

/* Called for each ignored tag with the reason. */
typedef void (*tags_bad_fn)(void *arg, const char *tag, const char *reason);

/* Parses count tags stored back to back (each NUL-terminated). */
void tags_parse(const char *packed, size_t count, struct tag_config *out,
                tags_bad_fn bad, void *arg);


bool tag_config_equal(const struct tag_config *a, const struct tag_config *b);

#endif
