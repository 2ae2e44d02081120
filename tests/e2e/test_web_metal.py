"""The status page in front of the Metal emulator: discovered personas with
metro, facility, plan and Metal state; the header's per-project poll status
and API health; "poll now" through the admin form; a power change made with
ipmitool (carried out through the Metal API) appearing in Chromium without
a reload; /metrics and /healthz as polls fail and recover; no secret (API
token, web password, IPMI passwords) in any response or log.

With METALBMC_SCREENSHOT=PATH set, the page is also saved there (that is
how docs/screenshot.png is made)."""

import json
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from browser import Browser  # noqa: E402
from harness import SOURCE, Checks, Daemon, MetalSim, ipmitool, wait_until, workdir  # noqa: E402
from web_helpers import (ROW_STATE, Web, check_authenticated_kinds,  # noqa: E402
                         check_every_response, csrf_token, derived_password, rows_vs_api,
                         scan_responses)

TOKEN = "e2e-metal-token-web-metal-7f3k2"
MASTER = "e2e-master-secret-web-metal-4444aaaa"
WEB_PW = "e2e-web-metal-pass-Pp9"
FIXTURE = os.path.join(SOURCE, "tests", "metal-sim", "demo-fixture.json")


def main():
    checks = Checks("web_metal")
    wd = workdir("web_metal")
    with open(FIXTURE) as f:
        fixture = json.load(f)
    project = fixture["projects"][0]["id"]
    tagged = {dev["id"]: dev for p in fixture["projects"] for dev in p["devices"]
              if "ipmi=enabled" in dev.get("tags", [])}
    sim = MetalSim(wd, FIXTURE, token=TOKEN, args=["--transition-ms", "300"]).start()
    d = Daemon(wd, config={
        "metal": {"token": TOKEN, "project_ids": [p["id"] for p in fixture["projects"]],
                  "api_url": sim.url, "poll_interval": 2},
        "ipmi": {"credential_secret": MASTER},
        "web": {"user": "admin", "password": WEB_PW},
    })
    secrets = {"api token": TOKEN, "web password": WEB_PW, "master secret": MASTER}
    for dev in tagged:
        secrets["ipmi password " + dev[:8]] = derived_password(MASTER, dev)
    d.start()
    web = Web(d.web_port, auth=("admin", WEB_PW))

    def api():
        return json.loads(web.get("/api/v1/personas").body)
    try:
        checks.start("discovered personas in the JSON API")
        doc = wait_until(lambda: (lambda x: x if len(x["personas"]) == len(tagged) and
                                  all(pr["polls"] for pr in x["projects"]) else None)(api()),
                         30, "every tagged device to become a persona")
        checks.eq(sorted(p["id"] for p in doc["personas"]), sorted(tagged),
                  "one persona per tagged device")
        for p in doc["personas"]:
            dev = tagged[p["id"]]
            checks.eq(p["hostname"], dev["hostname"], "hostname of %s" % p["id"][:8])
            checks.eq(p["short_id"], dev["short_id"], "short ID of %s" % p["id"][:8])
            checks.eq(p["metro"], dev["metro"]["code"], "metro of %s" % p["id"][:8])
            checks.eq(p["facility"], dev["facility"]["code"], "facility of %s" % p["id"][:8])
            checks.eq(p["metal_state"], dev["state"], "Metal state of %s" % p["id"][:8])
            checks.eq(p["origin"], "discovery", "origin of %s" % p["id"][:8])
            checks.eq(p["backend"], "metal", "backend of %s" % p["id"][:8])
            checks.ok(p["metal"] is not None and p["metal"]["always_pxe"] == dev["always_pxe"],
                      "always_pxe of %s" % p["id"][:8], p["metal"])
        pr = {x["id"]: x for x in doc["projects"]}
        checks.eq(pr[project]["badge"], "ok", "the project's last poll is ok")
        checks.eq(pr[project]["devices"], sum(1 for p in fixture["projects"][0]["devices"]
                                              if "ipmi=enabled" in p.get("tags", [])),
                  "the project's tagged devices")
        checks.eq(doc["discovery"]["api"]["badge"], "healthy", "the API is healthy")
        checks.eq(web.get("/healthz", auth=None).status, 200, "/healthz: 200")

        checks.start("poll now")
        polls = pr[project]["polls"]
        page = web.get("/")
        token = csrf_token(page.text)
        checks.contains(page.text, 'action="/admin/poll"', "the page offers Poll now")
        sim.clear_requests()
        r = web.post_form("/admin/poll", {"csrf": token})
        checks.eq(r.status, 303, "poll now: 303")
        checks.eq(r.header("Location"), "/", "back to the page")
        try:
            wait_until(lambda: any("/projects/%s/devices" % project in q["path"]
                                   for q in sim.requests()["requests"]), 10,
                       "a device listing after Poll now")
            checks.ok(True, "Poll now made discovery list the project")
        except TimeoutError as e:
            checks.ok(False, str(e))
        wait_until(lambda: {x["id"]: x for x in api()["projects"]}[project]["polls"] > polls,
                   20, "the poll count to grow")

        checks.start("the page in Chromium; an ipmitool power change through the Metal API")
        active = next(i for i, dv in tagged.items() if dv["state"] == "active")
        host = tagged[active]["hostname"]
        with Browser(wd) as b:
            tab = b.new_page()
            tab.set_viewport(1440, 540)
            tab.set_basic_auth("admin", WEB_PW)
            tab.navigate("http://127.0.0.1:%d/" % d.web_port)
            hosts = tab.eval("Array.from(document.querySelectorAll("
                             "'#personas tbody td[data-col=host] a')).map(a => a.textContent)")
            checks.eq(sorted(hosts), sorted(dv["hostname"] for dv in tagged.values()),
                      "every discovered persona is in the DOM")
            checks.eq(tab.eval("document.querySelector('#project-rows tr[data-project=\"%s\"] "
                               ".badge').textContent" % project), "ok",
                      "the header shows the project's poll as ok")
            checks.eq(tab.eval("document.querySelector('#api .badge').textContent"), "healthy",
                      "the header shows the API as healthy")
            diff = {}

            def rows_match():
                tab.pump()
                diff["last"] = rows_vs_api(tab.eval(ROW_STATE), api())
                return not diff["last"]
            try:
                wait_until(rows_match, 20, "the rows to match the API")
                checks.ok(True, "every column of every row equals the JSON API's persona")
            except TimeoutError:
                checks.ok(False, "every column of every row equals the JSON API's persona",
                          diff.get("last"))
            rows = tab.eval(ROW_STATE)
            dv = tagged[active]
            checks.eq((rows[active]["metro"], rows[active]["facility"], rows[active]["state"],
                       rows[active]["backend"]),
                      (dv["metro"]["code"], dv["facility"]["code"], ["active", "badge ok"],
                       "metal"), "a discovered row shows metro, facility, state and backend")
            tab.eval("window.__same = 1")
            row_power = ("document.querySelector('#personas tr[data-id=\"%s\"] "
                         "td[data-col=power]').textContent" % active)
            checks.eq(tab.eval(row_power), "on", "%s shows on" % host)
            rc, out = ipmitool(d.port, tagged[active]["short_id"], derived_password(MASTER, active),
                               "chassis", "power", "off", timeout=60)
            checks.eq(rc, 0, "ipmitool power off through the Metal API: " + out)

            def shows_off():
                tab.pump()
                return tab.eval(row_power) == "off"
            try:
                wait_until(shows_off, 30, "%s to show power off" % host)
                checks.ok(True, "the page shows the power change")
            except TimeoutError as e:
                checks.ok(False, str(e), tab.eval(row_power))
            checks.eq(tab.eval("window.__same"), 1, "without a reload")
            dev = sim.device(active)["device"]
            checks.eq(dev["state"], "inactive", "the emulator's device is off")
            tab.pump(0.2)
            checks.eq(tab.problems(), [], "Chromium reported no problem")
            shot = os.path.join(wd, "page.png")
            tab.screenshot(shot)
            if os.environ.get("METALBMC_SCREENSHOT"):
                shutil.copyfile(shot, os.environ["METALBMC_SCREENSHOT"])
        one = json.loads(web.get("/api/v1/personas/%s" % active).body)
        checks.eq((one["last_action"] or {}).get("what"), "power off",
                  "the persona's last action is the power off")
        checks.ok(any(e["what"] == "power off" and "user " + tagged[active]["short_id"]
                      in e["source"] for e in one["events"]),
                  "the audit shows who powered it off", one["events"])

        checks.start("metrics")
        m = web.get("/metrics").text
        samples = dict(l.rsplit(" ", 1) for l in m.splitlines() if l and not l.startswith("#"))
        checks.ok(int(samples.get('metalbmc_metal_api_requests_total{status="2xx"}', "0")) >= 3,
                  "Metal API requests by status", m)
        checks.eq(samples.get('metalbmc_poll_ok{project="%s"}' % project), "1", "poll ok")
        checks.ok(float(samples.get('metalbmc_poll_duration_seconds{project="%s"}' % project,
                                    "-1")) >= 0, "poll duration", m)
        checks.eq(samples.get("metalbmc_personas_discovered"), str(len(tagged)),
                  "discovered personas")

        checks.start("a power action the Metal API refuses")
        # Every API request answered 403 (the token may not do this): the
        # console gets 0xD4 and the persona shows the failure.
        before = api()["discovery"]["api"]
        sim.faults({"fail_rate": 1.0, "fail_status": 403})
        rc, out = ipmitool(d.port, tagged[active]["short_id"], derived_password(MASTER, active),
                           "chassis", "power", "on", retries=1, timeout=60)
        checks.ok(rc != 0 and "Insufficient privilege" in out,
                  "ipmitool power on fails with insufficient privilege", out)
        sim.faults({"reset": True})
        one = json.loads(web.get("/api/v1/personas/%s" % active).body)
        la = one["last_action"] or {}
        checks.eq((la.get("what"), la.get("cc"), la.get("result")),
                  ("power on", 0xD4, "failed: 0xD4 insufficient privilege"),
                  "the persona's last action is the refused power on")
        ev = one["events"][0] if one["events"] else {}
        checks.eq((ev.get("what"), ev.get("cc"), ev.get("result")),
                  ("power on", 0xD4, "failed: 0xD4 insufficient privilege"),
                  "its newest event records the refusal")
        checks.ok(re.fullmatch(r"127\.0\.0\.1:\d+ user %s" % tagged[active]["short_id"],
                               ev.get("source", "")), "with the console's address and user", ev)
        page = web.get("/personas/%s" % active).text
        checks.contains(page, "failed: 0xD4 insufficient privilege",
                        "the persona page shows the failure")
        m = web.get("/metrics").text
        checks.ok(re.search(r'^metalbmc_metal_api_requests_total\{status="4xx"\} [1-9]', m, re.M),
                  "the refusal is counted as a 4xx Metal API answer", m)
        after = api()["discovery"]["api"]
        checks.ok(after["refusals"] > before["refusals"], "the API health counts it as refused",
                  (before, after))
        checks.eq(after["failures"], before["failures"],
                  "and not as a failure: the API answered, it said no")
        checks.contains(web.get("/").text, " refused", "the page header says refused")

        checks.start("failing polls")
        sim.faults({"fail_rate": 1.0, "fail_status": 503})

        def failing():
            x = api()
            p = {y["id"]: y for y in x["projects"]}[project]
            return x if p["badge"] == "failed" else None
        doc = wait_until(failing, 90, "a failed poll")
        p = {y["id"]: y for y in doc["projects"]}[project]
        checks.ok("503" in p["last_result"], "the project says why", p["last_result"])
        checks.eq(doc["discovery"]["api"]["badge"], "failing", "the API is failing")
        checks.eq(len(doc["personas"]), len(tagged), "a failing API keeps every persona")
        r = web.get("/healthz", auth=None)
        checks.eq(r.status, 503, "/healthz: 503 while polls fail")
        checks.contains(r.text, "poll: failing", "it says why")
        sim.faults({"reset": True})
        wait_until(lambda: web.get("/healthz", auth=None).status == 200, 90,
                   "/healthz to recover")
        checks.ok(True, "/healthz recovers with the API")
        check_every_response(checks, web.seen)
        check_authenticated_kinds(checks, web.seen, [
            ("GET", "/", 200), ("GET", "/api/v1/personas", 200), ("GET", "/personas/", 200),
            ("GET", "/metrics", 200), ("POST", "/admin/poll", 303)])
        scan_responses(checks, web.seen, secrets)
    finally:
        d.check_exit(checks)
        sim.stop()
    d.scan_for_secrets(checks, list(secrets.values()))
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
