#!/usr/bin/python3
"""Cross-check the cipher vectors against real IPMI client code.

1. pyghmi (Debian python3-pyghmi): drives pyghmi's own Session methods
   (_got_rakp2, _send_rakp3, _got_rakp4, send_payload, _handle_ipmi2_packet)
   on a Session object with its socket layer stubbed out, feeding it the
   RAKP 2 code and RAKP 4 ICV from gen_cipher_vectors.py and checking that
   pyghmi accepts them and derives the same SIK/K1/K2 and RAKP 3 code. It
   then has pyghmi build a signed, encrypted request (suites 3 and 17) and
   accept a signed, encrypted response; both packets are printed as a C
   block for tests/unit/test_cipher.c, which verifies and decrypts the
   pyghmi-built request and rebuilds the response byte for byte.

2. FreeIPMI (libfreeipmi.so.17 through ctypes): its own SIK, K1, K2 and
   RAKP 3 code for all three authentication algorithms, its check of every
   integrity AuthCode vector (MD5-128 included, which neither ipmitool nor
   pyghmi implements), and its check of the IPMI v1.5 MD5 AuthCode.

    crosscheck_clients.py              run the checks, print the C block
    crosscheck_clients.py --check F    also require F to contain the block

Exits non-zero on any disagreement.
"""
import ctypes
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_cipher_vectors as g  # noqa: E402

BEGIN = "/* BEGIN PYGHMI by tests/unit/vectors/crosscheck_clients.py: do not edit */"
END = "/* END PYGHMI */"
failures = []


def check(what, ok):
    print("%-60s %s" % (what, "ok" if ok else "MISMATCH"), file=sys.stderr)
    if not ok:
        failures.append(what)


# ------------------------------------------------------------------ pyghmi
def pyghmi_session(alg):
    import hashlib
    from pyghmi.ipmi.private import session as S

    s = object.__new__(S.Session)  # no __new__/__init__: they open sockets
    s.maxtimeout = 3
    s._initsession()
    s.password = g.PASSWORD
    s.kg = g.PASSWORD            # pyghmi's default when no Kg is given
    s.userid = g.USER
    s.nameonly = 16
    s.privlevel = 4              # role byte 0x14
    s.autopriv = False
    s.logontries = 0
    s.localsid = g.SIDM
    s.pendingsessionid = g.SIDC
    s.randombytes = g.RM
    s.rmcptag = 7
    s.pendingpayloads = __import__("collections").deque()
    s.logonwaiters = []
    s.errors = []
    s.sent = []
    s.onlogon = lambda arg: s.errors.append(arg)
    s._xmit_packet = lambda *a, **k: s.sent.append(bytes(s.netpacket))
    s._req_priv_level = lambda: None
    if alg == "SHA1":
        s.attemptedhash, s.currhashlib, s.currhashlen = 1, hashlib.sha1, 12
    else:
        s.attemptedhash, s.currhashlib, s.currhashlen = 256, hashlib.sha256, 16
    return s, S


def pyghmi_checks(alg, suite):
    s, S = pyghmi_session(alg)
    sik, k1, k2 = g.keys(alg, g.PASSWORD, g.USER)

    # RAKP 2 as the BMC sends it (13.21): tag, status, reserved, SIDm, Rc, GUIDc, code
    captured = []
    real_send_rakp3 = s._send_rakp3
    s._send_rakp3 = lambda: captured.append(True)
    s.sessioncontext = "EXPECTINGRAKP2"
    rakp2 = (bytes([s.rmcptag, 0, 0, 0]) + g.le32(g.SIDM) + g.RC + g.GUID
             + g.rakp2(alg, g.PASSWORD, g.USER))
    s._got_rakp2(bytearray(rakp2))
    check("pyghmi %s accepts our RAKP 2 code" % alg,
          not s.errors and s.sessioncontext == "EXPECTINGRAKP4" and captured)
    check("pyghmi %s SIK" % alg, s.sik == sik)
    check("pyghmi %s K1" % alg, s.k1 == k1)
    check("pyghmi %s K2" % alg, s.k2 == k2)

    payloads = []
    s._send_rakp3 = real_send_rakp3
    s.send_payload = lambda payload=(), payload_type=None, **kw: payloads.append(bytes(payload))
    s._send_rakp3()
    check("pyghmi %s RAKP 3 code" % alg,
          payloads and payloads[0][8:] == g.rakp3(alg, g.PASSWORD, g.USER))
    del s.send_payload  # back to the class method

    rakp4 = bytes([s.rmcptag, 0, 0, 0]) + g.le32(g.SIDM) + g.rakp4(alg, sik)
    s._got_rakp4(bytearray(rakp4))
    check("pyghmi %s accepts our RAKP 4 ICV" % alg,
          not s.errors and s.sessioncontext == "ESTABLISHED")

    # A request pyghmi signs and encrypts (suite 3 / 17), with a fixed IV.
    s.authtype = 6
    s.ipmiversion = 2.0
    real_urandom = S.os.urandom
    S.os.urandom = lambda n: g.IV if n == 16 else real_urandom(n)
    try:
        s.send_payload(payload=bytearray(g.GET_DEVICE_ID), payload_type=0, retry=False)
    finally:
        S.os.urandom = real_urandom
    request = s.sent[-1]
    # The response a BMC running our code sends back: console's session ID,
    # payload 0x60..0x73, IV b0..bf; built here with hmac + openssl.
    resp_iv = bytes(range(0xB0, 0xC0))
    body = resp_iv + g.aes_cbc(k2[:16], resp_iv, g.aes_pad(g.PAYLOAD20))
    msg = (bytes([0x06, 0xC0]) + g.le32(g.SIDM) + g.le32(1)
           + struct.pack("<H", len(body)) + body)
    pad = (4 - (len(msg) + 2) % 4) % 4
    msg += b"\xff" * pad + bytes([pad, 0x07])
    code = g.mac(alg, k1, msg)[:s.currhashlen]
    response = bytes([0x06, 0x00, 0xFF, 0x07]) + msg + code
    got = []
    s._parse_ipmi_payload = lambda payload: got.append(bytes(payload))
    s._handle_ipmi2_packet(bytearray(response))
    check("pyghmi %s accepts our signed+encrypted response" % alg,
          got == [g.PAYLOAD20])
    n = s.currhashlen
    return [
        "/* Suite %d (%s): a Get Device ID request as pyghmi's send_payload builds it" % (suite, alg),
        " * (IV a0..af), and a response pyghmi's _handle_ipmi2_packet accepted. Both",
        " * are whole RMCP packets: 4-byte RMCP header, then AuthType..Next Header,",
        " * then the %d-byte AuthCode. */" % n,
        g.c_array("P_%s_REQUEST" % alg, request),
        g.c_array("P_%s_RESPONSE" % alg, response),
    ]


# ------------------------------------------------------------------ FreeIPMI
def freeipmi_checks():
    try:
        lib = ctypes.CDLL("libfreeipmi.so.17")
    except OSError as e:
        print("FreeIPMI not available (%s): skipped" % e, file=sys.stderr)
        return
    if lib.ipmi_rmcpplus_init() != 0:  # initialises FreeIPMI's libgcrypt use
        check("FreeIPMI ipmi_rmcpplus_init", False)
        return
    u8, ui, vp = ctypes.c_uint8, ctypes.c_uint, ctypes.c_void_p
    lib.ipmi_calculate_sik.argtypes = [u8, vp, ui, vp, ui, vp, ui, u8, u8, ctypes.c_char_p, ui, vp, ui]
    lib.ipmi_calculate_k1.argtypes = [u8, vp, ui, vp, ui]
    lib.ipmi_calculate_k2.argtypes = [u8, vp, ui, vp, ui]
    lib.ipmi_calculate_rakp_3_key_exchange_authentication_code.argtypes = [
        u8, vp, ui, vp, ui, ctypes.c_uint32, u8, u8, ctypes.c_char_p, ui, vp, ui]
    lib.ipmi_rmcpplus_check_packet_session_authentication_code.argtypes = [
        u8, vp, ui, vp, ui, vp, ui, vp]
    lib.ipmi_lan_check_packet_session_authentication_code.argtypes = [vp, ui, u8, vp, ui]
    lib.fiid_obj_create.restype = vp
    lib.fiid_obj_create.argtypes = [vp]
    lib.fiid_obj_set_data.argtypes = [vp, ctypes.c_char_p, vp, ui]
    lib.fiid_obj_destroy.argtypes = [vp]

    def buf(b):
        return ctypes.create_string_buffer(bytes(b), len(b))

    for num, alg in ((1, "SHA1"), (2, "MD5"), (3, "SHA256")):
        sik, k1, k2 = g.keys(alg, g.PASSWORD, g.USER)
        out = ctypes.create_string_buffer(64)
        n = lib.ipmi_calculate_sik(num, buf(g.PASSWORD), len(g.PASSWORD), buf(g.RM), 16,
                                   buf(g.RC), 16, 1, 4, g.USER, len(g.USER), out, 64)
        check("FreeIPMI %s SIK" % alg, n == len(sik) and out.raw[:n] == sik)
        n = lib.ipmi_calculate_k1(num, buf(sik), len(sik), out, 64)
        check("FreeIPMI %s K1" % alg, n == len(k1) and out.raw[:n] == k1)
        n = lib.ipmi_calculate_k2(num, buf(sik), len(sik), out, 64)
        check("FreeIPMI %s K2" % alg, n == len(k2) and out.raw[:n] == k2)
        n = lib.ipmi_calculate_rakp_3_key_exchange_authentication_code(
            num, buf(g.PASSWORD), len(g.PASSWORD), buf(g.RC), 16, g.SIDM, 1, 4,
            g.USER, len(g.USER), out, 64)
        want = g.rakp3(alg, g.PASSWORD, g.USER)
        check("FreeIPMI %s RAKP 3 code" % alg, n == len(want) and out.raw[:n] == want)

    tmpl = ctypes.addressof(ctypes.c_char.in_dll(lib, "tmpl_rmcpplus_session_trlr"))
    cases = (
        (1, "HMAC-SHA1-96", g.keys("SHA1", g.PASSWORD, g.USER)[1], 12),
        (2, "HMAC-MD5-128", g.keys("MD5", g.PASSWORD, g.USER)[1], 16),
        (3, "MD5-128", b"", 16),
        (4, "HMAC-SHA256-128", g.keys("SHA256", g.PASSWORD, g.USER)[1], 16),
    )
    for num, name, k1, n in cases:
        if num == 3:
            code = g.hashlib.md5(g.pad20(g.PASSWORD) + g.SESSION_HDR + g.pad20(g.PASSWORD)).digest()
        else:
            code = g.mac({1: "SHA1", 2: "MD5", 4: "SHA256"}[num], k1, g.SESSION_HDR)[:n]
        for tamper in (False, True):
            c = bytearray(code)
            if tamper:
                c[0] ^= 1
            pkt = bytes([0x06, 0x00, 0xFF, 0x07]) + g.SESSION_HDR + bytes(c)
            obj = lib.fiid_obj_create(tmpl)
            lib.fiid_obj_set_data(obj, b"authentication_code", buf(c), len(c))
            rv = lib.ipmi_rmcpplus_check_packet_session_authentication_code(
                num, buf(pkt), len(pkt), buf(k1) if k1 else None, len(k1),
                buf(g.PASSWORD), len(g.PASSWORD), obj)
            lib.fiid_obj_destroy(obj)
            check("FreeIPMI %s %s AuthCode" % ("rejects tampered" if tamper else "accepts", name),
                  rv == (0 if tamper else 1))

    # The MD5-128 password pad is 20 bytes: a 16-byte pad must be refused.
    code = g.hashlib.md5(g.pad20(g.PASSWORD)[:16] + g.SESSION_HDR + g.pad20(g.PASSWORD)[:16]).digest()
    pkt = bytes([0x06, 0x00, 0xFF, 0x07]) + g.SESSION_HDR + code
    obj = lib.fiid_obj_create(tmpl)
    lib.fiid_obj_set_data(obj, b"authentication_code", buf(code), len(code))
    rv = lib.ipmi_rmcpplus_check_packet_session_authentication_code(
        3, buf(pkt), len(pkt), None, 0, buf(g.PASSWORD), len(g.PASSWORD), obj)
    lib.fiid_obj_destroy(obj)
    check("FreeIPMI rejects MD5-128 with a 16-byte password pad", rv == 0)

    # IPMI v1.5 LAN packet: RMCP header, AuthType 2, seq, session ID, AuthCode,
    # message length, message (FreeIPMI tmpl_lan_session_hdr order).
    code = g.v15_md5(g.V15_PW, g.V15_SID, g.GET_DEVICE_ID, g.V15_SEQ)
    pkt = (bytes([0x06, 0x00, 0xFF, 0x07, 0x02]) + g.le32(g.V15_SEQ) + g.le32(g.V15_SID)
           + code + bytes([len(g.GET_DEVICE_ID)]) + g.GET_DEVICE_ID)
    rv = lib.ipmi_lan_check_packet_session_authentication_code(
        buf(pkt), len(pkt), 2, buf(g.PASSWORD), len(g.PASSWORD))
    check("FreeIPMI accepts the v1.5 MD5 AuthCode", rv == 1)


def main():
    out = [BEGIN]
    out += pyghmi_checks("SHA1", 3)
    out += pyghmi_checks("SHA256", 17)
    out.append(END)
    freeipmi_checks()
    text = "\n".join(out) + "\n"
    if failures:
        print("%d mismatches" % len(failures), file=sys.stderr)
        return 1
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        src = open(sys.argv[2]).read()
        a, b = src.find(BEGIN), src.find(END)
        if a < 0 or b < 0 or src[a:b + len(END) + 1] != text:
            print("pyghmi block differs from %s" % sys.argv[2], file=sys.stderr)
            return 1
        print("pyghmi block in %s matches" % sys.argv[2], file=sys.stderr)
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
