"""A fleet many slices long: the page and the JSON list are rendered a slice
of personas at a time (web/stream.c) so a big table never holds the loop.
Every persona still arrives, in order, as valid HTML and JSON; clients that
read slowly while devices are retired get well-formed documents; IPMI keeps
answering meanwhile. (Which rows a slow reader gets depends on how much the
kernel buffers; the skipping itself is pinned by unit_web_stream.)"""

import json
import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import SOURCE, Checks, Daemon, MetalSim, asf_ping, wait_until, workdir  # noqa: E402
from web_helpers import (Response, Web, basic, check_authenticated_kinds,  # noqa: E402
                         check_every_response, csrf_token, derived_password, scan_responses)

TOKEN = "e2e-metal-token-web-fleet-1q2w3e"
WEB_PW = "e2e-web-fleet-pass-Xx1"
MASTER = "e2e-master-secret-web-fleet-0000001"
DEVICES = 600
GONE = 150


def slow_get(port, path):
    """Sends a GET on a socket with a tiny receive buffer and returns it
    unread: the server can push only the first slices."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(30)
    s.connect(("127.0.0.1", port))
    s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: %s\r\n"
               "Connection: close\r\n\r\n" % (path, port, basic("admin", WEB_PW))).encode())
    return s


def read_all(s, web, path):
    """Reads a slow_get answer to its end; returns (head, body) with the
    body de-chunked, and records it with web's answers (so the secret scan
    sees it whole: a chunk boundary could split a secret)."""
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    head, body = data.split(b"\r\n\r\n", 1)
    if b"chunked" in head.lower():
        out, rest = b"", body
        while True:
            size_line, rest = rest.split(b"\r\n", 1)
            n = int(size_line.split(b";")[0], 16)
            if n == 0:
                break
            out += rest[:n]
            rest = rest[n + 2:]
        body = out
    lines = head.decode("latin-1").split("\r\n")
    web.seen.append(Response(int(lines[0].split(" ")[1]),
                             [tuple(x.strip() for x in l.split(":", 1))
                              for l in lines[1:] if ":" in l],
                             body, method="GET", path=path, authed=True, raw_socket=True))
    return head.decode(), body


def main():
    checks = Checks("web_fleet")
    wd = workdir("web_fleet")
    fixture = os.path.join(wd, "fleet.json")
    with open(fixture, "w") as f:
        subprocess.run(["/usr/bin/python3", os.path.join(SOURCE, "tests", "metal-sim",
                                                         "gen_fixture.py"),
                        "--devices", str(DEVICES), "--tagged-fraction", "1", "--seed", "7"],
                       stdout=f, check=True)
    with open(fixture) as f:
        devs = json.load(f)["projects"][0]["devices"]
    project = None
    with open(fixture) as f:
        project = json.load(f)["projects"][0]["id"]
    sim = MetalSim(wd, fixture, token=TOKEN).start()
    d = Daemon(wd, config={
        "metal": {"token": TOKEN, "project_ids": [project], "api_url": sim.url,
                  "poll_interval": 3600},
        "ipmi": {"credential_secret": MASTER},
        "web": {"user": "admin", "password": WEB_PW},
    }, log_level="debug")
    secrets = {"api token": TOKEN, "web password": WEB_PW, "master secret": MASTER}
    for dev in devs:
        secrets["ipmi password of " + dev["id"]] = derived_password(MASTER, dev["id"])
    d.start()
    web = Web(d.web_port, auth=("admin", WEB_PW))
    try:
        checks.start("every persona, in order")
        wait_until(lambda: len(json.loads(web.get("/api/v1/personas").body)["personas"])
                   == DEVICES, 60, "%d personas" % DEVICES)
        doc = json.loads(web.get("/api/v1/personas").body)
        names = [(p["hostname"], p["id"]) for p in doc["personas"]]
        checks.eq(len(names), DEVICES, "the JSON list holds every persona")
        checks.eq(names, sorted(names), "sorted by hostname, then device ID")
        checks.eq(len(set(p["id"] for p in doc["personas"])), DEVICES, "no persona twice")
        page = web.get("/").text
        checks.eq(page.count('<tr class="persona'), DEVICES, "the page has a row for each")
        checks.ok(page.rstrip().endswith("</html>"), "and ends properly")
        checks.ok(web.get("/?q=no-such-host-anywhere").text.count("No personas to show") == 1,
                  "a filter matching nothing says so")

        checks.start("devices retired while a slow client reads")
        order = [p["id"] for p in doc["personas"]]
        gone = set(order[-GONE:])               # the last rows of the list
        s_json = slow_get(d.web_port, "/api/v1/personas")
        s_page = slow_get(d.web_port, "/")
        for dev in gone:
            st, _ = sim._call("POST", "/_sim/devices/%s" % dev, {"deleted": True})
            if st != 200:
                checks.ok(False, "metal-sim deletes a device", st)
                break
        token = csrf_token(web.get("/personas/%s" % order[0]).text)
        checks.eq(web.post_form("/admin/poll", {"csrf": token}).status, 303, "poll now")
        wait_until(lambda: len(json.loads(web.get("/api/v1/personas").body)["personas"])
                   == DEVICES - GONE, 60, "the deleted devices to be retired")
        checks.ok(asf_ping(d.port), "IPMI answers while the slow clients wait")
        head, body = read_all(s_json, web, "/api/v1/personas")
        checks.ok(head.startswith("HTTP/1.1 200"), "the slow JSON answer is 200", head)
        try:
            late = json.loads(body)
            ids = [p["id"] for p in late["personas"]]
            checks.ok(DEVICES - GONE <= len(ids) <= DEVICES, "it holds the personas that were "
                      "alive when their slice was rendered", len(ids))
            checks.eq(len(set(ids)), len(ids), "none twice")
            checks.ok(set(ids) >= set(order) - gone, "every persona still there is listed")
        except ValueError as e:
            checks.ok(False, "the slow JSON answer is valid JSON", "%s: %r" % (e, body[-200:]))
        head, body = read_all(s_page, web, "/")
        text = body.decode("utf-8", "replace")
        checks.ok(text.rstrip().endswith("</html>"), "the slow page is complete")
        rows = text.count('<tr class="persona')
        checks.ok(DEVICES - GONE <= rows <= DEVICES, "with the rows alive when rendered", rows)
        checks.ok(d.alive(), "metalbmc is still running")

        checks.start("headers and no secret in any answer")
        check_every_response(checks, web.seen)
        check_authenticated_kinds(checks, web.seen, [
            ("GET", "/", 200), ("GET", "/api/v1/personas", 200), ("GET", "/personas/", 200),
            ("POST", "/admin/poll", 303)])
        checks.eq(sum(1 for r in web.seen if r.raw_socket), 2,
                  "the two slow answers are among those scanned")
        scan_responses(checks, web.seen, secrets)
    finally:
        d.check_exit(checks)
        sim.stop()
        d.scan_for_secrets(checks, list(secrets.values()))
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
