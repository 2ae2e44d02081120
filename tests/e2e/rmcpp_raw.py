"""A small raw RMCP+ console for the abuse tests (standard library only).

It can bind to any loopback source address (127.x.y.z), which ipmitool,
FreeIPMI and pyghmi cannot, and it can send exactly the malformed or
hostile datagrams a test wants. It implements the RMCP+ session setup
(IPMI v2.0 sections 13.17-13.20) with RAKP-HMAC-SHA1 and -SHA256, and
requests inside a session for suites without confidentiality (AES is not
in the standard library): suite 1 (no integrity) and suite 2
(HMAC-SHA1-96). Suite 3 and 17 sessions are taken as far as RAKP 4, which
is the whole login.
"""

import hashlib
import hmac
import os
import socket
import struct

RMCP = bytes([0x06, 0x00, 0xFF, 0x07])
SUITES = {  # id: (auth, integrity, confidentiality)
    0: (0, 0, 0), 1: (1, 0, 0), 2: (1, 1, 0), 3: (1, 1, 1),
    17: (3, 4, 1),
}
ASF_PING = bytes([0x06, 0x00, 0xFF, 0x06, 0x00, 0x00, 0x11, 0xBE, 0x80, 0x42, 0x00, 0x00])


def checksum(b):
    return (-sum(b)) & 0xFF


def ipmi_msg(netfn, cmd, data=b"", rq_seq=1):
    hdr = bytes([0x20, netfn << 2])
    body = bytes([0x81, (rq_seq & 0x3F) << 2, cmd]) + bytes(data)
    return hdr + bytes([checksum(hdr)]) + body + bytes([checksum(body)])


def v15_sessionless(msg):
    return RMCP + bytes([0x00]) + struct.pack("<II", 0, 0) + bytes([len(msg)]) + msg


def rmcpp_sessionless(ptype, payload):
    return RMCP + bytes([0x06, ptype]) + struct.pack("<IIH", 0, 0, len(payload)) + payload


class Refused(Exception):
    def __init__(self, step, status):
        Exception.__init__(self, "%s: status 0x%02x" % (step, status))
        self.step = step
        self.status = status


class Client:
    def __init__(self, port, host="127.0.0.1", source="127.0.0.1", timeout=1.0):
        self.dest = (host, port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((source, 0))
        self.sock.settimeout(timeout)
        self.tag = 0
        self.console_sid = struct.unpack("<I", os.urandom(4))[0] | 1
        self.seq = 1
        self.rq_seq = 1

    def close(self):
        self.sock.close()

    def send(self, data):
        self.sock.sendto(data, self.dest)

    def recv(self):
        try:
            data, _ = self.sock.recvfrom(4096)
            return data
        except (socket.timeout, ConnectionRefusedError):
            return None

    def exchange(self, data):
        self.send(data)
        return self.recv()

    def drain(self):
        """Reads whatever replies are queued, without waiting."""
        n = 0
        self.sock.setblocking(False)
        try:
            while True:
                self.sock.recvfrom(4096)
                n += 1
        except (BlockingIOError, ConnectionRefusedError):
            pass
        finally:
            self.sock.setblocking(True)
        return n

    # ---- session-less ---------------------------------------------------

    def channel_auth_caps(self):
        return self.exchange(v15_sessionless(ipmi_msg(0x06, 0x38, b"\x8e\x04")))

    def open_request(self, suite, max_priv=4):
        auth, integ, conf = SUITES[suite]
        self.tag = (self.tag + 1) & 0xFF
        p = bytes([self.tag, max_priv, 0, 0]) + struct.pack("<I", self.console_sid)
        for typ, alg in ((0, auth), (1, integ), (2, conf)):
            p += bytes([typ, 0, 0, 8, alg, 0, 0, 0])
        return rmcpp_sessionless(0x10, p)

    @staticmethod
    def payload(reply, want_type):
        if not reply or len(reply) < 16 or reply[4] != 0x06 or reply[5] & 0x3F != want_type:
            return None
        (plen,) = struct.unpack("<H", reply[14:16])
        return reply[16:16 + plen]

    def login(self, user, password, suite=2, role=4, max_priv=4, rakp3_status=0,
              wrong_code=False, stop_after_rakp2=False):
        """Open Session, RAKP 1-4. Raises Refused with the failing step, or
        returns self with the session keys set. stop_after_rakp2 leaves the
        handshake hanging after RAKP 2 (what a hash harvester does) and
        returns the RAKP 2 code."""
        self.suite = suite
        self.auth, self.integ, self.conf = SUITES[suite]
        r = self.exchange(self.open_request(suite, max_priv))
        p = self.payload(r, 0x11)
        if p is None:
            raise Refused("open session (no answer)", -1)
        if p[1] != 0:
            raise Refused("open session", p[1])
        (self.bmc_sid,) = struct.unpack("<I", p[8:12])
        user = user.encode() if isinstance(user, str) else user
        pw = (password.encode() if isinstance(password, str) else password)[:20].ljust(20, b"\0")
        rm = os.urandom(16)
        self.tag = (self.tag + 1) & 0xFF
        rakp1 = bytes([self.tag, 0, 0, 0]) + struct.pack("<I", self.bmc_sid) + rm + \
            bytes([role, 0, 0, len(user)]) + user
        p = self.payload(self.exchange(rmcpp_sessionless(0x12, rakp1)), 0x13)
        if p is None:
            raise Refused("RAKP 2 (no answer)", -1)
        if p[1] != 0:
            raise Refused("RAKP 2", p[1])
        rc, guid, code2 = p[8:24], p[24:40], p[40:]
        if stop_after_rakp2:
            return code2
        h = hashlib.sha256 if self.auth == 3 else hashlib.sha1
        sids = struct.pack("<II", self.console_sid, self.bmc_sid)
        want2 = hmac.new(pw, sids + rm + rc + guid + bytes([role, len(user)]) + user, h).digest()
        ours = not wrong_code and hmac.compare_digest(want2, code2)
        code3 = hmac.new(pw, rc + struct.pack("<I", self.console_sid) +
                         bytes([role, len(user)]) + user, h).digest()
        if not ours:
            code3 = os.urandom(len(code3))
        self.tag = (self.tag + 1) & 0xFF
        rakp3 = bytes([self.tag, rakp3_status, 0, 0]) + struct.pack("<I", self.bmc_sid) + \
            (code3 if rakp3_status == 0 else b"")
        r = self.exchange(rmcpp_sessionless(0x14, rakp3))
        p = self.payload(r, 0x15)
        if rakp3_status != 0:
            raise Refused("RAKP 3 aborted by us", rakp3_status)
        if p is None:
            raise Refused("RAKP 4 (no answer)", -1)
        if p[1] != 0:
            raise Refused("RAKP 4", p[1])
        if not ours:
            raise AssertionError("a wrong password was accepted")
        self.sik = hmac.new(pw, rm + rc + bytes([role, len(user)]) + user, h).digest()
        self.k1 = hmac.new(self.sik, b"\x01" * 20, h).digest()
        self.seq = 1
        return self

    # ---- inside a session (suites 1 and 2) ---------------------------------

    def wrap(self, msg, seq=None):
        if self.conf:
            raise ValueError("confidentiality needs AES: use suite 1 or 2 for requests")
        seq = self.seq if seq is None else seq
        ptype = 0x40 if self.integ else 0x00
        hdr = bytes([0x06, ptype]) + struct.pack("<IIH", self.bmc_sid, seq, len(msg)) + msg
        if self.integ:
            pad = (4 - (len(hdr) + 2) % 4) % 4
            hdr += b"\xff" * pad + bytes([pad, 0x07])
            hdr += hmac.new(self.k1, hdr, hashlib.sha1).digest()[:12]
        return RMCP + hdr

    def request(self, netfn, cmd, data=b""):
        """Returns (cc, data) or None when nothing (valid) came back."""
        msg = ipmi_msg(netfn, cmd, data, self.rq_seq)
        self.rq_seq = (self.rq_seq + 1) & 0x3F
        pkt = self.wrap(msg)
        self.seq += 1
        r = self.exchange(pkt)
        if not r or len(r) < 16 or r[4] != 0x06:
            return None
        (plen,) = struct.unpack("<H", r[14:16])
        if self.integ:
            code = r[-12:]
            if not hmac.compare_digest(hmac.new(self.k1, r[4:-12], hashlib.sha1).digest()[:12], code):
                return None
        m = r[16:16 + plen]
        if len(m) < 8:
            return None
        return m[6], m[7:-1]
