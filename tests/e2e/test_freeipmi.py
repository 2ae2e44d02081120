"""FreeIPMI (-D LAN_2_0): ipmipower, bmc-info, ipmi-chassis,
ipmi-chassis-config checkout/commit of the boot flags, and, in a private
network namespace where the daemon can own port 623, ipmiping and rmcpping
(neither can be pointed at another port)."""

import sys

from harness import (Checks, Daemon, base_config, fields, free_port, in_private_netns,
                     random_password, run, workdir)

NAME = "freeipmi"
HOST = "127.0.0.1"


def power(d, flag, cipher=17):
    rc, out = d.freeipmi("ipmipower", "lab1", flag, cipher=cipher)
    return rc, out.strip()


def boot_flags(d, *keys):
    args = []
    for k in keys:
        args += ["-e", "Chassis_Boot_Flags:%s" % k]
    rc, out = d.freeipmi("ipmi-chassis-config", "lab1", "--checkout", *args)
    got = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and not line.lstrip().startswith("#"):
            got[parts[0]] = parts[1]
    return rc, got, out


def main():
    netns = in_private_netns()
    ck = Checks(NAME)
    wd = workdir(NAME)
    password = random_password()
    # In a private namespace the well-known port is ours.
    port = 623 if netns else free_port()
    d = Daemon(wd, base_config([{"name": "lab1", "hostname": "lab1.example"}], password,
                               listen=["%s:%d" % (HOST, port)]))
    try:
        d.start()
        for cipher in (3, 17):
            with ck.section("ipmipower, -I %d" % cipher):
                ck.eq(power(d, "--stat", cipher), (0, "%s: on" % HOST), "--stat on")
                ck.eq(power(d, "--off", cipher), (0, "%s: ok" % HOST), "--off")
                ck.eq(power(d, "--stat", cipher), (0, "%s: off" % HOST), "--stat after --off")
                rc, out = d.freeipmi("ipmi-chassis", "lab1", "--get-chassis-status", cipher=cipher)
                ck.eq(fields(out).get("System Power"), "off", "ipmi-chassis System Power off")
                ck.eq(power(d, "--on", cipher), (0, "%s: ok" % HOST), "--on")
                ck.eq(power(d, "--stat", cipher), (0, "%s: on" % HOST), "--stat after --on")
                rc, out = d.freeipmi("ipmi-chassis", "lab1", "--get-chassis-status", cipher=cipher)
                ck.eq(rc, 0, "ipmi-chassis exits 0")
                ck.eq(fields(out).get("System Power"), "on", "ipmi-chassis System Power on")
        with ck.section("each ipmipower action ran once in the daemon"):
            ck.eq(d.log_count("persona lab1: power off (local backend) by 127.0.0.1:"), 2, "power off twice")
            ck.eq(d.log_count("persona lab1: power on (local backend) by 127.0.0.1:"), 2, "power on twice")

        with ck.section("bmc-info"):
            rc, out = d.freeipmi("bmc-info", "lab1")
            f = fields(out)
            ck.eq(rc, 0, "bmc-info exits 0")
            ck.eq(f.get("Device ID"), "32", "Device ID")
            ck.eq(f.get("IPMI Version"), "2.0", "IPMI Version")
            rc2, out2 = d.ipmitool("lab1", "mc", "guid")
            guid = fields(out2).get("System GUID")
            ck.ok(guid, "ipmitool mc guid answers", out2)
            ck.eq(f.get("Device GUID"), guid, "bmc-info Device GUID = ipmitool's")
            ck.eq(f.get("System GUID"), guid, "bmc-info System GUID = ipmitool's")
            ck.eq(f.get("System Name"), "lab1.example", "System Name is the hostname")

        with ck.section("ipmi-chassis-config checkout"):
            rc, out = d.freeipmi("ipmi-chassis-config", "lab1", "--checkout")
            ck.eq(rc, 0, "full checkout exits 0")
            ck.contains(out, "Section Chassis_Boot_Flags", "checkout has the boot flags section")

        with ck.section("ipmi-chassis-config commit: PXE, persistent"):
            rc, out = d.freeipmi("ipmi-chassis-config", "lab1", "--commit",
                                 "-e", "Chassis_Boot_Flags:Boot_Device=PXE",
                                 "-e", "Chassis_Boot_Flags:Boot_Flags_Persistent=Yes")
            ck.eq(rc, 0, "commit exits 0 (%s)" % out.strip())
            rc, out = d.ipmitool("lab1", "chassis", "bootparam", "get", "5")
            ck.eq(fields(out).get("Boot parameter data"), "c004000000", "ipmitool sees valid+persistent PXE")
            ck.contains(out, "Boot Device Selector : Force PXE", "ipmitool: selector PXE")
            rc, got, out = boot_flags(d, "Boot_Device", "Boot_Flags_Persistent", "BIOS_Boot_Type")
            ck.eq(got.get("Boot_Device"), "PXE", "checkout Boot_Device")
            ck.eq(got.get("Boot_Flags_Persistent"), "Yes", "checkout Boot_Flags_Persistent")
            ck.eq(got.get("BIOS_Boot_Type"), "PC-COMPATIBLE", "checkout BIOS_Boot_Type")
            ck.eq(d.log_count("persona lab1: boot pxe persistent (local backend)"), 1,
                  "daemon logged the persistent PXE boot")

        with ck.section("ipmi-chassis-config commit: disk, next boot, EFI"):
            rc, out = d.freeipmi("ipmi-chassis-config", "lab1", "--commit",
                                 "-e", "Chassis_Boot_Flags:Boot_Device=HARD-DRIVE",
                                 "-e", "Chassis_Boot_Flags:Boot_Flags_Persistent=No",
                                 "-e", "Chassis_Boot_Flags:BIOS_Boot_Type=EFI")
            ck.eq(rc, 0, "commit exits 0 (%s)" % out.strip())
            rc, out = d.ipmitool("lab1", "chassis", "bootparam", "get", "5")
            ck.eq(fields(out).get("Boot parameter data"), "a008000000", "ipmitool sees valid one-time EFI disk")
            rc, got, out = boot_flags(d, "Boot_Device", "Boot_Flags_Persistent", "BIOS_Boot_Type")
            ck.eq(got.get("Boot_Device"), "HARD-DRIVE", "checkout Boot_Device")
            ck.eq(got.get("Boot_Flags_Persistent"), "No", "checkout Boot_Flags_Persistent")
            ck.eq(got.get("BIOS_Boot_Type"), "EFI", "checkout BIOS_Boot_Type")

        with ck.section("wrong password"):
            rc, out = d.freeipmi("ipmipower", "lab1", "--stat", password="not-the-password")
            ck.contains(out, "password invalid", "ipmipower reports the password")
            ck.absent(out, ": on", "no power state leaks out")

        with ck.section("ipmiping and rmcpping on port 623"):
            if not netns:
                print("   (skipped: needs a private network namespace, i.e. root)")
            else:
                rc, out = run(["rmcpping", "-c", "2", HOST], timeout=30)
                ck.eq(rc, 0, "rmcpping exits 0 (%s)" % out)
                ck.contains(out, "2 pings transmitted, 2 pongs received", "rmcpping: two pongs")
                rc, out = run(["ipmiping", "-c", "2", HOST], timeout=30)
                ck.eq(rc, 0, "ipmiping exits 0 (%s)" % out)
                ck.contains(out, "2 requests transmitted, 2 responses received", "ipmiping: two answers")
    finally:
        d.check_exit(ck)
        d.scan_for_secrets(ck, [password])
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
