"""End-to-end test harness: start metalbmc and metal-sim on loopback, drive
them with the real clients (ipmitool, FreeIPMI, pyghmi), check what they
say. Standard library only; runs under Debian's /usr/bin/python3.

Rules every test follows (see docs/testing.md):
  - traffic goes only to 127.0.0.0/8 and ::1 (or inside a network
    namespace the test made, see in_private_netns);
  - nothing sleeps where a condition can be polled (wait_until);
  - every loop is bounded by a deadline;
  - secrets never reach test output: Daemon.scan_for_secrets() checks every
    log a daemon or metal-sim wrote in this test, for each secret in plain,
    hex and base64 form;
  - a daemon must exit 0 with no sanitizer report: Daemon.check_exit(), or
    check_no_sanitizer_report() for one started some other way.
"""

import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

BIN = os.environ.get("METALBMC_BIN", "metalbmc")
SIM = os.environ.get("METAL_SIM_BIN", "metal-sim")
SOURCE = os.environ.get("METALBMC_SOURCE_DIR",
                        os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
DEBIAN_PYTHON = "/usr/bin/python3"
SANITIZER_ENV = ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS")
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "SUMMARY: UndefinedBehaviorSanitizer")
# Logs written by the product in this test run (every Daemon's and
# MetalSim's, and any a test adds with register_log()): what
# scan_for_secrets() searches. Client logs (Chromium's) are not the
# product's and may hold what a test typed.
PRODUCT_LOGS = []
# FreeIPMI's tools and ip(8) live in /usr/sbin, which a non-login PATH
# (a CI runner, sudo) may lack.
for _d in ("/usr/sbin", "/sbin"):
    if _d not in os.environ.get("PATH", "").split(":"):
        os.environ["PATH"] = os.environ.get("PATH", "/usr/bin:/bin") + ":" + _d


class Checks:
    """Counts checks. A failed check is reported and the test goes on, so
    one run shows every problem; finish() gives the exit status."""

    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0
        self.current = ""

    def start(self, section):
        self.current = section
        print("-- %s" % section, flush=True)

    def ok(self, cond, what, detail=None):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            msg = "FAIL [%s] %s" % (self.current, what)
            if detail is not None:
                d = str(detail)
                msg += ": " + (d if len(d) < 3000 else d[:3000] + "...")
            print(msg, flush=True)
        return bool(cond)

    def eq(self, got, want, what):
        return self.ok(got == want, what, "got %r, want %r" % (got, want))

    def contains(self, text, needle, what):
        return self.ok(needle in text, what, "%r not in output:\n%s" % (needle, text))

    def absent(self, text, needle, what):
        return self.ok(needle not in text, what, "%r unexpectedly in output:\n%s" % (needle, text))

    @contextlib.contextmanager
    def section(self, name):
        """A named group of checks. An exception inside (a client that
        timed out, a wait_until that expired) fails the section and the
        test goes on with the next one."""
        self.start(name)
        try:
            yield
        except Exception as e:  # noqa: BLE001 - any error is a failed check
            self.ok(False, "section raised %s" % type(e).__name__,
                    "%s\n%s" % (e, traceback.format_exc()))

    def finish(self):
        print("%s: %d passed, %d failed" % (self.name, self.passed, self.failed), flush=True)
        return 1 if self.failed or self.passed == 0 else 0


def fields(text):
    """'Key : value' lines (ipmitool, FreeIPMI) as a dict; the first
    occurrence of a key wins, keys and values stripped."""
    out = {}
    for line in text.splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            out.setdefault(k.strip(), v.strip())
    return out


def register_log(path):
    """Adds a log the product writes (a daemon started without Daemon) to
    the ones scan_for_secrets() searches."""
    if path not in PRODUCT_LOGS:
        PRODUCT_LOGS.append(path)
    return path


def secret_forms(s):
    """A secret and the encodings a careless log line might use: plain,
    hex, base64 (with and without padding) and a repr-escaped form."""
    b = s.encode()
    b64 = base64.b64encode(b).decode()
    return {s, b.hex(), b.hex().upper(), b64, b64.rstrip("="), repr(s)[1:-1]}


def read_text(path):
    try:
        with open(path, "r", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def scan_logs_for_secrets(checks, secrets, paths=None):
    """No form of any secret in any of paths (default: every product log
    of this test). One check per log, naming the secret only by length."""
    paths = list(PRODUCT_LOGS if paths is None else paths)
    forms = [(len(s), f) for s in secrets if s for f in secret_forms(s)]
    for path in paths:
        text = read_text(path)
        found = sorted({n for n, f in forms if f in text})
        checks.ok(not found, "no secret in %s" % os.path.basename(path),
                  "a secret of length %s appears (plain, hex or base64) in %s" % (found, path))
    return paths


def check_no_sanitizer_report(checks, text, where):
    """A sanitizer report (ASan, LSan, UBSan) in text fails the check."""
    found = [m for m in SANITIZER_MARKERS if m in text]
    return checks.ok(not found, "no sanitizer report in %s" % where,
                     "found %r in %s" % (found, where))


def random_password():
    """A fresh random IPMI password (16 bytes, fits v1.5 and v2.0), so a
    test can check that it never shows up in a log."""
    import secrets
    return "pw-" + secrets.token_hex(5) + "Zq9"


def wait_until(cond, timeout, what, interval=0.02):
    """Polls cond() until it is true or timeout seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


def free_port(kind="udp", host="127.0.0.1"):
    """A port the kernel says is free now (races are retried by callers)."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM)
    try:
        s.bind((host, 0))
        return s.getsockname()[1]
    finally:
        s.close()


def workdir(name):
    base = os.environ.get("E2E_WORKDIR")
    if base:
        shutil.rmtree(base, ignore_errors=True)
        os.makedirs(base, exist_ok=True)
        return base
    return tempfile.mkdtemp(prefix="metalbmc-%s-" % name)


def asf_ping(port, host="127.0.0.1", timeout=0.5):
    """RMCP presence ping; True when a pong comes back."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        ping = bytes([0x06, 0x00, 0xFF, 0x06, 0x00, 0x00, 0x11, 0xBE, 0x80, 0x42, 0x00, 0x00])
        s.sendto(ping, (host, port))
        data, _ = s.recvfrom(512)
        return len(data) >= 12 and data[8] == 0x40 and data[9] == 0x42
    except (socket.timeout, ConnectionRefusedError, OSError):
        return False
    finally:
        s.close()


def base_config(personas, password, **ipmi):
    """The config most IPMI tests start from: config personas on the local
    backend, one shared password, the web page off, and a session-setup
    budget high enough that a test opening many sessions is not throttled
    (the throttling test sets its own)."""
    section = {"password": password, "setup_rate": 1000, "setup_burst": 1000}
    section.update(ipmi)
    return {"ipmi": section, "web": {"enabled": False}, "personas": list(personas)}


def in_private_netns():
    """Re-runs this test inside a fresh network namespace (only loopback, no
    other process in it), so it may bind IPMI's well-known port 623 and
    drive tools that cannot be pointed at another port (ipmiping, rmcpping).
    Returns True when running inside one; False when namespaces are not
    available (not root), and the caller skips what needs port 623."""
    if os.environ.get("E2E_NETNS") == "1":
        rc, out = run(["ip", "link", "set", "lo", "up"], timeout=10)
        if rc != 0:
            print("netns: cannot bring lo up: %s" % out, flush=True)
            return False
        return True
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"):
        return False
    if run(["unshare", "--net", "--", "true"], timeout=10)[0] != 0:
        return False
    env = dict(os.environ, E2E_NETNS="1")
    sys.stdout.flush()
    os.execvpe("unshare", ["unshare", "--net", "--", sys.executable,
                           os.path.abspath(sys.argv[0])] + sys.argv[1:], env)
    return False  # not reached


def run_metalbmc(args, env=None, timeout=30, cwd=None):
    """metalbmc run as a command (--check-config, --version, ...); returns
    (exit status, stdout, stderr)."""
    e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    for k in SANITIZER_ENV:
        if k in os.environ:
            e[k] = os.environ[k]
    e.update(env or {})
    p = subprocess.run([BIN] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=e, timeout=timeout, cwd=cwd)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def to_yaml(value, indent=0):
    """Enough YAML for config files: dicts, lists, scalars."""
    pad = "  " * indent
    out = []
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, (dict, list)) and v:
                out.append("%s%s:" % (pad, k))
                out.append(to_yaml(v, indent + 1))
            else:
                out.append("%s%s: %s" % (pad, k, scalar(v)))
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                first = True
                for k, v in item.items():
                    lead = "- " if first else "  "
                    first = False
                    if isinstance(v, (dict, list)) and v:
                        out.append("%s%s%s:" % (pad, lead, k))
                        out.append(to_yaml(v, indent + 2))
                    else:
                        out.append("%s%s%s: %s" % (pad, lead, k, scalar(v)))
            else:
                out.append("%s- %s" % (pad, scalar(item)))
    return "\n".join(out)


def scalar(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, list):
        return "[]"
    if isinstance(v, dict):
        return "{}"
    return json.dumps(str(v))


def _searchable_by_all(path):
    """True when every directory from / down to path is o+x."""
    p = os.path.abspath(path)
    while True:
        try:
            if not os.stat(p).st_mode & 0o001:
                return False
        except OSError:
            return False
        parent = os.path.dirname(p)
        if parent == p:
            return True
        p = parent


def stop_process(proc, timeout=20):
    """SIGTERM, then SIGKILL if proc is still there after timeout seconds."""
    if proc and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Daemon:
    """metalbmc under test. config is a dict (written as YAML, mode 0600);
    env adds environment variables. The shared IPMI listener is picked on a
    free loopback port unless the config names one."""

    def __init__(self, wd, config=None, env=None, name="metalbmc", log_level="debug"):
        self.wd = wd
        self.name = name
        self.config = dict(config or {})
        self.env = dict(env or {})
        self.log_level = log_level
        self.proc = None
        self.port = None
        self.web_port = None
        self.host = "127.0.0.1"
        self.log_path = os.path.join(wd, "%s.log" % name)
        self.secrets = []

    def start(self, wait=True, expect_fail=False):
        ipmi = dict(self.config.get("ipmi", {}))
        if "listen" not in ipmi:
            self.port = free_port("udp")
            ipmi["listen"] = ["127.0.0.1:%d" % self.port]
        else:
            first = ipmi["listen"][0]
            host, port = first.rsplit(":", 1)
            self.host = host.strip("[]")
            self.port = int(port)
        self.config["ipmi"] = ipmi
        web = dict(self.config.get("web", {}))
        if web.get("enabled", True) and "listen" not in web:
            self.web_port = free_port("tcp")
            web["listen"] = "127.0.0.1:%d" % self.web_port
        elif "listen" in web:
            self.web_port = int(web["listen"].rsplit(":", 1)[1])
        self.config["web"] = web
        self.config.setdefault("state_dir", os.path.join(self.wd, "%s-state" % self.name))
        if os.geteuid() == 0 and "user" not in self.config and not _searchable_by_all(self.wd):
            # Started as root the daemon drops to nobody after binding
            # (appliance/privdrop.c) and must still reach its state_dir; a
            # checkout under a private directory (0700 /root) would shut it
            # out, so such runs keep root. test_secrets_privilege.py covers
            # the drop itself.
            self.config["user"] = "root"

        cfg_path = os.path.join(self.wd, "%s.yaml" % self.name)
        fd = os.open(cfg_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(to_yaml(self.config) + "\n")
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        # The sanitizer build's settings (tests/run, CMake) must reach the
        # daemon, or a report would not fail the test.
        for k in SANITIZER_ENV:
            if k in os.environ:
                env[k] = os.environ[k]
        env.update(self.env)
        register_log(self.log_path)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([BIN, "--config", cfg_path, "--log-level", self.log_level],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                     cwd=self.wd)
        if expect_fail:
            self.proc.wait(timeout=30)
            return self.proc.returncode
        if wait:
            wait_until(lambda: self.proc.poll() is not None or asf_ping(self.port, self.host), 30,
                       "metalbmc to answer an ASF ping on port %d" % self.port)
            if self.proc.poll() is not None:
                raise RuntimeError("metalbmc exited with %s:\n%s" % (self.proc.returncode, self.read_log()))
        return 0

    def read_log(self):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        stop_process(self.proc)
        if self.proc and not self.log.closed:
            self.log.close()
        return self.proc.returncode if self.proc else None

    def restart(self):
        """Stops (SIGTERM) and starts again with the same config and state."""
        self.stop()
        return self.start()

    def check_exit(self, checks):
        """Stops the daemon; it must exit 0 after SIGTERM and its log must
        hold no sanitizer report (ASan, LSan, UBSan)."""
        rc = self.stop()
        checks.eq(rc, 0, "%s exits 0 after SIGTERM" % self.name)
        self.check_log_clean(checks)

    def check_log_clean(self, checks):
        """No sanitizer report in the log (for a daemon that was meant to
        exit on its own, such as one refusing a bad config)."""
        return check_no_sanitizer_report(checks, self.read_log(), "the %s log" % self.name)

    @property
    def password(self):
        return self.config.get("ipmi", {}).get("password", "")

    def log_count(self, needle):
        """How many log lines contain needle (a plain string)."""
        return sum(1 for line in self.read_log().splitlines() if needle in line)

    def wait_log(self, needle, timeout=10, count=1):
        """Polls the log until needle appears on at least count lines."""
        return wait_until(lambda: self.log_count(needle) >= count, timeout,
                          "%r in the %s log" % (needle, self.name))

    # Clients aimed at this daemon: the shared listener and the configured
    # password unless told otherwise.
    def ipmitool(self, user, *args, port=None, password=None, host=None, **kw):
        return ipmitool(port or self.port, user, self.password if password is None else password,
                        *args, host=host or self.host, **kw)

    def freeipmi(self, tool, user, *args, port=None, password=None, host=None, **kw):
        return freeipmi(tool, port or self.port, user,
                        self.password if password is None else password,
                        *args, host=host or self.host, **kw)

    def pyghmi(self, user, code, port=None, password=None, host=None, **kw):
        return pyghmi(port or self.port, user, self.password if password is None else password,
                      code, host=host or self.host, **kw)

    def scan_for_secrets(self, checks, secrets):
        """Every secret, in plain, hex and base64 form, must be absent from
        this daemon's log and from every other log the product wrote in
        this test (other daemons, metal-sim, register_log())."""
        paths = list(PRODUCT_LOGS)
        if self.log_path not in paths:
            paths.insert(0, self.log_path)
        return scan_logs_for_secrets(checks, secrets, paths)


class MetalSim:
    """The bundled Metal API emulator."""

    def __init__(self, wd, fixture, token="test-token-e2e", args=()):
        self.wd = wd
        self.fixture = fixture
        self.token = token
        self.args = list(args)
        self.proc = None
        self.port = None

    def start(self):
        if isinstance(self.fixture, (dict, list)):
            path = os.path.join(self.wd, "fixture.json")
            with open(path, "w") as f:
                json.dump(self.fixture, f)
        else:
            path = self.fixture
        port_file = os.path.join(self.wd, "sim.port")
        if os.path.exists(port_file):
            os.unlink(port_file)
        self.log = open(register_log(os.path.join(self.wd, "metal-sim.log")), "ab")
        self.proc = subprocess.Popen([SIM, "--listen", "127.0.0.1:0", "--token", self.token,
                                      "--fixture", path, "--port-file", port_file] + self.args,
                                     stdout=self.log, stderr=subprocess.STDOUT)

        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError("metal-sim exited with %s" % self.proc.returncode)
            try:
                with open(port_file) as f:
                    return int(f.read().strip() or 0)
            except (FileNotFoundError, ValueError):
                return 0
        self.port = wait_until(ready, 30, "metal-sim port file")
        return self

    @property
    def url(self):
        return "http://127.0.0.1:%d/metal/v1" % self.port

    def _call(self, method, path, body=None):
        import http.client
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        hdrs = {"X-Auth-Token": self.token}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        c.request(method, path, body=data, headers=hdrs)
        r = c.getresponse()
        raw = r.read()
        c.close()
        return r.status, (json.loads(raw) if raw else None)

    def api(self, method, path, body=None):
        return self._call(method, "/metal/v1" + path, body)

    def requests(self):
        return self._call("GET", "/_sim/requests")[1]

    def clear_requests(self):
        return self._call("POST", "/_sim/requests/clear")

    def faults(self, settings):
        return self._call("POST", "/_sim/faults", settings)

    def device(self, device_id):
        return self._call("GET", "/_sim/devices/%s" % device_id)[1]

    def stop(self):
        stop_process(self.proc)
        if self.proc:
            self.log.close()


class IpmiShell:
    """An ipmitool `shell`: one RMCP+ session held open (ipmitool opens it
    at start) while the test does other things. Commands are lines on its
    stdin; close() sends `exit` so that ipmitool closes its session. Never
    close stdin instead: ipmitool then spins without closing the session."""

    PROMPT = b"ipmitool> "

    def __init__(self, port, user, password, cipher=17, host="127.0.0.1", privilege=None,
                 timeout=30, extra_args=()):
        """extra_args go to ipmitool before `shell`: e.g. ("-R", "2", "-N",
        "1") to give up on an unanswered request after two tries a second
        apart instead of ipmitool's default of about 20 s."""
        argv = ["ipmitool", "-I", "lanplus", "-H", host, "-p", str(port), "-U", user,
                "-P", password, "-C", str(cipher)]
        if privilege:
            argv += ["-L", privilege]
        self.proc = subprocess.Popen(argv + list(extra_args) + ["shell"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.banner = self._read_prompt(timeout)

    @property
    def opened(self):
        """True when the session is up (the prompt came and ipmitool runs)."""
        return self.banner is not None and self.proc.poll() is None

    def _read_prompt(self, timeout):
        """Output up to the next prompt, or None if ipmitool exits or the
        prompt does not come within timeout seconds."""
        import select
        buf = b""
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while not buf.endswith(self.PROMPT):
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                self.last_output = buf.decode("utf-8", "replace")
                return None
            buf += chunk
        return buf[:-len(self.PROMPT)].decode("utf-8", "replace")

    last_output = ""

    def command(self, line, timeout=30):
        """Runs one shell command; returns its output (None on failure)."""
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()
        return self._read_prompt(timeout)

    def close(self, timeout=15):
        """Ends the shell; returns its exit status."""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(b"exit\n")
                self.proc.stdin.flush()
            except BrokenPipeError:
                pass
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass
        return self.proc.returncode


def run(argv, timeout=60, input=None):
    """Runs a client; returns (rc, stdout+stderr)."""
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout, input=input)
        return p.returncode, p.stdout.decode("utf-8", "replace")
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode("utf-8", "replace") if e.stdout else ""
        return -1, out + "\n[timed out after %ss]" % timeout


def ipmitool(port, user, password, *args, cipher=17, interface="lanplus",
             host="127.0.0.1", privilege=None, timeout=60, retries=None):
    argv = ["ipmitool", "-I", interface, "-H", host, "-p", str(port), "-U", user,
            "-P", password]
    if interface == "lanplus" and cipher is not None:
        argv += ["-C", str(cipher)]
    if privilege:
        argv += ["-L", privilege]
    if retries is not None:
        argv += ["-R", str(retries)]
    return run(argv + list(args), timeout=timeout)


def freeipmi(tool, port, user, password, *args, cipher=17, host="127.0.0.1",
             driver="LAN_2_0", privilege=None, timeout=60):
    argv = [tool, "-D", driver, "-h", "%s:%d" % (host, port), "-u", user, "-p", password]
    if driver == "LAN_2_0":
        argv += ["-I", str(cipher)]
    if privilege:
        argv += ["-l", privilege]
    return run(argv + list(args), timeout=timeout)


def pyghmi(port, user, password, code, host="127.0.0.1", timeout=120):
    """Runs code with `c` bound to a pyghmi Command; prints go to output.
    Debian's python3 has pyghmi; the one first on PATH may not."""
    prog = ("import json, sys\n"
            "from pyghmi.ipmi import command\n"
            "c = command.Command(bmc=%r, userid=%r, password=sys.stdin.readline().rstrip('\\n'), port=%d)\n"
            % (host, user, port)) + code
    return run([DEBIAN_PYTHON, "-c", prog], timeout=timeout, input=(password + "\n").encode())
