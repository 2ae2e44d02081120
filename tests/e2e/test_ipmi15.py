"""IPMI v1.5 (ipmitool -I lan): refused by default, since the daemon
advertises no v1.5 authentication type; with ipmi.allow_ipmi15 the daemon
warns at start and serves MD5 (what ipmitool picks) and straight-password
sessions, while RMCP+ keeps working beside them."""

import sys

from harness import Checks, Daemon, base_config, fields, random_password, workdir

NAME = "ipmi15"
WARNING = "IPMI v1.5 sessions are enabled"


def lan(d, *args, password=None, **kw):
    return d.ipmitool("lab1", *args, interface="lan", password=password, **kw)


def main():
    ck = Checks(NAME)
    wd = workdir(NAME)
    password = random_password()
    personas = [{"name": "lab1", "hostname": "lab1.example"}]
    off = Daemon(wd, base_config(personas, password), name="default")
    on = Daemon(wd, base_config(personas, password, allow_ipmi15=True), name="allowed")
    try:
        off.start()
        with ck.section("refused by default"):
            rc, out = lan(off, "power", "status", retries=1)
            ck.ok(rc != 0, "ipmitool -I lan fails", out)
            ck.contains(out, "Unable to establish IPMI v1.5 / RMCP session", "ipmitool's refusal")
            ck.absent(out, "Chassis Power is", "no power state leaks out")
            rc, out = lan(off, "power", "off", retries=1)
            ck.ok(rc != 0, "power off over v1.5 fails", out)
            rc, out = off.ipmitool("lab1", "power", "status")
            ck.contains(out, "Chassis Power is on", "power unchanged (RMCP+ still works)")
            ck.eq(off.log_count("persona lab1: power off"), 0, "the daemon ran no power off")
            ck.eq(off.log_count(WARNING), 0, "no v1.5 warning when v1.5 is off")

        on.start()
        with ck.section("enabled: warning at start, auth types advertised"):
            ck.eq(on.log_count(WARNING), 1, "the daemon warns once at start")
            ck.ok(any(WARNING in l and " warn: " in l for l in on.read_log().splitlines()),
                  "the line is a warning", on.read_log())
            rc, out = on.ipmitool("lab1", "lan", "print")
            ck.eq(fields(out).get("Auth Type Support"), "MD5 PASSWORD", "lan print auth types")
        with ck.section("enabled: MD5 session (ipmitool's choice)"):
            rc, out = lan(on, "-vv", "power", "status")
            ck.eq(rc, 0, "power status exits 0")
            ck.contains(out, "Proceeding with AuthType MD5", "ipmitool picked MD5")
            ck.contains(out, "Chassis Power is on", "power status")
            rc, out = lan(on, "power", "off")
            ck.contains(out, "Chassis Power Control: Down/Off", "power off answer")
            rc, out = lan(on, "power", "status")
            ck.contains(out, "Chassis Power is off", "power status after off")
            ck.eq(on.log_count("persona lab1: power off (local backend) by 127.0.0.1:"), 1,
                  "the daemon ran power off once")
            rc, out = lan(on, "session", "info", "active")
            ck.eq(fields(out).get("session type"), "IPMIv1.5", "session info: a v1.5 session")
        with ck.section("enabled: straight password (-A PASSWORD)"):
            rc, out = lan(on, "-A", "PASSWORD", "power", "on")
            ck.eq(rc, 0, "power on exits 0")
            ck.contains(out, "Chassis Power Control: Up/On", "power on answer")
            rc, out = lan(on, "-A", "PASSWORD", "power", "status")
            ck.contains(out, "Chassis Power is on", "power status after on")
            ck.eq(on.log_count("persona lab1: power on (local backend) by 127.0.0.1:"), 1,
                  "the daemon ran power on once")
        with ck.section("enabled: wrong password refused"):
            rc, out = lan(on, "power", "off", password="not-the-password", retries=1)
            ck.ok(rc != 0, "wrong password fails", out)
            rc, out = on.ipmitool("lab1", "power", "status")
            ck.contains(out, "Chassis Power is on", "power unchanged")
            ck.ok(on.log_count("v1.5 activation with a wrong AuthCode") >= 1,
                  "the daemon logged the failed activation")
        with ck.section("enabled: RMCP+ beside v1.5"):
            rc, out = on.ipmitool("lab1", "power", "status", cipher=3)
            ck.contains(out, "Chassis Power is on", "lanplus -C 3 still works")
    finally:
        for d in (off, on):
            if d.proc:
                d.check_exit(ck)
                d.scan_for_secrets(ck, [password])
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
