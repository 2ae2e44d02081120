"""The status page in a real headless Chromium: the personas appear in the
rendered DOM, a power change made with ipmitool shows up without a reload,
the filter box works, an admin form works through the browser (form token
and Origin), the page reads well with JavaScript off, and Chromium reports
no Content-Security-Policy violation, script error or dialog."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from browser import Browser  # noqa: E402
from harness import Checks, Daemon, IpmiShell, free_port, ipmitool, wait_until, workdir  # noqa: E402
from web_helpers import (ROW_STATE, Web, check_every_response, derived_password,  # noqa: E402
                         rows_vs_api, scan_responses)

MASTER = "e2e-master-secret-web-browser-987654"
WEB_PW = "e2e-web-browser-pass-Qm3"
DEVS = {
    "web1": ("7a000000-0000-4000-8000-0000000000b1", "web-01"),
    "web2": ("7a000000-0000-4000-8000-0000000000b2", "web-02"),
    "db1": ("7a000000-0000-4000-8000-0000000000b3", "db-01"),
    "evil": ("7a000000-0000-4000-8000-0000000000b4", "x<img src=x onerror=alert(1)>"),
    "own1": ("7a000000-0000-4000-8000-0000000000b5", "lab-01"),   # on its own port
}

def main():
    checks = Checks("web_browser")
    wd = workdir("web_browser")
    own_port = free_port("udp")
    d = Daemon(wd, config={
        "ipmi": {"credential_secret": MASTER},
        "web": {"user": "admin", "password": WEB_PW},
        "personas": [{"name": n, "device_id": dev, "hostname": h,
                      **({"power": "off"} if n == "db1" else {}),
                      **({"port": own_port} if n == "own1" else {})}
                     for n, (dev, h) in DEVS.items()],
    })
    d.start()
    base = "http://127.0.0.1:%d" % d.web_port
    web1, web2, own1 = DEVS["web1"][0], DEVS["web2"][0], DEVS["own1"][0]
    web = Web(d.web_port, auth=("admin", WEB_PW))
    shell = None

    def api():
        return json.loads(web.get("/api/v1/personas").body)

    def same_as_api(page, what):
        """Every column of every row equals the JSON API's persona (polled:
        the script refreshes on its own clock)."""
        last = {}

        def same():
            page.pump()
            last["diff"] = rows_vs_api(page.eval(ROW_STATE), api())
            return not last["diff"]
        try:
            wait_until(same, 20, what)
            checks.ok(True, what)
        except TimeoutError:
            checks.ok(False, what, last.get("diff"))
    try:
        with Browser(wd) as b:
            page = b.new_page()
            page.set_viewport(1400, 800)
            page.set_basic_auth("admin", WEB_PW)

            checks.start("the personas in the rendered DOM")
            page.navigate(base + "/")
            rows = page.eval(ROW_STATE)
            checks.eq(sorted(rows), sorted(dev for dev, _ in DEVS.values()),
                      "one row per persona, by device ID")
            checks.eq({k: v["host"] for k, v in rows.items()},
                      {dev: h for dev, h in DEVS.values()}, "host names as text")
            checks.eq(rows[web1]["power"], "on", "web1 shows power on")
            checks.eq(rows[DEVS["db1"][0]]["power"], "off", "db1 shows power off")
            checks.eq(page.eval("document.querySelectorAll('#personas img').length"), 0,
                      "markup in a host name does not become an element")
            wait_until(lambda: int(page.eval("document.body.dataset.refreshed || 0")) >= 1, 20,
                       "the script's first refresh")
            checks.ok(page.eval("document.getElementById('updated').textContent")
                      .startswith("live · "), "the page says it is live")
            rows = page.eval(ROW_STATE)
            checks.eq(rows[DEVS["evil"][0]]["host"], DEVS["evil"][1],
                      "after a refresh, markup in a host name is still plain text")
            checks.eq(page.eval("document.querySelectorAll('#personas img').length"), 0,
                      "and still no element")

            checks.start("every column as the JSON API has it, before any change")
            checks.eq(rows_vs_api(page.eval(ROW_STATE), api()), {},
                      "every row shows its persona exactly as /api/v1/personas")

            checks.start("an ipmitool power change appears without a reload")
            # An open session on web2, for the sessions column.
            shell = IpmiShell(d.port, "web2", derived_password(MASTER, web2))
            checks.ok(shell.opened, "an ipmitool shell holds a session to web2",
                      shell.last_output)
            page.eval("window.__sameDocument = 'yes'")
            loads_before = sum(1 for e in page.events if e["method"] == "Page.loadEventFired")
            rc, out = ipmitool(d.port, "web1", derived_password(MASTER, web1),
                               "chassis", "power", "off")
            checks.eq(rc, 0, "ipmitool power off: " + out)

            def web1_off():
                page.pump()
                r = page.eval(ROW_STATE)
                return r[web1]["power"] == "off" and r[web1]["last"].startswith("power off")
            try:
                wait_until(web1_off, 20, "web1's row to show power off")
                checks.ok(True, "the row shows power off and the action")
            except TimeoutError as e:
                checks.ok(False, str(e), page.eval(ROW_STATE))
            checks.eq(page.eval("window.__sameDocument"), "yes", "the document was not reloaded")
            page.pump()
            checks.eq(sum(1 for e in page.events if e["method"] == "Page.loadEventFired"),
                      loads_before, "no load event since")

            checks.start("every column as the JSON API has it (JavaScript on)")
            same_as_api(page, "after the script's refresh every row shows its persona "
                              "exactly as /api/v1/personas")
            rows = page.eval(ROW_STATE)
            checks.eq(page.eval("document.querySelectorAll('#personas tr[data-sig]').length"),
                      len(DEVS), "the rows compared are the ones page.js rebuilt")
            checks.eq(rows[web2]["sessions"], "1", "web2's open session is counted")
            checks.eq(rows[own1]["reach"], "127.0.0.1:%d" % own_port, "own1's own port")
            checks.eq(rows[own1]["reach_sub"], "user admin · own port",
                      "own1's user name and kind of reach")
            checks.eq((rows[web1]["last_what"], (rows[web1]["last_badge"] or [None])[0]),
                      ("power off", "ok"), "web1's last action and result")
            checks.eq(rows[web1]["backend"], "local", "config personas are served locally")

            checks.start("filter box")
            page.eval("(() => { const q = document.getElementById('q'); q.value = 'db-0';"
                      " q.dispatchEvent(new Event('input')); })()")
            rows = page.eval(ROW_STATE)
            checks.eq(sorted(k for k, v in rows.items() if not v["hidden"]), [DEVS["db1"][0]],
                      "typing 'db-0' leaves only db-01")
            page.eval("(() => { const q = document.getElementById('q'); q.value = '';"
                      " q.dispatchEvent(new Event('input')); })()")
            rows = page.eval(ROW_STATE)
            checks.eq(sum(1 for v in rows.values() if not v["hidden"]), len(DEVS),
                      "clearing it shows every row")
            page.screenshot(os.path.join(wd, "index.png"))

            checks.start("an admin form through the browser")
            page.navigate(base + "/personas/" + web1)
            cmd = page.eval("document.getElementById('ipmitool').textContent")
            checks.eq(cmd, "ipmitool -I lanplus -H 127.0.0.1 -p %d -U web1 -P <password> -C 17 "
                           "chassis power status" % d.port, "the ipmitool command line")
            start = len(page.events)
            page.eval("document.querySelector('form[action$=\"/disable\"] button').click()")

            def disabled_shown():
                page.pump()
                if not any(e["method"] == "Page.loadEventFired" for e in page.events[start:]):
                    return False
                return page.eval("(document.getElementById('enabled') || {}).textContent")
            checks.eq(wait_until(disabled_shown, 20, "the persona page after disabling"),
                      "disabled", "the browser's POST (token and Origin) disabled web1")
            page.screenshot(os.path.join(wd, "persona.png"))

            checks.start("no CSP violation, script error or dialog")
            page.pump(0.2)
            checks.eq(page.problems(), [], "Chromium reported no problem")
            checks.ok(not any(e["method"] == "Page.javascriptDialogOpening" for e in page.events),
                      "no dialog opened (no injected script ran)")

            checks.start("opened with the credentials in the URL")
            # http://user:pass@host/ is how many bookmark the page; its
            # script must still refresh (a relative fetch() would carry the
            # credentials and be refused by the browser).
            inurl = b.new_page()
            try:
                inurl.navigate("http://admin:%s@127.0.0.1:%d/" % (WEB_PW, d.web_port))
                navigated = True
            except Exception:  # noqa: BLE001 - its message would name the password
                navigated = False
            checks.ok(navigated, "the page opens with credentials in its URL")
            if navigated:
                try:
                    wait_until(lambda: int(inurl.eval("document.body.dataset.refreshed || 0"))
                               >= 1, 20, "the script's first refresh")
                except TimeoutError:
                    pass
                checks.ok(inurl.eval("document.getElementById('updated').textContent")
                          .startswith("live · "), "and its script refreshes it",
                          inurl.eval("document.getElementById('updated').textContent"))

            checks.start("JavaScript off")
            plain = b.new_page()
            plain.send("Emulation.setScriptExecutionDisabled", {"value": True})
            plain.set_basic_auth("admin", WEB_PW)
            plain.navigate(base + "/?q=web-0")
            # Runtime.evaluate still works with page scripts disabled.
            rows = plain.eval(ROW_STATE)
            checks.eq(sorted(rows), sorted([DEVS["web1"][0], DEVS["web2"][0]]),
                      "the server filters with ?q= and renders the table")
            checks.eq(rows[web1]["power"], "off", "and shows the current power state")
            checks.ok(plain.eval("document.getElementById('updated').textContent")
                      .startswith("as of "), "no script ran: the server's time stamp stays")
            doc = api()
            doc["personas"] = [p for p in doc["personas"] if p["id"] in rows]
            checks.eq(rows_vs_api(rows, doc), {}, "the filtered rows match the API")
            plain.navigate(base + "/")
            rows = plain.eval(ROW_STATE)
            checks.eq(rows_vs_api(rows, api()), {},
                      "with JavaScript off every row shows its persona exactly as the API")
            checks.eq(plain.eval("document.querySelectorAll('#personas tr[data-sig]').length"),
                      0, "rendered by the server alone")
            checks.eq(rows[web1]["disabled"], ["disabled", "badge off"],
                      "web1 carries the disabled badge")
            checks.eq(rows[web2]["sessions"], "1", "web2's open session is counted")
        check_every_response(checks, web.seen)
        scan_responses(checks, web.seen, {"web password": WEB_PW, "master secret": MASTER,
                                          **{"ipmi password " + n: derived_password(MASTER, dev)
                                             for n, (dev, _) in DEVS.items()}})
    finally:
        if shell:
            shell.close()
        d.check_exit(checks)
    d.scan_for_secrets(checks, [MASTER, WEB_PW] + [derived_password(MASTER, dev)
                                                   for dev, _ in DEVS.values()])
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
