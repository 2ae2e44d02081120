/*
 * backend_local.c - the in-memory backend: power and boot requests take
 * effect at once in the persona. It makes the IPMI core testable alone,
 * and serves personas declared in the config file.
 */
#include "backend.h"
#include "ipmi.h"
#include "log.h"
#include "loop.h"
#include "persona.h"

#include <stdio.h>

const char *chassis_ctl_name(uint8_t action)
{
	static const char *const names[] = { "power off", "power on", "power cycle",
	                                     "hard reset", "diagnostic interrupt",
	                                     "soft off" };
	return action < sizeof(names) / sizeof(names[0]) ? names[action] : "?";
}

const char *boot_dev_name(uint8_t dev)
{
	switch (dev) {
	case BOOTDEV_NONE: return "none";
	case BOOTDEV_PXE: return "pxe";
	case BOOTDEV_DISK: return "disk";
	case BOOTDEV_DISK_SAFE: return "safe";
	case BOOTDEV_DIAG: return "diag";
	case BOOTDEV_CDROM: return "cdrom";
	case BOOTDEV_BIOS: return "bios";
	case BOOTDEV_REMOTE_FLOPPY: return "remote floppy";
	case BOOTDEV_REMOTE_CDROM: return "remote cdrom";
	case BOOTDEV_REMOTE_MEDIA: return "remote media";
	case BOOTDEV_REMOTE_DISK: return "remote disk";
	case BOOTDEV_FLOPPY: return "floppy";
	default: return "?";
	}
}

static enum backend_status local_submit(struct backend *b, struct persona *p,
                                        const struct backend_req *r, uint64_t token,
                                        uint8_t *cc)
{
	uint64_t now = loop_clock_ms();
	char what[96];

	(void)b;
	(void)token;
	*cc = CC_OK;
	if (r->kind == BREQ_POWER) {
		switch (r->action) {
		case CTL_POWER_OFF:
		case CTL_SOFT_OFF:
			persona_set_power(p, POWER_OFF, now);
			break;
		case CTL_POWER_ON:
		case CTL_POWER_CYCLE:
		case CTL_HARD_RESET:
			/* A cycle or reset of a server that is off leaves it on,
			 * as the Metal backend does. */
			persona_set_power(p, POWER_ON, now);
			break;
		case CTL_DIAG_INTERRUPT:
			break;
		default:
			*cc = CC_INVALID_DATA_FIELD;
		}
		snprintf(what, sizeof(what), "%s", chassis_ctl_name(r->action));
	} else {
		snprintf(what, sizeof(what), "boot %s%s%s", boot_dev_name(r->boot.dev),
		         r->boot.persistent ? " persistent" : "", r->boot.efi ? " efi" : "");
	}
	persona_record_action(p, what, r->source, *cc);
	log_info("persona %s: %s (local backend) by %s", p->user, what, r->source);
	return BACKEND_DONE;
}

const struct backend_ops backend_local_ops = {
	.name = "local",
	.submit = local_submit,
};
