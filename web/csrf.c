/*
 * csrf.c - HMAC-derived form tokens; see csrf.h.
 */
#include "csrf.h"
#include "bounds.h"
#include "secret.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define CSRF_LABEL "metalbmc-csrf-v1"

int csrf_init(struct csrf *c)
{
	return secret_random(c->key, sizeof(c->key));
}

void csrf_wipe(struct csrf *c)
{
	secret_wipe(c->key, sizeof(c->key));
}

static void mac_hex(const struct csrf *c, const char *user, uint64_t issued,
                    char out[65])
{
	uint8_t msg[sizeof(CSRF_LABEL) + 8 + 256], mac[32];
	size_t ul = strnlen(user, 256), maclen = sizeof(mac), n = 0;

	memcpy(msg, CSRF_LABEL, sizeof(CSRF_LABEL) - 1);
	n = sizeof(CSRF_LABEL) - 1;
	for (int i = 7; i >= 0; i--)
		msg[n++] = (uint8_t)(issued >> (8 * i));
	memcpy(msg + n, user, ul);
	n += ul;
	if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, c->key, sizeof(c->key),
	               msg, n, mac, sizeof(mac), &maclen))
		memset(mac, 0, sizeof(mac)); /* then no token made here matches */
	for (size_t i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", mac[i]);
	secret_wipe(mac, sizeof(mac));
}

void csrf_make(const struct csrf *c, const char *user, uint64_t now_s, char *out)
{
	char mac[65];

	mac_hex(c, user, now_s, mac);
	snprintf(out, CSRF_TOKEN_MAX, "%016" PRIx64 ".%s", now_s, mac);
}

bool csrf_check(const struct csrf *c, const char *user, const char *token,
                uint64_t now_s)
{
	char want[65];
	uint64_t issued = 0;

	if (!token || strlen(token) != 16 + 1 + 64 || token[16] != '.')
		return false;
	for (int i = 0; i < 16; i++) {
		char ch = token[i];
		int v = ch >= '0' && ch <= '9' ? ch - '0'
		      : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
		if (v < 0)
			return false;
		issued = issued << 4 | (uint64_t)v;
	}
	/* A little slack for a clock stepped back; none for a token from the
	 * far future. */
	if (issued > now_s + 60 || (issued <= now_s && now_s - issued > WEB_CSRF_TTL_S))
		return false;
	mac_hex(c, user, issued, want);
	return CRYPTO_memcmp(want, token + 17, 64) == 0;
}
