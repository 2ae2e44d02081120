/*
 * page / per_page and the Meta object of paged lists.
 *
 * The spec bounds page to 1..100000 and per_page to 1..1000 (default 10)
 * but declares no 422 answer for the list operations, so out-of-range or
 * unparsable values are clamped to the nearest bound (a missing value takes
 * the default) rather than refused; README.md records this choice.
 *
 * Meta links are Href objects, which the spec does not allow to be null, so
 * `previous` is absent on the first page and `next` on the last.
 */
#include "metal_sim.h"

#include <errno.h>
#include <stdlib.h>

static long read_long(const char *s, long dflt, long lo, long hi)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return dflt;
	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end != '\0')
		return dflt;
	if (errno == ERANGE)
		return v < 0 ? lo : hi;
	return v < lo ? lo : v > hi ? hi : v;
}

void paging_read(const struct query *q, struct paging *pg)
{
	pg->page = read_long(query_get(q, "page"), 1, 1, SIM_PAGE_MAX);
	pg->per_page = read_long(query_get(q, "per_page"), SIM_PER_PAGE_DEFAULT,
				 1, SIM_PER_PAGE_MAX);
}

static json_t *href(const char *base, const char *keep, long page, long per_page)
{
	struct strbuf sb;
	char *s;
	json_t *o;

	sb_init(&sb);
	sb_printf(&sb, "%s?page=%ld&per_page=%ld%s", base, page, per_page, keep);
	s = sb_steal(&sb);
	o = s ? json_pack("{s:s}", "href", s) : NULL;
	free(s);
	return o;
}

json_t *paging_meta(const char *base_path, const char *keep,
		    const struct paging *pg, size_t total)
{
	long last = total == 0 ? 1 : (long)((total + (size_t)pg->per_page - 1) /
					    (size_t)pg->per_page);
	json_t *meta = json_object();

	if (meta == NULL)
		return NULL;
	json_object_set_new(meta, "first", href(base_path, keep, 1, pg->per_page));
	if (pg->page > 1)
		json_object_set_new(meta, "previous",
				    href(base_path, keep,
					 pg->page - 1 < last ? pg->page - 1 : last,
					 pg->per_page));
	json_object_set_new(meta, "self", href(base_path, keep, pg->page, pg->per_page));
	if (pg->page < last)
		json_object_set_new(meta, "next",
				    href(base_path, keep, pg->page + 1, pg->per_page));
	json_object_set_new(meta, "last", href(base_path, keep, last, pg->per_page));
	json_object_set_new(meta, "current_page", json_integer(pg->page));
	json_object_set_new(meta, "last_page", json_integer(last));
	json_object_set_new(meta, "total", json_integer((json_int_t)total));
	return meta;
}
