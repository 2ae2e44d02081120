#!/usr/bin/python3
"""Writes the fuzz seed corpora (tests/fuzz/corpus/<target>/).

datagram: real client traffic. metalbmc runs on loopback with a config
persona; a small UDP proxy in front of it records every datagram that
ipmitool (lanplus -C 3 / -C 17, lan), FreeIPMI (ipmipower, bmc-info) and
pyghmi send. Each client conversation becomes one seed (records: u16 length
+ datagram, header byte 0x08 or 0x09 so the harness patches in the live
session ID), and each distinct datagram also becomes a seed of its own.

session: the inner IPMI requests those tools send once logged in (they are
encrypted on the wire, so they are listed here from the IPMI spec and the
clients' sources), one record per request.

config: sample configuration files.

metal_api: the demo fixture's devices as API answers; tags: tag lists.

  /usr/bin/python3 tests/fuzz/seeds.py [--capture BUILD_DIR] [TARGET...]

Without --capture the datagram corpus is left as it is (capturing needs a
built metalbmc in BUILD_DIR/appliance and the clients). Traffic stays on
127.0.0.1.
"""

import hashlib
import os
import select
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import harness  # noqa: E402

PASSWORD = "seed-pass-123"


class Proxy:
    """Forwards datagrams between clients and the daemon, recording what
    clients send, grouped by the client's port (one conversation each)."""

    def __init__(self, target_port):
        self.target = ("127.0.0.1", target_port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.upstream = {}   # client addr -> socket to the daemon
        self.convs = {}      # client addr -> [datagrams]
        self.order = []
        self.stop = False
        self.t = threading.Thread(target=self.loop, daemon=True)
        self.t.start()

    def loop(self):
        deadline = time.monotonic() + 600
        while not self.stop and time.monotonic() < deadline:
            socks = [self.sock] + list(self.upstream.values())
            r, _, _ = select.select(socks, [], [], 0.1)
            for s in r:
                data, addr = s.recvfrom(65535)
                if s is self.sock:
                    if addr not in self.upstream:
                        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                        u.bind(("127.0.0.1", 0))
                        self.upstream[addr] = u
                        self.convs[addr] = []
                        self.order.append(addr)
                    self.convs[addr].append(data)
                    self.upstream[addr].sendto(data, self.target)
                else:
                    for caddr, u in self.upstream.items():
                        if u is s:
                            self.sock.sendto(data, caddr)

    def take(self):
        out = [self.convs[a] for a in self.order]
        self.convs = {}
        self.order = []
        return out

    def close(self):
        self.stop = True
        self.t.join()
        for u in self.upstream.values():
            u.close()
        self.sock.close()


def records(header, datagrams):
    out = bytes([header])
    for d in datagrams:
        out += struct.pack("<H", len(d)) + d
    return out


def save(dirname, blob):
    os.makedirs(dirname, exist_ok=True)
    name = hashlib.sha1(blob).hexdigest()[:16]
    with open(os.path.join(dirname, name), "wb") as f:
        f.write(blob)


def capture(build):
    harness.BIN = os.path.join(build, "appliance", "metalbmc")
    wd = harness.workdir("fuzz-seeds")
    cfg = {"ipmi": {"allow_ipmi15": True, "password": PASSWORD},
           "web": {"enabled": False},
           "personas": [{"name": "node1"}]}
    d = harness.Daemon(wd, cfg)
    d.start()
    proxy = Proxy(d.port)
    convs = []

    def show(what, res):
        print("  %-40s rc=%s %s" % (what, res[0], res[1].strip().splitlines()[-1:] if res[1].strip() else ""))
    try:
        p = proxy.port
        for cipher in (3, 17):
            show("ipmitool -C %d power status" % cipher,
                 harness.ipmitool(p, "node1", PASSWORD, "power", "status", cipher=cipher, timeout=30))
            convs += proxy.take()
        show("ipmitool chassis bootdev", harness.ipmitool(p, "node1", PASSWORD, "chassis", "bootdev", "pxe",
                                                         "options=persistent,efiboot", timeout=30))
        convs += proxy.take()
        show("ipmitool wrong password", harness.ipmitool(p, "node1", "wrong-password", "power", "status",
                                                        timeout=30, retries=1))
        convs += proxy.take()
        show("ipmitool -I lan mc info", harness.ipmitool(p, "node1", PASSWORD, "mc", "info",
                                                        interface="lan", timeout=30))
        convs += proxy.take()
        show("ipmipower --stat", harness.freeipmi("ipmipower", p, "node1", PASSWORD, "--stat", timeout=30))
        convs += proxy.take()
        show("bmc-info", harness.freeipmi("bmc-info", p, "node1", PASSWORD, timeout=30))
        convs += proxy.take()
        show("pyghmi get_power", harness.pyghmi(p, "node1", PASSWORD, "print(c.get_power())\n", timeout=60))
        convs += proxy.take()
        harness.asf_ping(p)
        convs += proxy.take()
    finally:
        proxy.close()
        d.stop()
    return [c for c in convs if c]


# (netFn, cmd, data) requests clients send inside a session.
SESSION_REQUESTS = [
    (0x06, 0x01, b""),                    # Get Device ID
    (0x06, 0x3B, b"\x04"),                # Set Session Privilege Level: admin
    (0x06, 0x3D, b"\x00"),                # Get Session Info
    (0x06, 0x3D, b"\xfe\x01"),
    (0x06, 0x3D, b"\xff\x01\x02\x03\x04"),
    (0x06, 0x42, b"\x0e"),                # Get Channel Info
    (0x06, 0x41, b"\x0e\x40"),            # Get Channel Access
    (0x06, 0x44, b"\x01\x02"),            # Get User Access
    (0x06, 0x46, b"\x02"),                # Get User Name
    (0x06, 0x54, b"\x0e\x00\x80"),        # Get Channel Cipher Suites
    (0x06, 0x4E, b"\x01"),                # Get Channel Payload Support
    (0x06, 0x59, b"\x00\x02\x00\x00"),    # Get System Info: system name
    (0x06, 0x37, b""),                    # Get System GUID
    (0x06, 0x08, b""),                    # Get Device GUID
    (0x06, 0x04, b""),                    # Get Self Test Results
    (0x06, 0x07, b""),                    # Get ACPI Power State
    (0x06, 0x25, b""),                    # Get Watchdog Timer
    (0x06, 0x3C, b"\x00\x00\x00\x00\x01"),  # Close Session by handle
    (0x00, 0x00, b""),                    # Get Chassis Capabilities
    (0x00, 0x01, b""),                    # Get Chassis Status
    (0x00, 0x02, b"\x01"),                # Chassis Control: power on
    (0x00, 0x02, b"\x05"),                # soft off
    (0x00, 0x04, b"\x0f\x00"),            # Chassis Identify
    (0x00, 0x06, b"\x02"),                # Set Power Restore Policy
    (0x00, 0x07, b""),                    # Get System Restart Cause
    (0x00, 0x08, b"\x00\x01"),            # Set Boot Options: set in progress
    (0x00, 0x08, b"\x05\xe0\x04\x00\x00\x00"),  # boot flags: PXE, persistent, EFI
    (0x00, 0x08, b"\x04\x01\x01"),        # boot info acknowledge
    (0x00, 0x08, b"\x07\x00" + b"m" * 16),  # boot initiator mailbox
    (0x00, 0x09, b"\x05\x00\x00"),        # Get Boot Options: boot flags
    (0x00, 0x09, b"\x07\x00\x00"),
    (0x00, 0x0F, b""),                    # Get POH Counter
    (0x0A, 0x10, b"\x00"),                # Get FRU Inventory Area Info
    (0x0A, 0x11, b"\x00\x00\x00\x20"),    # Read FRU Data
    (0x0A, 0x11, b"\x00\xf0\x00\x20"),
    (0x0A, 0x20, b""),                    # Get SDR Repository Info
    (0x0A, 0x22, b""),                    # Reserve SDR Repository
    (0x0A, 0x23, b"\x00\x00\x00\x00\x00\xff"),  # Get SDR
    (0x0A, 0x40, b""),                    # Get SEL Info
    (0x0A, 0x42, b""),                    # Reserve SEL
    (0x0A, 0x43, b"\x00\x00\x00\x00\x00\xff"),  # Get SEL Entry
    (0x0A, 0x48, b""),                    # Get SEL Time
    (0x0C, 0x02, b"\x01\x03\x00\x00"),    # Get LAN Config: IP address
    (0x0C, 0x02, b"\x01\x05\x00\x00"),    # MAC address
    (0x0C, 0x02, b"\x01\x18\x00\x00"),
    (0x04, 0x2D, b"\x01"),                # Get Sensor Reading
    (0x2C, 0x00, b"\xdc"),                # DCMI Get Capabilities (group ext)
]


def session_seeds(out):
    def rec(kind, body):
        return struct.pack("<H", 1 + len(body)) + bytes([kind]) + body
    every = b""
    for netfn, cmd, data in SESSION_REQUESTS:
        r = rec(0, bytes([netfn, cmd]) + data)
        every += r
        for hdr in (0x08, 0x0D):   # suite 17 as admin; v1.5 MD5 as admin
            save(out, bytes([hdr]) + r)
    for hdr in range(8):
        save(out, bytes([hdr | 0x08]) + every)
    save(out, bytes([0x00]) + rec(3, bytes([0x00, 0x02, 0x02])))  # a retransmission
    save(out, bytes([0x08]) + rec(2, bytes(40)))


CONFIGS = [
    "ipmi:\n  listen: [\"0.0.0.0:623\", \"[::]:623\"]\n  cipher_suites: [3, 17]\n"
    "  allowed_sources: [10.0.0.0/8, \"2001:db8::/32\"]\n  setup_rate: 10\n  setup_burst: 20\n",
    "metal:\n  token_file: /run/secrets/metal-token\n  project_ids: [0d2b5b1e-1c2a-4e4f-9b9a-0a0b0c0d0e0f]\n"
    "  api_url: https://api.equinix.com/metal/v1\n  poll_interval: 30\n"
    "  ipxe_url: http://boot.example/ipxe\n",
    "personas:\n  - name: node1\n    port: 16230\n    power: off\n  - name: node2\n"
    "    address: 127.0.0.5\n    hostname: web-2\n    device_id: 0b8f1d7a-1111-4222-8333-944455556666\n",
    "web:\n  listen: 127.0.0.1:8623\n  user: admin\n  enabled: true\nlog_level: debug\n"
    "state_dir: /var/lib/metalbmc\n",
    "ipmi:\n  allow_ipmi15: true\n  allow_cipher_zero: yes\n  cipher_suites: 0,1,2,3,6,7,8,11,12,15,16,17\n"
    "  max_sessions: 256\n  max_sessions_per_persona: 16\n  session_timeout: 60\n"
    "  port_range: 16230-26229\n",
    "ipmi: {listen: [\":623\"], user: admin}\nweb: {enabled: false}\n",
    "# anchors and aliases\nbase: &b {max_sessions: 4}\nipmi: *b\n",
]


def metal_api_seeds(out):
    """Answers as metal-sim (and the real API) give them: the demo
    fixture's devices as a page and one by one, and error bodies."""
    import json
    with open(os.path.join(HERE, "..", "metal-sim", "demo-fixture.json")) as f:
        devices = json.load(f)["projects"][0]["devices"]
    for d in devices:
        d["project"] = {"href": "/metal/v1/projects/0d2b5b1e-1c2a-4e4f-9b9a-0a0b0c0d0e0f"}
        d["ipxe_script_url"] = "http://boot.example/ipxe"
        save(out, b"\x01" + json.dumps(d).encode())
    page = {"devices": devices, "meta": {"current_page": 1, "last_page": 2, "total": 5,
                                         "next": {"href": "/projects/x/devices?page=2"}}}
    save(out, b"\x00" + json.dumps(page).encode())
    save(out, b"\x00" + json.dumps({"devices": [], "meta": {"total": 0}}).encode())
    save(out, b"\x02" + json.dumps({"errors": ["Device not found"]}).encode())
    save(out, b"\x02" + json.dumps({"error": "rate limited"}).encode())


TAGS = [
    ["ipmi=enabled"],
    ["ipmi=enabled", "ipmi.port=auto", "role=web"],
    ["ipmi=enabled", "ipmi.port=16231", "ipmi.user=web-1", "ipmi.backend=metal"],
    ["ipmi=enabled", "ipmi.address=127.0.0.5", "ipmi.allow=10.0.0.0/8,192.0.2.1"],
    ["ipmi=enabled", "ipmi=disabled", "ipmi.address=::1", "ipmi.port=70000", "ipmi.user="],
]


def web_seeds(out):
    """HTTP requests to every route, with the fuzz harness's credentials."""
    import base64
    auth = "Authorization: Basic %s\r\n" % base64.b64encode(b"admin:fuzz-web-password").decode()
    gets = ["/healthz", "/", "/?q=node&state=on", "/static/page.js", "/static/page.css",
            "/personas/node1", "/personas/nope", "/api/v1/personas", "/api/v1/personas/node1",
            "/api/v1/events?since=0", "/metrics", "/%2e%2e/etc/passwd"]
    for g in gets:
        save(out, ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n" % (g, auth)).encode())
    for path in ("/personas/node1/disable", "/personas/node1/enable", "/personas/node1/reveal",
                 "/admin/poll"):
        body = "csrf=0123456789abcdef0123456789abcdef"
        save(out, ("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%sContent-Type: application/"
                   "x-www-form-urlencoded\r\nContent-Length: %d\r\nOrigin: http://127.0.0.1"
                   "\r\n\r\n%s" % (path, auth, len(body), body)).encode())
    save(out, b"GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Basic YWRtaW46d3Jvbmc=\r\n\r\n")
    save(out, b"GET / HTTP/1.0\r\n\r\n")
    save(out, ("POST /admin/poll HTTP/1.1\r\nHost: x\r\n%sTransfer-Encoding: chunked\r\n\r\n"
               "5\r\nhello\r\n0\r\n\r\n" % auth).encode())


def main():
    args = sys.argv[1:]
    build = None
    if args[:1] == ["--capture"]:
        build = args[1]
        args = args[2:]
    targets = args or ["datagram", "session", "config", "metal_api", "tags", "web"]
    corpus = os.path.join(HERE, "corpus")
    for t in targets:
        if t == "datagram" and not build:
            continue
        shutil.rmtree(os.path.join(corpus, t), ignore_errors=True)
    if "datagram" in targets and build:
        dg = os.path.join(corpus, "datagram")
        seen = set()
        for conv in capture(build):
            save(dg, records(0x09, conv))
            for d in conv:
                if d not in seen:
                    seen.add(d)
                    save(dg, records(0x01, [d]))
    if "session" in targets:
        session_seeds(os.path.join(corpus, "session"))
    if "config" in targets:
        for c in CONFIGS:
            save(os.path.join(corpus, "config"), c.encode())
    if "metal_api" in targets:
        metal_api_seeds(os.path.join(corpus, "metal_api"))
    if "web" in targets:
        web_seeds(os.path.join(corpus, "web"))
    if "tags" in targets:
        for t in TAGS:
            save(os.path.join(corpus, "tags"), b"\0".join(x.encode() for x in t))
    for t in targets:
        d = os.path.join(corpus, t)
        if os.path.isdir(d):
            print("%s: %d seeds" % (t, len(os.listdir(d))))


if __name__ == "__main__":
    main()
