/*
 * fuzz_metal_api.c - the Metal API answer decoders (discovery/metal_api.c):
 * a device list page, one device, an error body; every decoded device's
 * tags then go through the tag grammar, as discovery does.
 *
 * The first input byte picks the decoder; the rest is the HTTP body.
 */
#include <stdlib.h>
#include <string.h>

#include "metal_api.h"
#include "tags.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void bad_tag(void *arg, const char *tag, const char *reason)
{
	(void)arg;
	(void)tag;
	(void)reason;
}

static void use_device(const struct metal_device *d)
{
	struct tag_config tc;
	memset(&tc, 0, sizeof(tc));
	tags_parse(d->tags, d->tag_count, &tc, bad_tag, NULL);
	size_t n = 0;
	for (const char *t = metal_device_tag(d, NULL); t; t = metal_device_tag(d, t))
		n += strlen(t);
	(void)n;
	(void)metal_state_power(d->state);
	(void)metal_state_transition(d->state);
	(void)metal_state_settled(d->state);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[256], err[256];
	if (size < 1 || size > 1024 * 1024)
		return 0;
	uint8_t which = data[0] % 3;
	/* an exact-size copy without a terminating NUL: the decoders take a
	 * length and must not read past it */
	char *body = malloc(size - 1 ? size - 1 : 1);
	memcpy(body, data + 1, size - 1);
	if (which == 0) {
		struct metal_page p;
		memset(&p, 0, sizeof(p));
		if (metal_decode_page(body, size - 1, &p, why, sizeof(why)) == 0) {
			for (size_t i = 0; i < p.count; i++)
				use_device(&p.devices[i]);
			metal_page_clear(&p);
		}
	} else if (which == 1) {
		struct metal_device d, moved;
		memset(&d, 0, sizeof(d));
		memset(&moved, 0, sizeof(moved));
		if (metal_decode_device(body, size - 1, &d, why, sizeof(why)) == 0) {
			use_device(&d);
			metal_device_move(&moved, &d);
			metal_device_clear(&moved);
			metal_device_clear(&d);
		}
	} else {
		metal_decode_error(body, size - 1, err, sizeof(err));
	}
	free(body);
	return 0;
}
