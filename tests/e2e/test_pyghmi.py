"""pyghmi (what OpenStack Ironic and Tinkerbell's tools use), Debian's
python3: get/set power (on, off, reset, boot) and boot device (network,
hd, persistent, UEFI), each checked against ipmitool and the daemon log."""

import json
import sys

from harness import Checks, Daemon, base_config, fields, random_password, workdir

NAME = "pyghmi"

# Each step prints one JSON line: [label, result].
PROG = """
def step(label, fn):
    try:
        r = fn()
    except Exception as e:
        r = {"error": "%s: %s" % (type(e).__name__, e)}
    print(json.dumps([label, r]), flush=True)
"""


def pyghmi_steps(d, code):
    rc, out = d.pyghmi("lab1", PROG + code)
    results = {}
    for line in out.splitlines():
        if line.startswith("["):
            try:
                label, r = json.loads(line)
                results[label] = r
            except ValueError:
                pass
    return rc, results, out


def status(d):
    rc, out = d.ipmitool("lab1", "power", "status")
    return out.strip()


def bootdata(d):
    rc, out = d.ipmitool("lab1", "chassis", "bootparam", "get", "5")
    return fields(out).get("Boot parameter data")


def main():
    ck = Checks(NAME)
    wd = workdir(NAME)
    password = random_password()
    d = Daemon(wd, base_config([{"name": "lab1", "hostname": "lab1.example"}], password))
    try:
        d.start()
        with ck.section("power"):
            rc, r, out = pyghmi_steps(d, """
step("get", lambda: c.get_power())
step("off", lambda: c.set_power("off", wait=True))
step("get off", lambda: c.get_power())
""")
            ck.eq(rc, 0, "pyghmi program exits 0 (%s)" % out)
            ck.eq(r.get("get"), {"powerstate": "on"}, "get_power on")
            ck.eq(r.get("off"), {"powerstate": "off"}, "set_power off, wait")
            ck.eq(r.get("get off"), {"powerstate": "off"}, "get_power after off")
            ck.eq(status(d), "Chassis Power is off", "ipmitool sees off")
            rc, r, out = pyghmi_steps(d, """
step("boot", lambda: c.set_power("boot"))
step("get", lambda: c.get_power())
""")
            ck.ok("error" not in (r.get("boot") or {"error": out}), "set_power boot from off", r)
            ck.eq(r.get("get"), {"powerstate": "on"}, "boot from off powers on")
            ck.eq(status(d), "Chassis Power is on", "ipmitool sees on")
            rc, r, out = pyghmi_steps(d, """
step("reset", lambda: c.set_power("reset"))
step("boot", lambda: c.set_power("boot"))
step("get", lambda: c.get_power())
step("off", lambda: c.set_power("off", wait=True))
step("on", lambda: c.set_power("on", wait=True))
""")
            ck.eq(r.get("reset"), {"pendingpowerstate": "reset"}, "set_power reset")
            ck.eq(r.get("boot"), {"pendingpowerstate": "reset"}, "set_power boot while on resets")
            ck.eq(r.get("get"), {"powerstate": "on"}, "on after resets")
            ck.eq(r.get("off"), {"powerstate": "off"}, "set_power off again")
            ck.eq(r.get("on"), {"powerstate": "on"}, "set_power on, wait")
            ck.eq(status(d), "Chassis Power is on", "ipmitool sees on at the end")
            ck.eq(d.log_count("persona lab1: hard reset (local backend) by 127.0.0.1:"), 2,
                  "the daemon ran two hard resets (reset, boot while on)")
            ck.eq(d.log_count("persona lab1: power off (local backend) by 127.0.0.1:"), 2,
                  "the daemon ran two power offs")
            ck.eq(d.log_count("persona lab1: power on (local backend) by 127.0.0.1:"), 2,
                  "the daemon ran two power ons (boot while off, on)")

        with ck.section("boot device"):
            rc, r, out = pyghmi_steps(d, """
step("net", lambda: c.set_bootdev("network"))
step("get net", lambda: c.get_bootdev())
""")
            ck.eq(rc, 0, "pyghmi program exits 0 (%s)" % out)
            ck.eq(r.get("net"), {"bootdev": "network"}, "set_bootdev network")
            ck.eq(r.get("get net"), {"bootdev": "network", "persistent": False, "uefimode": False},
                  "get_bootdev network, next boot, legacy")
            ck.eq(bootdata(d), "8004000000", "ipmitool: one-time PXE")
            rc, r, out = pyghmi_steps(d, """
step("hd", lambda: c.set_bootdev("hd", persist=True, uefiboot=True))
step("get hd", lambda: c.get_bootdev())
""")
            ck.eq(r.get("hd"), {"bootdev": "hd"}, "set_bootdev hd persist uefi")
            ck.eq(r.get("get hd"), {"bootdev": "hd", "persistent": True, "uefimode": True},
                  "get_bootdev hd, persistent, UEFI")
            ck.eq(bootdata(d), "e008000000", "ipmitool: persistent EFI disk")
            ck.eq(d.log_count("persona lab1: boot disk persistent efi (local backend)"), 1,
                  "daemon logged the persistent EFI disk boot")
            rc, r, out = pyghmi_steps(d, """
step("net", lambda: c.set_bootdev("network", persist=True))
step("get", lambda: c.get_bootdev())
""")
            ck.eq(r.get("get"), {"bootdev": "network", "persistent": True, "uefimode": False},
                  "get_bootdev network, persistent")
            ck.eq(bootdata(d), "c004000000", "ipmitool: persistent PXE")
    finally:
        d.check_exit(ck)
        d.scan_for_secrets(ck, [password])
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
