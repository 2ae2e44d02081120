"""Shared helpers for the metal-sim tests: start and stop the simulator,
speak HTTP to it, poll for conditions, count checks.

Standard library only (runs under /usr/bin/python3 on a bare CI machine).
Nothing here sleeps blindly: every wait polls a condition with a deadline.
"""

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time

LISTEN_LINE = re.compile(r"^metal-sim listening on http://(127\.0\.0\.1|\[[0-9a-fA-F:]+\]):(\d+)/metal/v1\n$")


class Checks:
    """Counts checks; a failed check is reported and the run goes on, so one
    run shows every problem.  The process exits non-zero on any failure."""

    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0
        self.section = ""

    def start(self, section):
        self.section = section
        print("-- %s" % section, flush=True)

    def ok(self, cond, what, detail=None):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            msg = "FAIL [%s] %s" % (self.section, what)
            if detail is not None:
                msg += ": %s" % (detail if len(str(detail)) < 2000 else str(detail)[:2000] + "...")
            print(msg, flush=True)
        return cond

    def eq(self, got, want, what):
        return self.ok(got == want, what, "got %r, want %r" % (got, want))

    def finish(self):
        print("%s: %d passed, %d failed" % (self.name, self.passed, self.failed), flush=True)
        print("%d passed, %d failed" % (self.passed, self.failed), flush=True)
        return 1 if self.failed or self.passed == 0 else 0


def wait_until(cond, timeout, what, interval=0.02):
    """Polls cond() until it returns a true value or timeout seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None


class Sim:
    """One metal-sim process on 127.0.0.1, port chosen by the kernel."""

    def __init__(self, binary, fixture, token, workdir, args=(), name="sim", listen="127.0.0.1:0"):
        self.token = token
        self.workdir = workdir
        self.port_file = os.path.join(workdir, name + ".port")
        self.stderr_path = os.path.join(workdir, name + ".stderr")
        if os.path.exists(self.port_file):
            os.unlink(self.port_file)
        cmd = [binary, "--listen", listen, "--token", token, "--fixture", fixture,
               "--port-file", self.port_file] + list(args)
        self.stderr_file = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.stderr_file)
        # Poll for the port file (written atomically after the bind).
        wait_until(lambda: os.path.exists(self.port_file) or self.proc.poll() is not None,
                   30, "metal-sim port file")
        if self.proc.poll() is not None:
            raise RuntimeError("metal-sim exited with %s: %s" % (self.proc.returncode, self.stderr()))
        with open(self.port_file) as f:
            self.port = int(f.read().strip())
        # The stdout line is printed right after the port file is renamed.
        self.listen_line = self.proc.stdout.readline().decode()
        self.host = "127.0.0.1" if not listen.startswith("[") else listen[1:listen.index("]")]

    def stderr(self):
        if not self.stderr_file.closed:
            self.stderr_file.flush()
        with open(self.stderr_path, "rb") as f:
            return f.read().decode(errors="replace")

    def request(self, method, path, body=None, token=True, headers=None, timeout=30, raw_body=None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        h = {}
        if token is True:
            h["X-Auth-Token"] = self.token
        elif token:
            h["X-Auth-Token"] = token
        if body is not None:
            raw_body = json.dumps(body).encode()
        if raw_body is not None:
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        try:
            conn.request(method, path, body=raw_body, headers=h)
            resp = conn.getresponse()
            data = resp.read()
            return Response(resp.status, resp.getheaders(), data)
        finally:
            conn.close()

    def api(self, method, path, **kw):
        return self.request(method, "/metal/v1" + path, **kw)

    def control(self, method, path, **kw):
        return self.request(method, "/_sim" + path, **kw)

    def set_faults(self, **settings):
        r = self.control("POST", "/faults", body=settings)
        if r.status != 200:
            raise RuntimeError("POST /_sim/faults %r -> %d %r" % (settings, r.status, r.body))
        return r.json()

    def stop(self, sig=signal.SIGTERM, timeout=15):
        """Stops the simulator; returns its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return None
        self.proc.stdout.close()
        self.stderr_file.close()
        return self.proc.returncode


def gen_fixture(gen, path, devices, tagged, projects=1, seed=1):
    with open(path, "wb") as out:
        subprocess.run([sys.executable, gen, "--devices", str(devices), "--tagged-fraction",
                        str(tagged), "--projects", str(projects), "--seed", str(seed)],
                       stdout=out, check=True)
    with open(path) as f:
        return json.load(f)
