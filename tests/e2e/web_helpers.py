"""Helpers for the web page tests: plain HTTP(S) requests that keep every
header, the derived-password formula (to check the reveal), and the scan
that no secret left the appliance in a response."""

import base64
import hashlib
import hmac
import http.client
import re
import socket
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
    def __init__(self, status, headers, body, method=None, path=None, authed=False,
                 raw_socket=False, by_mhd=False):
        self.status = status
        self.headers = headers          # list of (name, value)
        self.body = body                # bytes
        self.method = method            # what was asked, for the checks over
        self.path = path                # every response (check_every_response)
        self.authed = authed            # sent with the right credentials
        self.raw_socket = raw_socket    # bytes written by hand (Web.raw)
        self.by_mhd = by_mhd            # answered by libmicrohttpd itself

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

    def request(self, method, path, body=None, headers=None, auth="default", timeout=15,
                by_mhd=False):
        """One request on a fresh connection. by_mhd marks a request whose
        answer libmicrohttpd writes itself (check_every_response skips it:
        it carries none of the appliance's headers)."""
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
        resp = Response(r.status, r.getheaders(), r.read(), method=method, path=path,
                        authed=bool(a) and tuple(a) == tuple(self.auth or ()), by_mhd=by_mhd)
        c.close()
        self.seen.append(resp)
        return resp

    def raw(self, data, timeout=10):
        """Writes data (bytes, a whole request or a part of one) on a fresh
        connection and reads the one answer: the status line, headers and
        as much body as Content-Length says (or until the server closes).
        The answer is recorded with the others, so the secret scan sees it.
        Plain HTTP only."""
        assert not self.tls, "Web.raw speaks plain HTTP"
        got = b""
        with socket.create_connection((self.host, self.port), timeout=timeout) as s:
            s.sendall(data)
            try:
                while True:
                    head, sep, body = got.partition(b"\r\n\r\n")
                    m = re.search(rb"\r\ncontent-length:\s*(\d+)", head, re.I)
                    if sep and m and len(body) >= int(m.group(1)):
                        break
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    got += chunk
            except (ConnectionResetError, socket.timeout):
                pass
        return self.record_raw(got, data)

    def record_raw(self, answer, request=b""):
        """Records an answer read from a raw socket (status line, headers,
        body as sent: a chunked body stays chunked) and returns it as a
        Response; status 0 when nothing parsable came back."""
        head, _, body = answer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        headers = [tuple(x.strip() for x in l.split(":", 1)) for l in lines[1:] if ":" in l]
        req_line = request.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
        resp = Response(status, headers, body,
                        method=req_line[0] if req_line else None,
                        path=req_line[1] if len(req_line) > 1 else None,
                        authed=b"\r\nauthorization:" in request.lower(), raw_socket=True)
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


def check_every_response(checks, responses, tls=False):
    """The security headers and no caching on every answer the appliance
    built (docs/web.md, "Headers on every answer"): Cache-Control no-store,
    no-cache for /static/*, and HSTS over TLS. Answers libmicrohttpd
    writes itself (to broken HTTP read over raw sockets, or a request a
    test marked by_mhd, such as headers over its memory) carry none of our
    headers and are left out; everything else is checked, the refusals
    too. Returns how many were checked, so a test can assert it saw the
    kinds of answer it meant to."""
    checked = 0
    for i, r in enumerate(responses):
        if r.raw_socket or r.by_mhd or r.status == 0:
            continue
        what = "response %d (%s %s, %d)" % (i, r.method, r.path, r.status)
        check_security_headers(checks, r, what)
        static = (r.path or "").startswith("/static/")
        checks.eq(r.header("Cache-Control"), "no-cache" if static else "no-store",
                  "%s: Cache-Control" % what)
        if not static:
            checks.eq(r.header("Pragma"), "no-cache", "%s: Pragma" % what)
        if tls:
            checks.eq(r.header("Strict-Transport-Security"), "max-age=31536000",
                      "%s: HSTS" % what)
        checked += 1
    return checked


def check_authenticated_kinds(checks, responses, kinds):
    """That responses hold each kind of authenticated answer in kinds:
    (method, path, status); a path ending in "/" (other than "/" itself)
    matches every path under it, any other path matches exactly (with or
    without a query)."""
    def matches(pattern, path):
        path = path or ""
        if pattern != "/" and pattern.endswith("/"):
            return path.startswith(pattern)
        return path.split("?", 1)[0] == pattern
    for method, pattern, status in kinds:
        checks.ok(any(r.authed and not r.raw_socket and r.method == method and
                      matches(pattern, r.path) and r.status == status for r in responses),
                  "an authenticated %s %s answered %d is among the answers checked" %
                  (method, pattern, status))


def _found_secrets(text, secrets):
    """Names of the secrets that occur in text. Letters-and-digits secrets
    (derived IPMI passwords: a fleet has hundreds) are looked up by their
    windows inside the text's letter-and-digit runs, which is exact (such a
    secret can only occur inside one run) and fast; any other secret by a
    plain search."""
    found = set()
    by_len = {}
    for name, s in secrets.items():
        if not s:
            continue
        if s.isascii() and s.isalnum():
            by_len.setdefault(len(s), {})[s] = name
        elif s in text:
            found.add(name)
    if by_len:
        shortest = min(by_len)
        for m in re.finditer(r"[A-Za-z0-9]{%d,}" % shortest, text):
            run = m.group(0)
            for n, table in by_len.items():
                for i in range(len(run) - n + 1):
                    name = table.get(run[i:i + n])
                    if name:
                        found.add(name)
    return found


def scan_responses(checks, responses, secrets, allowed=()):
    """No secret in any response, except the given (response, secret) pairs."""
    checks.ok(len(responses) > 0, "there are responses to scan for secrets")
    for i, r in enumerate(responses):
        found = _found_secrets(r.raw(), secrets)
        for name, s in secrets.items():
            if not s or (id(r), name) in allowed:
                continue
            checks.ok(name not in found, "secret %s absent from response %d (status %d)" %
                      (name, i, r.status),
                      "a secret of length %d appears in a response" % len(s))


# Every column of every row of the personas table, as the browser renders
# it (evaluate in a page): the same for the server's HTML and for the rows
# page.js rebuilds, so expected_row() describes both.
ROW_STATE = """(() => {
  const out = {};
  const text = e => e ? e.textContent.trim() : null;
  const own = e => Array.from(e.childNodes).filter(n => n.nodeType === 3)
                        .map(n => n.textContent).join('').trim();
  const badge = e => { const b = e && e.querySelector('.badge');
                       return b ? [b.textContent, b.className] : null; };
  for (const tr of document.querySelectorAll('#personas tbody tr[data-id]')) {
    const cell = c => tr.querySelector('td[data-col="' + c + '"]');
    const host = cell('host'), loc = cell('location'), reach = cell('reach'),
          last = cell('last');
    out[tr.dataset.id] = {
      host: text(host.querySelector('a')),
      href: host.querySelector('a').getAttribute('href'),
      short_id: text(host.querySelector('.sub')),
      disabled: badge(host),
      device: text(cell('device')),
      metro: own(loc),
      facility: text(loc.querySelector('.sub')),
      state: badge(cell('state')),
      power: text(cell('power')),
      power_badge: badge(cell('power')),
      reach: text(reach.querySelector('code')),
      reach_user: text(reach.querySelector('.sub code')),
      reach_sub: text(reach.querySelector('.sub')),
      backend: text(cell('backend')),
      boot: text(cell('boot')),
      sessions: text(cell('sessions')),
      last: text(last),
      last_what: own(last),
      last_sub: text(last.querySelector('.sub')),
      last_badge: badge(last),
      hidden: tr.hidden,
    };
  }
  return out;
})()"""


def expected_row(p):
    """What ROW_STATE must read for persona p as /api/v1/personas gives it
    (every column docs/web.md lists; 'hidden' is the filter's, left out)."""
    r, la = p["reach"], p["last_action"]
    addr = "[%s]" % r["host"] if ":" in r["host"] else r["host"]
    reach_sub = "user " + r["user"]
    if r["kind"] != "shared":
        reach_sub += " · " + ("own port" if r["kind"] == "own_port" else "own address")
    power = "changing" if p["power_transition"] else p["power"]
    row = {
        "host": p["hostname"] or p["id"], "href": p["url"], "short_id": p["short_id"],
        "disabled": None if p["enabled"] else ["disabled", "badge off"],
        "device": p["id"], "metro": p["metro"] or "-", "facility": p["facility"],
        "state": [p["metal_state"] or "unknown", "badge " + p["state_class"]],
        "power": power, "power_badge": [power, "badge " + p["power_class"]],
        "reach": "%s:%d" % (addr, r["port"]), "reach_user": r["user"], "reach_sub": reach_sub,
        "backend": p["backend"], "boot": p["boot"]["label"], "sessions": str(p["sessions"]),
    }
    if la:
        sub = la["display_time"] + " " + la["result"]
        row.update(last=la["what"] + sub, last_what=la["what"], last_sub=sub,
                   last_badge=[la["result"], "badge " + ("bad" if la["cc"] else "ok")])
    else:
        row.update(last="none yet", last_what="", last_sub="none yet", last_badge=None)
    return row


def rows_vs_api(rows, doc):
    """The differences between the table's rows (ROW_STATE) and the JSON
    list: {device: {column: (shown, api)}}; {} when every row shows its
    persona exactly and there is one row per persona."""
    diff = {}
    want = {p["id"]: expected_row(p) for p in doc["personas"]}
    for dev in set(rows) | set(want):
        got, exp = rows.get(dev), want.get(dev)
        if got is None or exp is None:
            diff[dev] = {"row": (got is not None, exp is not None)}
            continue
        cols = {k: (got.get(k), v) for k, v in exp.items() if got.get(k) != v}
        if cols:
            diff[dev] = cols
    return diff
