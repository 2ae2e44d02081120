#!/usr/bin/python3
"""metal_sim_conformance: metal-sim's answers checked against the Metal
OpenAPI description by Prism.

Every call metalbmc makes goes through `prism proxy --errors` in front of
metal-sim; Prism validates the request and the answer against
openapi/openapi.yaml (the copy in this folder, so a clean clone needs
nothing from ../shared).  Any violation Prism reports (an `sl-violations`
header, or its VIOLATIONS problem answer) fails the test.  A negative
control first proves the pipeline does catch a non-conforming answer.

Prism is installed here when missing: `npm ci` of prism/package-lock.json
(every package pinned, so a fresh machine with Debian's Node 18 gets the
same tree as everyone else) into a cache ($METALBMC_PRISM_DIR, else
~/.cache/metalbmc/prism, else the build folder), after `apt-get install -y
nodejs npm` if node is missing.

    test_conformance.py --sim PATH/metal-sim --gen gen_fixture.py --spec openapi.yaml --workdir DIR
"""

import argparse
import fcntl
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from simtest import Checks, Sim, gen_fixture, wait_until  # noqa: E402

PRISM_PACKAGE = "@stoplight/prism-cli@5.14.2"  # pinned: same checks on every machine
TOKEN = "conformance-token-8d41c07e"
HERE = os.path.dirname(os.path.abspath(__file__))
PRISM_PINS = os.path.join(HERE, "prism")  # package.json and the lock of every version
PRISM_LOCK = os.path.join(PRISM_PINS, "package-lock.json")


# ---- Prism installation -----------------------------------------------------

def log(msg):
    print(msg, flush=True)


SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def npm_env():
    """Node trusts only the CAs built into it; on a machine whose traffic
    goes through a TLS proxy with its own CA (in the system's store), npm
    must trust the system's store too, or the install fails with
    SELF_SIGNED_CERT_IN_CHAIN."""
    env = dict(os.environ)
    if "NODE_EXTRA_CA_CERTS" not in env and os.path.exists(SYSTEM_CA_BUNDLE):
        env["NODE_EXTRA_CA_CERTS"] = SYSTEM_CA_BUNDLE
    return env


def ensure_node():
    if shutil.which("node") and shutil.which("npm"):
        return
    log("node/npm missing: installing Debian's nodejs and npm")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "--no-install-recommends", "nodejs", "npm"]
    if subprocess.run(cmd, env=env).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, check=True)
        subprocess.run(cmd, env=env, check=True)


def prism_dirs(fallback):
    if os.environ.get("METALBMC_PRISM_DIR"):
        yield os.environ["METALBMC_PRISM_DIR"]
    if os.environ.get("HOME"):
        yield os.path.join(os.environ["HOME"], ".cache", "metalbmc", "prism")
    yield fallback


def read_bytes(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def prism_installed(d):
    """d's prism, if d holds exactly the pinned tree (its lock file is
    ours: an install from before the pin, or from a newer resolution, is
    replaced)."""
    exe = os.path.join(d, "node_modules", ".bin", "prism")
    stamp = read_bytes(os.path.join(d, "node_modules", ".metalbmc-lock"))
    return exe if os.access(exe, os.X_OK) and stamp == read_bytes(PRISM_LOCK) else None


def ensure_prism(fallback):
    """Returns the prism executable, installing it into the first writable
    cache directory.  A lock file keeps parallel test runs from installing
    into the same directory at once."""
    errors = []
    for d in prism_dirs(fallback):
        exe = prism_installed(d)
        if exe:
            return exe
        try:
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, ".install.lock"), "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                exe = prism_installed(d)  # another run may have finished meanwhile
                if exe:
                    return exe
                ensure_node()
                log("installing %s (pinned tree) into %s" % (PRISM_PACKAGE, d))
                for name in ("package.json", "package-lock.json"):
                    shutil.copyfile(os.path.join(PRISM_PINS, name), os.path.join(d, name))
                r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error",
                                    "--prefix", d], timeout=480, env=npm_env())
                if r.returncode == 0:
                    shutil.copyfile(PRISM_LOCK, os.path.join(d, "node_modules", ".metalbmc-lock"))
                exe = prism_installed(d)
                if r.returncode == 0 and exe:
                    return exe
                errors.append("%s: npm ci exited %d" % (d, r.returncode))
        except (OSError, subprocess.SubprocessError) as e:
            errors.append("%s: %s" % (d, e))
    raise RuntimeError("cannot install Prism: " + "; ".join(errors))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Prism:
    def __init__(self, exe, spec, upstream, workdir):
        self.log_path = os.path.join(workdir, "prism.log")
        self.logf = open(self.log_path, "wb")
        self.port = free_port()
        self.proc = subprocess.Popen(
            [exe, "proxy", "-h", "127.0.0.1", "-p", str(self.port), "--errors", spec, upstream],
            stdout=self.logf, stderr=subprocess.STDOUT)

        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError("prism exited %s; see %s" % (self.proc.returncode, self.log_path))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return True
            except OSError:
                return False
        wait_until(ready, 90, "Prism to listen", interval=0.1)

    def request(self, method, path, body=None, token=TOKEN, raw_body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Accept": "application/json"}
        if token:
            headers["X-Auth-Token"] = token
        if body is not None:
            raw_body = json.dumps(body).encode()
        if raw_body is not None:
            headers["Content-Type"] = "application/json"
        try:
            conn.request(method, path, body=raw_body, headers=headers)
            resp = conn.getresponse()
            return resp.status, dict((k.lower(), v) for k, v in resp.getheaders()), resp.read()
        finally:
            conn.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()


# ---- the checks -------------------------------------------------------------

class Conformance:
    def __init__(self, c, prism):
        self.c = c
        self.prism = prism

    def call(self, method, path, want, body=None, token=TOKEN, raw_body=None, what=None):
        """One call through Prism: the status must be `want` and Prism must
        report nothing.  Returns the parsed body (or None)."""
        what = what or "%s %s" % (method, path)
        status, headers, data = self.prism.request(method, path, body=body, token=token, raw_body=raw_body)
        violations = headers.get("sl-violations")
        ctype = headers.get("content-type", "")
        self.c.ok(violations is None, "%s: no Prism violations" % what, violations)
        self.c.ok("problem+json" not in ctype, "%s: answer is metal-sim's, not a Prism error" % what,
                  data[:600])
        self.c.eq(status, want, "%s: status" % what)
        if not data:
            return None
        try:
            return json.loads(data)
        except ValueError:
            self.c.ok(False, "%s: JSON body" % what, data[:200])
            return None

    def error_body(self, body, key, what):
        if key == "errors":
            ok = isinstance(body, dict) and isinstance(body.get("errors"), list) and body["errors"] \
                and all(isinstance(e, str) for e in body["errors"])
        else:
            ok = isinstance(body, dict) and isinstance(body.get("error"), str)
        self.c.ok(ok, "%s: Error body with %s" % (what, key), body)


def strip_prefix(href):
    assert href.startswith("/metal/v1/"), href
    return href[len("/metal/v1"):]


def run_checks(c, sim, prism, fixture):
    k = Conformance(c, prism)

    c.start("negative control")
    victim = fixture["projects"][0]["devices"][-1]["id"]
    r = sim.control("POST", "/devices/%s" % victim, body={"set": {"tags": "not-a-list", "created_at": "yesterday"}})
    c.eq(r.status, 200, "inject a non-conforming device out of band")
    status, headers, data = prism.request("GET", "/devices/%s" % victim)
    c.ok(headers.get("sl-violations") is not None and "tags" in headers.get("sl-violations", ""),
         "Prism reports a violation for a broken answer (the checker can fail)", headers)
    c.eq(status, 500, "Prism turns the violation into an error with --errors")
    orig = next(d for p in fixture["projects"] for d in p["devices"] if d["id"] == victim)
    sim.control("POST", "/devices/%s" % victim, body={"set": {"tags": orig["tags"], "created_at": orig["created_at"]}})
    k.call("GET", "/devices/%s" % victim, 200, what="restored device")

    c.start("list devices: paging, tag filter, exclude, include, search")
    for proj in fixture["projects"]:
        pid = proj["id"]
        for query, expect in (("per_page=4", len(proj["devices"])),
                              ("tag=ipmi%3Denabled&per_page=3",
                               sum("ipmi=enabled" in d["tags"] for d in proj["devices"])),
                              ("tag=ipmi%3Denabled&per_page=1000&exclude=ip_addresses,plan,facility,project",
                               sum("ipmi=enabled" in d["tags"] for d in proj["devices"])),
                              ("include=project&exclude=operating_system&per_page=5", len(proj["devices"])),
                              ("search=%s" % urllib.parse.quote(proj["devices"][0]["hostname"]), 1)):
            path = "/projects/%s/devices?%s" % (pid, query)
            seen = 0
            for _ in range(100):
                body = k.call("GET", path, 200)
                if body is None:
                    break
                seen += len(body["devices"])
                c.eq(body["meta"]["total"], expect, "total for %s" % query)
                nxt = body["meta"].get("next")
                if not nxt:
                    break
                path = strip_prefix(nxt["href"])
            c.eq(seen, expect, "pages cover all devices for %s (project %s)" % (query, pid[:8]))
        k.call("GET", "/projects/%s/devices" % pid, 200, what="list with defaults")
        k.call("GET", "/projects/%s/devices?page=50" % pid, 200, what="page past the end")

    c.start("get / put")
    demo = fixture["projects"][-1]["devices"]
    for d in demo + fixture["projects"][0]["devices"][:3]:
        body = k.call("GET", "/devices/%s" % d["id"], 200)
        c.eq(body and body["id"], d["id"], "GET returns the device")
        k.call("GET", "/devices/%s?exclude=ip_addresses,plan&include=project" % d["id"], 200)
    target = demo[0]["id"]
    updates = ({"always_pxe": True, "ipxe_script_url": "http://192.0.2.10/boot.ipxe"},
               {"always_pxe": False, "ipxe_script_url": ""},
               {"tags": demo[0]["tags"] + ["ipmi.backend=metal"]},
               {"hostname": "web-da-01-renamed", "description": "renamed", "locked": True,
                "customdata": {"ipmi": {"port": 6230}}, "userdata": "#cloud-config"},
               {})
    for u in updates:
        body = k.call("PUT", "/devices/%s" % target, 200, body=u, what="PUT %s" % sorted(u))
        for key, v in u.items():
            c.eq(body and body.get(key), v, "PUT applied %s" % key)
    k.call("PUT", "/devices/%s?exclude=ip_addresses" % target, 200, body={"locked": False})

    c.start("actions and events")
    off = demo[1]["id"]  # inactive in the demo fixture
    k.call("POST", "/devices/%s/actions" % target, 202, body={"type": "power_off"})
    wait_until(lambda: k.call("GET", "/devices/%s" % target, 200)["state"] == "inactive", 15, "power off")
    k.call("POST", "/devices/%s/actions" % target, 202, body={"type": "power_on"})
    k.call("POST", "/devices/%s/actions" % off, 202, body={"type": "power_on"})
    wait_until(lambda: k.call("GET", "/devices/%s" % off, 200)["state"] == "active", 15, "power on")
    k.call("POST", "/devices/%s/actions" % off, 202, body={"type": "reboot"})
    for state in ("powering_on", "active"):
        wait_until(lambda: k.call("GET", "/devices/%s" % off, 200)["state"] == state, 15, "reboot " + state)
    k.call("POST", "/devices/%s/actions" % off, 202, body={"type": "rescue"})
    wait_until(lambda: k.call("GET", "/devices/%s" % off, 200)["state"] == "active", 15, "rescue")
    k.call("POST", "/devices/%s/actions" % off, 202,
           body={"type": "reinstall", "operating_system": "ubuntu_24_04", "preserve_data": True,
                 "deprovision_fast": False})
    wait_until(lambda: k.call("GET", "/devices/%s" % off, 200)["state"] == "active", 15, "reinstall")
    for dev in (target, off):
        path = "/devices/%s/events?per_page=3" % dev
        total = None
        seen = 0
        for _ in range(100):
            body = k.call("GET", path, 200)
            total = body["meta"]["total"]
            seen += len(body["events"])
            nxt = body["meta"].get("next")
            if not nxt:
                break
            path = strip_prefix(nxt["href"])
        c.ok(total and seen == total, "event pages cover all events", (seen, total))
    k.call("GET", "/devices/%s/events" % demo[3]["id"], 200, what="events of an untouched device")

    c.start("error answers: 401, 404, 422")
    unknown = "00000000-0000-4000-8000-000000000000"
    for method, path, body in (("GET", "/projects/%s/devices" % fixture["projects"][0]["id"], None),
                               ("GET", "/devices/%s" % target, None),
                               ("PUT", "/devices/%s" % target, {"always_pxe": True}),
                               ("POST", "/devices/%s/actions" % target, {"type": "reboot"}),
                               ("GET", "/devices/%s/events" % target, None)):
        b = k.call(method, path, 401, body=body, token="wrong-token", what="%s %s wrong token" % (method, path))
        k.error_body(b, "error", "401 %s %s" % (method, path))
    for method, path, body in (("GET", "/projects/%s/devices" % unknown, None),
                               ("GET", "/devices/%s" % unknown, None),
                               ("PUT", "/devices/%s" % unknown, {"always_pxe": True}),
                               ("POST", "/devices/%s/actions" % unknown, {"type": "power_on"}),
                               ("GET", "/devices/%s/events" % unknown, None)):
        b = k.call(method, path, 404, body=body, what="%s %s unknown" % (method, path))
        k.error_body(b, "errors", "404 %s %s" % (method, path))
    wait_until(lambda: k.call("GET", "/devices/%s" % target, 200)["state"] == "active", 15, "target active")
    # Schema-valid requests that metal-sim refuses: Prism forwards them and
    # checks our 422 against the operation's Error answer.
    for what, method, path, body in (
            ("power_on while active", "POST", "/devices/%s/actions" % target, {"type": "power_on"}),
            ("invalid hostname", "PUT", "/devices/%s" % target, {"hostname": "not a hostname"}),
            ("ipxe_script_url not http", "PUT", "/devices/%s" % target, {"ipxe_script_url": "ftp://x/y"})):
        b = k.call(method, path, 422, body=body, what=what)
        k.error_body(b, "errors", "422 " + what)
    k.call("POST", "/devices/%s/actions" % target, 202, body={"type": "power_off"})
    b = k.call("POST", "/devices/%s/actions" % target, 422, body={"type": "power_off"},
               what="power_off while powering_off")
    k.error_body(b, "errors", "422 busy")

    c.start("answers Prism answers itself (checked directly)")
    # Prism answers a request without X-Auth-Token itself, so metal-sim's own
    # answer to it is checked here against the Error schema by hand.
    r = sim.api("GET", "/devices/%s" % target, token=None)
    c.eq(r.status, 401, "missing token is 401")
    k.error_body(r.json(), "error", "missing token")
    r = sim.api("PUT", "/devices/%s" % target, raw_body=b"{nope")
    c.eq(r.status, 422, "malformed JSON is 422")
    k.error_body(r.json(), "errors", "malformed JSON")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sim", required=True)
    ap.add_argument("--gen", required=True)
    ap.add_argument("--spec", required=True)
    ap.add_argument("--workdir", required=True)
    args = ap.parse_args()
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir)
    c = Checks("metal_sim_conformance")
    started = time.monotonic()

    c.start("prism")
    try:
        exe = ensure_prism(os.path.join(os.path.dirname(os.path.abspath(args.workdir)), "prism"))
    except Exception as e:
        c.ok(False, "Prism is available", e)
        return c.finish()
    c.ok(True, "Prism is available")

    # A generated fixture plus the shipped demo fixture, as one file: both
    # must conform.
    fixture_path = os.path.join(args.workdir, "fixture.json")
    fixture = gen_fixture(args.gen, fixture_path, 23, 0.6, projects=2, seed=9)
    with open(os.path.join(HERE, "demo-fixture.json")) as f:
        fixture["projects"] += json.load(f)["projects"]
    with open(fixture_path, "w") as f:
        json.dump(fixture, f)

    sim = prism = None
    try:
        sim = Sim(args.sim, fixture_path, TOKEN, args.workdir, ["--transition-ms", "200"])
        prism = Prism(exe, args.spec, "http://127.0.0.1:%d/metal/v1" % sim.port, args.workdir)
        run_checks(c, sim, prism, fixture)
    except Exception as e:
        import traceback
        traceback.print_exc()
        c.ok(False, "test raised %s" % type(e).__name__, e)
    finally:
        if prism:
            prism.stop()
        if sim:
            c.eq(sim.stop(), 0, "metal-sim exits 0")
    if c.failed and prism:
        with open(prism.log_path, errors="replace") as f:
            tail = f.read()[-4000:]
        print("--- prism log tail ---\n" + tail)
    print("took %.1fs" % (time.monotonic() - started))
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
