"""The web server's JSON API, /metrics, /healthz and admin forms, checked
against the state ipmitool actions produce; every refusal (no or wrong
credentials, missing or wrong form token, cross-site origin, oversized and
malformed requests, unknown paths, lock-out); and no secret in any response
or in the log, except the one password the reveal form is asked for."""

import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Checks, Daemon, IpmiShell, free_port, ipmitool, wait_until,  # noqa: E402
                     workdir)
from rmcpp_raw import Client, Refused  # noqa: E402
from web_helpers import (Web, basic, check_authenticated_kinds, check_every_response,  # noqa: E402
                         check_security_headers, csrf_token, derived_password, scan_responses)

MASTER = "e2e-master-secret-web-api-0123456789"
WEB_PW = "e2e-web-password-Zq81xT"
TOKEN = "e2e-metal-token-never-shown-55177"
DEV1 = "5e1f0c1a-0000-4000-8000-00000000a001"
DEV2 = "5e1f0c1a-0000-4000-8000-00000000a002"
DEV3 = "5e1f0c1a-0000-4000-8000-00000000a003"
EVIL = "lab<script>alert(1)</script>&'\""


def persona(doc, pid):
    for p in doc["personas"]:
        if p["id"] == pid:
            return p
    return None


def main():
    checks = Checks("web_api")
    wd = workdir("web_api")
    own_port = free_port("udp")
    d = Daemon(wd, config={
        "metal": {"token": TOKEN},
        "ipmi": {"credential_secret": MASTER, "allow_ipmi15": True},
        "web": {"user": "admin", "password": WEB_PW},
        "personas": [
            {"name": "web1", "hostname": "web-01", "device_id": DEV1},
            {"name": "db1", "hostname": "db-01", "device_id": DEV2, "power": "off"},
            {"name": "own1", "hostname": EVIL, "device_id": DEV3, "port": own_port},
        ],
    })
    pw = {dev: derived_password(MASTER, dev) for dev in (DEV1, DEV2, DEV3)}
    secrets = {"web password": WEB_PW, "api token": TOKEN, "master secret": MASTER,
               "ipmi password 1": pw[DEV1], "ipmi password 2": pw[DEV2],
               "ipmi password 3": pw[DEV3]}
    d.start()
    web = Web(d.web_port, auth=("admin", WEB_PW))
    allowed = set()
    try:
        checks.start("healthz without credentials")
        r = web.get("/healthz", auth=None)
        checks.eq(r.status, 200, "/healthz answers 200")
        checks.ok(r.text.startswith("ok\n"), "/healthz says ok", r.text)
        check_security_headers(checks, r, "/healthz")

        checks.start("refusals")
        r = web.get("/", auth=None)
        checks.eq(r.status, 401, "no credentials: 401")
        checks.ok((r.header("WWW-Authenticate") or "").startswith('Basic realm="metalbmc"'),
                  "401 asks for basic auth", r.header("WWW-Authenticate"))
        check_security_headers(checks, r, "401")
        r = web.get("/api/v1/personas", auth=("admin", "not-the-password"))
        checks.eq(r.status, 401, "wrong password: 401")
        r = web.get("/api/v1/personas", auth=("root", WEB_PW))
        checks.eq(r.status, 401, "wrong user name: 401")
        r = web.get("/metrics", auth=None, headers={"Authorization": "Basic %%%"})
        checks.eq(r.status, 401, "malformed Authorization header: 401")
        r = web.get("/no/such/page")
        checks.eq(r.status, 404, "unknown path: 404")
        r = web.get("/no/such/page", auth=None)
        checks.eq(r.status, 401, "unknown path without credentials: 401, not 404")
        r = web.get("/admin/poll")
        checks.eq(r.status, 405, "GET on a POST-only path: 405")
        checks.eq(r.header("Allow"), "POST", "405 names the method allowed")
        r = web.get("/api/v1/events?limit=abc")
        checks.eq(r.status, 400, "malformed query: 400")
        r = web.get("/api/v1/personas/no-such-device")
        checks.eq(r.status, 404, "unknown persona in the API: 404")
        checks.eq(json.loads(r.body).get("error"), "no such persona", "404 is JSON")
        r = web.get("/personas/no-such-device")
        checks.eq(r.status, 404, "unknown persona page: 404")
        r = web.request("GET", "/", headers={"X-Big": "x" * 40000}, by_mhd=True)
        checks.ok(r.status in (413, 431), "headers larger than the connection's memory: 413/431",
                  r.status)

        r = web.request("HEAD", "/api/v1/personas")
        checks.eq((r.status, r.body), (200, b""), "HEAD answers like GET, without a body")

        # Raw sockets, recorded with the rest (Web.raw) for the secret scan.
        checks.eq(web.raw(b"GET / HTTP/1.1\r\n\r\n").status, 400,
                  "HTTP/1.1 without a Host header: 400")
        checks.eq(web.raw(b"GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n").status,
                  400, "a header line without a colon: 400")
        checks.eq(web.raw((
            "POST /admin/poll HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            "Content-Length: 1000000\r\n\r\n" % basic("admin", WEB_PW)).encode()).status, 413,
            "a declared body over the limit: 413 before it is sent")

        checks.start("JSON before any IPMI action")
        r = web.get("/api/v1/personas")
        checks.eq(r.status, 200, "/api/v1/personas answers 200")
        checks.eq(r.header("Content-Type"), "application/json", "JSON content type")
        checks.eq(r.header("Cache-Control"), "no-store", "API responses are not cached")
        check_security_headers(checks, r, "/api/v1/personas")
        doc = json.loads(r.body)
        checks.eq(len(doc["personas"]), 3, "three personas")
        p1, p2, p3 = persona(doc, DEV1), persona(doc, DEV2), persona(doc, DEV3)
        checks.ok(p1 and p2 and p3, "every persona is listed by device ID", doc)
        checks.eq(p1["power"], "on", "web1 starts on")
        checks.eq(p2["power"], "off", "db1 starts off")
        checks.eq(p1["reach"]["kind"], "shared", "web1 is on the shared listener")
        checks.eq(p1["reach"]["port"], d.port, "web1's port")
        checks.eq(p1["reach"]["user"], "web1", "web1's user name is its name")
        checks.eq(p3["reach"]["kind"], "own_port", "own1 has its own port")
        checks.eq(p3["reach"]["port"], own_port, "own1's own port")
        checks.eq(p3["reach"]["user"], "admin", "own1 takes the configured user name")
        checks.eq(p3["hostname"], EVIL, "a hostname with markup comes back as plain text")
        checks.eq(p1["reach"]["ipmitool"],
                  "ipmitool -I lanplus -H 127.0.0.1 -p %d -U web1 -P <password> -C 17 "
                  "chassis power status" % d.port, "web1's ipmitool command line")
        checks.eq(p1["boot"]["label"], "default", "no boot override yet")
        checks.eq(p1["last_action"], None, "no action yet")
        checks.eq(p1["origin"], "config", "declared in the configuration")

        checks.start("ipmitool actions")
        rc, out = ipmitool(d.port, "web1", pw[DEV1], "chassis", "power", "off")
        checks.eq(rc, 0, "ipmitool power off web1: " + out)
        rc, out = ipmitool(d.port, "web1", pw[DEV1], "chassis", "bootdev", "pxe",
                           "options=persistent")
        checks.eq(rc, 0, "ipmitool bootdev pxe persistent web1: " + out)
        rc, out = ipmitool(d.port, "db1", pw[DEV2], "chassis", "power", "on")
        checks.eq(rc, 0, "ipmitool power on db1: " + out)
        rc, out = ipmitool(own_port, "admin", pw[DEV3], "chassis", "power", "status")
        checks.eq(rc, 0, "ipmitool reaches own1 on its own port: " + out)
        rc, out = ipmitool(d.port, "nosuchuser", "whatever-password", "chassis", "power",
                           "status", retries=1)
        checks.ok(rc != 0, "an unknown user name cannot log in", out)

        doc = json.loads(web.get("/api/v1/personas").body)
        p1, p2 = persona(doc, DEV1), persona(doc, DEV2)
        checks.eq(p1["power"], "off", "web1 is off after ipmitool power off")
        checks.eq(p2["power"], "on", "db1 is on after ipmitool power on")
        checks.eq(p1["boot"], {"device": "pxe", "override": True, "persistent": True,
                               "efi": False, "label": "PXE persistent"},
                  "web1 boots PXE persistently")
        la = p1["last_action"] or {}
        checks.eq(la.get("what"), "boot pxe persistent", "web1's last action")
        checks.eq(la.get("result"), "ok", "web1's last action succeeded")
        checks.ok(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", la.get("at") or ""),
                  "last action has a time", la)
        checks.eq((p2["last_action"] or {}).get("what"), "power on", "db1's last action")

        r = web.get("/api/v1/personas/%s" % DEV1)
        one = json.loads(r.body)
        whats = [e["what"] for e in one["events"]]
        checks.eq(whats[:2], ["boot pxe persistent", "power off"],
                  "persona events, newest first")
        checks.ok(all("user web1" in e["source"] and "127.0.0.1:" in e["source"]
                      for e in one["events"][:2]),
                  "events name the source address and user", one["events"])
        r = web.get("/api/v1/personas/web1")
        checks.eq(json.loads(r.body).get("id"), DEV1, "a persona is found by its name too")
        ev = json.loads(web.get("/api/v1/events?limit=2").body)["events"]
        checks.eq(len(ev), 2, "?limit=2 gives two events")
        checks.eq([(e["persona"], e["what"]) for e in ev],
                  [(DEV2, "power on"), (DEV1, "boot pxe persistent")],
                  "/api/v1/events: newest first across personas")

        checks.start("failed logins are audited with their source")
        # ipmitool (RMCP+) checks our RAKP 2 against its wrong password and
        # stops without a RAKP 3: the appliance learns of it when the
        # half-open session times out (HALF_OPEN_TIMEOUT_MS).
        rc, out = ipmitool(own_port, "admin", "not-" + pw[DEV3][:12], "chassis", "power", "status",
                           retries=1)
        checks.ok(rc != 0, "a wrong password does not log in to own1", out)

        def newest_event(dev, prefix):
            evs = json.loads(web.get("/api/v1/personas/%s" % dev).body)["events"]
            return evs[0] if evs and evs[0]["what"].startswith(prefix) else None
        try:
            ev = wait_until(lambda: newest_event(DEV3, "login failed"), 20,
                            "own1's failed login in its events")
        except TimeoutError as e:
            ev = {}
            checks.ok(False, str(e))
        checks.eq(ev.get("what"), "login failed (no RAKP 3: wrong password at the console?)",
                  "own1's newest event is the failed RMCP+ login")
        checks.ok(re.fullmatch(r"127\.0\.0\.1:\d+ user admin", ev.get("source", "")),
                  "it names the source address and user name", ev)
        checks.ok(ev.get("result", "").startswith("failed"), "its result is a failure", ev)
        # IPMI v1.5 sends the password's AuthCode in Activate Session: the
        # appliance sees the wrong password at once.
        rc, out = ipmitool(d.port, "db1", "not-" + pw[DEV2][:8], "chassis", "power", "status",
                           interface="lan", retries=1)
        checks.ok(rc != 0, "a wrong password does not log in to db1 over IPMI v1.5", out)
        ev = newest_event(DEV2, "login failed") or {}
        checks.eq(ev.get("what"), "login failed (IPMI v1.5)",
                  "db1's newest event is the failed v1.5 login")
        checks.ok(re.fullmatch(r"127\.0\.0\.1:\d+ user db1", ev.get("source", "")),
                  "it names the source address and user name", ev)
        checks.ok(ev.get("result", "").startswith("failed"), "its result is a failure", ev)
        # A console that says so in RAKP 3 (status 0x0F: our RAKP 2 code did
        # not match its password), as some do instead of going quiet.
        console = Client(d.port)
        try:
            console.login("web1", "wrong-password-web1", suite=17, rakp3_status=0x0F)
            checks.ok(False, "a RAKP 3 with an error status does not log in")
        except Refused as e:
            checks.eq(e.status, 0x0F, "the raw console aborted in RAKP 3")
        finally:
            console.close()
        ev = newest_event(DEV1, "login failed") or {}
        checks.eq(ev.get("what"), "login failed (console rejected RAKP 2)",
                  "web1's newest event is the console's refusal")
        checks.ok(re.fullmatch(r"127\.0\.0\.1:\d+ user web1", ev.get("source", "")),
                  "it names the source address and user name", ev)
        checks.eq((ev.get("cc"), ev.get("result")), (0x0F, "failed: 0x0F"),
                  "with the console's status as a failure")
        ev_all = json.loads(web.get("/api/v1/events?limit=3").body)["events"]
        checks.eq([(e["persona"], e["what"]) for e in ev_all],
                  [(DEV1, "login failed (console rejected RAKP 2)"),
                   (DEV2, "login failed (IPMI v1.5)"),
                   (DEV3, "login failed (no RAKP 3: wrong password at the console?)")],
                  "/api/v1/events lists the failures, newest first")
        r = web.get("/personas/%s" % DEV3)
        checks.contains(r.text, "login failed (no RAKP 3", "own1's page lists the failed login")

        checks.start("metrics")
        r = web.get("/metrics")
        checks.eq(r.status, 200, "/metrics answers 200")
        checks.ok((r.header("Content-Type") or "").startswith("text/plain; version=0.0.4"),
                  "Prometheus content type", r.header("Content-Type"))
        m = r.text
        samples = dict(l.rsplit(" ", 1) for l in m.splitlines() if l and not l.startswith("#"))
        checks.ok(all(k.startswith("metalbmc_") for k in samples), "every name has the prefix")
        cc_key = ('metalbmc_ipmi_requests_total{netfn="0x00",cmd="0x02",'
                  'command="chassis_control",cc="0x00"}')
        checks.eq(samples.get(cc_key), "2", "two chassis control requests answered ok")
        boot_key = ('metalbmc_ipmi_requests_total{netfn="0x00",cmd="0x08",'
                    'command="set_boot_options",cc="0x00"}')
        checks.ok(int(samples.get(boot_key, "0")) >= 1, "set boot options counted", m)
        checks.eq(samples.get('metalbmc_personas{power="on"}'), "2", "two personas on")
        checks.eq(samples.get('metalbmc_personas{power="off"}'), "1", "one persona off")
        checks.eq(samples.get("metalbmc_login_failures_total"), "4",
                  "the unknown user and the three failed logins are counted")
        checks.eq(samples.get("metalbmc_sessions_open"), "0", "no session open now")
        checks.ok(int(samples.get("metalbmc_sessions_opened_total", "0")) >= 4,
                  "four sessions were opened", m)

        checks.start("admin forms and their refusals")
        r = web.get("/personas/%s" % DEV1)
        checks.eq(r.status, 200, "persona page answers 200")
        check_security_headers(checks, r, "persona page")
        checks.contains(r.text, "ipmitool -I lanplus -H 127.0.0.1 -p %d -U web1 -P "
                                "&lt;password&gt; -C 17 chassis power status" % d.port,
                        "the page shows the ipmitool command without the password")
        checks.contains(r.text, "boot pxe persistent", "the page lists the audit events")
        token = csrf_token(r.text)
        checks.ok(token, "the page carries a form token")
        path = "/personas/%s/disable" % DEV1
        r = web.post_form(path, {})
        checks.eq(r.status, 403, "POST without a token: 403")
        r = web.post_form(path, {"csrf": "0" * 16 + "." + "0" * 64})
        checks.eq(r.status, 403, "POST with a forged token: 403")
        r = web.post_form(path, {"csrf": token[:-1] + ("0" if token[-1] != "0" else "1")})
        checks.eq(r.status, 403, "POST with a token one digit off: 403")
        r = web.post_form(path, {"csrf": token}, headers={"Origin": "http://evil.example"})
        checks.eq(r.status, 403, "POST from another origin: 403")
        r = web.post_form(path, {"csrf": token}, headers={"Sec-Fetch-Site": "cross-site"})
        checks.eq(r.status, 403, "POST a browser marks cross-site: 403")
        r = web.request("POST", path, body="csrf=" + token,
                        headers={"Content-Type": "text/plain"})
        checks.eq(r.status, 415, "POST that is not a form: 415")
        r = web.request("POST", path, body="csrf=%zz",
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
        checks.eq(r.status, 400, "malformed form body: 400")
        r = web.request("POST", path, body="csrf=" + token + "&pad=" + "x" * 8000,
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
        checks.eq(r.status, 413, "oversized body: 413")
        r = web.post_form(path, {"csrf": token}, auth=None)
        checks.eq(r.status, 401, "POST without credentials: 401")
        doc = json.loads(web.get("/api/v1/personas/%s" % DEV1).body)
        checks.eq(doc["enabled"], True, "no refused POST changed anything")

        checks.start("disable and enable")
        shell = IpmiShell(d.port, "web1", pw[DEV1])
        checks.ok(shell.opened, "an ipmitool shell holds a session to web1", shell.last_output)
        doc = json.loads(web.get("/api/v1/personas/%s" % DEV1).body)
        checks.eq(doc["sessions"], 1, "the API counts web1's open session")
        m = web.get("/metrics").text
        checks.contains(m, "\nmetalbmc_sessions_open 1\n", "/metrics counts it too")
        host = "127.0.0.1:%d" % d.web_port
        r = web.post_form(path, {"csrf": token}, headers={"Origin": "http://" + host})
        checks.eq(r.status, 303, "disable: 303")
        checks.eq(r.header("Location"), "/personas/%s" % DEV1, "back to the persona")
        doc = json.loads(web.get("/api/v1/personas/%s" % DEV1).body)
        checks.eq(doc["enabled"], False, "web1 is disabled")
        checks.eq(doc["sessions"], 0, "disabling closed web1's session")
        out = shell.command("chassis power status", timeout=20)
        checks.ok(out is None or "off" not in out, "the closed session no longer answers", out)
        shell.close()
        checks.eq(doc["events"][0]["what"], "disabled by admin", "disabling is audited")
        checks.ok(doc["events"][0]["source"].startswith("web 127.0.0.1:") and
                  doc["events"][0]["source"].endswith(" user admin"),
                  "the audit names the web user and address", doc["events"][0])
        rc, out = ipmitool(d.port, "web1", pw[DEV1], "chassis", "power", "status", retries=1)
        checks.ok(rc != 0, "a disabled persona refuses logins", out)

        checks.start("the admin switch survives a restart")
        switches = os.path.join(d.config["state_dir"], "switches.json")
        with open(switches) as f:
            checks.eq(json.load(f), {"version": 1, "disabled": [DEV1]},
                      "switches.json names the disabled device")
        checks.eq(os.stat(switches).st_mode & 0o777, 0o600, "switches.json is 0600")
        d.restart()
        checks.contains(d.read_log(), "1 persona(s) disabled by an admin stay disabled",
                        "the restarted daemon says it keeps the switch")
        doc = json.loads(web.get("/api/v1/personas/%s" % DEV1).body)
        checks.eq(doc["enabled"], False, "web1 is still disabled after the restart")
        doc2 = json.loads(web.get("/api/v1/personas/%s" % DEV2).body)
        checks.eq(doc2["enabled"], True, "db1 was never disabled and is not now")
        rc, out = ipmitool(d.port, "web1", pw[DEV1], "chassis", "power", "status", retries=1)
        checks.ok(rc != 0, "after the restart web1 still refuses logins", out)
        token = csrf_token(web.get("/personas/%s" % DEV1).text)
        r = web.post_form("/personas/%s/enable" % DEV1, {"csrf": token})
        checks.eq(r.status, 303, "enable: 303")
        with open(switches) as f:
            checks.eq(json.load(f)["disabled"], [], "enabling empties switches.json")
        rc, out = ipmitool(d.port, "web1", pw[DEV1], "chassis", "power", "status")
        checks.eq(rc, 0, "enabled again, it answers: " + out)
        d.restart()
        rc, out = ipmitool(d.port, "web1", pw[DEV1], "chassis", "power", "status")
        checks.eq(rc, 0, "and still answers after another restart: " + out)
        token = csrf_token(web.get("/personas/%s" % DEV1).text)  # a new process, new tokens

        checks.start("reveal")
        r = web.post_form("/personas/%s/reveal" % DEV2, {"csrf": token})
        checks.eq(r.status, 200, "reveal: 200")
        checks.eq(r.header("Cache-Control"), "no-store", "the reveal is not cached")
        m2 = re.search(r'<code id="password">([^<]*)</code>', r.text)
        checks.eq(m2.group(1) if m2 else None, pw[DEV2],
                  "the reveal shows exactly db1's derived password")
        allowed.add((id(r), "ipmi password 2"))
        others = [v for k, v in secrets.items() if k != "ipmi password 2"]
        checks.ok(not any(s in r.raw() for s in others), "the reveal shows no other secret")
        rc, out = ipmitool(d.port, "db1", m2.group(1) if m2 else "x", "chassis", "power",
                           "status")
        checks.eq(rc, 0, "the revealed password logs in: " + out)
        doc = json.loads(web.get("/api/v1/personas/%s" % DEV2).body)
        checks.eq(doc["events"][0]["what"], "password revealed", "the reveal is audited")
        log = d.read_log()
        checks.ok(re.search(r"IPMI password of persona db1 revealed to web 127\.0\.0\.1:\d+ "
                            r"user admin", log), "the reveal is in the log", log[-2000:])
        r = web.post_form("/admin/poll", {"csrf": token})
        checks.eq(r.status, 409, "poll now without Metal projects: 409")

        checks.start("escaping")
        r = web.get("/")
        checks.ok("<script>alert(1)" not in r.text, "the page never echoes markup from a name")
        checks.contains(r.text, "lab&lt;script&gt;alert(1)&lt;/script&gt;&amp;&#39;&quot;",
                        "the hostname is shown escaped")
        r = web.get("/?q=%22%3E%3Cscript%3E")
        checks.eq(r.status, 200, "a filter with markup is served")
        checks.ok('"><script>' not in r.text, "the filter value is escaped")

        checks.start("the page's script and style sheet")
        r = web.get("/static/page.js")
        checks.eq(r.status, 200, "/static/page.js answers 200")
        checks.ok((r.header("Content-Type") or "").startswith("text/javascript"),
                  "as a script", r.header("Content-Type"))
        checks.contains(r.text, "'use strict'", "it is the page's script")
        r = web.get("/static/page.css")
        checks.eq(r.status, 200, "/static/page.css answers 200")
        checks.ok((r.header("Content-Type") or "").startswith("text/css"),
                  "as a style sheet", r.header("Content-Type"))
        checks.ok(len(r.body) > 0, "with a body")

        checks.start("headers and no caching on every answer")
        n = check_every_response(checks, web.seen)
        checks.ok(n >= 40, "every answer so far was checked", n)
        check_authenticated_kinds(checks, web.seen, [
            ("GET", "/", 200), ("GET", "/personas/", 200), ("GET", "/api/v1/personas", 200),
            ("GET", "/api/v1/events", 200), ("GET", "/metrics", 200),
            ("HEAD", "/api/v1/personas", 200), ("POST", "/personas/", 303),
            ("POST", "/personas/", 200), ("POST", "/personas/", 403),
            ("GET", "/static/page.js", 200), ("GET", "/no/such/page", 404)])

        checks.start("no secret in any response")
        checks.ok(any(r.raw_socket and r.status == 413 for r in web.seen),
                  "the raw-socket answers are among those scanned")
        scan_responses(checks, web.seen, secrets, allowed)

        checks.start("lock-out after repeated wrong passwords")
        statuses = []
        for _ in range(20):
            r = web.get("/", auth=("admin", "wrong-%d" % len(statuses)))
            statuses.append(r.status)
            if r.status == 429:
                break
        checks.ok(statuses[-1] == 429 and statuses.count(401) >= 5,
                  "wrong passwords end in 429 after a few 401s", statuses)
        checks.ok(int(r.header("Retry-After") or "0") >= 1, "429 says when to retry",
                  r.header("Retry-After"))
        r = web.get("/")
        checks.eq(r.status, 429, "a locked-out source is refused even with the password")
        r = web.get("/healthz", auth=None)
        checks.eq(r.status, 200, "/healthz still answers")
        check_every_response(checks, web.seen)
        scan_responses(checks, web.seen, secrets, allowed)
    finally:
        d.check_exit(checks)
    d.scan_for_secrets(checks, list(secrets.values()))
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
