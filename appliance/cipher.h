/*
 * cipher.h - RMCP+ cipher suites and their algorithms (IPMI v2.0 rev 1.1,
 * sections 13.28 - 13.32, tables 13-17 to 13-19, 22-19 / 22-20).
 *
 * Everything here is a pure function of its arguments: no session state, no
 * I/O, no globals besides constant tables and the OpenSSL algorithm objects
 * (HMAC, MD5, AES-128-CBC), fetched once, thread-safely, on first use. rakp.c
 * and rmcpplus.c call these; unit tests check them against known answers.
 */
#ifndef METALBMC_CIPHER_H
#define METALBMC_CIPHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Authentication algorithm numbers (table 13-17). */
enum auth_alg {
	AUTH_NONE = 0x00,
	AUTH_HMAC_SHA1 = 0x01,
	AUTH_HMAC_MD5 = 0x02,
	AUTH_HMAC_SHA256 = 0x03,
};

/* Integrity algorithm numbers (table 13-18). */
enum integ_alg {
	INTEG_NONE = 0x00,
	INTEG_HMAC_SHA1_96 = 0x01,
	INTEG_HMAC_MD5_128 = 0x02,
	INTEG_MD5_128 = 0x03,
	INTEG_HMAC_SHA256_128 = 0x04,
};

/* Confidentiality algorithm numbers (table 13-19). */
enum conf_alg {
	CONF_NONE = 0x00,
	CONF_AES_CBC_128 = 0x01,
};

#define CIPHER_MAX_MAC      32 /* bytes: largest HMAC output (SHA-256) */
#define CIPHER_MAX_AUTHCODE 16 /* bytes: largest integrity AuthCode */
#define CIPHER_AES_BLOCK    16 /* bytes: AES block, also the IV length */
#define CIPHER_RAND_LEN     16 /* bytes: Rm and Rc, the RAKP random numbers */
#define CIPHER_GUID_LEN     16 /* bytes: GUIDc */
#define CIPHER_KEY_MAX      20 /* bytes: Kuid / Kg, password field of IPMI v2.0 */
#define CIPHER_USER_MAX     16 /* bytes: user name field */

/* One row of the suite table (table 22-20). */
struct cipher_suite {
	uint8_t id;
	uint8_t auth;  /* enum auth_alg */
	uint8_t integ; /* enum integ_alg */
	uint8_t conf;  /* enum conf_alg */
};

/* Every suite metalbmc implements: 0, 1, 2, 3, 6, 7, 8, 11, 12, 15, 16, 17.
 * Whether one may be used is policy, decided by the caller (config). */
extern const struct cipher_suite cipher_suites[];
extern const size_t cipher_suite_count;

const struct cipher_suite *cipher_suite_by_id(uint8_t id);
/* The implemented suite with exactly these three algorithms, or NULL. */
const struct cipher_suite *cipher_suite_find(uint8_t auth, uint8_t integ,
                                             uint8_t conf);

/* Output length of the authentication algorithm's HMAC (20, 16, 32; 0 for
 * none). This is also the length of SIK, K1 and K2. */
size_t cipher_auth_mac_len(uint8_t auth);
/* Length of the RAKP 4 Integrity Check Value (12 for SHA1, 16 for MD5,
 * 16 for SHA256, 0 for none). */
size_t cipher_auth_icv_len(uint8_t auth);
/* Length of the AuthCode trailer for an integrity algorithm (0, 12, 16). */
size_t cipher_integ_len(uint8_t integ);

/* Everything RAKP exchanges that the key-exchange MACs cover. All multi-byte
 * integers are sent little-endian; the session IDs here are host values. */
struct rakp_params {
	uint8_t auth;                     /* enum auth_alg */
	uint32_t console_sid;             /* SIDm: remote console session ID */
	uint32_t bmc_sid;                 /* SIDc: managed system session ID */
	uint8_t console_rand[CIPHER_RAND_LEN]; /* Rm */
	uint8_t bmc_rand[CIPHER_RAND_LEN];     /* Rc */
	uint8_t bmc_guid[CIPHER_GUID_LEN];     /* GUIDc */
	uint8_t role;                     /* ROLEm: the whole RAKP 1 byte */
	uint8_t user_len;                 /* ULENGTHm, 0..16 */
	uint8_t user[CIPHER_USER_MAX];    /* UNAMEm */
};

/* Keys derived for one session. Wipe with cipher_keys_wipe(). */
struct cipher_keys {
	uint8_t sik[CIPHER_MAX_MAC];
	uint8_t k1[CIPHER_MAX_MAC];
	uint8_t k2[CIPHER_MAX_MAC];
	uint8_t len;       /* bytes valid in sik/k1/k2 (auth MAC length) */
	uint8_t kuid[CIPHER_KEY_MAX]; /* user password, zero padded; MD5-128 needs it */
	uint8_t kuid_len;
};

/*
 * RAKP 2 Key Exchange Authentication Code (HMAC keyed by Kuid over SIDm,
 * SIDc, Rm, Rc, GUIDc, ROLEm, ULENGTHm, UNAMEm). Writes cipher_auth_mac_len()
 * bytes; returns that length, 0 for AUTH_NONE, -1 on failure.
 */
int cipher_rakp2_code(const struct rakp_params *p, const uint8_t *kuid,
                      size_t kuid_len, uint8_t *out);
/* RAKP 3 code the console must send (HMAC keyed by Kuid over Rc, SIDm, ROLEm,
 * ULENGTHm, UNAMEm). Same return convention. */
int cipher_rakp3_code(const struct rakp_params *p, const uint8_t *kuid,
                      size_t kuid_len, uint8_t *out);
/* Constant-time check of a received RAKP 3 code; false on any mismatch,
 * including a wrong length. For AUTH_NONE only an empty code matches. */
bool cipher_rakp3_verify(const struct rakp_params *p, const uint8_t *kuid,
                         size_t kuid_len, const uint8_t *code, size_t code_len);
/* SIK = HMAC_Kg(Rm, Rc, ROLEm, ULENGTHm, UNAMEm), where Kg is kg when
 * kg_len > 0 and kg is not all zero bytes (an all-zero Kg is the spec's null
 * Kg), else Kuid; then K1 = HMAC_SIK(0x01 * 20), K2 = HMAC_SIK(0x02 * 20).
 * kuid_len and kg_len are at most CIPHER_KEY_MAX. Fills keys (including a copy
 * of kuid; for AUTH_NONE only that, with len 0); returns 0, or -1 with keys
 * wiped. */
int cipher_derive_keys(const struct rakp_params *p, const uint8_t *kuid,
                       size_t kuid_len, const uint8_t *kg, size_t kg_len,
                       struct cipher_keys *keys);
/* RAKP 4 Integrity Check Value: HMAC_SIK(Rm, SIDc, GUIDc) truncated to
 * cipher_auth_icv_len(). Returns the length written, 0 for none, -1 on error. */
int cipher_rakp4_icv(const struct rakp_params *p, const struct cipher_keys *k,
                     uint8_t *out);
void cipher_keys_wipe(struct cipher_keys *k);

/*
 * Integrity AuthCode over data[0..len) (the session header from AuthType
 * through Next Header). Writes cipher_integ_len(integ) bytes to out: the HMAC
 * algorithms are keyed by K1, MD5-128 by the zero-padded 20-byte Kuid.
 * Returns 0 (also for INTEG_NONE, writing nothing) or -1.
 */
int cipher_integ_sign(uint8_t integ, const struct cipher_keys *k,
                      const uint8_t *data, size_t len, uint8_t *out);
/* Constant-time verification of a received AuthCode; false on any mismatch,
 * including a code_len other than cipher_integ_len(integ). For INTEG_NONE
 * only an empty code matches. */
bool cipher_integ_verify(uint8_t integ, const struct cipher_keys *k,
                         const uint8_t *data, size_t len,
                         const uint8_t *code, size_t code_len);

/*
 * AES-CBC-128 payload protection (section 13.29): output is IV (16 bytes,
 * from iv), then the ciphertext of payload + pad bytes 01,02,.. + pad length,
 * padded to a multiple of 16. Key is the first 16 bytes of K2 (k->len must be
 * at least 16). iv may point at out; payload must not overlap out.
 * Returns the number of bytes written, 16 + (len + 16) rounded down to a
 * multiple of 16, or -1 when out_cap is too small or an argument is invalid.
 */
int cipher_conf_encrypt(const struct cipher_keys *k, const uint8_t iv[16],
                        const uint8_t *payload, size_t len,
                        uint8_t *out, size_t out_cap);
/* Inverse; checks the length is IV + a positive multiple of 16 and that the
 * pad bytes are 01,02,.. with a pad length of at most 15; returns the
 * plaintext length, -1 if malformed or if out_cap is too small (it never
 * needs more than len - 17). out may not alias in. On -1, nothing decrypted
 * is left in out. */
int cipher_conf_decrypt(const struct cipher_keys *k, const uint8_t *in,
                        size_t len, uint8_t *out, size_t out_cap);

/* IPMI v1.5 AuthCode (section 22.17.1): MD5(password16, session ID, data,
 * session sequence, password16) for MD5, or the password itself for the
 * straight-password type. type is the v1.5 authentication type number
 * (0 none, 1 MD2, 2 MD5, 4 straight password). Returns the AuthCode length
 * written to out: 16, or 0 for type none (no AuthCode field); -1 for MD2 and
 * any other type. */
int cipher_v15_authcode(uint8_t type, const uint8_t pw[16], uint32_t sid,
                        const uint8_t *data, size_t len, uint32_t seq,
                        uint8_t out[16]);

#endif
