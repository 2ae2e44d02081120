"""Headless Chromium driven over the DevTools protocol, standard library
only: a minimal RFC 6455 websocket client and a CDP session on top.

    with Browser(workdir) as b:
        page = b.new_page()
        page.set_basic_auth("admin", "pw")   # Network.setExtraHTTPHeaders
        page.navigate("http://127.0.0.1:8623/")
        page.eval("document.title")

Chromium runs with a fresh --user-data-dir and the flags the tests need to
stay on loopback (no background networking, updates, sync or QUIC).
"""

import base64
import json
import os
import shutil
import socket
import struct
import subprocess
import time

from harness import stop_process, wait_until

CHROMIUM = os.environ.get("CHROMIUM_BIN") or shutil.which("chromium") or "/usr/bin/chromium"

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
         "--disable-extensions", "--disable-default-apps", "--mute-audio",
         "--no-default-browser-check", "--disable-dev-shm-usage", "--hide-scrollbars"]


class WebSocket:
    """Just enough of RFC 6455 for CDP: text frames, masking, fragments,
    ping/pong, close."""

    def __init__(self, host, port, path, timeout=30):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        req = ("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n" % (path, host, port, key))
        self.sock.sendall(req.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("websocket handshake: connection closed")
            head += chunk
        head, self.buf = head.split(b"\r\n\r\n", 1)
        if not head.startswith(b"HTTP/1.1 101"):
            raise ConnectionError("websocket handshake refused: %r" % head[:200])

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(max(65536, n - len(self.buf)))
            if not chunk:
                raise ConnectionError("websocket closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _send_frame(self, opcode, payload):
        hdr = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            hdr += bytes([0x80 | n])
        elif n < 65536:
            hdr += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            hdr += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(hdr + mask + body)

    def send(self, text):
        self._send_frame(0x1, text.encode())

    def recv(self, timeout):
        """One whole message (str), or None when timeout passes first."""
        self.sock.settimeout(timeout)
        message = b""
        try:
            while True:
                b0, b1 = self._read(2)
                n = b1 & 0x7F
                if n == 126:
                    n = struct.unpack(">H", self._read(2))[0]
                elif n == 127:
                    n = struct.unpack(">Q", self._read(8))[0]
                mask = self._read(4) if b1 & 0x80 else None
                payload = self._read(n)
                if mask:
                    payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
                op = b0 & 0x0F
                if op == 0x9:
                    self._send_frame(0xA, payload)
                    continue
                if op == 0x8:
                    raise ConnectionError("websocket closed by peer")
                if op in (0x0, 0x1, 0x2):
                    message += payload
                    if b0 & 0x80:
                        return message.decode("utf-8", "replace")
        except socket.timeout:
            return None

    def close(self):
        try:
            self._send_frame(0x8, b"")
        except OSError:
            pass
        self.sock.close()


class CDPError(RuntimeError):
    pass


class Page:
    """One tab, with its own websocket."""

    def __init__(self, port, target_id):
        self.ws = WebSocket("127.0.0.1", port, "/devtools/page/%s" % target_id)
        self.next_id = 0
        self.events = []   # every event seen, in order
        self.send("Page.enable")
        self.send("Runtime.enable")
        self.send("Network.enable")
        self.send("Log.enable")

    def send(self, method, params=None, timeout=30):
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params or {}}))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("CDP %s: no answer in %ss" % (method, timeout))
            msg = self.ws.recv(left)
            if msg is None:
                continue
            m = json.loads(msg)
            if m.get("id") == my_id:
                if "error" in m:
                    raise CDPError("%s: %s" % (method, m["error"]))
                return m.get("result", {})
            if "method" in m:
                self.events.append(m)

    def pump(self, seconds=0.05):
        """Collects events that arrive within seconds."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            msg = self.ws.recv(left)
            if msg is None:
                return
            m = json.loads(msg)
            if "method" in m:
                self.events.append(m)

    def set_basic_auth(self, user, password):
        token = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
        self.send("Network.setExtraHTTPHeaders",
                  {"headers": {"Authorization": "Basic " + token}})

    def set_viewport(self, width, height, scale=1):
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": scale,
                   "mobile": False})

    def navigate(self, url, timeout=30):
        start = len(self.events)
        res = self.send("Page.navigate", {"url": url})
        if res.get("errorText"):
            raise CDPError("navigate %s: %s" % (url, res["errorText"]))

        def loaded():
            self.pump()
            return any(e["method"] == "Page.loadEventFired" for e in self.events[start:])
        wait_until(loaded, timeout, "the page %s to load" % url)
        return res

    def eval(self, expression, timeout=30):
        res = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                             "awaitPromise": True}, timeout=timeout)
        if "exceptionDetails" in res:
            raise CDPError("evaluate %r: %s" % (expression, res["exceptionDetails"]))
        return res["result"].get("value")

    def screenshot(self, path, full_page=True):
        params = {"format": "png"}
        if full_page:
            m = self.send("Page.getLayoutMetrics")
            size = m.get("cssContentSize") or m["contentSize"]
            params["clip"] = {"x": 0, "y": 0, "width": size["width"],
                              "height": size["height"], "scale": 1}
            params["captureBeyondViewport"] = True
        data = self.send("Page.captureScreenshot", params)["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def problems(self):
        """Console errors, uncaught exceptions and CSP or network errors the
        page reported."""
        out = []
        for e in self.events:
            p = e.get("params", {})
            if e["method"] == "Runtime.exceptionThrown":
                out.append("exception: %s" % p.get("exceptionDetails", {}).get("text"))
            elif e["method"] == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                out.append("log: %s" % p["entry"].get("text"))
            elif e["method"] == "Runtime.consoleAPICalled" and p.get("type") == "error":
                out.append("console: %s" % p.get("args"))
        return out

    def close(self):
        self.ws.close()


class Browser:
    def __init__(self, wd, name="chromium"):
        self.wd = wd
        self.profile = os.path.join(wd, "%s-profile" % name)
        self.log_path = os.path.join(wd, "%s.log" % name)
        self.proc = None
        self.port = None
        self.ws = None
        self.pages = []

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        shutil.rmtree(self.profile, ignore_errors=True)
        os.makedirs(self.profile)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([CHROMIUM] + FLAGS + [
            "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
            "--user-data-dir=%s" % self.profile, "about:blank"],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        active = os.path.join(self.profile, "DevToolsActivePort")

        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError("chromium exited with %s; see %s" % (self.proc.returncode,
                                                                         self.log_path))
            try:
                with open(active) as f:
                    lines = f.read().split("\n")
                return (int(lines[0]), lines[1]) if len(lines) >= 2 and lines[1] else None
            except (FileNotFoundError, ValueError):
                return None
        self.port, path = wait_until(ready, 60, "chromium's DevTools port")
        self.ws = WebSocket("127.0.0.1", self.port, path)
        self.next_id = 0
        return self

    def _browser_call(self, method, params):
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            msg = self.ws.recv(deadline - time.monotonic())
            if msg is None:
                continue
            m = json.loads(msg)
            if m.get("id") == my_id:
                if "error" in m:
                    raise CDPError("%s: %s" % (method, m["error"]))
                return m.get("result", {})
        raise TimeoutError("CDP %s: no answer" % method)

    def new_page(self):
        target = self._browser_call("Target.createTarget", {"url": "about:blank"})["targetId"]
        page = Page(self.port, target)
        self.pages.append(page)
        return page

    def stop(self):
        for p in self.pages:
            try:
                p.close()
            except OSError:
                pass
        if self.ws:
            try:
                self.ws.close()
            except OSError:
                pass
        stop_process(self.proc)
        if self.proc:
            self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)
