/*
 * main.c - flags, start-up, run, shutdown. Nothing else.
 */
#include "appliance.h"
#include "config.h"
#include "log.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: metalbmc [--config FILE] [--check-config] [--log-level LEVEL]\n"
	        "                [--version] [--help]\n"
	        "\n"
	        "A virtual IPMI BMC for every Equinix Metal server tagged ipmi=enabled.\n"
	        "\n"
	        "  -c, --config FILE     YAML configuration (default: $METALBMC_CONFIG)\n"
	        "  -n, --check-config    print the effective configuration (secrets\n"
	        "                        redacted) and exit: 0 if valid, 1 if not\n"
	        "  -l, --log-level LVL   error, warn, info (default) or debug\n"
	        "  -V, --version         print the version and exit\n"
	        "  -h, --help            this text\n"
	        "\n"
	        "Environment variables override the file; see docs/configuration.md.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'n' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = NULL, *level_arg = NULL;
	bool check = false;
	enum log_level lvl;
	static struct appliance app;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "c:nl:Vh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': config_path = optarg; break;
		case 'n': check = true; break;
		case 'l': level_arg = optarg; break;
		case 'V': printf("metalbmc %s\n", METALBMC_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "metalbmc: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (level_arg && log_level_parse(level_arg, &lvl) < 0) {
		fprintf(stderr, "metalbmc: --log-level: '%s' is not one of error, warn, "
		                "info, debug\n", level_arg);
		return 2;
	}

	config_defaults(&app.cfg);
	if (config_load(&app.cfg, config_path, stderr) < 0) {
		fprintf(stderr, "metalbmc: configuration invalid, not starting\n");
		config_free(&app.cfg);
		return 1;
	}
	if (check) {
		config_print(&app.cfg, stdout);
		config_free(&app.cfg);
		return 0;
	}
	log_set_level(level_arg ? lvl : app.cfg.log_level);

	if (appliance_start(&app) < 0) {
		/* The reason is the line logged just before. */
		log_error("metalbmc: not starting (the reason is above)");
		appliance_free(&app);
		return 1;
	}
	rc = appliance_run(&app);
	appliance_free(&app);
	return rc < 0 ? 1 : 0;
}
