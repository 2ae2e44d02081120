"""No secret in any log line at any log level: the daemon runs at
--log-level debug, with every kind of secret set (Metal API token, master
credential secret, web password; IPMI passwords derived per device), through
a representative day: discovery, ipmitool power status/off/on/cycle,
bootdev pxe and disk (persistent, EFI), FreeIPMI and pyghmi logins, a wrong
password, an unknown user, a Metal API fault in the middle of a power
command, web page views with the right and a wrong password, a restart, and
--check-config. Then every log (daemon, metal-sim) and every client output
is searched for every secret, and for the hex and base64 forms of each."""

import os
import secrets
import sys

from harness import (BIN, Checks, Daemon, MetalSim, random_password, run, secret_forms,
                     wait_until, workdir)
from metal_helpers import PROJECT, device, fixture
from web_helpers import Web, derived_password

NAME = "secrets_logs"


def main():
    ck = Checks(NAME)
    wd = workdir(NAME)
    token = "tok-" + secrets.token_hex(16)
    master = "cs-" + secrets.token_hex(16)
    web_pw = random_password()
    dev = device(1, hostname="db-1")
    sim = MetalSim(wd, fixture([dev]), token=token, args=["--verbose", "--transition-ms", "200"])
    outputs = []
    d = None
    try:
        sim.start()
        cfg = {"metal": {"token": token, "project_ids": [PROJECT], "api_url": sim.url,
                         "poll_interval": 1},
               "ipmi": {"credential_secret": master, "setup_rate": 1000, "setup_burst": 1000},
               "web": {"enabled": True, "password": web_pw}}
        d = Daemon(wd, cfg, log_level="debug")
        d.start()
        user = dev["short_id"]
        ipmi_pw = derived_password(master, dev["id"])
        d.wait_log("added for device %s" % dev["id"], timeout=30)

        def ipmi(*args, password=ipmi_pw, who=user, **kw):
            rc, out = d.ipmitool(who, *args, password=password, **kw)
            outputs.append(out)
            return rc, out

        with ck.section("a representative session at debug level"):
            ck.eq(ipmi("power", "status")[0], 0, "ipmitool power status")
            ck.eq(ipmi("power", "off")[0], 0, "ipmitool power off")
            wait_until(lambda: sim.device(dev["id"])["device"]["state"] == "inactive", 30,
                       "the device to be inactive in metal-sim")
            ck.eq(ipmi("power", "on")[0], 0, "ipmitool power on")
            wait_until(lambda: sim.device(dev["id"])["device"]["state"] == "active", 30,
                       "the device to be active in metal-sim")
            ck.eq(ipmi("chassis", "bootdev", "pxe")[0], 0, "bootdev pxe")
            ck.eq(ipmi("chassis", "bootdev", "disk", "options=persistent,efiboot")[0], 0,
                  "bootdev disk persistent efi")
            ck.eq(ipmi("mc", "info", cipher=3)[0], 0, "mc info over suite 3")
            ck.ok(ipmi("power", "status", password="not-" + ipmi_pw[4:], retries=1)[0] != 0,
                  "a wrong password is refused")
            ck.ok(ipmi("power", "status", who="nosuchuser", retries=1)[0] != 0,
                  "an unknown user is refused")
            rc, out = d.freeipmi("ipmipower", user, "--stat", password=ipmi_pw)
            outputs.append(out)
            ck.contains(out, ": on", "ipmipower --stat")
            rc, out = d.pyghmi(user, "print(c.get_power())\n", password=ipmi_pw)
            outputs.append(out)
            ck.contains(out, "powerstate", "pyghmi get_power")
            sim.faults({"fail_rate": 1.0, "fail_status": 500})
            rc, out = ipmi("power", "cycle", retries=1)
            ck.ok(rc != 0 or "Error" in out or "fail" in out.lower(),
                  "power cycle during an API fault reports an error", out)
            sim.faults({"fail_rate": 0.0})
        with ck.section("the web page"):
            w = Web(d.web_port, auth=("admin", web_pw))
            ck.eq(w.get("/").status, 200, "page with the right password")
            ck.eq(w.get("/api/v1/personas").status, 200, "JSON API")
            ck.eq(w.get("/metrics").status, 200, "metrics")
            ck.eq(w.get("/", auth=("admin", "wrong-" + web_pw)).status, 401, "a wrong web password")
            outputs.extend(r.raw() for r in w.seen)
        with ck.section("restart and --check-config"):
            d.restart()
            d.wait_log("added for device %s" % dev["id"], timeout=30, count=2)
            ck.eq(ipmi("power", "status")[0], 0, "ipmitool after the restart")
            rc, out = run([BIN, "--check-config", "--config", os.path.join(wd, "metalbmc.yaml")],
                          timeout=30)
            outputs.append(out)
            ck.eq(rc, 0, "--check-config exits 0")
            ck.contains(out, "(set, redacted)", "--check-config redacts")
        with ck.section("no secret anywhere"):
            with open(os.path.join(wd, "metal-sim.log"), errors="replace") as f:
                logs = {"metalbmc": d.read_log(), "metal-sim": f.read()}
            ck.ok(" debug: " in logs["metalbmc"], "the daemon really logged at debug level")
            for label, secret in (("API token", token), ("credential secret", master),
                                  ("web password", web_pw), ("derived IPMI password", ipmi_pw)):
                for f in secret_forms(secret):
                    for where, text in logs.items():
                        ck.ok(f not in text, "%s absent from the %s log" % (label, where),
                              "found (length %d) in %s" % (len(f), where))
                    ck.ok(all(f not in o for o in outputs),
                          "%s absent from client output and pages" % label)
    finally:
        if d and d.proc:
            d.check_exit(ck)
        sim.stop()
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
