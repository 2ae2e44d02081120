"""ipmitool -I lanplus against config personas, with cipher suites 3 and 17:
power control and its state, boot device and its flags, and the read-only
commands a provisioning system runs (mc info/selftest, fru, lan, user,
channel info/getciphers, session, sdr, sel, chassis, and raw Get ACPI Power
State, Get Chassis Capabilities and Get Channel Cipher Suites). Every answer
is checked against what the persona is."""

import re
import sys

from harness import Checks, Daemon, base_config, fields, random_password, workdir

NAME = "ipmitool_lanplus"
LAB1_ID = "6f0f4a7e-1e8b-4c1f-9d53-0000000000a1"
LAB2_ID = "6f0f4a7e-1e8b-4c1f-9d53-0000000000a2"

# Boot flags (Get System Boot Options parameter 5, table 28-14) that
# `chassis bootdev` must leave: byte 1 valid/persistent/EFI, byte 2 the
# device selector in bits 5:2.
BOOT_CASES = [
    # (ipmitool arguments, parameter data, persistent, efi, selector text)
    (["pxe"], "8004000000", False, False, "Force PXE"),
    (["disk"], "8008000000", False, False, "Force Boot from default Hard-Drive"),
    (["pxe", "options=persistent,efiboot"], "e004000000", True, True, "Force PXE"),
    (["disk", "options=persistent,efiboot"], "e008000000", True, True,
     "Force Boot from default Hard-Drive"),
]


def power_state(d, user, cipher):
    """(power status line, chassis status 'System Power') as the client sees them."""
    rc1, out1 = d.ipmitool(user, "power", "status", cipher=cipher)
    rc2, out2 = d.ipmitool(user, "chassis", "status", cipher=cipher)
    return out1.strip() if rc1 == 0 else "rc=%d %s" % (rc1, out1), fields(out2).get("System Power")


def raw_bytes(d, user, cipher, *args):
    """ipmitool raw's answer as a list of byte values (a string on error)."""
    rc, out = d.ipmitool(user, "raw", *args, cipher=cipher)
    if rc != 0:
        return "rc=%d %s" % (rc, out)
    return [int(b, 16) for b in out.split()]


# Get ACPI Power State (IPMI v2.0 section 20.7): system state S0/G0
# "working" (00h) when on, S5/G2 "soft off" (05h) when off; device D0 (00h).
ACPI = {"on": [0x00, 0x00], "off": [0x05, 0x00]}


def identify_state(d, user, cipher):
    """Bits 5:4 of Get Chassis Status byte 3 (0 off, 1 timed, 2 indefinite)."""
    rc, out = d.ipmitool(user, "raw", "0x00", "0x01", cipher=cipher)
    if rc != 0:
        return "rc=%d %s" % (rc, out)
    return (int(out.split()[2], 16) >> 4) & 3


def power_sequence(ck, d, cipher):
    user = "lab1"
    steps = [
        # (command, ipmitool's answer, state after, log action)
        ("off", "Chassis Power Control: Down/Off", "off", "power off"),
        ("on", "Chassis Power Control: Up/On", "on", "power on"),
        ("cycle", "Chassis Power Control: Cycle", "on", "power cycle"),
        ("reset", "Chassis Power Control: Reset", "on", "hard reset"),
        ("soft", "Chassis Power Control: Soft", "off", "soft off"),
        ("cycle", "Chassis Power Control: Cycle", "on", "power cycle"),
    ]
    for cmd, answer, after, action in steps:
        needle = "persona lab1: %s (local backend) by 127.0.0.1:" % action
        before = d.log_count(needle)
        rc, out = d.ipmitool(user, "power", cmd, cipher=cipher)
        ck.eq(rc, 0, "power %s exits 0 (-C %d)" % (cmd, cipher))
        ck.contains(out, answer, "power %s answer (-C %d)" % (cmd, cipher))
        status, chassis = power_state(d, user, cipher)
        ck.eq(status, "Chassis Power is %s" % after, "power status after power %s (-C %d)" % (cmd, cipher))
        ck.eq(chassis, after, "chassis status System Power after power %s (-C %d)" % (cmd, cipher))
        ck.eq(raw_bytes(d, user, cipher, "0x06", "0x07"), ACPI[after],
              "Get ACPI Power State after power %s (-C %d)" % (cmd, cipher))
        ck.eq(d.log_count(needle), before + 1,
              "daemon ran '%s' exactly once for power %s (-C %d)" % (action, cmd, cipher))
    rc, out = d.ipmitool(user, "chassis", "restart_cause", cipher=cipher)
    ck.contains(out, "System restart cause: chassis power control command",
                "restart cause after Chassis Control (-C %d)" % cipher)


def boot_devices(ck, d, cipher):
    for args, data, persistent, efi, selector in BOOT_CASES:
        what = "bootdev %s (-C %d)" % (" ".join(args), cipher)
        rc, out = d.ipmitool("lab1", "chassis", "bootdev", *args, cipher=cipher)
        ck.eq(rc, 0, what + " exits 0")
        ck.contains(out, "Set Boot Device to %s" % args[0], what + " answer")
        rc, out = d.ipmitool("lab1", "chassis", "bootparam", "get", "5", cipher=cipher)
        ck.eq(rc, 0, what + ": bootparam get 5 exits 0")
        ck.eq(fields(out).get("Boot parameter data"), data, what + ": parameter 5 bytes")
        ck.contains(out, "- Boot Flag Valid", what + ": valid bit")
        ck.contains(out, "Options apply to all future boots" if persistent
                    else "Options apply to only next boot", what + ": persistence")
        ck.contains(out, "BIOS EFI boot" if efi else "BIOS PC Compatible (legacy) boot",
                    what + ": BIOS boot type")
        ck.contains(out, "Boot Device Selector : %s" % selector, what + ": device selector")
        dev = "pxe" if args[0] == "pxe" else "disk"
        action = "boot %s%s%s" % (dev, " persistent" if persistent else "", " efi" if efi else "")
        ck.ok(d.log_count("persona lab1: %s (local backend)" % action) >= 1,
              what + ": daemon logged '%s'" % action)


def read_only(ck, d, cipher):
    c = "(-C %d)" % cipher
    rc, out = d.ipmitool("lab1", "mc", "info", cipher=cipher)
    f = fields(out)
    ck.eq(rc, 0, "mc info exits 0 " + c)
    ck.eq(f.get("Device ID"), "32", "mc info Device ID " + c)
    ck.eq(f.get("IPMI Version"), "2.0", "mc info IPMI Version " + c)
    ck.eq(f.get("Device Available"), "yes", "mc info Device Available " + c)
    ck.contains(out, "Chassis Device", "mc info lists the chassis device " + c)

    rc, out = d.ipmitool("lab1", "mc", "selftest", cipher=cipher)
    ck.eq((rc, out.strip()), (0, "Selftest: passed"), "mc selftest " + c)
    # Get Self Test Results (section 20.4): 55h "no error", then 00h
    ck.eq(raw_bytes(d, "lab1", cipher, "0x06", "0x04"), [0x55, 0x00], "self test result bytes " + c)
    ck.eq(raw_bytes(d, "lab1", cipher, "0x06", "0x07"), ACPI["on"],
          "Get ACPI Power State: S0/G0 working, D0 " + c)
    # Get Chassis Capabilities (section 28.1): no intrusion sensor, front
    # panel lockout, diagnostic interrupt or interlock; FRU, SDR, SEL and
    # system management device all the BMC at 20h
    ck.eq(raw_bytes(d, "lab1", cipher, "0x00", "0x00"), [0x00, 0x20, 0x20, 0x20, 0x20],
          "Get Chassis Capabilities " + c)
    # Get Channel Cipher Suites (section 22.15), list by suite from index 0:
    # channel 1, then records C0h ID auth 40h|integ 80h|conf (table 22-19)
    ck.eq(raw_bytes(d, "lab1", cipher, "0x06", "0x54", "0x0e", "0x00", "0x80"),
          [0x01, 0xC0, 0x03, 0x01, 0x41, 0x81, 0xC0, 0x11, 0x03, 0x44, 0x81],
          "Get Channel Cipher Suites: suites 3 and 17 " + c)
    rc, out = d.ipmitool("lab1", "channel", "getciphers", "ipmi", cipher=cipher)
    rows = [line.split() for line in out.splitlines()[1:] if line.strip()]
    ck.eq((rc, rows), (0, [["3", "N/A", "hmac_sha1", "hmac_sha1_96", "aes_cbc_128"],
                           ["17", "N/A", "hmac_sha256", "sha256_128", "aes_cbc_128"]]),
          "channel getciphers ipmi lists exactly 3 and 17 " + c)

    rc, out = d.ipmitool("lab1", "fru", "print", cipher=cipher)
    f = fields(out)
    ck.eq(rc, 0, "fru print exits 0 " + c)
    ck.eq(f.get("Product Asset Tag"), "lab1.example", "FRU asset tag is the hostname " + c)
    ck.eq(f.get("Product Serial"), LAB1_ID, "FRU product serial is the device ID " + c)
    ck.eq(f.get("Board Serial"), "lab1", "FRU board serial is the persona name " + c)
    ck.eq(f.get("Product Manufacturer"), "Equinix Metal", "FRU manufacturer " + c)

    rc, out = d.ipmitool("lab1", "lan", "print", cipher=cipher)
    f = fields(out)
    ck.eq(rc, 0, "lan print exits 0 " + c)
    ck.eq(f.get("IP Address"), "127.0.0.1", "lan print IP is the address connected to " + c)
    ck.eq(f.get("RMCP+ Cipher Suites"), "3,17", "lan print cipher suites " + c)
    ck.eq(f.get("Auth Type Support"), "", "lan print: no IPMI v1.5 auth types " + c)

    rc, out = d.ipmitool("lab1", "user", "list", cipher=cipher)
    ck.eq(rc, 0, "user list exits 0 " + c)
    ck.ok(re.search(r"^2\s+lab1\s+true\s+\S+\s+true\s+ADMINISTRATOR\s*$", out, re.M),
          "user list: user 2 is lab1, administrator " + c, out)

    rc, out = d.ipmitool("lab1", "channel", "info", cipher=cipher)
    f = fields(out)
    ck.eq(rc, 0, "channel info exits 0 " + c)
    ck.eq(f.get("Channel Medium Type"), "802.3 LAN", "channel medium " + c)
    ck.eq(f.get("Session Support"), "multi-session", "channel session support " + c)
    ck.eq(f.get("Active Session Count"), "1", "channel active sessions " + c)

    rc, out = d.ipmitool("lab1", "session", "info", "active", cipher=cipher)
    f = fields(out)
    ck.eq(rc, 0, "session info active exits 0 " + c)
    ck.eq(f.get("session type"), "IPMIv2/RMCP+", "session type " + c)
    ck.eq(f.get("privilege level"), "ADMINISTRATOR", "session privilege " + c)
    ck.eq(f.get("console ip"), "127.0.0.1", "session console ip " + c)
    ck.eq(f.get("active sessions"), "1", "session count " + c)

    rc, out = d.ipmitool("lab1", "sdr", "list", cipher=cipher)
    ck.eq(rc, 0, "sdr list exits 0 " + c)
    rc, out = d.ipmitool("lab1", "sdr", "elist", "all", cipher=cipher)
    ck.eq(rc, 0, "sdr elist all exits 0 " + c)
    ck.ok(re.search(r"^lab1\.example\s*\|.*Dynamic MC @ 20h", out, re.M),
          "SDR has the MC locator named after the host " + c, out)

    rc, out = d.ipmitool("lab1", "sel", "info", cipher=cipher)
    ck.eq(rc, 0, "sel info exits 0 " + c)
    ck.eq(fields(out).get("Entries"), "0", "sel info entries " + c)
    rc, out = d.ipmitool("lab1", "sel", "list", cipher=cipher)
    ck.eq(rc, 0, "sel list exits 0 " + c)
    ck.contains(out, "SEL has no entries", "sel list is empty " + c)

    rc, out = d.ipmitool("lab1", "chassis", "poh", cipher=cipher)
    ck.eq(rc, 0, "chassis poh exits 0 " + c)
    ck.ok(re.search(r"POH Counter\s*: \d+ days, \d+ hours, \d+ minutes", out),
          "chassis poh format " + c, out)

    for args, answer, state in ((["identify"], "default (15 seconds)", 1),
                                (["identify", "force"], "indefinite", 2),
                                (["identify", "0"], "off", 0)):
        rc, out = d.ipmitool("lab1", "chassis", *args, cipher=cipher)
        ck.eq(rc, 0, "chassis %s exits 0 %s" % (" ".join(args), c))
        ck.contains(out, "Chassis identify interval: %s" % answer,
                    "chassis %s answer %s" % (" ".join(args), c))
        ck.eq(identify_state(d, "lab1", cipher), state,
              "identify state after chassis %s %s" % (" ".join(args), c))


def main():
    ck = Checks(NAME)
    wd = workdir(NAME)
    password = random_password()
    d = Daemon(wd, base_config([
        {"name": "lab1", "hostname": "lab1.example", "device_id": LAB1_ID},
        {"name": "lab2", "device_id": LAB2_ID, "power": "off"},
    ], password))
    try:
        d.start()
        with ck.section("a persona declared off starts off"):
            status, chassis = power_state(d, "lab2", 17)
            ck.eq(status, "Chassis Power is off", "lab2 power status")
            ck.eq(chassis, "off", "lab2 chassis status")
            ck.eq(raw_bytes(d, "lab2", 17, "0x06", "0x07"), ACPI["off"],
                  "lab2 Get ACPI Power State: S5/G2 soft off, D0")
            rc, out = d.ipmitool("lab2", "chassis", "restart_cause")
            ck.contains(out, "System restart cause: unknown", "lab2 restart cause before any control")
        for cipher in (3, 17):
            with ck.section("power control, -C %d" % cipher):
                power_sequence(ck, d, cipher)
            with ck.section("boot device, -C %d" % cipher):
                boot_devices(ck, d, cipher)
            with ck.section("read-only commands, -C %d" % cipher):
                read_only(ck, d, cipher)
        with ck.section("lab2's power and boot flags are its own"):
            status, _ = power_state(d, "lab2", 17)
            ck.eq(status, "Chassis Power is off", "lab2 untouched by lab1's power control")
            rc, out = d.ipmitool("lab2", "chassis", "bootparam", "get", "5")
            ck.eq(fields(out).get("Boot parameter data"), "0000000000", "lab2 has no boot override")
            ck.contains(out, "Boot Device Selector : No override", "lab2 boot selector")
        with ck.section("mc guid: per persona, stable across a restart"):
            rc1, out1 = d.ipmitool("lab1", "mc", "guid")
            rc2, out2 = d.ipmitool("lab2", "mc", "guid")
            g1, g2 = fields(out1).get("System GUID"), fields(out2).get("System GUID")
            ck.ok(g1 and re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", g1),
                  "lab1 GUID is an RFC 4122 version 5 GUID", out1)
            ck.ok(g1 != g2, "personas have different GUIDs", (g1, g2))
            d.restart()
            rc, out = d.ipmitool("lab1", "mc", "guid")
            ck.eq(fields(out).get("System GUID"), g1, "lab1 GUID after a restart")
            rc, out = d.ipmitool("lab2", "mc", "guid")
            ck.eq(fields(out).get("System GUID"), g2, "lab2 GUID after a restart")
    finally:
        d.check_exit(ck)
        d.scan_for_secrets(ck, [password])
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
