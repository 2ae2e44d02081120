/*
 * assets.h - the page's script and style sheet, compiled in.
 *
 * They are real files in web/assets/ (readable, diffable); the build turns
 * them into byte arrays (embed_assets.cmake), so the appliance serves them
 * from the same origin, with no files beside the binary and no external
 * host: the strict Content-Security-Policy ('self' only, no inline code)
 * holds, and the page works on an air-gapped network.
 */
#ifndef METALBMC_ASSETS_H
#define METALBMC_ASSETS_H

#include <stddef.h>

struct web_asset {
	const char *path;           /* "/static/page.js" */
	const char *content_type;
	const unsigned char *data;
	size_t len;
};

extern const struct web_asset web_assets[];
extern const size_t web_assets_count;

#endif
