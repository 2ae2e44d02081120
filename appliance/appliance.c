/*
 * appliance.c - start-up order, signals, persona plumbing.
 */
#include "appliance.h"
#include "cipher.h"
#include "privdrop.h"
#include "discovery.h"
#include "log.h"
#include "secret.h"
#include "web.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#define MASTER_SECRET_FILE "credential-secret"
#define MASTER_SECRET_LEN  32 /* bytes of randomness, stored as hex */

static int ensure_state_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		log_warn("state: cannot create %s", dir);
		return -1;
	}
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		log_warnx("state: %s is not a directory", dir);
		return -1;
	}
	return 0;
}

/* The master secret behind derived passwords: configured, or generated
 * once into the state directory so passwords survive restarts. */
static int load_master(struct appliance *a)
{
	char path[600], why[160];
	const struct config *c = &a->cfg;

	if (secret_present(&c->credential_secret))
		return secret_set(&a->master, secret_reveal(&c->credential_secret),
		                  c->credential_secret.len);
	if (secret_present(&c->ipmi_password))
		return 0; /* every persona uses the shared password */
	if (ensure_state_dir(c->state_dir) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", c->state_dir, MASTER_SECRET_FILE);
	if (secret_read_file(path, &a->master, why, sizeof(why)) == 0)
		return 0;
	if (access(path, F_OK) == 0) {
		log_warnx("state: %s: %s", path, why);
		return -1;
	}
	uint8_t raw[MASTER_SECRET_LEN];
	char hex[2 * MASTER_SECRET_LEN + 2];
	if (secret_random(raw, sizeof(raw)) < 0) {
		log_warn("state: no randomness for the master secret");
		return -1;
	}
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	hex[2 * MASTER_SECRET_LEN] = '\n';
	secret_wipe(raw, sizeof(raw));
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, hex, sizeof(hex) - 1) != (ssize_t)(sizeof(hex) - 1) ||
	    fsync(fd) < 0) {
		log_warn("state: cannot write %s", path);
		if (fd >= 0)
			close(fd);
		secret_wipe(hex, sizeof(hex));
		return -1;
	}
	close(fd);
	int rc = secret_set(&a->master, hex, 2 * MASTER_SECRET_LEN);
	secret_wipe(hex, sizeof(hex));
	log_info("state: generated a new credential secret in %s", path);
	return rc;
}

int appliance_set_password(struct appliance *a, struct persona *p)
{
	const struct config *c = &a->cfg;
	char pw[MAX_PASSWORD + 1];

	if (secret_present(&c->ipmi_password))
		return secret_set(&p->password, secret_reveal(&c->ipmi_password),
		                  c->ipmi_password.len);
	if (secret_device_password(&a->master, p->device_id, pw) < 0)
		return -1;
	int rc = secret_set(&p->password, pw, strlen(pw));
	secret_wipe(pw, sizeof(pw));
	return rc;
}

int appliance_open_persona_listener(struct appliance *a, struct persona *p)
{
	struct listen_addr la;
	char why[160], text[96];
	const struct listen_addr *shared = &a->cfg.ipmi_listen[0];
	uint16_t port;

	if (!p->own_port && !p->own_address[0])
		return 0;
	if (p->own_address[0]) {
		/* Own address, on the shared port (or its own port if both). */
		port = p->own_port ? p->own_port
		                   : ntohs(((const struct sockaddr_in *)&shared->ss)->sin_port);
		if (strchr(p->own_address, ':'))
			snprintf(text, sizeof(text), "[%s]:%u", p->own_address, port);
		else
			snprintf(text, sizeof(text), "%s:%u", p->own_address, port);
	} else {
		/* Own port, on the shared listener's address. */
		char host[64];
		snprintf(host, sizeof(host), "%s", shared->text);
		char *colon = strrchr(host, ':');
		if (colon)
			*colon = 0;
		snprintf(text, sizeof(text), "%s:%u", host, p->own_port);
	}
	if (config_parse_listen(text, 623, &la) < 0) {
		log_warnx("persona %s: bad own address %s", p->user, text);
		return -1;
	}
	struct udp_listener *l = udp_open(&a->udp, &la, p, why, sizeof(why));
	if (!l) {
		log_warnx("persona %s: cannot listen: %s", p->user, why);
		return -1;
	}
	p->listener = l;
	log_info("persona %s: own listener on %s (user name %s)", p->user, la.text,
	         a->cfg.ipmi_user);
	return 0;
}

void appliance_retire_persona(struct appliance *a, struct persona *p)
{
	engine_close_persona_sessions(&a->engine, p);
	if (p->listener) {
		udp_close(&a->udp, p->listener);
		p->listener = NULL;
	}
	if (p->backend && p->backend->ops->detach)
		p->backend->ops->detach(p->backend, p);
	persona_remove(a->personas, p);
}

static int add_config_personas(struct appliance *a)
{
	for (size_t i = 0; i < a->cfg.persona_count; i++) {
		const struct config_persona *cp = &a->cfg.personas[i];
		struct persona *p = persona_add(a->personas, cp->device_id);
		if (!p)
			return -1;
		snprintf(p->user, sizeof(p->user), "%s", cp->name);
		snprintf(p->short_id, sizeof(p->short_id), "%s", cp->name);
		snprintf(p->hostname, sizeof(p->hostname), "%s", cp->hostname);
		snprintf(p->plan, sizeof(p->plan), "config");
		snprintf(p->metal_state, sizeof(p->metal_state), "%s",
		         cp->power_on ? "active" : "inactive");
		p->own_port = cp->port;
		snprintf(p->own_address, sizeof(p->own_address), "%s", cp->address);
		p->backend = &a->local_backend;
		if (persona_set_allowed_sources(p, &cp->allowed_sources) < 0)
			return -1;
		p->from_config = true;
		persona_set_power(p, cp->power_on ? POWER_ON : POWER_OFF, loop_now(a->loop));
		if (appliance_set_password(a, p) < 0) {
			log_warnx("persona %s: cannot set its password", p->user);
			return -1;
		}
		if (appliance_open_persona_listener(a, p) < 0)
			return -1;
	}
	persona_table_reindex(a->personas);
	return 0;
}

static void on_signal(struct loop *l, struct loop_fd *h, uint32_t events)
{
	struct appliance *a = h->arg;
	struct signalfd_siginfo si;

	(void)events;
	while (read(h->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			log_info("signal %u: shutting down", si.ssi_signo);
			loop_stop(l);
			break;
		case SIGHUP:
			a->reload_requested = true;
			log_info("SIGHUP: configuration reload is not supported yet; "
			         "restart to apply changes");
			break;
		}
	}
}

static int setup_signals(struct appliance *a)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	a->signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (a->signal_fd < 0)
		return -1;
	return loop_fd_add(a->loop, &a->signals, a->signal_fd, EPOLLIN, on_signal, a);
}

int appliance_start(struct appliance *a)
{
	char why[160];
	const struct config *c = &a->cfg;
	struct privdrop drop;

	a->signal_fd = -1;
	if (privdrop_plan(c->user, &drop, why, sizeof(why)) < 0) {
		log_warnx("%s", why);
		return -1;
	}
	a->loop = loop_new();
	a->personas = persona_table_new();
	if (!a->loop || !a->personas) {
		log_warnx("out of memory at start-up");
		return -1;
	}
	if (setup_signals(a) < 0) {
		log_warn("signals");
		return -1;
	}
	if (engine_init(&a->engine, c, a->personas, a->loop) < 0) {
		log_warnx("cannot set up the IPMI engine");
		return -1;
	}
	a->local_backend.ops = &backend_local_ops;
	engine_attach_backend(&a->engine, &a->local_backend);
	udp_server_init(&a->udp, &a->engine, a->loop);
	if (load_master(a) < 0)
		return -1;

	/* The opt-in alone enables nothing: warn when suite 0 is offered. */
	if (c->allow_cipher_zero && memchr(c->cipher_suites, 0, c->cipher_suite_count))
		log_warnx("cipher suite 0 is enabled: sessions without authentication, "
		          "integrity or encryption are possible");
	if (c->allow_ipmi15)
		log_warnx("IPMI v1.5 sessions are enabled: MD5 and straight-password "
		          "authentication are weak");
	for (size_t i = 0; i < c->ipmi_listen_count; i++) {
		struct udp_listener *l = udp_open(&a->udp, &c->ipmi_listen[i], NULL,
		                                  why, sizeof(why));
		if (!l) {
			log_warnx("ipmi: cannot listen: %s", why);
			return -1;
		}
		log_info("ipmi: listening on %s (udp)", c->ipmi_listen[i].text);
	}
	/* Created now, while still root, so that the admin switches (set on
	 * the status page) can be written after the privilege drop hands the
	 * directory over. Without the page nothing writes them: a daemon that
	 * needs no state then needs no state directory either. */
	if (c->web_enabled && ensure_state_dir(c->state_dir) < 0)
		log_warnx("state: %s is not usable: the admin's disable switches cannot be "
		          "saved there", c->state_dir);
	if (switches_open(&a->switches, c->state_dir, why, sizeof(why)) < 0) {
		log_warnx("state: %s", why);
		return -1;
	}
	if (a->switches.n)
		log_info("state: %zu persona(s) disabled by an admin stay disabled (%s)",
		         a->switches.n, a->switches.path);
	persona_table_use_switches(a->personas, &a->switches);
	if (add_config_personas(a) < 0)
		return -1;
	if (discovery_start(a) < 0)
		return -1;
	struct web_deps wd = {
		.cfg = c,
		.loop = a->loop,
		.personas = a->personas,
		.engine = &a->engine,
		.master = &a->master,
		.discovery = a->discovery,
		.switches = &a->switches,
	};
	if (web_start(&wd, &a->web) < 0)
		return -1;
	/* Everything that needs root is done: sockets bound, secrets and the
	 * TLS key read, the state directory opened. */
	/* The state directory matters to the unprivileged user only when
	 * something writes it while running: discovery's port and address
	 * assignments, the admin switches of the status page. (A generated
	 * credential secret is written and read before this point.) */
	drop.state_unused = !c->project_count && !c->web_enabled;
	if (privdrop_apply(&drop, c->state_dir, why, sizeof(why)) < 0) {
		log_warnx("privileges: %s", why);
		return -1;
	}
	char suites[64] = "";
	for (size_t i = 0, o = 0; i < cipher_suite_count && o < sizeof(suites) - 4; i++)
		if (engine_suite_enabled(&a->engine, cipher_suites[i].id))
			o += (size_t)snprintf(suites + o, sizeof(suites) - o, " %u",
			                      cipher_suites[i].id);
	log_info("metalbmc %s ready: %zu persona(s), cipher suites enabled:%s%s",
	         METALBMC_VERSION, persona_count(a->personas), suites,
	         c->allow_ipmi15 ? ", IPMI v1.5 on" : "");
	return 0;
}

int appliance_run(struct appliance *a)
{
	return loop_run(a->loop);
}

void appliance_free(struct appliance *a)
{
	web_stop(a->web);
	a->web = NULL;
	discovery_free(a);
	udp_close_all(&a->udp);
	if (a->loop) {
		engine_free(&a->engine);
		if (a->signal_fd >= 0) {
			loop_fd_del(a->loop, &a->signals);
			close(a->signal_fd);
		}
	}
	persona_table_free(a->personas);
	switches_close(&a->switches);
	loop_free(a->loop);
	secret_clear(&a->master);
	config_free(&a->cfg);
}
