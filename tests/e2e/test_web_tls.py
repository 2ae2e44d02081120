"""The web server over TLS (a self-signed certificate made here with
openssl), a key file others may read (refused), and the page without
credentials configured (only /healthz) or switched off."""

import os
import socket
import ssl
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks, Daemon, free_port, workdir  # noqa: E402
from web_helpers import (Web, check_authenticated_kinds, check_every_response,  # noqa: E402
                         check_security_headers, derived_password, scan_responses)

WEB_PW = "e2e-web-tls-pass-Hh72"
MASTER = "e2e-master-secret-web-tls-00000001"
DEV = "3c000000-0000-4000-8000-0000000000c1"


def make_cert(wd):
    key, cert = os.path.join(wd, "web.key"), os.path.join(wd, "web.crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.chmod(key, 0o600)
    with open(key) as f:
        key_text = f.read()
    return key, cert, key_text


def main():
    checks = Checks("web_tls")
    wd = workdir("web_tls")
    key, cert, key_text = make_cert(wd)
    key_body = "".join(key_text.strip().splitlines()[1:-1])  # the base64, no armour
    # Every secret the appliance holds here: the key (its first base64
    # line, as a response would carry it), the web password, the master
    # secret and the IPMI password derived from it.
    secrets = {"tls key": key_text.strip().splitlines()[1], "web password": WEB_PW,
               "master secret": MASTER, "ipmi password": derived_password(MASTER, DEV)}

    checks.start("https with a configured certificate")
    # The password from the environment this time (METALBMC_WEB_PASSWORD).
    d = Daemon(wd, config={
        "ipmi": {"credential_secret": MASTER},
        "web": {"user": "admin", "tls_cert": cert, "tls_key": key},
        "personas": [{"name": "tls1", "hostname": "tls-01", "device_id": DEV}],
    }, env={"METALBMC_WEB_PASSWORD": WEB_PW})
    d.start()
    try:
        web = Web(d.web_port, auth=("admin", WEB_PW), tls=True, cafile=cert)
        web.ctx.check_hostname = True  # the certificate names IP:127.0.0.1
        r = web.get("/healthz", auth=None)
        checks.eq(r.status, 200, "/healthz over TLS, certificate verified")
        r = web.get("/api/v1/personas")
        checks.eq(r.status, 200, "the API over TLS")
        checks.contains(r.text, DEV, "it lists the persona")
        check_security_headers(checks, r, "TLS response")
        checks.eq(r.header("Strict-Transport-Security"), "max-age=31536000",
                  "HSTS over TLS")
        r = web.get("/", auth=None)
        checks.eq(r.status, 401, "credentials are still required over TLS")
        with socket.create_connection(("127.0.0.1", d.web_port), timeout=10) as s:
            tls = ssl.create_default_context(cafile=cert).wrap_socket(s, server_hostname="127.0.0.1")
            checks.ok(tls.version() in ("TLSv1.2", "TLSv1.3"), "TLS 1.2 or newer", tls.version())
            tls.close()
        # Plain HTTP to the TLS port gets no page.
        plain = Web(d.web_port, auth=("admin", WEB_PW))
        try:
            r = plain.get("/healthz", auth=None)
            checks.ok(r.status != 200, "plain HTTP to the TLS port is not served", r.status)
        except (OSError, Exception) as e:  # noqa: B902 - any failure is a refusal here
            checks.ok(True, "plain HTTP to the TLS port is not served (%s)" % type(e).__name__)
        r = web.get("/personas/" + DEV)
        checks.eq(r.status, 200, "the persona page over TLS")
        r = web.get("/metrics")
        checks.eq(r.status, 200, "/metrics over TLS")
        r = web.get("/static/page.js")
        checks.eq(r.status, 200, "the script over TLS")
        checks.start("headers and secrets over TLS")
        n = check_every_response(checks, web.seen, tls=True)
        checks.eq(n, len(web.seen), "every answer over TLS was checked")
        check_authenticated_kinds(checks, web.seen, [
            ("GET", "/api/v1/personas", 200), ("GET", "/personas/", 200),
            ("GET", "/metrics", 200), ("GET", "/static/page.js", 200)])
        scan_responses(checks, web.seen, secrets)
        for resp in plain.seen:  # whatever plain HTTP got back, if anything
            checks.ok(all(v not in resp.raw() for v in secrets.values()),
                      "no secret in the answer to plain HTTP")
    finally:
        d.check_exit(checks)
    log = d.read_log()
    checks.contains(log, "web: listening on https://127.0.0.1:%d" % d.web_port,
                    "the log says https")
    checks.ok(key_body[:40] not in log, "the key is not in the log")
    d.scan_for_secrets(checks, list(secrets.values()))

    checks.start("a TLS key others may read is refused")
    os.chmod(key, 0o644)
    bad = Daemon(wd, name="badkey", config={
        "ipmi": {"credential_secret": MASTER},
        "web": {"user": "admin", "password": WEB_PW, "tls_cert": cert, "tls_key": key},
    })
    rc = bad.start(expect_fail=True)
    checks.ok(rc != 0, "metalbmc does not start", rc)
    log = bad.read_log()
    checks.contains(log, "web: TLS key %s:" % key, "the log names the key file")
    checks.ok(key_body[:40] not in log, "and not its content")
    os.chmod(key, 0o600)

    checks.start("no web password: only /healthz")
    off = Daemon(wd, name="nopass", config={
        "ipmi": {"credential_secret": MASTER},
        "personas": [{"name": "p1", "device_id": DEV}],
    })
    off.start()
    try:
        web = Web(off.web_port, auth=("admin", "anything"))
        r = web.get("/healthz", auth=None)
        checks.eq(r.status, 200, "/healthz is served")
        for path in ("/", "/api/v1/personas", "/metrics", "/personas/" + DEV):
            r = web.get(path)
            checks.eq(r.status, 403, "%s is refused" % path)
        checks.contains(r.text, "no web password is configured", "the refusal says why")
        checks.ok(r.header("WWW-Authenticate") is None, "no credentials are asked for")
        checks.eq(off.log_count("serving only /healthz"), 1, "the log says so, once")
        check_every_response(checks, web.seen)
        scan_responses(checks, web.seen, {k: v for k, v in secrets.items()
                                          if k != "web password"})
    finally:
        off.check_exit(checks)

    checks.start("web.enabled: false")
    port = free_port("tcp")
    dis = Daemon(wd, name="disabled", config={
        "web": {"enabled": False, "listen": "127.0.0.1:%d" % port}})
    dis.start()
    try:
        refused = False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        except OSError:
            refused = True
        checks.ok(refused, "nothing listens on web.listen")
        checks.eq(dis.log_count("web: disabled"), 1, "the log says the page is off")
    finally:
        dis.check_exit(checks)
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
