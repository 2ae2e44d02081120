"""5,000 RMCP+ Open Session requests from a flooder do not stop a
legitimate login happening during the flood: first from one source
(127.0.0.3, held to its setup budget: burst 20, 10/s), then from 5,000
spoofed-looking sources 127.x.y.z (each within budget, so the half-open
table fills: the oldest unfinished handshake is evicted, never an active
session, and a console finishing its handshake in a few round trips gets
in). ipmitool on 127.0.0.1 logs in meanwhile, with the default throttle
settings. The flooder also measures what the daemon sends back: no more
bytes than the spec's Open Session Response needs (52 for 48: no
amplification)."""

import socket
import struct
import sys
import threading
import time

from harness import Checks, Daemon, base_config, random_password, workdir
from rmcpp_raw import Client, Refused

NAME = "abuse_session_flood"
FLOOD = 5000


def open_request(i):
    algs = bytes([0, 0, 0, 8, 1, 0, 0, 0, 1, 0, 0, 8, 1, 0, 0, 0, 2, 0, 0, 8, 1, 0, 0, 0])
    payload = bytes([i & 0xFF, 4, 0, 0]) + struct.pack("<I", 0x10000 + i) + algs
    return bytes([0x06, 0x00, 0xFF, 0x07, 0x06, 0x10]) + struct.pack("<IIH", 0, 0, len(payload)) + payload


class Flooder(threading.Thread):
    """Sends FLOOD Open Session requests over about `seconds`, from one
    source or from a new source each time; counts replies and bytes."""

    def __init__(self, port, sources, seconds=3.0):
        threading.Thread.__init__(self, daemon=True)
        self.port, self.sources, self.seconds = port, sources, seconds
        self.sent_bytes = self.replies = self.reply_bytes = self.ok_replies = 0
        self.error = None

    def collect(self, s):
        s.setblocking(False)
        try:
            while True:
                data, _ = s.recvfrom(2048)
                self.replies += 1
                self.reply_bytes += len(data)
                if len(data) >= 18 and data[5] == 0x11 and data[17] == 0:
                    self.ok_replies += 1
        except (BlockingIOError, ConnectionRefusedError):
            pass

    def run(self):
        try:
            one = None
            if len(self.sources) == 1:
                one = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                one.bind((self.sources[0], 0))
            t0 = time.monotonic()
            for i in range(FLOOD):
                pkt = open_request(i)
                if one:
                    one.sendto(pkt, ("127.0.0.1", self.port))
                    if i % 50 == 0:
                        self.collect(one)
                else:
                    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    s.bind((self.sources[i % len(self.sources)], 0))
                    s.sendto(pkt, ("127.0.0.1", self.port))
                    s.settimeout(0.002)  # a reply comes within microseconds on loopback
                    try:
                        data, _ = s.recvfrom(2048)
                        self.replies += 1
                        self.reply_bytes += len(data)
                        if len(data) >= 18 and data[5] == 0x11 and data[17] == 0:
                            self.ok_replies += 1
                    except (socket.timeout, ConnectionRefusedError):
                        pass
                    s.close()
                self.sent_bytes += len(pkt)
                # pace to spread the flood over the login attempts
                ahead = t0 + self.seconds * (i + 1) / FLOOD - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)
            if one:
                deadline = time.monotonic() + 0.5
                while time.monotonic() < deadline:
                    self.collect(one)
                    time.sleep(0.02)
                one.close()
        except Exception as e:  # reported by the test
            self.error = e


def logins_during(ck, d, flooder, what):
    results = []
    flooder.start()
    t0 = time.monotonic()
    while flooder.is_alive() and time.monotonic() - t0 < 60:
        rc, out = d.ipmitool("node1", "power", "status", retries=4)
        results.append((rc, out.strip()))
    flooder.join(60)
    ck.ok(flooder.error is None, "%s: flooder ran" % what, flooder.error)
    ck.ok(len(results) >= 2, "%s: ipmitool logged in during the flood, %d times" % (what, len(results)))
    bad = [r for r in results if r != (0, "Chassis Power is on")]
    ck.ok(not bad, "%s: every ipmitool login during the flood worked" % what, bad)
    # An Open Session Response is 52 bytes for a 48-byte request (IPMI v2.0
    # table 13-10): the spec's 4 bytes are the only growth allowed.
    ck.ok(flooder.reply_bytes * 48 <= flooder.sent_bytes * 52,
          "%s: replies (%d bytes) at most 52/48 of the flood (%d bytes)"
          % (what, flooder.reply_bytes, flooder.sent_bytes))
    print("%s: %d requests, %d bytes; %d replies (%d accepted), %d bytes; %d ipmitool logins"
          % (what, FLOOD, flooder.sent_bytes, flooder.replies, flooder.ok_replies,
             flooder.reply_bytes, len(results)), flush=True)
    return flooder


def main():
    ck = Checks(NAME)
    wd = workdir(NAME)
    password = random_password()
    # The default budget (10 setups/s, burst 20), not base_config's.
    d = Daemon(wd, base_config([{"name": "node1"}], password, setup_rate=10, setup_burst=20))
    try:
        d.start()
        with ck.section("one source floods"):
            f = logins_during(ck, d, Flooder(d.port, ["127.0.0.3"]), "one source")
            # burst 20 + 10/s over ~3.5 s, and at most 4 half-open at once
            ck.ok(f.replies <= 20 + 10 * 5, "the flooder got few answers (%d)" % f.replies)
            ck.ok(f.ok_replies <= 4 + 10 * 5, "few of its handshakes were opened (%d)" % f.ok_replies)
        with ck.section("5,000 spoofed-looking sources flood"):
            sources = ["127.%d.%d.%d" % (10 + i // 65025 % 200, i // 255 % 255, 1 + i % 254)
                       for i in range(FLOOD)]
            f = logins_during(ck, d, Flooder(d.port, sources), "many sources")
            # (replies slower than the flooder's 2 ms wait are not counted)
            ck.ok(f.ok_replies >= 1000, "new sources were within budget (%d opened)" % f.ok_replies)
        with ck.section("handshakes held open for the persona's name"):
            # Anyone who knows the name can start handshakes and stop after
            # RAKP 2 (a hash harvester does exactly that). 64 of them from
            # 16 sources must not fill node1's 16 session slots for good.
            held = 0
            for i in range(64):
                c = Client(d.port, source="127.9.%d.%d" % (i // 4, 1 + i % 4))
                try:
                    c.login("node1", "unknown", suite=17, stop_after_rakp2=True)
                    held += 1
                except Refused:
                    pass
                finally:
                    c.close()
            ck.ok(held >= 16, "%d handshakes left hanging after RAKP 2" % held)
            rc, out = d.ipmitool("node1", "power", "status")
            ck.eq((rc, out.strip()), (0, "Chassis Power is on"),
                  "ipmitool still logs in to node1 (the oldest hanging handshake gives way)")
        with ck.section("after the floods"):
            ck.ok(d.alive(), "the daemon is alive")
            rc, out = d.ipmitool("node1", "power", "status")
            ck.eq((rc, out.strip()), (0, "Chassis Power is on"), "ipmitool works")
            c = Client(d.port, source="127.0.0.5")
            ck.ok(c.exchange(bytes([0x06, 0, 0xFF, 0x06, 0, 0, 0x11, 0xBE, 0x80, 1, 0, 0])),
                  "ASF ping answered")
            c.close()
    finally:
        if d.proc:
            d.check_exit(ck)
            d.scan_for_secrets(ck, [password])
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
