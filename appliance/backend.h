/*
 * backend.h - where a persona's power and boot requests are carried out.
 *
 * The engine asks; a backend answers at once (BACKEND_DONE with a completion
 * code) or later (BACKEND_PENDING, then backend_complete() on the loop
 * thread with the same token). A request is plain data: no pointers into
 * engine state, so it can cross a thread or process boundary.
 */
#ifndef METALBMC_BACKEND_H
#define METALBMC_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

struct persona;

/* Chassis Control values (table 28-4). */
enum chassis_ctl {
	CTL_POWER_OFF = 0x00,
	CTL_POWER_ON = 0x01,
	CTL_POWER_CYCLE = 0x02,
	CTL_HARD_RESET = 0x03,
	CTL_DIAG_INTERRUPT = 0x04,
	CTL_SOFT_OFF = 0x05,
};

/* Boot device selector of boot option parameter 5, data 2 bits 5:2. */
enum boot_dev {
	BOOTDEV_NONE = 0x0,
	BOOTDEV_PXE = 0x1,
	BOOTDEV_DISK = 0x2,
	BOOTDEV_DISK_SAFE = 0x3,
	BOOTDEV_DIAG = 0x4,
	BOOTDEV_CDROM = 0x5,
	BOOTDEV_BIOS = 0x6,
	BOOTDEV_REMOTE_FLOPPY = 0x7,
	BOOTDEV_REMOTE_CDROM = 0x8,
	BOOTDEV_REMOTE_MEDIA = 0x9,
	BOOTDEV_REMOTE_DISK = 0xB,
	BOOTDEV_FLOPPY = 0xF,
};

struct boot_target {
	uint8_t dev;      /* enum boot_dev */
	bool persistent;
	bool efi;
};

enum backend_req_kind { BREQ_POWER, BREQ_BOOT };

struct backend_req {
	enum backend_req_kind kind;
	uint8_t action;          /* enum chassis_ctl, for BREQ_POWER */
	struct boot_target boot; /* for BREQ_BOOT */
	char source[64];         /* who asked: "ipmi 127.0.0.1:40000 user" for the audit trail */
};

enum backend_status { BACKEND_DONE = 0, BACKEND_PENDING = 1 };

struct backend;
struct backend_ops {
	const char *name;
	/* Start r for p. Return BACKEND_DONE with *cc set, or BACKEND_PENDING
	 * and later call backend_complete(b, token, cc). */
	enum backend_status (*submit)(struct backend *b, struct persona *p,
	                              const struct backend_req *r, uint64_t token,
	                              uint8_t *cc);
	/* Boot setting to report, when the backend knows better than the
	 * persona's own record (e.g. the device's always_pxe). Optional. */
	bool (*boot_get)(struct backend *b, const struct persona *p,
	                 struct boot_target *out);
	/* Called when a persona stops using this backend. Optional. */
	void (*detach)(struct backend *b, struct persona *p);
};

typedef void (*backend_done_fn)(void *arg, uint64_t token, uint8_t cc);

struct backend {
	const struct backend_ops *ops;
	void *ctx;
	backend_done_fn done;   /* set by the engine */
	void *done_arg;
};

static inline void backend_complete(struct backend *b, uint64_t token, uint8_t cc)
{
	if (b->done)
		b->done(b->done_arg, token, cc);
}

/* The in-memory backend: power and boot change instantly in the persona. */
extern const struct backend_ops backend_local_ops;

const char *chassis_ctl_name(uint8_t action);
const char *boot_dev_name(uint8_t dev);

#endif
