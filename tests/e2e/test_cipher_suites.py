"""Every implemented RMCP+ cipher suite completes a real session and runs a
chassis control: 1, 2, 3, 6, 7, 8, 15, 16, 17 with ipmitool -I lanplus -C N
(power status, power cycle); 11 and 12 with FreeIPMI (ipmipower --stat,
ipmi-chassis --chassis-control=power-cycle), because ipmitool 1.8.19 has no
MD5-128 integrity (it aborts in ipmi_lanplus_build_v2x_msg). The daemon's
log shows the algorithms each session negotiated. Get Channel Cipher Suites
(ipmitool channel getciphers, and its raw bytes) and lan print list exactly
the enabled suites: 3 and 17 by default, all eleven when configured.
Cipher suite 0 works only with ipmi.allow_cipher_zero and 0 in
ipmi.cipher_suites, and then the daemon logs exactly one warning."""

import re
import sys

from harness import Checks, Daemon, base_config, fields, random_password, workdir

NAME = "cipher_suites"

# IPMI v2.0 table 22-20: suite -> (authentication, integrity, confidentiality)
# as ipmitool names them, and as algorithm numbers (tables 13-17..13-19).
SUITES = {
    1: ("hmac_sha1", "none", "none", 1, 0, 0),
    2: ("hmac_sha1", "hmac_sha1_96", "none", 1, 1, 0),
    3: ("hmac_sha1", "hmac_sha1_96", "aes_cbc_128", 1, 1, 1),
    6: ("hmac_md5", "none", "none", 2, 0, 0),
    7: ("hmac_md5", "hmac_md5_128", "none", 2, 2, 0),
    8: ("hmac_md5", "hmac_md5_128", "aes_cbc_128", 2, 2, 1),
    11: ("hmac_md5", "md5_128", "none", 2, 3, 0),
    12: ("hmac_md5", "md5_128", "aes_cbc_128", 2, 3, 1),
    15: ("hmac_sha256", "none", "none", 3, 0, 0),
    16: ("hmac_sha256", "sha256_128", "none", 3, 4, 0),
    17: ("hmac_sha256", "sha256_128", "aes_cbc_128", 3, 4, 1),
}
ALL = sorted(SUITES)
NO_IPMITOOL = (11, 12)  # MD5-128 integrity: FreeIPMI instead
ZERO_WARNING = ("warn: cipher suite 0 is enabled: sessions without authentication, "
                "integrity or encryption are possible")
CYCLE = "persona lab1: power cycle (local backend) by 127.0.0.1:"


def getciphers(d):
    """`ipmitool channel getciphers ipmi` as {id: (auth, integ, conf)}."""
    rc, out = d.ipmitool("lab1", "channel", "getciphers", "ipmi")
    rows = {}
    for line in out.splitlines():
        m = re.match(r"^(\d+)\s+\S+\s+(\S+)\s+(\S+)\s+(\S+)\s*$", line)
        if m:
            rows[int(m.group(1))] = m.group(2, 3, 4)
    return rc, rows, out


def raw_cipher_records(ids):
    """Get Channel Cipher Suites records (table 22-19): C0h, the suite ID,
    then the algorithms tagged 00b/01b/10b in bits 7:6."""
    out = []
    for i in ids:
        a, g, c = SUITES[i][3:] if i else (0, 0, 0)
        out += [0xC0, i, a, 0x40 | g, 0x80 | c]
    return out


def raw_getciphers(d):
    """Every record the daemon lists (list index 0, 1, ... with bit 7 set:
    list by cipher suite), read 16 bytes at a time as a client does."""
    data = []
    for idx in range(8):  # bounded: 64 suites at most
        rc, out = d.ipmitool("lab1", "raw", "0x06", "0x54", "0x0e", "0x00", "0x%02x" % (0x80 | idx))
        if rc != 0:
            return "rc=%d %s" % (rc, out)
        got = [int(b, 16) for b in out.split()]
        if not got or got[0] != 0x01:
            return "bad channel byte: %r" % out
        data += got[1:]
        if len(got) - 1 < 16:
            return data
    return data


def session_lines(d, suite):
    """How many sessions the daemon made active with suite's algorithms."""
    a, g, c = SUITES[suite][3:] if suite else (0, 0, 0)
    return d.log_count("active for persona lab1, suite auth %d integ %d conf %d" % (a, g, c))


def check_listed(ck, d, ids, what):
    rc, rows, out = getciphers(d)
    ck.eq(rc, 0, "channel getciphers ipmi exits 0 (%s)" % what)
    want = {i: (SUITES[i][:3] if i else ("none", "none", "none")) for i in ids}
    ck.eq(rows, want, "channel getciphers lists exactly the enabled suites (%s)" % what)
    ck.eq(raw_getciphers(d), raw_cipher_records(sorted(ids)),
          "Get Channel Cipher Suites record bytes (%s)" % what)
    rc, out = d.ipmitool("lab1", "lan", "print")
    ck.eq(rc, 0, "lan print exits 0 (%s)" % what)
    ck.eq(fields(out).get("RMCP+ Cipher Suites"), ",".join(str(i) for i in sorted(ids)),
          "lan print's RMCP+ Cipher Suites (%s)" % what)


def suite_session(ck, d, suite):
    """One status query and one chassis control over suite, each a session
    of its own, checked in the client's answer and in the daemon's log."""
    before, cycles = session_lines(d, suite), d.log_count(CYCLE)
    if suite in NO_IPMITOOL:
        rc, out = d.freeipmi("ipmipower", "lab1", "--stat", cipher=suite)
        ck.eq((rc, out.strip()), (0, "127.0.0.1: on"), "ipmipower -I %d --stat" % suite)
        rc, out = d.freeipmi("ipmi-chassis", "lab1", "--chassis-control=power-cycle",
                             cipher=suite)
        ck.ok(rc == 0, "ipmi-chassis -I %d --chassis-control=power-cycle exits 0" % suite, out)
    else:
        rc, out = d.ipmitool("lab1", "power", "status", cipher=suite, retries=1)
        ck.eq((rc, out.strip()), (0, "Chassis Power is on"), "ipmitool -C %d power status" % suite)
        rc, out = d.ipmitool("lab1", "power", "cycle", cipher=suite, retries=1)
        ck.eq((rc, out.strip()), (0, "Chassis Power Control: Cycle"),
              "ipmitool -C %d power cycle" % suite)
    ck.eq(d.log_count(CYCLE), cycles + 1, "the power cycle over suite %d ran once" % suite)
    ck.eq(session_lines(d, suite), before + 2,
          "two sessions with suite %d's algorithms %s" % (suite, SUITES[suite][3:]))


def main():
    ck = Checks(NAME)
    wd = workdir(NAME)
    password = random_password()
    personas = [{"name": "lab1"}]
    daemons = []

    def daemon(name, **ipmi):
        d = Daemon(wd, base_config(personas, password, **ipmi), name=name)
        daemons.append(d)
        d.start()
        return d

    try:
        with ck.section("default config: only 3 and 17 offered, no suite 0"):
            d = daemon("default")
            check_listed(ck, d, [3, 17], "default")
            rc, out = d.ipmitool("lab1", "power", "status", cipher=0, retries=1)
            ck.ok(rc != 0, "ipmitool -C 0 is refused by default", out)
            ck.eq(session_lines(d, 0), 0, "no suite 0 session was made")
            ck.eq(d.log_count("cipher suite 0"), 0, "no suite 0 warning by default")
            d.check_exit(ck)

        with ck.section("every implemented suite enabled"):
            d = daemon("all", cipher_suites=ALL)
            check_listed(ck, d, ALL, "all enabled")
            for suite in ALL:
                suite_session(ck, d, suite)
            rc, out = d.ipmitool("lab1", "power", "status", cipher=0, retries=1)
            ck.ok(rc != 0, "suite 0 still refused without allow_cipher_zero", out)
            ck.eq(d.log_count("cipher suite 0"), 0, "and no suite 0 warning")
            d.check_exit(ck)

        with ck.section("allow_cipher_zero alone enables nothing"):
            d = daemon("optin", allow_cipher_zero=True)
            rc, out = d.ipmitool("lab1", "power", "status", cipher=0, retries=1)
            ck.ok(rc != 0, "ipmitool -C 0 refused while 0 is not listed", out)
            ck.eq(session_lines(d, 0), 0, "no suite 0 session was made")
            ck.eq(d.log_count("cipher suite 0"), 0, "no warning: suite 0 is not offered")
            check_listed(ck, d, [3, 17], "opt-in without 0 listed")
            d.check_exit(ck)

        with ck.section("allow_cipher_zero and 0 listed: a warning, and suite 0 works"):
            d = daemon("zero", allow_cipher_zero=True, cipher_suites=[0, 3, 17])
            lines = [l for l in d.read_log().splitlines() if "cipher suite 0" in l]
            ck.ok(len(lines) == 1, "one line mentions suite 0", lines)
            ck.ok(len(lines) == 1 and lines[0].split(" ", 1)[-1] == ZERO_WARNING,
                  "it is exactly the warning", lines)
            check_listed(ck, d, [0, 3, 17], "0 enabled")
            before, cycles = session_lines(d, 0), d.log_count(CYCLE)
            rc, out = d.ipmitool("lab1", "power", "status", cipher=0)
            ck.eq((rc, out.strip()), (0, "Chassis Power is on"), "ipmitool -C 0 power status")
            rc, out = d.ipmitool("lab1", "power", "cycle", cipher=0)
            ck.eq((rc, out.strip()), (0, "Chassis Power Control: Cycle"), "ipmitool -C 0 power cycle")
            ck.eq(d.log_count(CYCLE), cycles + 1, "the power cycle over suite 0 ran once")
            ck.eq(session_lines(d, 0), before + 2, "two sessions without any algorithm")
            d.check_exit(ck)
    finally:
        for d in daemons:
            if d.alive():
                d.check_exit(ck)
            d.scan_for_secrets(ck, [password])
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
