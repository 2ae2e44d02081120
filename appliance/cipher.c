/*
 * cipher.c - RMCP+ cipher suites, RAKP key exchange codes, session keys,
 * integrity AuthCodes, AES-CBC-128 payload protection and the IPMI v1.5
 * AuthCode, on OpenSSL 3 (libcrypto) without deprecated interfaces.
 *
 * References are to the IPMI v2.0 specification, rev 1.1 (with errata).
 * Where the specification is ambiguous the choice made here is the one the
 * clients metalbmc must satisfy (ipmitool 1.8.19, FreeIPMI 1.6.10, pyghmi)
 * actually implement; each such point says so where it is decided.
 *
 * Hygiene: every stack buffer that holds a key, a password or a MAC is wiped
 * with OPENSSL_cleanse() before the function returns, on every path; MACs are
 * compared with CRYPTO_memcmp(). Nothing here logs.
 *
 * Allocation: OpenSSL 3 contexts (EVP_MD_CTX, EVP_CIPHER_CTX) are opaque
 * and cannot live on the stack, so each call creates and frees one. What is
 * cached is the expensive part, the algorithm fetch: SHA-1, SHA-256, MD5 and
 * AES-128-CBC are fetched once (pthread_once) into static pointers and kept
 * for the life of the process. Keeping contexts per thread would avoid the
 * remaining malloc/free, but would also keep the last session's key
 * schedule in memory between packets; freeing the context wipes it.
 *
 * HMAC is RFC 2104 written out over those digests (hmac() below) rather
 * than OpenSSL's EVP_MAC: the HMAC provider takes its digest as a name
 * parameter and looks it up again on every EVP_MAC_init, which cost more
 * than the hashing itself (about 14,000 instructions per RMCP+ HMAC against
 * 7,000 written out; an ipmitool session computes 18 of them). The known
 * answer tests in tests/unit/test_cipher.c pin every MAC.
 */
#include "cipher.h"

#include <limits.h>
#include <pthread.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

/* ---------------------------------------------------------------------- */
/* Suite table (table 22-20). The xRC4 suites (4, 5, 9, 10, 13, 14, 18, 19)
 * are not implemented: no client we serve needs them. */

const struct cipher_suite cipher_suites[] = {
	{ 0, AUTH_NONE, INTEG_NONE, CONF_NONE },
	{ 1, AUTH_HMAC_SHA1, INTEG_NONE, CONF_NONE },
	{ 2, AUTH_HMAC_SHA1, INTEG_HMAC_SHA1_96, CONF_NONE },
	{ 3, AUTH_HMAC_SHA1, INTEG_HMAC_SHA1_96, CONF_AES_CBC_128 },
	{ 6, AUTH_HMAC_MD5, INTEG_NONE, CONF_NONE },
	{ 7, AUTH_HMAC_MD5, INTEG_HMAC_MD5_128, CONF_NONE },
	{ 8, AUTH_HMAC_MD5, INTEG_HMAC_MD5_128, CONF_AES_CBC_128 },
	{ 11, AUTH_HMAC_MD5, INTEG_MD5_128, CONF_NONE },
	{ 12, AUTH_HMAC_MD5, INTEG_MD5_128, CONF_AES_CBC_128 },
	{ 15, AUTH_HMAC_SHA256, INTEG_NONE, CONF_NONE },
	{ 16, AUTH_HMAC_SHA256, INTEG_HMAC_SHA256_128, CONF_NONE },
	{ 17, AUTH_HMAC_SHA256, INTEG_HMAC_SHA256_128, CONF_AES_CBC_128 },
};
const size_t cipher_suite_count = sizeof(cipher_suites) / sizeof(cipher_suites[0]);

const struct cipher_suite *cipher_suite_by_id(uint8_t id)
{
	for (size_t i = 0; i < cipher_suite_count; i++)
		if (cipher_suites[i].id == id)
			return &cipher_suites[i];
	return NULL;
}

const struct cipher_suite *cipher_suite_find(uint8_t auth, uint8_t integ, uint8_t conf)
{
	for (size_t i = 0; i < cipher_suite_count; i++)
		if (cipher_suites[i].auth == auth && cipher_suites[i].integ == integ &&
		    cipher_suites[i].conf == conf)
			return &cipher_suites[i];
	return NULL;
}

/* ---------------------------------------------------------------------- */
/* Hash functions behind the algorithm numbers. */

#define MD5_LEN    16
#define SHA1_LEN   20
#define SHA256_LEN 32

/* The algorithm objects, fetched once by algs_fetch(). */
static EVP_MD *alg_sha1;
static EVP_MD *alg_sha256;
static EVP_MD *alg_md5;
static EVP_CIPHER *alg_aes;

struct hash {
	EVP_MD **md; /* where algs_fetch() puts the digest */
	size_t len;  /* digest (= HMAC output) length */
};

static const struct hash hash_sha1 = { &alg_sha1, SHA1_LEN };
static const struct hash hash_md5 = { &alg_md5, MD5_LEN };
static const struct hash hash_sha256 = { &alg_sha256, SHA256_LEN };

/* The HMAC behind an authentication algorithm (table 13-17); NULL for none
 * and for numbers we do not know. */
static const struct hash *auth_hash(uint8_t auth)
{
	switch (auth) {
	case AUTH_HMAC_SHA1: return &hash_sha1;
	case AUTH_HMAC_MD5: return &hash_md5;
	case AUTH_HMAC_SHA256: return &hash_sha256;
	default: return NULL;
	}
}

size_t cipher_auth_mac_len(uint8_t auth)
{
	const struct hash *h = auth_hash(auth);
	return h ? h->len : 0;
}

/* RAKP 4 ICV length (13.31, table 13-12 and 13.28.1): HMAC-SHA1-96 for
 * RAKP-HMAC-SHA1, HMAC-MD5-128 for RAKP-HMAC-MD5, HMAC-SHA256-128 for
 * RAKP-HMAC-SHA256. ipmitool (lanplus_rakp4_hmac_matches), FreeIPMI
 * (ipmi_rmcpplus_check_rakp_4_integrity_check_value) and pyghmi (_got_rakp4)
 * compare exactly these lengths. */
size_t cipher_auth_icv_len(uint8_t auth)
{
	switch (auth) {
	case AUTH_HMAC_SHA1: return 12;
	case AUTH_HMAC_MD5: return 16;
	case AUTH_HMAC_SHA256: return 16;
	default: return 0;
	}
}

size_t cipher_integ_len(uint8_t integ)
{
	switch (integ) {
	case INTEG_HMAC_SHA1_96: return 12;
	case INTEG_HMAC_MD5_128: return 16;
	case INTEG_MD5_128: return 16;
	case INTEG_HMAC_SHA256_128: return 16;
	default: return 0;
	}
}

/* ---------------------------------------------------------------------- */
/* OpenSSL algorithm objects, fetched once. */

static pthread_once_t algs_once = PTHREAD_ONCE_INIT;

static void algs_fetch(void)
{
	alg_sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
	alg_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	alg_md5 = EVP_MD_fetch(NULL, "MD5", NULL);
	alg_aes = EVP_CIPHER_fetch(NULL, "AES-128-CBC", NULL);
}

static bool algs_ready(void)
{
	return pthread_once(&algs_once, algs_fetch) == 0;
}

/* SHA-1, SHA-256 and MD5 all hash in 64-byte blocks (RFC 2104's B). */
#define HASH_BLOCK 64

/* One hash over two pieces, into out (h->len bytes). ctx is reused. */
static int hash2(EVP_MD_CTX *ctx, const struct hash *h, const uint8_t *a, size_t a_len,
                 const uint8_t *b, size_t b_len, uint8_t *out)
{
	unsigned int got = 0;

	return EVP_DigestInit_ex2(ctx, *h->md, NULL) == 1 &&
	       EVP_DigestUpdate(ctx, a, a_len) == 1 &&
	       (b_len == 0 || EVP_DigestUpdate(ctx, b, b_len) == 1) &&
	       EVP_DigestFinal_ex(ctx, out, &got) == 1 && got == h->len ? 0 : -1;
}

/*
 * HMAC(key, data) with the given hash into mac (h->len bytes, the caller's
 * buffer holds at least CIPHER_MAX_MAC), RFC 2104: H((K ^ opad) ||
 * H((K ^ ipad) || data)) with K zero padded to the block. Every key here is
 * at most CIPHER_MAX_MAC bytes, shorter than a block, so the RFC's
 * hash-the-long-key step never applies; a longer key is refused. 0 or -1;
 * on failure mac is wiped.
 */
static int hmac(const struct hash *h, const uint8_t *key, size_t key_len,
                const uint8_t *data, size_t len, uint8_t *mac)
{
	uint8_t pad[HASH_BLOCK];
	uint8_t inner[CIPHER_MAX_MAC];
	EVP_MD_CTX *ctx;
	int rc = -1;

	if (!algs_ready() || *h->md == NULL || key == NULL || key_len == 0 ||
	    key_len > HASH_BLOCK || (data == NULL && len > 0))
		return -1;
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return -1;
	memset(pad, 0x36, sizeof(pad));
	for (size_t i = 0; i < key_len; i++)
		pad[i] ^= key[i];
	if (hash2(ctx, h, pad, sizeof(pad), data, len, inner) == 0) {
		for (size_t i = 0; i < sizeof(pad); i++)
			pad[i] ^= 0x36 ^ 0x5c; /* K ^ ipad becomes K ^ opad */
		rc = hash2(ctx, h, pad, sizeof(pad), inner, h->len, mac);
	}
	EVP_MD_CTX_free(ctx); /* the provider wipes its hash state when freed */
	OPENSSL_cleanse(pad, sizeof(pad));
	OPENSSL_cleanse(inner, sizeof(inner));
	if (rc != 0)
		OPENSSL_cleanse(mac, CIPHER_MAX_MAC);
	return rc;
}

/* MD5 over the concatenation of n pieces. 0 or -1; out wiped on failure. */
static int md5_pieces(const uint8_t *const piece[], const size_t piece_len[], size_t n,
                      uint8_t out[MD5_LEN])
{
	unsigned int got = 0;
	EVP_MD_CTX *ctx;
	int rc = -1;

	if (!algs_ready() || alg_md5 == NULL)
		return -1;
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return -1;
	if (EVP_DigestInit_ex2(ctx, alg_md5, NULL) != 1)
		goto done;
	for (size_t i = 0; i < n; i++)
		if (piece_len[i] > 0 && EVP_DigestUpdate(ctx, piece[i], piece_len[i]) != 1)
			goto done;
	if (EVP_DigestFinal_ex(ctx, out, &got) == 1 && got == MD5_LEN)
		rc = 0;
done:
	EVP_MD_CTX_free(ctx); /* the provider wipes its state when freed */
	if (rc != 0)
		OPENSSL_cleanse(out, MD5_LEN);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* RAKP (13.20 - 13.23, 13.31) */

static size_t put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
	return 4;
}

static size_t put_bytes(uint8_t *p, const uint8_t *src, size_t len)
{
	memcpy(p, src, len);
	return len;
}

/* Largest RAKP MAC input: SIDm, SIDc, Rm, Rc, GUIDc, ROLEm, ULENGTHm, UNAMEm. */
#define RAKP_INPUT_MAX (4 + 4 + CIPHER_RAND_LEN + CIPHER_RAND_LEN + CIPHER_GUID_LEN + 1 + 1 + \
                        CIPHER_USER_MAX)

/*
 * Kuid and Kg as HMAC keys. The v2.0 password field is 20 bytes and a
 * shorter password is zero padded (13.31: "Kuid ... the user password";
 * 22.29 Set User Password, 20-byte form). ipmitool keys these HMACs with its
 * 20-byte zero-padded authcode buffer, FreeIPMI and pyghmi with the bare
 * password; the results are the same because HMAC itself zero pads any key
 * shorter than the hash block (64 bytes for SHA1, MD5 and SHA256, RFC 2104
 * section 2). We pad to 20 to follow the specification literally, which also
 * gives an empty password a well defined 20-zero-byte key.
 */
static int pad_key(const uint8_t *key, size_t len, uint8_t out[CIPHER_KEY_MAX])
{
	if (len > CIPHER_KEY_MAX || (key == NULL && len > 0))
		return -1;
	memset(out, 0, CIPHER_KEY_MAX);
	if (len > 0)
		memcpy(out, key, len);
	return 0;
}

static bool rakp_params_ok(const struct rakp_params *p)
{
	return p != NULL && p->user_len <= CIPHER_USER_MAX;
}

/* The role byte and the user name, as every RAKP MAC ends. */
static size_t put_role_user(uint8_t *b, const struct rakp_params *p)
{
	b[0] = p->role; /* ROLEm: the whole byte from RAKP 1, bit 4 included */
	b[1] = p->user_len;
	memcpy(b + 2, p->user, p->user_len);
	return 2 + (size_t)p->user_len;
}

/* HMAC keyed by padded Kuid over buf; writes h->len bytes to out. */
static int kuid_hmac(const struct hash *h, const uint8_t *kuid, size_t kuid_len,
                     const uint8_t *buf, size_t len, uint8_t *out)
{
	uint8_t key[CIPHER_KEY_MAX];
	uint8_t mac[CIPHER_MAX_MAC];
	int rc = -1;

	if (pad_key(kuid, kuid_len, key) == 0 && hmac(h, key, sizeof(key), buf, len, mac) == 0) {
		memcpy(out, mac, h->len);
		rc = 0;
	}
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(mac, sizeof(mac));
	return rc;
}

/* The RAKP 2 or 3 code over the n bytes of buf (the message's MAC input):
 * 0 for RAKP-none, else the MAC length written to out, or -1. */
static int rakp_kuid_code(const struct rakp_params *p, const uint8_t *kuid, size_t kuid_len,
                          const uint8_t *buf, size_t n, uint8_t *out)
{
	const struct hash *h;

	if (p->auth == AUTH_NONE)
		return 0;
	h = auth_hash(p->auth);
	if (h == NULL || out == NULL)
		return -1;
	if (kuid_hmac(h, kuid, kuid_len, buf, n, out) != 0)
		return -1;
	return (int)h->len;
}

/* RAKP 2 Key Exchange Authentication Code (13.21, table 13-10 note):
 * HMAC_Kuid(SIDm, SIDc, Rm, Rc, GUIDc, ROLEm, ULENGTHm, UNAMEm). */
int cipher_rakp2_code(const struct rakp_params *p, const uint8_t *kuid,
                      size_t kuid_len, uint8_t *out)
{
	uint8_t buf[RAKP_INPUT_MAX];
	size_t n = 0;

	if (!rakp_params_ok(p))
		return -1;
	n += put_le32(buf + n, p->console_sid);
	n += put_le32(buf + n, p->bmc_sid);
	n += put_bytes(buf + n, p->console_rand, CIPHER_RAND_LEN);
	n += put_bytes(buf + n, p->bmc_rand, CIPHER_RAND_LEN);
	n += put_bytes(buf + n, p->bmc_guid, CIPHER_GUID_LEN);
	n += put_role_user(buf + n, p);
	return rakp_kuid_code(p, kuid, kuid_len, buf, n, out);
}

/* RAKP 3 Key Exchange Authentication Code (13.22, table 13-11 note):
 * HMAC_Kuid(Rc, SIDm, ROLEm, ULENGTHm, UNAMEm). */
int cipher_rakp3_code(const struct rakp_params *p, const uint8_t *kuid,
                      size_t kuid_len, uint8_t *out)
{
	uint8_t buf[RAKP_INPUT_MAX];
	size_t n = 0;

	if (!rakp_params_ok(p))
		return -1;
	n += put_bytes(buf + n, p->bmc_rand, CIPHER_RAND_LEN);
	n += put_le32(buf + n, p->console_sid);
	n += put_role_user(buf + n, p);
	return rakp_kuid_code(p, kuid, kuid_len, buf, n, out);
}

bool cipher_rakp3_verify(const struct rakp_params *p, const uint8_t *kuid,
                         size_t kuid_len, const uint8_t *code, size_t code_len)
{
	uint8_t want[CIPHER_MAX_MAC];
	bool ok = false;
	int n;

	if (!rakp_params_ok(p))
		return false;
	if (p->auth == AUTH_NONE)
		return code_len == 0;
	/* The length is public; only the contents are compared in constant time. */
	if (code == NULL || code_len == 0 || code_len != cipher_auth_mac_len(p->auth))
		return false;
	n = cipher_rakp3_code(p, kuid, kuid_len, want);
	if (n > 0 && (size_t)n == code_len)
		ok = CRYPTO_memcmp(want, code, code_len) == 0;
	OPENSSL_cleanse(want, sizeof(want));
	return ok;
}

static bool all_zero(const uint8_t *b, size_t n)
{
	uint8_t acc = 0;
	for (size_t i = 0; i < n; i++)
		acc |= b[i];
	return acc == 0;
}

/*
 * SIK (13.31): HMAC_Kg(Rm, Rc, ROLEm, ULENGTHm, UNAMEm), with Kuid in place
 * of Kg when Kg is null. A configured all-zero Kg is the null (default) Kg
 * of 13.31/13.33 and Get Channel Authentication Capabilities' "KG status",
 * so it selects Kuid too: that is what a client that was given no Kg
 * computes (ipmitool lanplus_generate_sik, FreeIPMI
 * ipmi_calculate_rmcpplus_session_keys, pyghmi _got_rakp2).
 *
 * K1 and K2 (13.32): HMAC_SIK(const1), HMAC_SIK(const2) with the
 * authentication algorithm's HMAC. 13.32 says the constants are the octet
 * "repeated up to the HMAC block size in length", which read literally would
 * be 64 bytes; every client we serve uses 20 bytes for every algorithm,
 * HMAC-SHA256 included: ipmitool (CONST_1/CONST_2 in lanplus_crypt.c),
 * FreeIPMI (IPMI_KEY_CONSTANT_LENGTH 20 in ipmi-rmcpplus-util.c), pyghmi
 * (b'\x01' * 20 in session.py). gebn/bmc hit the same trap (its issue #49)
 * and moved to 20 too. So: 20 bytes, always.
 */
#define K_CONST_LEN 20

int cipher_derive_keys(const struct rakp_params *p, const uint8_t *kuid,
                       size_t kuid_len, const uint8_t *kg, size_t kg_len,
                       struct cipher_keys *keys)
{
	uint8_t buf[RAKP_INPUT_MAX];
	uint8_t key[CIPHER_KEY_MAX];
	uint8_t mac[CIPHER_MAX_MAC];
	uint8_t konst[K_CONST_LEN];
	const struct hash *h;
	const uint8_t *gkey;
	size_t gkey_len, n = 0;

	if (keys == NULL)
		return -1;
	OPENSSL_cleanse(keys, sizeof(*keys));
	if (!rakp_params_ok(p) || kuid_len > CIPHER_KEY_MAX || (kuid == NULL && kuid_len > 0) ||
	    kg_len > CIPHER_KEY_MAX || (kg == NULL && kg_len > 0))
		return -1;
	if (kuid_len > 0)
		memcpy(keys->kuid, kuid, kuid_len);
	keys->kuid_len = (uint8_t)kuid_len;
	if (p->auth == AUTH_NONE)
		return 0; /* no SIK, K1, K2: len stays 0 */
	h = auth_hash(p->auth);
	if (h == NULL)
		goto fail;

	if (kg_len > 0 && !all_zero(kg, kg_len)) {
		gkey = kg;
		gkey_len = kg_len;
	} else {
		gkey = kuid;
		gkey_len = kuid_len;
	}
	if (pad_key(gkey, gkey_len, key) != 0)
		goto fail;

	n += put_bytes(buf + n, p->console_rand, CIPHER_RAND_LEN);
	n += put_bytes(buf + n, p->bmc_rand, CIPHER_RAND_LEN);
	n += put_role_user(buf + n, p);
	if (hmac(h, key, sizeof(key), buf, n, mac) != 0)
		goto fail;
	memcpy(keys->sik, mac, h->len);

	memset(konst, 0x01, sizeof(konst));
	if (hmac(h, keys->sik, h->len, konst, sizeof(konst), mac) != 0)
		goto fail;
	memcpy(keys->k1, mac, h->len);

	memset(konst, 0x02, sizeof(konst));
	if (hmac(h, keys->sik, h->len, konst, sizeof(konst), mac) != 0)
		goto fail;
	memcpy(keys->k2, mac, h->len);

	keys->len = (uint8_t)h->len;
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(mac, sizeof(mac));
	return 0;
fail:
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(mac, sizeof(mac));
	OPENSSL_cleanse(keys, sizeof(*keys));
	return -1;
}

/* RAKP 4 ICV (13.23, table 13-12 note): HMAC_SIK(Rm, SIDc, GUIDc),
 * truncated to cipher_auth_icv_len(). */
int cipher_rakp4_icv(const struct rakp_params *p, const struct cipher_keys *k,
                     uint8_t *out)
{
	uint8_t buf[CIPHER_RAND_LEN + 4 + CIPHER_GUID_LEN];
	uint8_t mac[CIPHER_MAX_MAC];
	const struct hash *h;
	size_t n = 0, icv;
	int rc = -1;

	if (p == NULL)
		return -1;
	if (p->auth == AUTH_NONE)
		return 0;
	h = auth_hash(p->auth);
	if (h == NULL || k == NULL || out == NULL || k->len != h->len)
		return -1;
	n += put_bytes(buf + n, p->console_rand, CIPHER_RAND_LEN);
	n += put_le32(buf + n, p->bmc_sid);
	n += put_bytes(buf + n, p->bmc_guid, CIPHER_GUID_LEN);
	icv = cipher_auth_icv_len(p->auth);
	if (hmac(h, k->sik, k->len, buf, n, mac) == 0) {
		memcpy(out, mac, icv);
		rc = (int)icv;
	}
	OPENSSL_cleanse(mac, sizeof(mac));
	return rc;
}

void cipher_keys_wipe(struct cipher_keys *k)
{
	if (k != NULL)
		OPENSSL_cleanse(k, sizeof(*k));
}

/* ---------------------------------------------------------------------- */
/* Integrity (13.28.4) */

/*
 * Into code[CIPHER_MAX_MAC]: the full, untruncated value the algorithm
 * produces (a caller keeps cipher_integ_len() bytes of it).
 *
 * HMAC-SHA1-96, HMAC-MD5-128, HMAC-SHA256-128: HMAC keyed by K1 (all of it:
 * 20, 16 or 32 bytes), truncated to 12, 16 or 16 bytes. 13.28.4 speaks of the
 * "Session Integrity Key" while 13.32 says the integrity algorithms' keying
 * material is generated from SIK, K1 being the integrity key; ipmitool
 * (lanplus_has_valid_auth_code: k1, k1_len), FreeIPMI (integrity_key = K1 in
 * ipmi_calculate_rmcpplus_session_keys) and pyghmi (self.k1) all key with K1,
 * for HMAC-MD5-128 too. (Old OpenIPMI lib/hmac.c keyed HMAC-MD5-128 with the
 * SIK; it is not one of the clients we serve.)
 *
 * MD5-128: not an HMAC and not keyed by K1: MD5(Kuid ‖ data ‖ Kuid) with the
 * password zero padded to the full 20-byte v2.0 field on both sides, as
 * FreeIPMI (ipmi_rmcpplus_check_packet_session_authentication_code, "Password
 * must be zero padded", IPMI_2_0_MAX_PASSWORD_LENGTH) and OpenIPMI
 * (lib/md5.c, ipmi_md5_authcode_initl(k, 20)) do. ipmitool and pyghmi do not
 * implement MD5-128 at all.
 */
static int integ_compute(uint8_t integ, const struct cipher_keys *k,
                         const uint8_t *data, size_t len, uint8_t code[CIPHER_MAX_MAC])
{
	const struct hash *h;

	if (k == NULL || (data == NULL && len > 0))
		return -1;
	switch (integ) {
	case INTEG_HMAC_SHA1_96: h = &hash_sha1; break;
	case INTEG_HMAC_MD5_128: h = &hash_md5; break;
	case INTEG_HMAC_SHA256_128: h = &hash_sha256; break;
	case INTEG_MD5_128: {
		uint8_t pw[CIPHER_KEY_MAX];
		const uint8_t *piece[3];
		size_t piece_len[3];
		int rc;

		if (pad_key(k->kuid, k->kuid_len, pw) != 0)
			return -1;
		piece[0] = pw;
		piece_len[0] = sizeof(pw);
		piece[1] = data;
		piece_len[1] = len;
		piece[2] = pw;
		piece_len[2] = sizeof(pw);
		rc = md5_pieces(piece, piece_len, 3, code);
		OPENSSL_cleanse(pw, sizeof(pw));
		return rc;
	}
	default: return -1;
	}
	if (k->len == 0 || k->len > CIPHER_MAX_MAC)
		return -1; /* no K1: RAKP-none sessions have no integrity */
	return hmac(h, k->k1, k->len, data, len, code);
}

int cipher_integ_sign(uint8_t integ, const struct cipher_keys *k,
                      const uint8_t *data, size_t len, uint8_t *out)
{
	uint8_t code[CIPHER_MAX_MAC];
	size_t n = cipher_integ_len(integ);

	if (integ == INTEG_NONE)
		return 0;
	if (n == 0 || out == NULL)
		return -1;
	if (integ_compute(integ, k, data, len, code) != 0)
		return -1; /* integ_compute wiped code */
	memcpy(out, code, n);
	OPENSSL_cleanse(code, sizeof(code));
	return 0;
}

bool cipher_integ_verify(uint8_t integ, const struct cipher_keys *k,
                         const uint8_t *data, size_t len,
                         const uint8_t *code, size_t code_len)
{
	uint8_t want[CIPHER_MAX_MAC];
	size_t n = cipher_integ_len(integ);
	bool ok = false;

	if (integ == INTEG_NONE)
		return code_len == 0;
	if (n == 0 || code == NULL || code_len != n)
		return false;
	if (integ_compute(integ, k, data, len, want) == 0)
		ok = CRYPTO_memcmp(want, code, n) == 0;
	OPENSSL_cleanse(want, sizeof(want));
	return ok;
}

/* ---------------------------------------------------------------------- */
/* AES-CBC-128 (13.29, table 13-20) */

/* Largest payload length whose output length still fits an int. */
#define CONF_LEN_MAX ((size_t)INT_MAX - 2 * CIPHER_AES_BLOCK)

/* A context keyed with the first 16 bytes of K2 (13.29.1), no EVP padding. */
static EVP_CIPHER_CTX *aes_ctx(const struct cipher_keys *k, const uint8_t *iv, int enc)
{
	EVP_CIPHER_CTX *ctx;

	if (!algs_ready() || alg_aes == NULL || k == NULL || k->len < 16 ||
	    k->len > CIPHER_MAX_MAC)
		return NULL;
	ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL)
		return NULL;
	if (EVP_CipherInit_ex2(ctx, alg_aes, k->k2, iv, enc, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1) {
		EVP_CIPHER_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* One EVP_CipherUpdate of exactly len bytes (a multiple of 16). */
static int aes_blocks(EVP_CIPHER_CTX *ctx, uint8_t *out, const uint8_t *in, size_t len)
{
	int got = 0;

	if (len == 0)
		return 0;
	if (len > (size_t)INT_MAX || EVP_CipherUpdate(ctx, out, &got, in, (int)len) != 1 ||
	    got < 0 || (size_t)got != len)
		return -1;
	return 0;
}

/*
 * Output: IV ‖ AES-CBC(payload ‖ 01 02 .. N ‖ N), N in 0..15 chosen so the
 * plaintext is a multiple of 16 (13.29: the pad length byte counts, and N is
 * the smallest such). With r = len % 16 the whole pad lives in the last
 * block: N = 15 - r. Full payload blocks are encrypted straight from the
 * caller's buffer; only the last block is assembled on the stack.
 */
int cipher_conf_encrypt(const struct cipher_keys *k, const uint8_t iv[16],
                        const uint8_t *payload, size_t len,
                        uint8_t *out, size_t out_cap)
{
	uint8_t last[CIPHER_AES_BLOCK];
	EVP_CIPHER_CTX *ctx;
	size_t full, r, total;
	int rc = -1, tail = 0;

	if (iv == NULL || out == NULL || (payload == NULL && len > 0) || len > CONF_LEN_MAX)
		return -1;
	full = len - len % CIPHER_AES_BLOCK;
	r = len % CIPHER_AES_BLOCK;
	total = CIPHER_AES_BLOCK + full + CIPHER_AES_BLOCK;
	if (out_cap < total)
		return -1;
	ctx = aes_ctx(k, iv, 1);
	if (ctx == NULL)
		return -1;

	if (r > 0)
		memcpy(last, payload + full, r);
	for (size_t i = r; i < CIPHER_AES_BLOCK - 1; i++)
		last[i] = (uint8_t)(i - r + 1);
	last[CIPHER_AES_BLOCK - 1] = (uint8_t)(CIPHER_AES_BLOCK - 1 - r);

	memmove(out, iv, CIPHER_AES_BLOCK);
	if (aes_blocks(ctx, out + CIPHER_AES_BLOCK, payload, full) == 0 &&
	    aes_blocks(ctx, out + CIPHER_AES_BLOCK + full, last, CIPHER_AES_BLOCK) == 0 &&
	    EVP_CipherFinal_ex(ctx, last, &tail) == 1 && tail == 0) /* writes nothing */
		rc = (int)total;
	EVP_CIPHER_CTX_free(ctx);
	OPENSSL_cleanse(last, sizeof(last));
	if (rc < 0)
		OPENSSL_cleanse(out, total);
	return rc;
}

/*
 * The pad length of a decrypted final block, or -1 when the trailer is not
 * 01 02 .. N ‖ N with N <= 15. Branch-free in the block's contents. (The
 * integrity AuthCode covers the ciphertext and is checked first, so a padding
 * oracle would not be reachable anyway; this costs nothing.)
 */
static int pad_len(const uint8_t last[CIPHER_AES_BLOCK])
{
	const unsigned top = sizeof(unsigned) * CHAR_BIT - 1;
	unsigned n = last[CIPHER_AES_BLOCK - 1];
	unsigned start = (CIPHER_AES_BLOCK - 1) - n; /* first pad byte (wraps if n > 15) */
	unsigned bad = ((CIPHER_AES_BLOCK - 1) - n) >> top; /* 1 when n > 15 */

	for (unsigned i = 0; i < CIPHER_AES_BLOCK - 1; i++) {
		unsigned in_pad = 1u ^ ((i - start) >> top); /* i >= start */
		unsigned want = (i - start + 1) & 0xffu;
		bad |= (0u - in_pad) & (last[i] ^ want);
	}
	return bad ? -1 : (int)n;
}

int cipher_conf_decrypt(const struct cipher_keys *k, const uint8_t *in,
                        size_t len, uint8_t *out, size_t out_cap)
{
	uint8_t last[CIPHER_AES_BLOCK];
	EVP_CIPHER_CTX *ctx;
	size_t body, plain, tail_bytes;
	int rc = -1, pad;

	/* IV plus a positive whole number of blocks. */
	if (in == NULL || out == NULL || len < 2 * CIPHER_AES_BLOCK ||
	    len % CIPHER_AES_BLOCK != 0 || len - CIPHER_AES_BLOCK > CONF_LEN_MAX)
		return -1;
	body = len - 2 * CIPHER_AES_BLOCK; /* ciphertext before the final block */
	/* Every well-formed plaintext is at least body bytes long (N <= 15). */
	if (out_cap < body)
		return -1;
	ctx = aes_ctx(k, in, 0);
	if (ctx == NULL)
		return -1;
	if (aes_blocks(ctx, out, in + CIPHER_AES_BLOCK, body) != 0 ||
	    aes_blocks(ctx, last, in + CIPHER_AES_BLOCK + body, CIPHER_AES_BLOCK) != 0)
		goto done;
	pad = pad_len(last);
	if (pad < 0)
		goto done;
	tail_bytes = CIPHER_AES_BLOCK - 1 - (size_t)pad; /* payload bytes in the last block */
	plain = body + tail_bytes;
	if (out_cap < plain)
		goto done;
	memcpy(out + body, last, tail_bytes);
	rc = (int)plain;
done:
	EVP_CIPHER_CTX_free(ctx);
	OPENSSL_cleanse(last, sizeof(last));
	if (rc < 0)
		OPENSSL_cleanse(out, body); /* no half-decrypted plaintext left behind */
	return rc;
}

/* ---------------------------------------------------------------------- */
/* IPMI v1.5 AuthCode (22.17.1, table 13-9 AuthCode Algorithms; session
 * header per 13.6). Authentication type numbers (table 13-9 / 22-15). */

#define V15_AUTH_NONE     0
#define V15_AUTH_MD2      1
#define V15_AUTH_MD5      2
#define V15_AUTH_PASSWORD 4

int cipher_v15_authcode(uint8_t type, const uint8_t pw[16], uint32_t sid,
                        const uint8_t *data, size_t len, uint32_t seq,
                        uint8_t out[16])
{
	switch (type) {
	case V15_AUTH_NONE:
		return 0; /* the session header carries no AuthCode field */
	case V15_AUTH_PASSWORD:
		if (pw == NULL || out == NULL)
			return -1;
		memmove(out, pw, 16);
		return 16;
	case V15_AUTH_MD5: {
		/* MD5(password ‖ session ID ‖ message data ‖ session seq ‖
		 * password), password as the 16-byte zero-padded field, IDs
		 * little-endian as on the wire; pyghmi _ipmi15authcode agrees. */
		uint8_t sid_le[4], seq_le[4];
		const uint8_t *piece[5];
		size_t piece_len[5];

		if (pw == NULL || out == NULL || (data == NULL && len > 0))
			return -1;
		put_le32(sid_le, sid);
		put_le32(seq_le, seq);
		piece[0] = pw;
		piece_len[0] = 16;
		piece[1] = sid_le;
		piece_len[1] = 4;
		piece[2] = data;
		piece_len[2] = len;
		piece[3] = seq_le;
		piece_len[3] = 4;
		piece[4] = pw;
		piece_len[4] = 16;
		return md5_pieces(piece, piece_len, 5, out) == 0 ? 16 : -1;
	}
	case V15_AUTH_MD2: /* unsupported: no client we serve offers only MD2 */
	default:
		return -1;
	}
}
