"""What the daemon refuses, as real clients see it: a wrong password, an
unknown or null user, cipher suites that are not enabled, a command above
the session's privilege, and a source that keeps failing or opens sessions
too fast. A refused request must change nothing."""

import socket
import struct
import sys
import time

from harness import Checks, Daemon, base_config, fields, random_password, workdir

NAME = "refusals"
SESSION_FAILED = "Unable to establish IPMI v2 / RMCP+ session"


def open_session_burst(port, n, wait=1.0):
    """Sends n RMCP+ Open Session requests (suite 3) back to back from one
    socket; returns how many got an answer with status 0 within wait s."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(0.05)
    try:
        for i in range(n):
            algs = bytes([0, 0, 0, 8, 1, 0, 0, 0,    # RAKP-HMAC-SHA1
                          1, 0, 0, 8, 1, 0, 0, 0,    # HMAC-SHA1-96
                          2, 0, 0, 8, 1, 0, 0, 0])   # AES-CBC-128
            payload = bytes([i, 4, 0, 0]) + struct.pack("<I", 0x1000 + i) + algs
            pkt = (bytes([0x06, 0x00, 0xFF, 0x07, 0x06, 0x10]) + struct.pack("<IIH", 0, 0, len(payload))
                   + payload)
            sock.sendto(pkt, ("127.0.0.1", port))
        answered = 0
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                data, _ = sock.recvfrom(512)
            except socket.timeout:
                continue
            # RMCP(4) + auth type, payload type 11h, ID, seq, length(12): tag, status
            if len(data) >= 18 and data[5] == 0x11 and data[17] == 0:
                answered += 1
        return answered
    finally:
        sock.close()


def main():
    ck = Checks(NAME)
    wd = workdir(NAME)
    password = random_password()
    personas = [{"name": "lab1", "hostname": "lab1.example"}]
    d = Daemon(wd, base_config(personas, password))
    only17 = Daemon(wd, base_config(personas, password, cipher_suites=[17]), name="only17")
    locking = Daemon(wd, base_config(personas, password), name="locking")
    slow = Daemon(wd, base_config(personas, password, setup_rate=1, setup_burst=2), name="slow")
    daemons = [d, only17, locking, slow]
    try:
        d.start()
        with ck.section("wrong password"):
            rc, out = d.ipmitool("lab1", "-v", "power", "off", password="not-the-password")
            ck.ok(rc != 0, "ipmitool fails", out)
            ck.contains(out, "RAKP 2 HMAC is invalid", "ipmitool: RAKP 2 HMAC invalid")
            ck.contains(out, SESSION_FAILED, "ipmitool: no session")
            rc, out = d.ipmitool("lab1", "power", "status")
            ck.contains(out, "Chassis Power is on", "power unchanged")
            ck.eq(d.log_count("persona lab1: power off"), 0, "the daemon ran nothing")
            rc, out = d.ipmitool("lab1", "session", "info", "active")
            ck.eq(fields(out).get("active sessions"), "1", "no session left but the asking one")

        with ck.section("unknown user"):
            rc, out = d.ipmitool("nobody", "-v", "power", "status")
            ck.ok(rc != 0, "ipmitool fails", out)
            ck.contains(out, "RAKP 2 message indicates an error : unauthorized name",
                        "ipmitool: unauthorized name")
            ck.ok(d.log_count("login refused, unknown user from 127.0.0.1:") >= 1,
                  "the daemon logged the unknown user")

        with ck.section("null user (anonymous login)"):
            rc, out = d.ipmitool("", "-v", "power", "status")
            ck.ok(rc != 0, "ipmitool fails", out)
            ck.contains(out, "unauthorized name", "ipmitool: unauthorized name")
            ck.ok(d.log_count("login refused, anonymous login is disabled") >= 1,
                  "the daemon logged the anonymous attempt")

        with ck.section("cipher suites not enabled (default 3, 17)"):
            for suite in (0, 1, 2, 6, 8, 12):
                rc, out = d.ipmitool("lab1", "-v", "power", "status", cipher=suite)
                ck.ok(rc != 0, "-C %d refused" % suite, out)
                ck.contains(out, "no matching cipher suite", "-C %d: no matching cipher suite" % suite)
                ck.absent(out, "Chassis Power", "-C %d: no answer" % suite)
            ck.ok(d.log_count("session refused, cipher suite not enabled") >= 1,
                  "the daemon logged the refusal")

        with ck.section("privilege levels"):
            rc, out = d.ipmitool("lab1", "power", "off")
            ck.contains(out, "Down/Off", "administrator powers off")
            rc, out = d.ipmitool("lab1", "session", "info", "active", privilege="USER")
            ck.eq(fields(out).get("privilege level"), "USER", "-L USER session runs at USER")
            rc, out = d.ipmitool("lab1", "power", "status", privilege="USER")
            ck.eq((rc, out.strip()), (0, "Chassis Power is off"), "-L USER power status works")
            rc, out = d.ipmitool("lab1", "power", "on", privilege="USER")
            ck.ok(rc != 0, "-L USER power on fails", out)
            ck.contains(out, "Insufficient privilege level", "-L USER power on: insufficient privilege")
            rc, out = d.ipmitool("lab1", "chassis", "bootdev", "pxe", privilege="USER")
            ck.contains(out, "Insufficient privilege level", "-L USER bootdev: insufficient privilege")
            rc, out = d.ipmitool("lab1", "power", "status")
            ck.contains(out, "Chassis Power is off", "still off after the refused power on")
            ck.eq(d.log_count("persona lab1: power on"), 0, "the daemon ran no power on")
            ck.eq(d.log_count("persona lab1: boot"), 0, "the daemon set no boot device")
            rc, out = d.ipmitool("lab1", "power", "on", privilege="OPERATOR")
            ck.eq(rc, 0, "-L OPERATOR power on exits 0")
            ck.contains(out, "Chassis Power Control: Up/On", "-L OPERATOR power on works")
            rc, out = d.ipmitool("lab1", "power", "status")
            ck.contains(out, "Chassis Power is on", "on after the operator's power on")

        only17.start()
        with ck.section("only suite 17 enabled"):
            rc, out = only17.ipmitool("lab1", "-v", "power", "status", cipher=3)
            ck.contains(out, "no matching cipher suite", "-C 3 refused")
            rc, out = only17.ipmitool("lab1", "lan", "print", cipher=17)
            ck.eq(fields(out).get("RMCP+ Cipher Suites"), "17", "lan print lists only 17")

        locking.start()
        with ck.section("a source that keeps failing is locked out for a while"):
            # Five failures are free; the sixth locks the source for 1 s
            # (doubling with each later failure). The lock is checked
            # wherever the clock allows it: a loaded machine may take
            # longer than the lock between two ipmitool runs.
            refused = None
            ended = []          # when each attempt finished
            started = []
            for attempt in range(1, 16):
                started.append(time.monotonic())
                rc, out = locking.ipmitool("nobody", "-v", "power", "status", retries=1)
                ended.append(time.monotonic())
                if "insufficient resources for session" in out:
                    refused = attempt
                    break
                ck.contains(out, "unauthorized name", "attempt %d: unknown user" % attempt)
            ck.ok(refused is not None and refused >= 7, "the source is locked out after the free failures",
                  "refused at attempt %s" % refused)
            # Attempt 7 surely fell inside the 1 s lock the sixth failure
            # started if it ended less than 1 s after attempt 6 began.
            if len(ended) >= 7 and ended[6] < started[5] + 1.0:
                ck.eq(refused, 7, "the attempt right after the sixth failure is refused")
            rc, out = locking.ipmitool("lab1", "-v", "power", "status", retries=1)
            if refused and time.monotonic() < started[refused - 2] + 1.0:
                ck.contains(out, "insufficient resources for session",
                            "while locked, even the right password is refused")
            else:
                print("   (the machine was too slow to check inside the lock; not checked)")
            t0 = time.monotonic()
            # The lock lasts a second or two; then a good login clears it.
            ok_out = None
            while time.monotonic() - t0 < 15:
                rc, out = locking.ipmitool("lab1", "power", "status", retries=1)
                if rc == 0:
                    ok_out = out
                    break
                time.sleep(0.2)
            ck.ok(ok_out and "Chassis Power is on" in ok_out,
                  "the right password works again once the lock expires", ok_out)

        slow.start()
        with ck.section("session setups per source are rate limited (1/s, burst 2)"):
            answers = open_session_burst(slow.port, 6)
            ck.eq(answers, 2, "of 6 Open Session requests at once, the burst of 2 is answered")
            rc, out = slow.ipmitool("lab1", "power", "status")
            ck.contains(out, "Chassis Power is on", "a client that retries gets through")
    finally:
        for x in daemons:
            if x.proc:
                x.check_exit(ck)
                x.scan_for_secrets(ck, [password])
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
