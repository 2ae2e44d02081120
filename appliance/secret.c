/*
 * secret.c - secret storage, wiping, constant-time compare, derived
 * per-device passwords.
 */
#include "secret.h"
#include "bounds.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

void secret_wipe(void *p, size_t n)
{
	if (p && n)
		OPENSSL_cleanse(p, n);
}

bool secret_ct_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

int secret_set(struct secret *s, const void *data, size_t len)
{
	/* One spare NUL so the few users that need a C string (curl header,
	 * reveal page) can use the buffer directly. */
	uint8_t *b = malloc(len + 1);
	if (!b)
		return -1;
	if (len)
		memcpy(b, data, len);
	b[len] = 0;
	secret_clear(s);
	s->buf = b;
	s->len = len;
	return 0;
}

void secret_clear(struct secret *s)
{
	if (s->buf) {
		secret_wipe(s->buf, s->len + 1);
		free(s->buf);
	}
	s->buf = NULL;
	s->len = 0;
}

bool secret_equals(const struct secret *s, const void *data, size_t len)
{
	if (!s->buf || s->len != len)
		return false;
	return CRYPTO_memcmp(s->buf, data, len) == 0;
}

void secret_to_field(const struct secret *s, uint8_t *out, size_t n)
{
	size_t take = s->len > n ? n : s->len;

	memset(out, 0, n);
	if (take)
		memcpy(out, s->buf, take);
}

static int getrandom_all(uint8_t *p, size_t n)
{
	while (n) {
		ssize_t r = getrandom(p, n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/*
 * secret_random() draws through a small per-thread pool. The IPMI path asks
 * for 4 to 16 bytes at a time, about ten times per session (session ID, Rc,
 * an IV per encrypted reply), and on a virtual machine each getrandom()
 * costs a system call worth more than the work around it; one call now
 * fills RANDOM_POOL bytes. The pool only holds bytes nobody has been given:
 * each byte handed out is wiped from it at once. Per thread, so no lock; a
 * fork would copy it into the child, so a fork handler invalidates every
 * pool and the child refills before it draws.
 */
#define RANDOM_POOL 512 /* bytes per refill */

struct random_pool {
	uint8_t buf[RANDOM_POOL];
	size_t left;       /* unused bytes, at the end of buf */
	unsigned fork_gen; /* fork_gen when filled */
};

static _Thread_local struct random_pool pool;
static unsigned fork_gen; /* written only in a child right after fork */
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

static void pool_after_fork(void) { fork_gen++; }
static void pool_register(void) { pthread_atfork(NULL, NULL, pool_after_fork); }

int secret_random(void *buf, size_t n)
{
	struct random_pool *rp = &pool;
	uint8_t *from;

	if (n > RANDOM_POOL / 4)
		return getrandom_all(buf, n); /* large requests are rare */
	pthread_once(&pool_once, pool_register);
	if (rp->fork_gen != fork_gen || rp->left < n) {
		if (getrandom_all(rp->buf, sizeof(rp->buf)) < 0) {
			secret_wipe(rp->buf, sizeof(rp->buf));
			rp->left = 0;
			return -1;
		}
		rp->left = sizeof(rp->buf);
		rp->fork_gen = fork_gen;
	}
	from = rp->buf + sizeof(rp->buf) - rp->left;
	memcpy(buf, from, n);
	secret_wipe(from, n);
	rp->left -= n;
	return 0;
}

static const char pw_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

int secret_device_password(const struct secret *master, const char *device_id,
                           char *out)
{
	static const char label[] = "metalbmc-ipmi-v1";
	uint8_t mac[32];
	size_t maclen = sizeof(mac), used = 0, o = 0;
	uint8_t counter = 0;
	int rc = -1;

	if (!secret_present(master))
		return -1;
	/* Rejection sampling keeps every character uniform: bytes >= 248
	 * (4 * 62) are skipped; a fresh block comes from a counter. */
	while (o < MAX_PASSWORD) {
		if (used == maclen || counter == 0) {
			uint8_t msg[sizeof(label) + MAX_DEVICE_ID + 1];
			size_t idlen = strnlen(device_id, MAX_DEVICE_ID);
			memcpy(msg, label, sizeof(label) - 1);
			memcpy(msg + sizeof(label) - 1, device_id, idlen);
			msg[sizeof(label) - 1 + idlen] = counter++;
			if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL,
			               master->buf, master->len, msg,
			               sizeof(label) + idlen, mac, sizeof(mac),
			               &maclen))
				goto out;
			used = 0;
		}
		uint8_t b = mac[used++];
		if (b < 248)
			out[o++] = pw_alphabet[b % 62];
	}
	out[o] = '\0';
	rc = 0;
out:
	secret_wipe(mac, sizeof(mac));
	return rc;
}

int secret_read_file(const char *path, struct secret *s, char *why, size_t why_len)
{
	struct stat st;
	char buf[MAX_SECRET_FILE_BYTES + 1];
	ssize_t n;
	size_t len = 0;
	int fd, rc = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(why, why_len, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, why_len, "not a regular file");
		goto out;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(why, why_len,
		         "file is accessible by group or others (mode %03o); "
		         "chmod 600 it", (unsigned)(st.st_mode & 0777));
		goto out;
	}
	while ((n = read(fd, buf + len, sizeof(buf) - len)) > 0) {
		len += (size_t)n;
		if (len == sizeof(buf))
			break;
	}
	if (n < 0) {
		snprintf(why, why_len, "read failed: %s", strerror(errno));
		goto out;
	}
	if (len > MAX_SECRET_FILE_BYTES) {
		snprintf(why, why_len, "larger than %d bytes", MAX_SECRET_FILE_BYTES);
		goto out;
	}
	if (len && buf[len - 1] == '\n')
		len--;
	if (len && buf[len - 1] == '\r')
		len--;
	if (len == 0) {
		snprintf(why, why_len, "file is empty");
		goto out;
	}
	if (secret_set(s, buf, len) < 0) {
		snprintf(why, why_len, "out of memory");
		goto out;
	}
	rc = 0;
out:
	secret_wipe(buf, sizeof(buf));
	close(fd);
	return rc;
}
