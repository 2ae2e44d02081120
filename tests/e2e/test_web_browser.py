"""The status page in a real headless Chromium: the personas appear in the
rendered DOM, a power change made with ipmitool shows up without a reload,
the filter box works, an admin form works through the browser (form token
and Origin), the page reads well with JavaScript off, and Chromium reports
no Content-Security-Policy violation, script error or dialog."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from browser import Browser  # noqa: E402
from harness import Checks, Daemon, ipmitool, wait_until, workdir  # noqa: E402
from web_helpers import derived_password  # noqa: E402

MASTER = "e2e-master-secret-web-browser-987654"
WEB_PW = "e2e-web-browser-pass-Qm3"
DEVS = {
    "web1": ("7a000000-0000-4000-8000-0000000000b1", "web-01"),
    "web2": ("7a000000-0000-4000-8000-0000000000b2", "web-02"),
    "db1": ("7a000000-0000-4000-8000-0000000000b3", "db-01"),
    "evil": ("7a000000-0000-4000-8000-0000000000b4", "x<img src=x onerror=alert(1)>"),
}

ROW_STATE = """(() => {
  const out = {};
  for (const tr of document.querySelectorAll('#personas tbody tr[data-id]')) {
    const cell = c => tr.querySelector('td[data-col="' + c + '"]');
    out[tr.dataset.id] = {
      host: cell('host').querySelector('a').textContent,
      power: cell('power').textContent.trim(),
      last: cell('last').textContent.trim(),
      hidden: tr.hidden,
    };
  }
  return out;
})()"""


def main():
    checks = Checks("web_browser")
    wd = workdir("web_browser")
    d = Daemon(wd, config={
        "ipmi": {"credential_secret": MASTER},
        "web": {"user": "admin", "password": WEB_PW},
        "personas": [{"name": n, "device_id": dev, "hostname": h,
                      **({"power": "off"} if n == "db1" else {})}
                     for n, (dev, h) in DEVS.items()],
    })
    d.start()
    base = "http://127.0.0.1:%d" % d.web_port
    web1 = DEVS["web1"][0]
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

            checks.start("an ipmitool power change appears without a reload")
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
    finally:
        d.check_exit(checks)
    d.scan_for_secrets(checks, [MASTER, WEB_PW] + [derived_password(MASTER, dev)
                                                   for dev, _ in DEVS.values()])
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
