/*
 * test_config.c - configuration errors name file:line: key: reason; the
 * environment overrides the file; *_FILE secrets are refused when group or
 * others can read them; --check-config output (config_print) never shows
 * a secret.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

static char dir[] = "/tmp/metalbmc-test-config-XXXXXX";

static int group_setup(void **state)
{
	static const char *const vars[] = {
		"METALBMC_CONFIG", "METALBMC_MAX_SESSIONS", "METALBMC_IPMI_PASSWORD",
		"METALBMC_IPMI_PASSWORD_FILE", "METAL_AUTH_TOKEN", "METAL_AUTH_TOKEN_FILE",
		"METALBMC_WEB_PASSWORD", "METALBMC_CREDENTIAL_SECRET", "METAL_PROJECT_ID",
		"METALBMC_IPMI_LISTEN", "METALBMC_CIPHER_SUITES",
	};
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	return mkdtemp(dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Parses text; returns the rc and the error text (caller frees). */
static int parse(struct config *c, const char *text, char **err)
{
	size_t n;
	FILE *f = open_memstream(err, &n);
	config_defaults(c);
	int rc = config_parse_yaml(c, "t.yaml", text, strlen(text), f);
	fclose(f);
	return rc;
}

static const char *write_file(const char *name, const char *text, mode_t mode)
{
	static char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static int load(struct config *c, const char *path, char **err)
{
	size_t n;
	FILE *f = open_memstream(err, &n);
	config_defaults(c);
	int rc = config_load(c, path, f);
	fclose(f);
	return rc;
}

static void test_valid_file(void **state)
{
	struct config c;
	char *err;
	assert_int_equal(parse(&c, "ipmi:\n  listen: [\"127.0.0.1:6230\", \"[::1]:6230\"]\n"
	                           "  max_sessions: 32\n  cipher_suites: 3, 17\n"
	                           "  allowed_sources: [10.0.0.0/8, \"2001:db8::/32\"]\n"
	                           "personas:\n  - name: node1\n    port: 7000\n",
	                       &err), 0);
	assert_string_equal(err, "");
	assert_int_equal(c.ipmi_listen_count, 2);
	assert_int_equal(c.max_sessions, 32);
	assert_int_equal(c.allowed_sources.len, 2);
	assert_int_equal(c.persona_count, 1);
	assert_int_equal(c.personas[0].port, 7000);
	assert_string_equal(c.personas[0].device_id, "node1");
	free(err);
	config_free(&c);
}

static void test_unknown_key(void **state)
{
	struct config c;
	char *err;
	assert_int_equal(parse(&c, "ipmi:\n  max_sessions: 4\n  max_sesions: 5\nfoo: 1\n", &err), -1);
	assert_non_null(strstr(err, "t.yaml:3: ipmi.max_sesions: unknown key\n"));
	assert_non_null(strstr(err, "t.yaml:4: foo: unknown key\n"));
	free(err);
	/* in a persona too */
	assert_int_equal(parse(&c, "personas:\n  - name: a\n    colour: red\n", &err), -1);
	assert_non_null(strstr(err, "t.yaml:3: personas.colour: unknown key"));
	free(err);
}

static void test_bad_values(void **state)
{
	struct config c;
	char *err;
	assert_int_equal(parse(&c, "ipmi:\n  max_sessions: lots\n", &err), -1);
	assert_non_null(strstr(err, "t.yaml:2: ipmi.max_sessions: 'lots' is not a whole number in 1..65536"));
	free(err);
	assert_int_equal(parse(&c, "ipmi:\n  max_sessions: 0\n", &err), -1);
	assert_non_null(strstr(err, "t.yaml:2: ipmi.max_sessions:"));
	free(err);
	assert_int_equal(parse(&c, "\n\nipmi:\n  allow_ipmi15: maybe\n", &err), -1);
	assert_non_null(strstr(err, "t.yaml:4: ipmi.allow_ipmi15: 'maybe' is not a boolean"));
	free(err);
	assert_int_equal(parse(&c, "ipmi:\n  listen: 127.0.0.1:99999\n", &err), -1);
	assert_non_null(strstr(err, "t.yaml:2: ipmi.listen:"));
	free(err);
	assert_int_equal(parse(&c, "ipmi:\n  cipher_suites: [3, 4]\n", &err), -1);
	assert_non_null(strstr(err, "t.yaml:2: ipmi.cipher_suites: '4' is not an implemented cipher suite"));
	free(err);
	assert_int_equal(parse(&c, "ipmi:\n  allowed_sources: 10.0.0.0/33\n", &err), -1);
	assert_non_null(strstr(err, "t.yaml:2: ipmi.allowed_sources: '10.0.0.0/33' is not an address or CIDR"));
	free(err);
	assert_int_equal(parse(&c, "personas:\n  - name: abcdefghijklmnopq\n", &err), -1);
	assert_non_null(strstr(err, "t.yaml:2: personas.name: must be 1 to 16 bytes"));
	free(err);
	assert_int_equal(parse(&c, "personas:\n  - port: 70000\n", &err), -1);
	assert_non_null(strstr(err, "t.yaml:2: personas.port: '70000' is not a port number"));
	assert_non_null(strstr(err, "t.yaml:2: personas.name: missing"));
	free(err);
	assert_int_equal(parse(&c, "log_level: loud\n", &err), -1);
	assert_non_null(strstr(err, "t.yaml:1: log_level:"));
	free(err);
	assert_int_equal(parse(&c, "- just\n- a list\n", &err), -1);
	assert_non_null(strstr(err, "t.yaml:1: (top): the file must be a mapping"));
	free(err);
}

static void test_bad_yaml(void **state)
{
	struct config c;
	char *err;
	assert_int_equal(parse(&c, "ipmi:\n  listen: [127.0.0.1:1\nweb: {\n", &err), -1);
	assert_non_null(strstr(err, "t.yaml:"));
	assert_non_null(strstr(err, "(syntax)"));
	free(err);
	assert_int_equal(parse(&c, "ipmi:\n\tmax_sessions: 3\n", &err), -1);
	assert_non_null(strstr(err, "t.yaml:2: (syntax)"));
	free(err);
	/* an empty document is a valid (empty) configuration */
	assert_int_equal(parse(&c, "", &err), 0);
	free(err);
}

static void test_duplicate_personas(void **state)
{
	struct config c;
	char *err;
	const char *p = write_file("dup.yaml", "personas:\n  - name: a\n  - name: b\n  - name: a\n", 0600);
	assert_int_equal(load(&c, p, &err), -1);
	char want[512];
	snprintf(want, sizeof(want), "%s:4: personas.name: 'a' already used on line 2", p);
	assert_non_null(strstr(err, want));
	free(err);
	config_free(&c);
}

static void test_env_overrides(void **state)
{
	struct config c;
	char *err;
	const char *p = write_file("env.yaml", "ipmi:\n  max_sessions: 10\n", 0600);
	setenv("METALBMC_MAX_SESSIONS", "99", 1);
	assert_int_equal(load(&c, p, &err), 0);
	assert_int_equal(c.max_sessions, 99);
	free(err);
	setenv("METALBMC_MAX_SESSIONS", "ninety", 1);
	assert_int_equal(load(&c, p, &err), -1);
	assert_non_null(strstr(err, "environment: METALBMC_MAX_SESSIONS: 'ninety' is not a whole number"));
	free(err);
	unsetenv("METALBMC_MAX_SESSIONS");
	/* METALBMC_CONFIG names the file when none is given */
	setenv("METALBMC_CONFIG", p, 1);
	assert_int_equal(load(&c, NULL, &err), 0);
	assert_int_equal(c.max_sessions, 10);
	free(err);
	unsetenv("METALBMC_CONFIG");
	config_free(&c);
}

static void test_secret_files(void **state)
{
	struct config c;
	char *err;
	const char *p = write_file("pw-open", "S3cret-From-File\n", 0640);
	setenv("METALBMC_IPMI_PASSWORD_FILE", p, 1);
	assert_int_equal(load(&c, NULL, &err), -1);
	assert_non_null(strstr(err, "environment: METALBMC_IPMI_PASSWORD_FILE:"));
	assert_non_null(strstr(err, "accessible by group or others (mode 640)"));
	assert_null(strstr(err, "S3cret"));
	free(err);
	chmod(p, 0604);
	assert_int_equal(load(&c, NULL, &err), -1);
	assert_non_null(strstr(err, "mode 604"));
	free(err);
	chmod(p, 0600);
	assert_int_equal(load(&c, NULL, &err), 0);
	/* one trailing newline stripped */
	assert_true(secret_equals(&c.ipmi_password, "S3cret-From-File", 16));
	free(err);
	config_free(&c);
	/* an empty file, a missing file */
	p = write_file("pw-empty", "\n", 0600);
	setenv("METALBMC_IPMI_PASSWORD_FILE", p, 1);
	assert_int_equal(load(&c, NULL, &err), -1);
	assert_non_null(strstr(err, "file is empty"));
	free(err);
	setenv("METALBMC_IPMI_PASSWORD_FILE", "/nonexistent/pw", 1);
	assert_int_equal(load(&c, NULL, &err), -1);
	assert_non_null(strstr(err, "cannot open"));
	free(err);
	unsetenv("METALBMC_IPMI_PASSWORD_FILE");
	/* the YAML form names file and line */
	char tok[256];
	snprintf(tok, sizeof(tok), "%s", write_file("tok-open", "tok-abc\n", 0644));
	char yaml[512];
	snprintf(yaml, sizeof(yaml), "metal:\n  token_file: %s\n", tok);
	const char *cfg = write_file("tokfile.yaml", yaml, 0600);
	assert_int_equal(load(&c, cfg, &err), -1);
	char want[600];
	snprintf(want, sizeof(want), "%s:2: metal.token_file: %s: file is accessible", cfg, tok);
	assert_non_null(strstr(err, want));
	free(err);
	config_free(&c);
}

static void test_late_checks_name_file_line_or_variable(void **state)
{
	struct config c;
	char *err, want[700];
	(void)state;
	/* A rule checked once everything is read still names the file and
	 * line, or the environment variable, that set the value. */
	const char *cfg = write_file("late.yaml", "metal:\n  api_url: http://10.0.0.1/metal/v1\n"
	                             "web:\n  tls_cert: /nonexistent/cert.pem\n"
	                             "  tls_key: /nonexistent/key.pem\n", 0600);
	assert_int_equal(load(&c, cfg, &err), -1);
	snprintf(want, sizeof(want), "%s:2: metal.api_url: plain http is allowed only", cfg);
	assert_non_null(strstr(err, want));
	snprintf(want, sizeof(want), "%s:4: web.tls_cert: /nonexistent/cert.pem: No such file", cfg);
	assert_non_null(strstr(err, want));
	snprintf(want, sizeof(want), "%s:5: web.tls_key: /nonexistent/key.pem: No such file", cfg);
	assert_non_null(strstr(err, want));
	free(err);
	config_free(&c);
	/* the environment over the file: the variable is named */
	setenv("METAL_API_URL", "http://192.0.2.1/metal/v1", 1);
	setenv("METALBMC_CA_FILE", "/nonexistent/ca.pem", 1);
	setenv("METALBMC_CIPHER_SUITES", "0,17", 1);
	assert_int_equal(load(&c, NULL, &err), -1);
	assert_non_null(strstr(err, "environment: METAL_API_URL: plain http is allowed only"));
	assert_non_null(strstr(err, "environment: METALBMC_CA_FILE: /nonexistent/ca.pem: No such"));
	assert_non_null(strstr(err, "environment: METALBMC_CIPHER_SUITES: suite 0"));
	unsetenv("METAL_API_URL");
	unsetenv("METALBMC_CA_FILE");
	unsetenv("METALBMC_CIPHER_SUITES");
	free(err);
	config_free(&c);
	/* a project without a token names where the project came from */
	setenv("METAL_PROJECT_ID", "ca73364c-0000-4000-8000-000000000001", 1);
	assert_int_equal(load(&c, NULL, &err), -1);
	assert_non_null(strstr(err, "environment: METAL_PROJECT_ID: a project to poll, but no "
	                            "API token"));
	unsetenv("METAL_PROJECT_ID");
	free(err);
	config_free(&c);
}

static void test_unknown_variable_is_named_not_fatal(void **state)
{
	struct config c;
	char *err;
	(void)state;
	setenv("METALBMC_POLL_INTERVALL", "value-not-to-echo", 1);
	setenv("METALBMC_DEMO_PORT", "6230", 1); /* images/demo's own: not reported */
	assert_int_equal(load(&c, NULL, &err), 0);
	assert_non_null(strstr(err, "environment: METALBMC_POLL_INTERVALL: not a metalbmc "
	                            "setting, ignored"));
	assert_null(strstr(err, "value-not-to-echo"));
	assert_null(strstr(err, "METALBMC_DEMO_PORT"));
	unsetenv("METALBMC_POLL_INTERVALL");
	unsetenv("METALBMC_DEMO_PORT");
	free(err);
	config_free(&c);
}

static void test_secrets_never_echoed(void **state)
{
	struct config c;
	char *err;
	/* a password too long for IPMI: the message must not contain it */
	setenv("METALBMC_IPMI_PASSWORD", "this-password-is-way-too-long-for-ipmi", 1);
	assert_int_equal(load(&c, NULL, &err), -1);
	/* named by where it came from: the environment variable */
	assert_non_null(strstr(err, "environment: METALBMC_IPMI_PASSWORD: longer than 20 bytes"));
	assert_null(strstr(err, "way-too-long"));
	free(err);
	config_free(&c);
	/* a secret taken from the environment is scrubbed from it */
	setenv("METAL_AUTH_TOKEN", "tok-from-env", 1);
	char *inplace = getenv("METAL_AUTH_TOKEN");
	assert_int_equal(load(&c, NULL, &err), 0);
	free(err);
	assert_true(secret_equals(&c.token, "tok-from-env", 12));
	assert_null(getenv("METAL_AUTH_TOKEN"));
	(void)inplace;
	config_free(&c);
}

static void test_print_redacts(void **state)
{
	struct config c;
	char *err, *out;
	size_t n;
	const char *p = write_file("full.yaml",
		"metal:\n  token: tok-SECRET-1\n  project_ids: [0d2b5b1e-1c2a-4e4f-9b9a-0a0b0c0d0e0f]\n"
		"ipmi:\n  password: pw-SECRET-2\n  credential_secret: cs-SECRET-3\n"
		"web:\n  password: web-SECRET-4\n", 0600);
	assert_int_equal(load(&c, p, &err), 0);
	free(err);
	FILE *f = open_memstream(&out, &n);
	config_print(&c, f);
	fclose(f);
	assert_null(strstr(out, "SECRET"));
	assert_non_null(strstr(out, "token: (set, redacted)"));
	assert_non_null(strstr(out, "  password: (set, redacted)"));
	assert_non_null(strstr(out, "credential_secret: (set, redacted)"));
	assert_non_null(strstr(out, "0d2b5b1e-1c2a-4e4f-9b9a-0a0b0c0d0e0f"));
	free(out);
	config_free(&c);
	/* unset secrets say so */
	config_defaults(&c);
	f = open_memstream(&out, &n);
	config_print(&c, f);
	fclose(f);
	assert_non_null(strstr(out, "token: (not set)"));
	free(out);
}

static void test_persona_allowed_sources(void **state)
{
	struct config c;
	char *err, *out;
	size_t n;
	assert_int_equal(parse(&c, "personas:\n  - name: a\n    allowed_sources: [10.0.0.0/8, \"2001:db8::1\"]\n"
	                           "  - name: b\n    allowed_sources: 192.0.2.7\n", &err), 0);
	free(err);
	assert_int_equal(c.personas[0].allowed_sources.len, 2);
	assert_int_equal(c.personas[0].allowed_sources.items[1].prefix, 128);
	assert_int_equal(c.personas[1].allowed_sources.len, 1);
	FILE *f = open_memstream(&out, &n);
	config_print(&c, f);
	fclose(f);
	assert_non_null(strstr(out, "    allowed_sources: [10.0.0.0/8, 2001:db8::1/128]"));
	free(out);
	config_free(&c);
	assert_int_equal(parse(&c, "personas:\n  - name: a\n\n    allowed_sources: [10.0.0.0/8, nope]\n", &err), -1);
	assert_non_null(strstr(err, "t.yaml:4: personas.allowed_sources: 'nope' is not an address or CIDR"));
	free(err);
	struct cidr_list l;
	char bad[64];
	assert_int_equal(config_parse_cidr_list(" 10.1.0.0/16 ,, ::1 ", &l, bad, sizeof(bad)), 0);
	assert_int_equal(l.len, 2);
	assert_int_equal(config_parse_cidr_list("10.0.0.0/8,300.1.1.1", &l, bad, sizeof(bad)), -1);
	assert_string_equal(bad, "300.1.1.1");
}

static void test_cipher_zero_needs_opt_in(void **state)
{
	struct config c;
	char *err;
	const char *p = write_file("c0.yaml", "ipmi:\n  cipher_suites: [0, 3]\n", 0600);
	assert_int_equal(load(&c, p, &err), -1);
	assert_non_null(strstr(err, "ipmi.cipher_suites: suite 0"));
	free(err);
	p = write_file("c0ok.yaml", "ipmi:\n  cipher_suites: [0, 3]\n  allow_cipher_zero: true\n", 0600);
	assert_int_equal(load(&c, p, &err), 0);
	free(err);
	config_free(&c);
}

/* Plain http only to loopback, judged on the whole host name. */
static void test_api_url_loopback_only(void **state)
{
	static const struct { const char *url; int rc; } cases[] = {
		{ "https://api.equinix.com/metal/v1", 0 },
		{ "http://127.0.0.1:8080/metal/v1", 0 },
		{ "http://127.9.8.7/metal/v1", 0 },
		{ "http://localhost:4010", 0 },
		{ "http://[::1]:4010/metal/v1", 0 },
		{ "http://127.0.0.1.nip.io/metal/v1", -1 },
		{ "http://localhost.example.com/", -1 },
		{ "http://10.0.0.1/metal/v1", -1 },
		{ "http://[::2]/", -1 },
		{ "ftp://127.0.0.1/", -1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config c;
		char *err, text[160];
		snprintf(text, sizeof(text), "metal:\n  api_url: \"%s\"\n", cases[i].url);
		const char *p = write_file("url.yaml", text, 0600);
		int rc = load(&c, p, &err);
		if (rc != cases[i].rc)
			fail_msg("%s: rc %d, want %d (%s)", cases[i].url, rc, cases[i].rc, err);
		free(err);
		config_free(&c);
	}
}

/* Addresses in messages read back the way config_parse_listen() takes them. */
static void test_sockaddr_format(void **state)
{
	struct listen_addr a;
	struct sockaddr_storage none;
	char out[64];

	assert_int_equal(config_parse_listen("127.0.0.1:623", 623, &a), 0);
	sockaddr_format((const struct sockaddr *)&a.ss, out, sizeof(out));
	assert_string_equal(out, "127.0.0.1:623");
	assert_int_equal(config_parse_listen("[::1]:40000", 623, &a), 0);
	sockaddr_format((const struct sockaddr *)&a.ss, out, sizeof(out));
	assert_string_equal(out, "[::1]:40000");
	memset(&none, 0, sizeof(none));
	sockaddr_format((const struct sockaddr *)&none, out, sizeof(out));
	assert_string_equal(out, "?:0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_file),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_bad_yaml),
		cmocka_unit_test(test_duplicate_personas),
		cmocka_unit_test(test_env_overrides),
		cmocka_unit_test(test_secret_files),
		cmocka_unit_test(test_late_checks_name_file_line_or_variable),
		cmocka_unit_test(test_unknown_variable_is_named_not_fatal),
		cmocka_unit_test(test_secrets_never_echoed),
		cmocka_unit_test(test_print_redacts),
		cmocka_unit_test(test_persona_allowed_sources),
		cmocka_unit_test(test_cipher_zero_needs_opt_in),
		cmocka_unit_test(test_api_url_loopback_only),
		cmocka_unit_test(test_sockaddr_format),
	};
	return cmocka_run_group_tests_name("config", tests, group_setup, group_teardown);
}
