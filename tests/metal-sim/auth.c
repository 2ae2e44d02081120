/*
 * X-Auth-Token check.  The comparison runs over the whole expected token
 * whatever the caller sent, so its duration tells nothing about how many
 * leading characters were right.
 */
#include "metal_sim.h"

#include <string.h>

bool auth_token_ok(const struct sim *sim, const char *given)
{
	size_t glen, i;
	unsigned diff;

	if (given == NULL)
		return false;
	glen = strlen(given);
	diff = glen != sim->token_len;
	for (i = 0; i < sim->token_len; i++) {
		/* Past the end of `given`, compare against its NUL, which
		 * never matches a token byte (tokens hold no NUL). */
		unsigned char g = (unsigned char)given[i < glen ? i : glen];

		diff |= g ^ (unsigned char)sim->token[i];
	}
	return diff == 0;
}
