/*
 * fuzz_tags.c - the tag grammar (discovery/tags.c): the input, split at
 * NUL bytes, is a device's packed tag list.
 */
#include <stdlib.h>
#include <string.h>

#include "tags.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void bad_tag(void *arg, const char *tag, const char *reason)
{
	(*(unsigned *)arg)++;
	(void)tag;
	(void)reason;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 64 * 1024)
		return 0;
	/* packed: each tag NUL-terminated, back to back */
	char *packed = malloc(size + 1);
	memcpy(packed, data, size);
	packed[size] = 0;
	size_t count = 0;
	for (size_t i = 0; i <= size; i++)
		if (packed[i] == 0)
			count++;
	struct tag_config a, b;
	unsigned bad = 0;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	tags_parse(packed, count, &a, bad_tag, &bad);
	tags_parse(packed, count, &b, bad_tag, &bad);
	if (!tag_config_equal(&a, &b))
		abort(); /* parsing is a pure function of the tags */
	free(packed);
	return 0;
}
