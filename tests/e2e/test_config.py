"""Configuration as a user meets it: --check-config prints the effective
settings with every secret redacted; the environment wins over the file;
a bad file stops the daemon with exit status 1 and FILE:LINE: KEY: reason;
secret files must not be readable by others; and the command-line flags
(--version, --help, unknown ones)."""

import os
import sys

from harness import (Checks, Daemon, base_config, check_no_sanitizer_report, free_port,
                     random_password, run_metalbmc, to_yaml, workdir)

NAME = "config"
TOKEN = "metal-token-" + random_password()
WEB_PW = "web-" + random_password()
CRED = "cred-" + random_password()

# (file text, the line and key the error must name, words of the reason)
BAD_CONFIGS = [
    ("unknown key", "ipmi:\n  listen: [\"127.0.0.1:1\"]\n  pasword: x\n",
     3, "ipmi.pasword", "unknown key"),
    ("unknown top-level key", "web:\n  enabled: false\n\nstate_dirr: /tmp\n",
     4, "state_dirr", "unknown key"),
    ("bad number", "ipmi:\n  session_timeout: 2\n",
     2, "ipmi.session_timeout", "'2' is not a whole number in 5..3600"),
    ("bad boolean", "web:\n  enabled: maybe\n",
     2, "web.enabled", "'maybe' is not a boolean"),
    ("bad cipher suite", "ipmi:\n  cipher_suites: [3, 17, 5]\n",
     2, "ipmi.cipher_suites", "'5' is not an implemented cipher suite"),
    ("bad listen address", "ipmi:\n  listen:\n    - \"127.0.0.1:1\"\n    - \"nowhere:99999\"\n",
     4, "ipmi.listen", "'nowhere:99999' is not HOST:PORT"),
    ("bad YAML", "ipmi:\n  password: \"x\"\n\n  listen:\n    - \"127.0.0.1:1\"\n  - bad\n",
     6, "(syntax)", "did not find expected key"),
    ("duplicate persona",
     "personas:\n  - name: lab1\n  - name: lab2\n\n  - name: lab1\n    power: off\n",
     5, "personas.name", "'lab1' already used on line 2"),
    ("unknown persona key", "personas:\n  - name: lab1\n    colour: blue\n",
     3, "personas.colour", "unknown key"),
    ("bad persona power", "personas:\n  - name: lab1\n\n    power: sideways\n",
     4, "personas.power", "'sideways' is not on or off"),
]


def write(path, text, mode=0o600):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def checked_runner(ck):
    """run_metalbmc whose output must hold no sanitizer report: these runs
    are daemons too (a leak on the error path shows up here only)."""
    def run(args, **kw):
        rc, out, err = run_metalbmc(args, **kw)
        check_no_sanitizer_report(ck, out + err, "the output of metalbmc %s" % " ".join(args))
        return rc, out, err
    return run


def main():
    ck = Checks(NAME)
    metalbmc = checked_runner(ck)  # every run is checked for sanitizer reports
    wd = workdir(NAME)
    password = random_password()
    env_password = random_password()
    file_password = random_password()
    secrets = [password, env_password, file_password, TOKEN, WEB_PW, CRED]
    daemons = []
    try:
        with ck.section("--check-config redacts every secret"):
            cfg = base_config([{"name": "lab1"}], password, credential_secret=CRED)
            cfg["metal"] = {"token": TOKEN, "project_ids": ["0b5d6a6e-1111-4c4c-9a9a-000000000001"]}
            cfg["web"] = {"enabled": True, "password": WEB_PW}
            path = write(os.path.join(wd, "full.yaml"), to_yaml(cfg) + "\n")
            rc, out, err = metalbmc(["--config", path, "--check-config"])
            ck.eq(rc, 0, "exit 0 for a valid file (%s)" % err.strip())
            for s in secrets[:1] + secrets[3:]:
                ck.ok(s not in out and s not in err, "a secret of %d bytes is absent" % len(s))
            ck.eq(out.count("(set, redacted)"), 4, "token, IPMI password, credential secret, web password: redacted")
            ck.contains(out, "project_ids: [0b5d6a6e-1111-4c4c-9a9a-000000000001]", "non-secrets are shown")
            ck.contains(out, "  - name: lab1", "personas are shown")

        with ck.section("the environment wins over the file"):
            cfg = base_config([{"name": "lab1"}], password, session_timeout=30)
            path = write(os.path.join(wd, "env.yaml"), to_yaml(cfg) + "\n")
            rc, out, err = metalbmc(["--config", path, "--check-config"],
                                        env={"METALBMC_SESSION_TIMEOUT": "7"})
            ck.contains(out, "session_timeout: 7", "METALBMC_SESSION_TIMEOUT overrides the file")
            d = Daemon(wd, cfg, env={"METALBMC_IPMI_PASSWORD": env_password}, name="envpw")
            daemons.append(d)
            d.start()
            rc, out = d.ipmitool("lab1", "power", "status", password=env_password)
            ck.eq((rc, out.strip()), (0, "Chassis Power is on"), "the password from the environment works")
            rc, out = d.ipmitool("lab1", "power", "status", password=password)
            ck.ok(rc != 0, "the file's password does not", out)
            d.check_exit(ck)

        for label, text, line, key, reason in BAD_CONFIGS:
            with ck.section("bad config: %s" % label):
                path = write(os.path.join(wd, "bad.yaml"), text)
                rc, out, err = metalbmc(["--config", path, "--check-config"])
                ck.eq(rc, 1, "--check-config exits 1")
                ck.contains(err, "%s:%d: %s: %s" % (path, line, key, reason), "FILE:LINE: KEY: reason")
                rc, out, err = metalbmc(["--config", path], timeout=20)
                ck.eq(rc, 1, "the daemon refuses to start with status 1")
                ck.contains(err, "configuration invalid, not starting", "and says so")

        with ck.section("a secret's value is never echoed in an error"):
            path = write(os.path.join(wd, "long.yaml"),
                         "ipmi:\n  password: \"%s\"\n" % (password + "-far-too-long"))
            rc, out, err = metalbmc(["--config", path, "--check-config"])
            ck.eq(rc, 1, "a password over 20 bytes is refused")
            ck.contains(err, "ipmi.password: longer than 20 bytes", "the reason")
            ck.absent(err, password, "the value is not echoed")
            rc, out, err = metalbmc(["--check-config"], env={"METALBMC_IPMI_PASSWORD_FILE": "/nonexistent/pw"})
            ck.eq(rc, 1, "a missing password file is refused")
            ck.contains(err, "environment: METALBMC_IPMI_PASSWORD_FILE: /nonexistent/pw: cannot open",
                        "the reason names the variable and the file")

        with ck.section("METALBMC_IPMI_PASSWORD_FILE: 0644 refused, 0600 accepted"):
            pw_file = write(os.path.join(wd, "ipmi-password"), file_password + "\n", 0o644)
            cfg = base_config([{"name": "lab1"}], password)
            del cfg["ipmi"]["password"]
            cfg["ipmi"]["listen"] = ["127.0.0.1:%d" % free_port()]
            path = write(os.path.join(wd, "pwfile.yaml"), to_yaml(cfg) + "\n")
            rc, out, err = metalbmc(["--config", path], env={"METALBMC_IPMI_PASSWORD_FILE": pw_file},
                                        timeout=20)
            ck.eq(rc, 1, "mode 0644: the daemon does not start")
            ck.contains(err, "METALBMC_IPMI_PASSWORD_FILE: %s: file is accessible by group or others "
                        "(mode 644); chmod 600 it" % pw_file, "mode 0644: a clear message")
            os.chmod(pw_file, 0o600)
            d = Daemon(wd, cfg, env={"METALBMC_IPMI_PASSWORD_FILE": pw_file}, name="pwfile")
            daemons.append(d)
            d.start()
            rc, out = d.ipmitool("lab1", "power", "status", password=file_password)
            ck.eq((rc, out.strip()), (0, "Chassis Power is on"), "mode 0600: the file's password works")
            d.check_exit(ck)

        with ck.section("a config file with secrets readable by others: warning"):
            cfg = base_config([{"name": "lab1"}], password)
            d = Daemon(wd, cfg, name="readable")
            daemons.append(d)
            d.start()
            d.check_exit(ck)
            cfg_path = os.path.join(wd, "readable.yaml")
            os.chmod(cfg_path, 0o644)
            ck.eq(d.log_count("holds secrets and is readable by others"), 0, "no warning at mode 0600")
            rc, out, err = metalbmc(["--config", cfg_path, "--check-config"])
            ck.contains(out + err, "holds secrets and is readable by others", "warning at mode 0644")

        with ck.section("command line"):
            rc, out, err = metalbmc(["--version"])
            ck.eq(rc, 0, "--version exits 0")
            ck.ok(out.startswith("metalbmc ") and out.strip().split()[1][0].isdigit(),
                  "--version prints 'metalbmc VERSION'", out)
            rc, out, err = metalbmc(["--help"])
            ck.eq(rc, 0, "--help exits 0")
            ck.contains(out, "usage: metalbmc", "--help prints the usage")
            ck.contains(out, "--check-config", "--help lists --check-config")
            rc, out, err = metalbmc(["--no-such-flag"])
            ck.eq(rc, 2, "an unknown flag exits 2")
            ck.contains(err, "usage: metalbmc", "and prints the usage to stderr")
            rc, out, err = metalbmc(["stray-argument"])
            ck.eq(rc, 2, "a stray argument exits 2")
            rc, out, err = metalbmc(["--log-level", "chatty", "--check-config"])
            ck.eq(rc, 2, "a bad --log-level exits 2")
            ck.contains(err, "'chatty' is not one of error, warn, info, debug", "and says why")
    finally:
        for d in daemons:
            if d.alive():
                d.check_exit(ck)
            d.scan_for_secrets(ck, secrets)
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
