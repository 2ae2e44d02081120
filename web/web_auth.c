/*
 * web_auth.c - basic authentication and per-source lock-out; see web_auth.h.
 */
#include "web_auth.h"
#include "bounds.h"
#include "throttle.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

struct web_auth {
	bool configured;
	uint8_t user_digest[32];
	uint8_t pass_digest[32];
	struct throttle *lockout;
};

static void digest(const void *data, size_t n, uint8_t out[32])
{
	unsigned len = 32;
	if (!EVP_Digest(data, n, out, &len, EVP_sha256(), NULL))
		memset(out, 0xff, 32); /* never equal to a real digest pair */
}

struct web_auth *web_auth_new(const char *user, const struct secret *password)
{
	struct web_auth *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	/* The setup-rate side of the throttle is unused here: only its
	 * failure lock-outs matter. */
	a->lockout = throttle_new(1, 1);
	if (!a->lockout) {
		free(a);
		return NULL;
	}
	if (password && secret_present(password) && user && user[0]) {
		digest(user, strlen(user), a->user_digest);
		digest(secret_reveal(password), password->len, a->pass_digest);
		a->configured = true;
	}
	return a;
}

void web_auth_free(struct web_auth *a)
{
	if (!a)
		return;
	throttle_free(a->lockout);
	secret_wipe(a, sizeof(*a));
	free(a);
}

bool web_auth_configured(const struct web_auth *a)
{
	return a && a->configured;
}

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Strict RFC 4648 base64 with padding. Returns the decoded length or -1. */
static long b64_decode(const char *in, size_t n, uint8_t *out, size_t cap)
{
	size_t o = 0;

	if (n == 0 || n % 4 != 0)
		return -1;
	for (size_t i = 0; i < n; i += 4) {
		int v[4];
		int pad = 0;
		for (int k = 0; k < 4; k++) {
			unsigned char c = (unsigned char)in[i + (size_t)k];
			if (c == '=' && i + 4 == n && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad) /* data after padding */
				return -1;
			v[k] = b64_value(c);
			if (v[k] < 0)
				return -1;
		}
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 |
		             (uint32_t)v[2] << 6 | (uint32_t)v[3];
		size_t bytes = 3 - (size_t)pad;
		if (bytes > cap - o)
			return -1;
		out[o++] = (uint8_t)(w >> 16);
		if (bytes > 1)
			out[o++] = (uint8_t)(w >> 8);
		if (bytes > 2)
			out[o++] = (uint8_t)w;
	}
	return (long)o;
}

int web_auth_parse_basic(const char *header, char *user, size_t user_cap,
                         char *pass, size_t pass_cap)
{
	uint8_t raw[WEB_AUTH_MAX_USER + WEB_AUTH_MAX_PASS + 2];
	const char *p, *end;
	long n;
	int rc = -1;

	if (!header || strlen(header) > WEB_MAX_AUTH_HEADER ||
	    strncasecmp(header, "Basic", 5) != 0 || (header[5] != ' ' && header[5] != '\t'))
		return -1;
	p = header + 5;
	while (*p == ' ' || *p == '\t')
		p++;
	end = p + strlen(p);
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	n = b64_decode(p, (size_t)(end - p), raw, sizeof(raw));
	if (n < 0)
		goto out;
	uint8_t *colon = memchr(raw, ':', (size_t)n);
	if (!colon || memchr(raw, 0, (size_t)n))
		goto out;
	size_t ul = (size_t)(colon - raw), pl = (size_t)n - ul - 1;
	if (ul >= user_cap || pl >= pass_cap)
		goto out;
	memcpy(user, raw, ul);
	user[ul] = 0;
	memcpy(pass, colon + 1, pl);
	pass[pl] = 0;
	rc = 0;
out:
	secret_wipe(raw, sizeof(raw));
	return rc;
}

enum web_auth_result web_auth_check(struct web_auth *a, const char *header,
                                    const struct sockaddr *from, uint64_t now_ms,
                                    uint64_t *retry_ms)
{
	char user[WEB_AUTH_MAX_USER + 1], pass[WEB_AUTH_MAX_PASS + 1];
	uint8_t ud[32], pd[32];
	enum web_auth_result r;

	*retry_ms = throttle_locked_for(a->lockout, from, now_ms);
	if (*retry_ms)
		return WEB_AUTH_LOCKED;
	if (!a->configured || !header)
		return WEB_AUTH_MISSING;
	if (web_auth_parse_basic(header, user, sizeof(user), pass, sizeof(pass)) < 0) {
		r = WEB_AUTH_MISSING;
		goto out;
	}
	digest(user, strlen(user), ud);
	digest(pass, strlen(pass), pd);
	/* Both comparisons always run: no early exit on a wrong user name. */
	int bad = CRYPTO_memcmp(ud, a->user_digest, 32) | CRYPTO_memcmp(pd, a->pass_digest, 32);
	if (bad) {
		throttle_fail(a->lockout, from, now_ms);
		r = WEB_AUTH_WRONG;
	} else {
		throttle_success(a->lockout, from);
		r = WEB_AUTH_OK;
	}
	secret_wipe(ud, sizeof(ud));
	secret_wipe(pd, sizeof(pd));
out:
	secret_wipe(user, sizeof(user));
	secret_wipe(pass, sizeof(pass));
	return r;
}
