/*
 * Fault injection for /metal/v1 calls (never for /_sim).
 *
 * Order of decisions for one request, each drawn from the seeded fault
 * stream only when its knob is on (so turning one knob on does not shift
 * the others' sequence more than necessary):
 *   before handling: drop, window, fail, rate limit (the request then has
 *                    no effect, as a refusal at the edge would);
 *   after handling:  malformed, truncate (only on a 200 with a JSON body;
 *                    the request did take effect, only the answer is bad).
 * slow_ms delays every answer and combines with all of the above.
 */
#include "metal_sim.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void faults_defaults(struct fault_config *fc)
{
	memset(fc, 0, sizeof(*fc));
	fc->fail_status = 500;
	fc->retry_after_s = 1;
}

static bool roll(struct sim *sim, double rate)
{
	if (rate <= 0.0)
		return false;
	if (rate >= 1.0)
		return true;
	return rng_uniform(&sim->fault_rng) < rate;
}

enum fault_kind faults_decide_before(struct sim *sim, int64_t now_ms)
{
	const struct fault_config *fc = &sim->faults;

	if (roll(sim, fc->drop_rate))
		return FAULT_DROP;
	if (fc->window_set) {
		int64_t rel = now_ms - fc->window_origin_ms;

		if (rel >= fc->window_start_ms &&
		    rel < fc->window_start_ms + fc->window_len_ms)
			return FAULT_WINDOW;
	}
	if (roll(sim, fc->fail_rate))
		return FAULT_FAIL;
	if (roll(sim, fc->rate_limit_rate))
		return FAULT_RATE_LIMIT;
	return FAULT_NONE;
}

enum fault_kind faults_decide_after(struct sim *sim)
{
	if (roll(sim, sim->faults.malformed_rate))
		return FAULT_MALFORMED;
	if (roll(sim, sim->faults.truncate_rate))
		return FAULT_TRUNCATE;
	return FAULT_NONE;
}

const char *fault_name(enum fault_kind k)
{
	switch (k) {
	case FAULT_NONE: return NULL;
	case FAULT_DROP: return "drop";
	case FAULT_WINDOW: return "window";
	case FAULT_FAIL: return "fail";
	case FAULT_RATE_LIMIT: return "rate_limit";
	case FAULT_MALFORMED: return "malformed";
	case FAULT_TRUNCATE: return "truncate";
	}
	return NULL;
}

bool parse_rate(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= 0.0 && v <= 1.0))
		return false;
	*out = v;
	return true;
}

static bool parse_ms(const char *s, const char *stop, int64_t *out)
{
	char *end;
	long long v;

	if (s == stop || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end != stop || v < 0 || v > 1000LL * 86400 * 365)
		return false;
	*out = v;
	return true;
}

bool parse_window(const char *s, int64_t *start, int64_t *len)
{
	const char *colon = strchr(s, ':');

	return colon != NULL && parse_ms(s, colon, start) &&
	       parse_ms(colon + 1, colon + 1 + strlen(colon + 1), len);
}

static bool valid_fail_status(json_int_t v)
{
	/* Any error status a client must cope with; 1xx-3xx would not be
	 * faults and would confuse the Error body we send. */
	return v >= 400 && v <= 599;
}

const char *faults_apply_json(struct sim *sim, const json_t *obj)
{
	struct fault_config fc = sim->faults;
	bool reseed = false;
	const char *key;
	json_t *v;

	if (!json_is_object(obj))
		return "body must be a JSON object of fault settings";
	json_object_foreach((json_t *)obj, key, v) {
		double *rate = NULL;

		if (strcmp(key, "fail_rate") == 0)
			rate = &fc.fail_rate;
		else if (strcmp(key, "rate_limit_rate") == 0)
			rate = &fc.rate_limit_rate;
		else if (strcmp(key, "malformed_rate") == 0)
			rate = &fc.malformed_rate;
		else if (strcmp(key, "truncate_rate") == 0)
			rate = &fc.truncate_rate;
		else if (strcmp(key, "drop_rate") == 0)
			rate = &fc.drop_rate;
		if (rate != NULL) {
			if (!json_is_number(v) || json_number_value(v) < 0.0 ||
			    json_number_value(v) > 1.0)
				return "rates must be numbers between 0 and 1";
			*rate = json_number_value(v);
		} else if (strcmp(key, "fail_status") == 0) {
			if (!json_is_integer(v) || !valid_fail_status(json_integer_value(v)))
				return "fail_status must be an integer from 400 to 599";
			fc.fail_status = (unsigned)json_integer_value(v);
		} else if (strcmp(key, "retry_after") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) > 86400)
				return "retry_after must be an integer number of seconds (0-86400)";
			fc.retry_after_s = (unsigned)json_integer_value(v);
		} else if (strcmp(key, "slow_ms") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) > SIM_MAX_SLOW_MS)
				return "slow_ms must be an integer from 0 to 600000";
			fc.slow_ms = (unsigned)json_integer_value(v);
		} else if (strcmp(key, "fail_window") == 0) {
			if (json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0)) {
				fc.window_set = false;
			} else if (json_is_string(v) &&
				   parse_window(json_string_value(v), &fc.window_start_ms,
						&fc.window_len_ms)) {
				fc.window_set = true;
				/* At run time the window counts from now. */
				fc.window_origin_ms = clock_now_ms();
			} else {
				return "fail_window must be \"START_MS:LEN_MS\", \"\" or null";
			}
		} else if (strcmp(key, "seed") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < 0)
				return "seed must be a non-negative integer";
			fc.seed = (uint64_t)json_integer_value(v);
			reseed = true;
		} else if (strcmp(key, "transition_ms") == 0) {
			/* Not a fault, but tests want to change it without a
			 * restart; applied only if the whole body is valid. */
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) > 3600000)
				return "transition_ms must be an integer from 0 to 3600000";
		} else if (strcmp(key, "reset") == 0) {
			if (!json_is_true(v) && !json_is_false(v))
				return "reset must be a boolean";
			if (json_is_true(v)) {
				uint64_t seed = fc.seed;

				faults_defaults(&fc);
				fc.seed = seed;
			}
		} else {
			return "unknown fault setting (see README: fail_rate, fail_status, fail_window, rate_limit_rate, retry_after, slow_ms, malformed_rate, truncate_rate, drop_rate, seed, transition_ms, reset)";
		}
	}
	v = json_object_get(obj, "transition_ms");
	if (v != NULL)
		sim->transition_ms = (unsigned)json_integer_value(v);
	if (reseed)
		rng_seed(&sim->fault_rng, fc.seed);
	sim->faults = fc;
	return NULL;
}

json_t *faults_to_json(const struct fault_config *fc)
{
	json_t *o = json_pack("{s:f,s:i,s:f,s:i,s:i,s:f,s:f,s:f,s:I}",
			      "fail_rate", fc->fail_rate, "fail_status",
			      (int)fc->fail_status, "rate_limit_rate",
			      fc->rate_limit_rate, "retry_after",
			      (int)fc->retry_after_s, "slow_ms", (int)fc->slow_ms,
			      "malformed_rate", fc->malformed_rate, "truncate_rate",
			      fc->truncate_rate, "drop_rate", fc->drop_rate, "seed",
			      (json_int_t)fc->seed);

	if (o == NULL)
		return NULL;
	if (fc->window_set) {
		char w[64];

		snprintf(w, sizeof(w), "%lld:%lld", (long long)fc->window_start_ms,
			 (long long)fc->window_len_ms);
		json_object_set_new(o, "fail_window", json_string(w));
	} else {
		json_object_set_new(o, "fail_window", json_null());
	}
	return o;
}

char *faults_break_json(const char *body, size_t len, size_t *out_len)
{
	/* Half the real answer, then "{," - a JSON text can never end in an
	 * object opened with a comma, so the result is broken whatever the
	 * half looked like, and it still resembles the real answer. */
	static const char tail[] = "{,";
	size_t keep = len / 2;
	char *out = malloc(keep + sizeof(tail));

	if (out == NULL)
		return NULL;
	memcpy(out, body, keep);
	memcpy(out + keep, tail, sizeof(tail));
	*out_len = keep + sizeof(tail) - 1;
	return out;
}
