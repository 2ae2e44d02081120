"""10,000 random and truncated datagrams leave the daemon serving: random
bytes, every kind of valid packet (ASF ping, Get Channel Authentication
Capabilities, Open Session, RAKP 1 and 3, an authenticated request of a
live session) cut at every length and with bytes flipped, headers that lie
about lengths. Afterwards ipmitool, FreeIPMI and an ASF ping still get
answers, the session opened before the storm still works, and the daemon
never answered a broken datagram with more than its request's size plus
what the spec needs."""

import os
import random
import struct
import sys
import time

from harness import Checks, Daemon, asf_ping, base_config, random_password, workdir
from rmcpp_raw import ASF_PING, Client, ipmi_msg, rmcpp_sessionless, v15_sessionless

NAME = "abuse_garbage"
TOTAL = 10000


def corpus(c, live):
    """Valid datagrams of every kind, the raw material to break."""
    out = [ASF_PING, v15_sessionless(ipmi_msg(0x06, 0x38, b"\x8e\x04")),
           v15_sessionless(ipmi_msg(0x06, 0x54, b"\x0e\x00\x80")),
           v15_sessionless(ipmi_msg(0x06, 0x39, b"\x02node1" + bytes(11))),
           c.open_request(17), c.open_request(3), c.open_request(2)]
    rakp1 = bytes([1, 0, 0, 0]) + struct.pack("<I", live.bmc_sid) + os.urandom(16) + \
        bytes([0x14, 0, 0, 5]) + b"node1"
    out.append(rmcpp_sessionless(0x12, rakp1))
    out.append(rmcpp_sessionless(0x14, bytes([1, 0, 0, 0]) + struct.pack("<I", live.bmc_sid) +
                                 os.urandom(20)))
    out.append(live.wrap(ipmi_msg(0x06, 0x01, b"", 5), seq=live.seq + 3))
    return out


def mutate(rng, base):
    kind = rng.randrange(5)
    if kind == 0:
        return base[:rng.randrange(len(base))]                 # truncated
    b = bytearray(base)
    if kind == 1:
        for _ in range(rng.randrange(1, 4)):                   # flipped bytes
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    elif kind == 2 and len(b) >= 16:                           # lying length
        b[14:16] = struct.pack("<H", rng.choice([0, 1, len(b), 0xFFFF, rng.randrange(65536)]))
    elif kind == 3:
        b += os.urandom(rng.randrange(1, 64))                  # trailing junk
    else:
        b = bytearray(os.urandom(rng.randrange(0, 300)))       # pure noise
    return bytes(b)


def main():
    ck = Checks(NAME)
    wd = workdir(NAME)
    password = random_password()
    d = Daemon(wd, base_config([{"name": "node1"}], password, cipher_suites=[2, 3, 17],
                               allow_ipmi15=True))
    rng = random.Random(1234)
    try:
        d.start()
        live = Client(d.port, source="127.0.0.6").login("node1", password, suite=2)
        with ck.section("10,000 broken datagrams"):
            c = Client(d.port, source="127.0.0.4", timeout=0.002)
            base = corpus(c, live)
            worst = 0
            sent = answered = 0
            t0 = time.monotonic()
            for i in range(TOTAL):
                pkt = mutate(rng, base[i % len(base)])
                c.send(pkt)
                sent += 1
                r = c.recv()
                if r is not None:
                    answered += 1
                    # pong is 28 for 12; an Open Session Response 52 for 48;
                    # RAKP 2 with SHA-256 is 40 bytes larger than RAKP 1
                    worst = max(worst, len(r) - len(pkt))
                if i % 1000 == 999 and not d.alive():
                    break
            print("sent %d broken datagrams in %.1f s, %d answered, worst growth %d bytes"
                  % (sent, time.monotonic() - t0, answered, worst), flush=True)
            ck.eq(sent, TOTAL, "all sent")
            ck.ok(d.alive(), "the daemon is alive")
            ck.ok(worst <= 40, "no answer grew more than the spec needs (%d bytes)" % worst)
            c.close()
        with ck.section("still serving"):
            ck.ok(asf_ping(d.port), "ASF ping answered")
            rc, out = d.ipmitool("node1", "power", "status")
            ck.eq((rc, out.strip()), (0, "Chassis Power is on"), "ipmitool -C 17 power status")
            rc, out = d.ipmitool("node1", "mc", "info", cipher=3)
            ck.contains(out, "IPMI Version", "ipmitool -C 3 mc info")
            rc, out = d.freeipmi("ipmipower", "node1", "--stat")
            ck.contains(out, ": on", "ipmipower --stat")
            r = live.request(0x06, 0x01)
            ck.eq(r and r[0], 0, "the session opened before the storm still works")
        live.close()
    finally:
        if d.proc:
            d.check_exit(ck)
            d.scan_for_secrets(ck, [password])
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
