/*
 * fuzz_config.c - config_parse_yaml() (libyaml document, key table,
 * every value parser) and the listen/CIDR parsers on their own.
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *null;
	static struct config c;
	if (!null)
		null = fopen("/dev/null", "w");
	if (size > 64 * 1024)
		return 0;

	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = 0;
	config_defaults(&c);
	(void)config_parse_yaml(&c, "fuzz.yaml", text, size, null);
	config_print(&c, null);
	config_free(&c);

	/* the same bytes as one listen address and one CIDR */
	struct listen_addr la;
	struct cidr ci;
	(void)config_parse_listen(text, 623, &la);
	(void)config_parse_cidr(text, &ci);
	free(text);
	return 0;
}
