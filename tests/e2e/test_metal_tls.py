"""TLS verification is always on: metal.api_url is https://127.0.0.1:PORT
served by metal-sim with a self-signed certificate made here with openssl.
Not trusted, every poll fails with a log line naming the certificate
problem, nothing reaches the API's handlers and no persona is created.
With metal.ca_file naming that certificate, the poll succeeds, personas
appear and answer ipmitool; a certificate trusted through
METALBMC_CA_FILE but made out to another name is still refused (host-name
verification). Traffic only to 127.0.0.1."""

import os
import subprocess
import sys

from harness import Checks, Daemon, workdir
from metal_helpers import Pair, device, fixture

NAME = "metal_tls"
POLL = 1
TAGGED = 3


def make_cert(wd, stem, name_ext):
    cert = os.path.join(wd, stem + "-cert.pem")
    key = os.path.join(wd, stem + "-key.pem")
    p = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-keyout", key, "-out", cert, "-subj", "/CN=metal-sim test",
                        "-addext", "subjectAltName=" + name_ext],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    if p.returncode != 0:
        raise RuntimeError("openssl: %s" % p.stdout.decode(errors="replace"))
    return cert, key


def start_daemon(p, wd, ca_file=None, name="metalbmc", env=None):
    """metalbmc in front of the TLS metal-sim (Pair's config, but https)."""
    p.metal["api_url"] = "https://127.0.0.1:%d/metal/v1" % p.sim.port
    if ca_file:
        p.metal["ca_file"] = ca_file
    else:
        p.metal.pop("ca_file", None)
    p.d = Daemon(wd, p.config(), name=name, env=env)
    p.d.start()
    return p.d


def sim_requests_seen(wd):
    """API requests metal-sim handled (its --verbose stderr: one line each);
    a handshake that failed never becomes a request."""
    try:
        with open(os.path.join(wd, "metal-sim.log"), errors="replace") as f:
            return sum(1 for line in f if line.startswith("metal-sim: GET /metal/v1/"))
    except FileNotFoundError:
        return 0


def main():
    ck = Checks(NAME)
    wd = workdir(NAME)
    devs = [device(i) for i in range(1, TAGGED + 1)]
    cert, key = make_cert(wd, "loopback", "IP:127.0.0.1")
    p = Pair(wd, fixture(devs), poll_interval=POLL,
             sim_args=["--tls-cert", cert, "--tls-key", key])
    try:
        p.sim.start()
        with open(os.path.join(wd, "metal-sim.log"), errors="replace") as f:
            ck.contains(f.read(), "listening on https://127.0.0.1:%d/" % p.sim.port,
                        "metal-sim serves https")

        with ck.section("a certificate nobody trusts: every poll fails"):
            start_daemon(p, wd)
            p.d.wait_log("poll failed, nothing changed", timeout=60)
            line = [l for l in p.d.read_log().splitlines() if "poll failed" in l][0]
            ck.contains(line, "certificate", "the failure names the certificate problem")
            ck.contains(line, "self-signed", "and which one (self-signed)")
            # More than one poll, so it is not a one-off.
            p.d.wait_log("poll failed again", timeout=60)
            ck.eq(p.personas(), {}, "no persona created")
            ck.eq(p.d.log_count("added for device"), 0, "nothing added")
            ck.eq(sim_requests_seen(wd), 0, "no request reached the API's handlers")
            rc, out = p.ipmitool(devs[0]["short_id"], "power", "status", retries=1)
            ck.ok(rc != 0, "no persona answers ipmitool", out)
            p.d.check_exit(ck)

        with ck.section("metal.ca_file trusts it: the poll succeeds"):
            # Root's alone, as a CA file under /etc would be: the daemon
            # reads it before dropping privileges, not at every connection.
            os.chmod(cert, 0o600)
            start_daemon(p, wd, ca_file=cert, name="metalbmc-trusting")
            if os.geteuid() == 0 and p.d.config.get("user") != "root":
                # (The harness keeps root when the checkout sits below a
                # private directory such as /root, which nobody cannot reach.)
                ck.contains(p.d.read_log(), "privileges: now user",
                            "the daemon dropped root (so the CA file is not readable to it)")
            p.wait_personas(TAGGED, timeout=60)
            ck.eq(p.d.log_count("poll failed"), 0, "no poll failed")
            ck.ok(sim_requests_seen(wd) > 0, "requests reached the API")
            for d in devs:
                ck.eq(p.power_status(d["short_id"]), "Chassis Power is on",
                      "%s answers ipmitool" % d["short_id"])
            p.scan_secrets(ck)
            p.d.check_exit(ck)

        with ck.section("a trusted certificate for another name is refused"):
            p.sim.stop()
            other, other_key = make_cert(wd, "elsewhere", "DNS:api.example.invalid")
            p.sim.args = ["--verbose", "--tls-cert", other, "--tls-key", other_key]
            p.sim.start()
            seen = sim_requests_seen(wd)
            # Trusted through the environment this time (METALBMC_CA_FILE):
            # were it ignored, the failure would be "self-signed" instead.
            start_daemon(p, wd, name="metalbmc-wrong-name", env={"METALBMC_CA_FILE": other})
            p.d.wait_log("poll failed, nothing changed", timeout=60)
            line = [l for l in p.d.read_log().splitlines() if "poll failed" in l][0]
            ck.ok("name" in line and "'127.0.0.1'" in line and "self-signed" not in line,
                  "the failure names the host-name mismatch", line)
            ck.eq(p.personas(), {}, "no persona created")
            ck.eq(sim_requests_seen(wd), seen, "no request reached the API's handlers")
            p.d.check_exit(ck)
    finally:
        p.stop()
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
