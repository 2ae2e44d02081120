"""The ipmi.allow tag: a discovered device's persona takes logins only from
the sources its tag lists, and changing the tag through the Metal API
(metal-sim) changes who gets in at the next poll, without a restart; a
session already open from a source the new tag leaves out stops working;
a malformed tag shuts the persona rather than opening it."""

import sys

from harness import Checks, wait_until, workdir
from metal_helpers import Pair, device, fixture
from rmcpp_raw import Client, Refused

NAME = "abuse_allowlist_tag"
UNAUTHORIZED_NAME = 0x0D


def login(port, source, user, password):
    c = Client(port, source=source)
    try:
        c.login(user, password, suite=2)
        r = c.request(0x06, 0x01)
        return "ok" if r and r[0] == 0 else "no answer inside the session"
    except Refused as e:
        return (e.step, e.status)
    finally:
        c.close()


def main():
    ck = Checks(NAME)
    wd = workdir(NAME)
    guarded = device(1, tags=["ipmi.allow=127.0.0.2/32,10.0.0.0/8"])
    free = device(2)
    p = Pair(wd, fixture([guarded, free]), ipmi={"cipher_suites": [2, 3, 17]})
    try:
        p.start()
        p.wait_personas(2)
        user = guarded["short_id"]
        with ck.section("ipmi.allow on a discovered device"):
            ck.eq(login(p.d.port, "127.0.0.2", user, p.password), "ok", "127.0.0.2 (listed) logs in")
            ck.eq(login(p.d.port, "127.0.0.1", user, p.password), ("RAKP 2", UNAUTHORIZED_NAME),
                  "127.0.0.1 (not listed) is told the name is unknown")
            rc, out = p.ipmitool(user, "-v", "power", "status", retries=1)
            ck.contains(out, "unauthorized name", "ipmitool from 127.0.0.1 is refused")
            ck.eq(p.power_status(free["short_id"]), "Chassis Power is on",
                  "a device without the tag is open to 127.0.0.1")
        with ck.section("the tag changes through the API"):
            held = Client(p.d.port, source="127.0.0.2")
            held.login(user, p.password, suite=2)
            r = held.request(0x06, 0x01)
            ck.ok(r is not None and r[0] == 0, "a session from 127.0.0.2 is open and answers")
            p.tag(guarded["id"], ["ipmi=enabled", "ipmi.allow=127.0.0.1"])
            wait_until(lambda: p.power_status(user, retries=1) == "Chassis Power is on", 30,
                       "127.0.0.1 to get in after the tag names it")
            ck.ok(True, "127.0.0.1 gets in once the tag names it")
            ck.eq(login(p.d.port, "127.0.0.2", user, p.password), ("RAKP 2", UNAUTHORIZED_NAME),
                  "127.0.0.2 no longer does")
            ck.eq(held.request(0x06, 0x01), None,
                  "and the session 127.0.0.2 opened before no longer answers")
            held.close()
            p.tag(guarded["id"], ["ipmi=enabled"])
            wait_until(lambda: login(p.d.port, "127.0.0.2", user, p.password) == "ok", 30,
                       "anyone to get in once the tag is gone")
            ck.ok(True, "without the tag, 127.0.0.2 gets in again")
        with ck.section("a malformed ipmi.allow shuts the persona, and says so"):
            ck.eq(login(p.d.port, "127.0.0.1", free["short_id"], p.password), "ok",
                  "before: 127.0.0.1 logs in to the untagged persona")
            p.tag(free["id"], ["ipmi=enabled", "ipmi.allow=10.0.0.0/33"])
            p.d.wait_log("ipmi.allow=10.0.0.0/33", timeout=30)
            ck.contains(p.d.read_log(), "no source may log in until it is fixed",
                        "the log says the persona is shut")
            for src in ("127.0.0.1", "127.0.0.2"):
                ck.eq(login(p.d.port, src, free["short_id"], p.password),
                      ("RAKP 2", UNAUTHORIZED_NAME),
                      "%s is refused: a typo does not open the persona to all" % src)
            p.tag(free["id"], ["ipmi=enabled", "ipmi.allow=127.0.0.1"])
            wait_until(lambda: login(p.d.port, "127.0.0.1", free["short_id"], p.password)
                       == "ok", 30, "the fixed tag to let 127.0.0.1 in")
            ck.ok(True, "once the tag is fixed, the listed source gets in")
        p.scan_secrets(ck)
    finally:
        if p.d and p.d.proc:
            p.d.check_exit(ck)
        p.stop()
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
