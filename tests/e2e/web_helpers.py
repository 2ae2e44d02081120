"""Helpers for the web page tests: plain HTTP(S) requests that keep every
header, the derived-password formula (to check the reveal), and the scan
that no secret left the appliance in a response."""

import base64
import hashlib
import hmac
import http.client
import re
import ssl

PW_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def derived_password(master, device_id):
    """appliance/secret.c secret_device_password, for the reveal check."""
    out, counter, mac, used = "", 0, b"", 0
    while len(out) < 20:
        if used == len(mac):
            mac = hmac.new(master.encode(), b"metalbmc-ipmi-v1" + device_id.encode() +
                           bytes([counter]), hashlib.sha256).digest()
            counter += 1
            used = 0
        b = mac[used]
        used += 1
        if b < 248:
            out += PW_ALPHABET[b % 62]
    return out


def basic(user, password):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers          # list of (name, value)
        self.body = body                # bytes

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def raw(self):
        """Everything the client got, for secret scans."""
        return ("%d\n" % self.status + "".join("%s: %s\n" % kv for kv in self.headers)
                + "\n" + self.text)


class Web:
    """Requests to one appliance's web server; auth is (user, password) or None."""

    def __init__(self, port, auth=None, tls=False, cafile=None, host="127.0.0.1"):
        self.port = port
        self.auth = auth
        self.tls = tls
        self.host = host
        self.ctx = None
        if tls:
            self.ctx = ssl.create_default_context(cafile=cafile)
            self.ctx.check_hostname = False
        self.seen = []                  # every Response, for the secret scan

    def request(self, method, path, body=None, headers=None, auth="default", timeout=15):
        if self.tls:
            c = http.client.HTTPSConnection(self.host, self.port, timeout=timeout, context=self.ctx)
        else:
            c = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        h = dict(headers or {})
        a = self.auth if auth == "default" else auth
        if a:
            h["Authorization"] = basic(*a)
        if isinstance(body, str):
            body = body.encode()
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        resp = Response(r.status, r.getheaders(), r.read())
        c.close()
        self.seen.append(resp)
        return resp

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post_form(self, path, fields, **kw):
        from urllib.parse import urlencode
        h = {"Content-Type": "application/x-www-form-urlencoded"}
        h.update(kw.pop("headers", {}) or {})
        return self.request("POST", path, body=urlencode(fields), headers=h, **kw)


def csrf_token(html):
    m = re.search(r'name="csrf" value="([0-9a-f]{16}\.[0-9a-f]{64})"', html)
    return m.group(1) if m else None


SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
                               "base-uri 'none'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def check_security_headers(checks, resp, what):
    for name, want in SECURITY_HEADERS.items():
        checks.eq(resp.header(name), want, "%s: %s" % (what, name))


def scan_responses(checks, responses, secrets, allowed=()):
    """No secret in any response, except the given (response, secret) pairs."""
    for i, r in enumerate(responses):
        raw = r.raw()
        for name, s in secrets.items():
            if not s or (id(r), name) in allowed:
                continue
            checks.ok(s not in raw, "secret %s absent from response %d (status %d)" %
                      (name, i, r.status),
                      "a secret of length %d appears in a response" % len(s))
