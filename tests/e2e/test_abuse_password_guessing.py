"""25 wrong passwords from one source lock that source out (after five
free failures, for a time that doubles, capped at a minute) while another
source logs in at once: the lock-out is per source, so an attacker cannot
lock out the operators (throttle.c; docs/security.md, "Password guessing").

The attacker is the raw client on 127.0.0.1; the operator comes from
127.0.0.2 (ipmitool cannot pick its source address, so that login is the
raw client too: suite 17 up to RAKP 4, and suite 2 with real requests).
While locked, even the right password from 127.0.0.1 is refused at Open
Session, before any HMAC work; ipmitool from 127.0.0.1 gets back in once
the lock has expired."""

import sys
import time

from harness import Checks, Daemon, base_config, random_password, workdir
from rmcpp_raw import Client, Refused

NAME = "abuse_password_guessing"
NO_RESOURCES, INVALID_ICV = 0x01, 0x0F


def attempt(port, source, password, suite=17):
    c = Client(port, source=source)
    try:
        c.login("node1", password, suite=suite)
        return "accepted"
    except Refused as e:
        return (e.step, e.status)
    finally:
        c.close()


def main():
    ck = Checks(NAME)
    wd = workdir(NAME)
    password = random_password()
    d = Daemon(wd, base_config([{"name": "node1"}], password, cipher_suites=[2, 3, 17]))
    try:
        d.start()
        with ck.section("25 wrong passwords from 127.0.0.1"):
            outcomes = [attempt(d.port, "127.0.0.1", "guess-%02d" % i) for i in range(25)]
            # still locked right after the last refusal: the right password too
            right = attempt(d.port, "127.0.0.1", password)
            wrong = sum(1 for o in outcomes if o == ("RAKP 4", INVALID_ICV))
            locked = sum(1 for o in outcomes if o == ("open session", NO_RESOURCES))
            ck.eq(outcomes.count("accepted"), 0, "no guess was accepted")
            # Five failures are free, the sixth locks for 1 s; a slow loop may
            # see the lock lapse once or more (then 2 s, 4 s).
            ck.ok(6 <= wrong <= 9, "only 6 to 9 guesses were checked at all", outcomes)
            ck.ok(wrong + locked == 25, "every other attempt was refused at Open Session", outcomes)
            ck.eq(right, ("open session", NO_RESOURCES),
                  "the right password from the locked source is refused at Open Session")
            ck.ok(d.log_count("login failed, wrong password from 127.0.0.1") >= 1,
                  "the daemon logged the failures")
            # (lines a peer can trigger are rate limited per source, so the
            # lock-out itself may go unlogged once the failures used the budget)

        with ck.section("meanwhile 127.0.0.2 logs in at once"):
            t0 = time.monotonic()
            ck.eq(attempt(d.port, "127.0.0.2", password, suite=17), "accepted",
                  "suite 17 login from 127.0.0.2 (RAKP 4 verified)")
            c = Client(d.port, source="127.0.0.2")
            try:
                c.login("node1", password, suite=2)
                r = c.request(0x06, 0x01)        # Get Device ID
                ck.eq(r and r[0], 0, "Get Device ID inside the session answers 00h")
                r = c.request(0x00, 0x01)        # Get Chassis Status
                ck.ok(r and r[0] == 0 and r[1][0] & 1, "chassis status: power on", r)
            except Refused as e:
                ck.ok(False, "suite 2 login from 127.0.0.2", e)
            finally:
                c.close()
            ck.ok(time.monotonic() - t0 < 5, "both logins took seconds at most")

        with ck.section("the lock is temporary: ipmitool from 127.0.0.1 gets back in"):
            t0 = time.monotonic()
            ok, out = None, ""
            while time.monotonic() - t0 < 20:
                rc, out = d.ipmitool("node1", "power", "status", retries=1)
                if rc == 0:
                    ok = out
                    break
                time.sleep(0.25)
            ck.ok(ok and "Chassis Power is on" in ok,
                  "ipmitool with the right password works once the lock has expired", out)
    finally:
        if d.proc:
            ck.ok(d.alive(), "the daemon is alive")
            d.check_exit(ck)
            d.scan_for_secrets(ck, [password])
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
