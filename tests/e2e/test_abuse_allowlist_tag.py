"""The ipmi.allow tag: a discovered device's persona takes logins only from
the sources its tag lists, and changing the tag through the Metal API
(metal-sim) changes who gets in at the next poll, without a restart."""

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
            p.tag(guarded["id"], ["ipmi=enabled", "ipmi.allow=127.0.0.1"])
            wait_until(lambda: p.power_status(user, retries=1) == "Chassis Power is on", 30,
                       "127.0.0.1 to get in after the tag names it")
            ck.ok(True, "127.0.0.1 gets in once the tag names it")
            ck.eq(login(p.d.port, "127.0.0.2", user, p.password), ("RAKP 2", UNAUTHORIZED_NAME),
                  "127.0.0.2 no longer does")
            p.tag(guarded["id"], ["ipmi=enabled"])
            wait_until(lambda: login(p.d.port, "127.0.0.2", user, p.password) == "ok", 30,
                       "anyone to get in once the tag is gone")
            ck.ok(True, "without the tag, 127.0.0.2 gets in again")
        with ck.section("a malformed ipmi.allow is ignored and logged"):
            p.tag(free["id"], ["ipmi=enabled", "ipmi.allow=10.0.0.0/8,not-an-address"])
            p.d.wait_log('ipmi.allow=10.0.0.0/8,not-an-address', timeout=30)
            ck.eq(p.power_status(free["short_id"]), "Chassis Power is on",
                  "the persona stays open (the bad tag does not apply)")
        p.scan_secrets(ck)
    finally:
        if p.d and p.d.proc:
            p.d.check_exit(ck)
        p.stop()
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
