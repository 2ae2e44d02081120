/*
 * metal-sim: command line, start-up order, signals, shutdown.
 *
 *   metal-sim --listen 127.0.0.1:PORT --token TOKEN --fixture FILE.json [...]
 *
 * Exit status: 0 after SIGTERM/SIGINT, 2 for a usage or fixture error, 1 when
 * the server cannot start.
 */
#include "metal_sim.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXIT_USAGE 2

#ifndef METALBMC_VERSION
#define METALBMC_VERSION "0"
#endif

struct options {
	const char *listen;
	const char *fixture;
	const char *port_file;
	const char *request_log;
	const char *tls_cert;
	const char *tls_key;
	char *token;
};

static void usage(FILE *out)
{
	fputs("usage: metal-sim --listen HOST:PORT|[V6]:PORT --token TOKEN --fixture FILE.json [options]\n"
	      "\n"
	      "  --listen ADDR           where to listen (PORT 0 picks a free port); default 127.0.0.1:0\n"
	      "  --token TOKEN           the X-Auth-Token to accept (or --token-file, or $METAL_SIM_TOKEN)\n"
	      "  --token-file FILE       read the token from the first line of FILE\n"
	      "  --fixture FILE          {\"projects\": [{\"id\": UUID, \"devices\": [Device, ...]}]}\n"
	      "  --port-file FILE        also write the bound port to FILE (atomically)\n"
	      "  --request-log FILE      append one JSON line per API request\n"
	      "  --tls-cert FILE         serve https with this PEM certificate (needs --tls-key)\n"
	      "  --tls-key FILE          the PEM private key for --tls-cert\n"
	      "  --transition-ms N       time in each intermediate power state (default 2000)\n"
	      "  --seed N                seed for fault decisions and generated ids (default 1)\n"
	      "  --fail-rate P           share of API requests answered with --fail-status\n"
	      "  --fail-status CODE      status for --fail-rate and --fail-window (default 500)\n"
	      "  --fail-window S:L       every API request from S ms after start, for L ms, fails\n"
	      "  --rate-limit-rate P     share of API requests answered 429 with Retry-After\n"
	      "  --retry-after SECONDS   Retry-After value for 429 (default 1)\n"
	      "  --slow-ms N             delay every API answer by N ms\n"
	      "  --malformed-rate P      share of 200 JSON answers replaced by broken JSON\n"
	      "  --truncate-rate P       share of 200 JSON answers cut short (Content-Length too big)\n"
	      "  --drop-rate P           share of API requests whose connection is closed unanswered\n"
	      "  --verbose               one line per request on stderr (never the token)\n"
	      "  --help, --version\n", out);
}

static bool read_uint(const char *flag, const char *s, unsigned long max,
		      unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 || v > max) {
		fprintf(stderr, "metal-sim: %s: expected an integer from 0 to %lu, got '%s'\n",
			flag, max, s);
		return false;
	}
	*out = v;
	return true;
}

static char *read_token_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char buf[4096];
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "metal-sim: --token-file %s: %s\n", path, strerror(errno));
		return NULL;
	}
	if (fgets(buf, sizeof(buf), f) == NULL)
		buf[0] = '\0';
	fclose(f);
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	return strdup(buf);
}

/* Returns 0 to go on, or an exit status. */
static int parse_args(int argc, char **argv, struct options *o, struct sim *sim)
{
	enum { O_LISTEN = 256, O_TOKEN, O_TOKEN_FILE, O_FIXTURE, O_PORT_FILE,
	       O_REQUEST_LOG, O_TRANSITION, O_SEED, O_FAIL_RATE, O_FAIL_STATUS,
	       O_FAIL_WINDOW, O_RL_RATE, O_RETRY_AFTER, O_SLOW, O_MALFORMED,
	       O_TRUNCATE, O_DROP, O_VERBOSE, O_HELP, O_VERSION, O_TLS_CERT,
	       O_TLS_KEY };
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "token", required_argument, NULL, O_TOKEN },
		{ "token-file", required_argument, NULL, O_TOKEN_FILE },
		{ "fixture", required_argument, NULL, O_FIXTURE },
		{ "port-file", required_argument, NULL, O_PORT_FILE },
		{ "request-log", required_argument, NULL, O_REQUEST_LOG },
		{ "tls-cert", required_argument, NULL, O_TLS_CERT },
		{ "tls-key", required_argument, NULL, O_TLS_KEY },
		{ "transition-ms", required_argument, NULL, O_TRANSITION },
		{ "seed", required_argument, NULL, O_SEED },
		{ "fail-rate", required_argument, NULL, O_FAIL_RATE },
		{ "fail-status", required_argument, NULL, O_FAIL_STATUS },
		{ "fail-window", required_argument, NULL, O_FAIL_WINDOW },
		{ "rate-limit-rate", required_argument, NULL, O_RL_RATE },
		{ "retry-after", required_argument, NULL, O_RETRY_AFTER },
		{ "slow-ms", required_argument, NULL, O_SLOW },
		{ "malformed-rate", required_argument, NULL, O_MALFORMED },
		{ "truncate-rate", required_argument, NULL, O_TRUNCATE },
		{ "drop-rate", required_argument, NULL, O_DROP },
		{ "verbose", no_argument, NULL, O_VERBOSE },
		{ "help", no_argument, NULL, O_HELP },
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	struct fault_config *fc = &sim->faults;
	unsigned long v;
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		double *rate = NULL;

		switch (c) {
		case O_LISTEN: o->listen = optarg; break;
		case O_TOKEN:
			free(o->token);
			o->token = strdup(optarg);
			break;
		case O_TOKEN_FILE:
			free(o->token);
			o->token = read_token_file(optarg);
			if (o->token == NULL)
				return EXIT_USAGE;
			break;
		case O_FIXTURE: o->fixture = optarg; break;
		case O_PORT_FILE: o->port_file = optarg; break;
		case O_REQUEST_LOG: o->request_log = optarg; break;
		case O_TLS_CERT: o->tls_cert = optarg; break;
		case O_TLS_KEY: o->tls_key = optarg; break;
		case O_TRANSITION:
			if (!read_uint("--transition-ms", optarg, 3600000, &v))
				return EXIT_USAGE;
			sim->transition_ms = (unsigned)v;
			break;
		case O_SEED:
			if (!read_uint("--seed", optarg, ULONG_MAX, &v))
				return EXIT_USAGE;
			fc->seed = v;
			break;
		case O_FAIL_RATE: rate = &fc->fail_rate; break;
		case O_RL_RATE: rate = &fc->rate_limit_rate; break;
		case O_MALFORMED: rate = &fc->malformed_rate; break;
		case O_TRUNCATE: rate = &fc->truncate_rate; break;
		case O_DROP: rate = &fc->drop_rate; break;
		case O_FAIL_STATUS:
			if (!read_uint("--fail-status", optarg, 599, &v))
				return EXIT_USAGE;
			if (v < 400) {
				fprintf(stderr, "metal-sim: --fail-status: expected 400-599, got %lu\n", v);
				return EXIT_USAGE;
			}
			fc->fail_status = (unsigned)v;
			break;
		case O_FAIL_WINDOW:
			if (!parse_window(optarg, &fc->window_start_ms, &fc->window_len_ms)) {
				fprintf(stderr, "metal-sim: --fail-window: expected START_MS:LEN_MS, got '%s'\n",
					optarg);
				return EXIT_USAGE;
			}
			fc->window_set = true;
			fc->window_origin_ms = 0; /* from start */
			break;
		case O_RETRY_AFTER:
			if (!read_uint("--retry-after", optarg, 86400, &v))
				return EXIT_USAGE;
			fc->retry_after_s = (unsigned)v;
			break;
		case O_SLOW:
			if (!read_uint("--slow-ms", optarg, SIM_MAX_SLOW_MS, &v))
				return EXIT_USAGE;
			fc->slow_ms = (unsigned)v;
			break;
		case O_VERBOSE: sim->verbose = true; break;
		case O_HELP: usage(stdout); return EXIT_SUCCESS + 256;
		case O_VERSION:
			puts("metal-sim " METALBMC_VERSION);
			return EXIT_SUCCESS + 256;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
		if (rate != NULL && !parse_rate(optarg, rate)) {
			fprintf(stderr, "metal-sim: %s: expected a rate between 0 and 1, got '%s'\n",
				argv[optind - 1][0] == '-' ? argv[optind - 1] : "rate", optarg);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "metal-sim: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (o->token == NULL && getenv("METAL_SIM_TOKEN") != NULL)
		o->token = strdup(getenv("METAL_SIM_TOKEN"));
	if (o->token == NULL || o->token[0] == '\0') {
		fputs("metal-sim: a token is required (--token, --token-file or $METAL_SIM_TOKEN)\n", stderr);
		return EXIT_USAGE;
	}
	for (const char *p = o->token; *p; p++)
		if ((unsigned char)*p < 0x21 || *p == 0x7f) {
			fputs("metal-sim: the token must be printable, without spaces\n", stderr);
			return EXIT_USAGE;
		}
	if (o->fixture == NULL) {
		fputs("metal-sim: --fixture FILE is required\n", stderr);
		return EXIT_USAGE;
	}
	if ((o->tls_cert == NULL) != (o->tls_key == NULL)) {
		fputs("metal-sim: --tls-cert and --tls-key go together\n", stderr);
		return EXIT_USAGE;
	}
	return 0;
}

/* A whole PEM file as a string (MHD takes certificate and key from
 * memory), or NULL with err set. */
static char *read_pem(const char *flag, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (f == NULL) {
		snprintf(err, errlen, "%s %s: %s", flag, path, strerror(errno));
		return NULL;
	}
	buf = malloc(SIM_MAX_PEM_BYTES + 1);
	n = buf ? fread(buf, 1, SIM_MAX_PEM_BYTES + 1, f) : 0;
	fclose(f);
	if (buf == NULL || n == 0 || n > SIM_MAX_PEM_BYTES) {
		snprintf(err, errlen, "%s %s: %s", flag, path,
			 buf == NULL ? "out of memory" : n == 0 ? "empty or unreadable"
			 : "larger than 64 KiB");
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

static bool write_port_file(const char *path, unsigned port)
{
	char tmp[4096];
	FILE *f;

	/* Temp file beside the target, then rename: a poller sees either no
	 * file or the complete port, never an empty or partial one. */
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= sizeof(tmp))
		return false;
	f = fopen(tmp, "w");
	if (f == NULL)
		return false;
	fprintf(f, "%u\n", port);
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return false;
	}
	return true;
}

int main(int argc, char **argv)
{
	static struct sim sim;
	struct options opt = { .listen = "127.0.0.1:0" };
	struct listen_addr addr;
	struct MHD_Daemon *daemon = NULL;
	char *tls_cert = NULL, *tls_key = NULL;
	bool sync_ready = false;
	pthread_condattr_t ca;
	sigset_t sigs;
	char err[1024];
	int rc, sig;

	clock_init();
	store_init(&sim.store);
	reqlog_init(&sim.log);
	faults_defaults(&sim.faults);
	sim.faults.seed = 1;
	sim.transition_ms = SIM_TRANSITION_MS_DEFAULT;

	rc = parse_args(argc, argv, &opt, &sim);
	if (rc != 0) {
		free(opt.token);
		return rc > 255 ? rc - 256 : rc;
	}
	sim.token = opt.token;
	sim.token_len = strlen(opt.token);
	rng_seed(&sim.fault_rng, sim.faults.seed);
	/* Ids come from their own stream, so fault settings do not change them. */
	rng_seed(&sim.id_rng, sim.faults.seed ^ 0x6d6574616c73696dULL);

	/* Every exit below goes through `out`, which frees what was set up,
	 * so a sanitizer build stays quiet on error paths too. */
	rc = EXIT_USAGE;
	if (!listen_addr_parse(opt.listen, &addr, err, sizeof(err))) {
		fprintf(stderr, "metal-sim: %s\n", err);
		goto out;
	}
	if (!fixture_load(&sim.store, opt.fixture, err, sizeof(err))) {
		fprintf(stderr, "metal-sim: bad fixture: %s\n", err);
		goto out;
	}
	if (opt.request_log != NULL &&
	    !reqlog_open_file(&sim.log, opt.request_log, err, sizeof(err))) {
		fprintf(stderr, "metal-sim: %s\n", err);
		goto out;
	}
	if (opt.tls_cert != NULL &&
	    ((tls_cert = read_pem("--tls-cert", opt.tls_cert, err, sizeof(err))) == NULL ||
	     (tls_key = read_pem("--tls-key", opt.tls_key, err, sizeof(err))) == NULL)) {
		fprintf(stderr, "metal-sim: %s\n", err);
		goto out;
	}

	pthread_mutex_init(&sim.lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&sim.wake, &ca);
	pthread_condattr_destroy(&ca);
	sync_ready = true;

	/* Block the stop signals before MHD starts its threads, so they all
	 * inherit the mask and only sigwait() below ever sees them. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	rc = EXIT_FAILURE;
	daemon = http_start(&sim, &addr, tls_cert, tls_key, err, sizeof(err));
	if (daemon == NULL) {
		fprintf(stderr, "metal-sim: %s\n", err);
		goto out;
	}
	addr.port = http_bound_port(daemon);
	if (opt.port_file != NULL && !write_port_file(opt.port_file, addr.port)) {
		fprintf(stderr, "metal-sim: --port-file %s: %s\n", opt.port_file, strerror(errno));
		goto out;
	}
	printf("metal-sim listening on %s://%s:%u/metal/v1\n", tls_cert ? "https" : "http",
	       addr.host, addr.port);
	fflush(stdout);

	while (sigwait(&sigs, &sig) != 0)
		;
	rc = EXIT_SUCCESS;
out:
	if (daemon != NULL)
		http_stop(&sim, daemon);
	reqlog_free(&sim.log);
	store_free(&sim.store);
	if (tls_key != NULL)
		explicit_bzero(tls_key, strlen(tls_key));
	free(tls_key);
	free(tls_cert);
	explicit_bzero(opt.token, sim.token_len);
	free(opt.token);
	if (sync_ready) {
		pthread_cond_destroy(&sim.wake);
		pthread_mutex_destroy(&sim.lock);
	}
	return rc;
}
