#!/usr/bin/python3
"""IPMI core benchmark: the daemon's CPU per ipmitool session and per request
inside an open session, metalbmc side by side with OpenIPMI's ipmi_sim.

Not a test (nothing here passes or fails on timing); a script anyone can
rerun. See tests/bench/README.md for what it measures and docs/performance.md
for results.

    /usr/bin/python3 tests/bench/ipmi_bench.py --metalbmc BUILD/appliance/metalbmc
    /usr/bin/python3 tests/bench/ipmi_bench.py --metalbmc ... --callgrind

Method, in short:
  * Both daemons run at once on loopback, each on a free port, configured
    alike: one user "bench" with administrator privilege and the same
    password. metalbmc: a config persona on the local backend, session-setup
    throttling raised out of the way, log level info (the default).
    ipmi_sim: a LAN channel on 127.0.0.1, -n (no console) -p (no persist).
  * The client is the same for both: ipmitool -I lanplus.
      session:   N runs of `ipmitool ... power status`, each a complete
                 session (Get Channel Auth Caps, Open Session, RAKP 1-4, Set
                 Session Privilege, the OEM probes ipmitool does, Get Chassis
                 Status, Close Session).
      request:   one `ipmitool ... exec FILE` with M lines `power status`: one
                 session, M Get Chassis Status requests. Per request =
                 (CPU of that run - CPU of one session) / (M - 1).
  * CPU is the daemon's own: the sum of se.sum_exec_runtime over its threads
    (/proc/PID/task/*/schedstat, nanoseconds, user + system), read before and
    after each phase. utime + stime from /proc/PID/stat (clock ticks) is
    recorded as a cross-check.
  * Rounds interleave the daemons (A B, then B A, ...) so that load from
    anything else on the machine falls on both alike; medians and spread over
    rounds are reported.
  * The floor: udp_echo.c, a daemon that only answers datagrams (same system
    calls as metalbmc), driven with the shape of a real session as a relay
    saw it. What it costs, every daemon pays the kernel before its own work.
  * --callgrind: each daemon once more under valgrind --tool=callgrind; the
    instructions it executes (user space only) for K sessions and for one
    session of M requests, counted between callgrind_control -z and -d. These
    do not depend on machine load.

Traffic goes only to 127.0.0.1; every loop is bounded.
"""

import argparse
import glob
import json
import os
import platform
import re
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE, "tests", "e2e"))
import harness  # noqa: E402  (free_port, asf_ping, wait_until, to_yaml)

USER = "bench"
# A benchmark-only password, the same for both daemons; not a secret.
PASSWORD = "bench-pass-0123"
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- CPU ----

def cpu_ns(pid):
    """The process's CPU time so far in ns (all threads, user + system)."""
    total = 0
    for path in glob.glob("/proc/%d/task/*/schedstat" % pid):
        try:
            with open(path) as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass  # a thread that just ended
    return total


def cpu_ticks(pid):
    """utime + stime from /proc/PID/stat, in ns (clock-tick resolution)."""
    with open("/proc/%d/stat" % pid) as f:
        rest = f.read().rsplit(")", 1)[1].split()
    # rest[0] is field 3 (state); utime and stime are fields 14 and 15.
    return (int(rest[11]) + int(rest[12])) * 1_000_000_000 // CLK_TCK


class Meter:
    """CPU and wall time of one daemon across a block of client work."""

    def __init__(self, pid):
        self.pid = pid

    def __enter__(self):
        self.c0, self.t0, self.w0 = cpu_ns(self.pid), cpu_ticks(self.pid), time.monotonic()
        return self

    def __exit__(self, *exc):
        self.cpu = cpu_ns(self.pid) - self.c0
        self.ticks = cpu_ticks(self.pid) - self.t0
        self.wall = time.monotonic() - self.w0
        return False


# ------------------------------------------------------------ daemons ----

class Target:
    """A running daemon that ipmitool can reach on 127.0.0.1:port."""

    name = "?"

    def __init__(self, wd, wrapper=()):
        self.wd = wd
        self.wrapper = list(wrapper)
        self.proc = None
        self.port = None
        self.suites = {}  # suite -> None when it works, else the error text

    @property
    def pid(self):
        return self.proc.pid

    def _spawn(self, argv, log_name):
        self.log_path = os.path.join(self.wd, log_name)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.wrapper + argv, stdout=self.log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     cwd=self.wd, start_new_session=True)
        timeout = 120 if self.wrapper else 30
        harness.wait_until(lambda: self.proc.poll() is not None or harness.asf_ping(self.port),
                           timeout, "%s to answer an ASF ping on port %d" % (self.name, self.port))
        if self.proc.poll() is not None:
            raise RuntimeError("%s exited with %s; log %s" % (self.name, self.proc.returncode,
                                                              self.log_path))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log.close()


class Metalbmc(Target):
    def __init__(self, wd, binary, wrapper=(), name="metalbmc"):
        super().__init__(wd, wrapper)
        self.binary = binary
        self.name = name

    def start(self):
        self.port = harness.free_port("udp")
        cfg = {
            "ipmi": {
                "listen": ["127.0.0.1:%d" % self.port],
                "password": PASSWORD,
                "cipher_suites": [3, 17],
                # Throttling is a defence against floods; a benchmark that
                # opens hundreds of sessions a second from one source would
                # measure the throttle instead of the session path.
                "setup_rate": 100000,
                "setup_burst": 100000,
            },
            "web": {"enabled": False},
            "state_dir": os.path.join(self.wd, "%s-state" % self.name),
            "log_level": "info",
            "personas": [{"name": USER, "power": "on"}],
        }
        if self.wrapper and os.geteuid() == 0:
            # Under valgrind the daemon must stay root: callgrind_control
            # talks to it through FIFOs valgrind created before metalbmc
            # would drop privileges. (Elsewhere it drops them as deployed.)
            cfg["user"] = "root"
        path = os.path.join(self.wd, "%s.yaml" % self.name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(harness.to_yaml(cfg) + "\n")
        self._spawn([self.binary, "--config", path], "%s.log" % self.name)
        return self

    def under(self, wrapper):
        return Metalbmc(self.wd, self.binary, wrapper, self.name)


class IpmiSim(Target):
    name = "ipmi_sim"

    def __init__(self, wd, binary, wrapper=()):
        super().__init__(wd, wrapper)
        self.binary = binary

    def start(self):
        self.port = harness.free_port("udp")
        state = os.path.join(self.wd, "ipmi_sim-state")
        os.makedirs(state, exist_ok=True)
        conf = os.path.join(self.wd, "lan.conf")
        with open(conf, "w") as f:
            # ipmi_lan(5). RMCP+ needs a GUID; the user line's trailing
            # auth list is ignored by ipmi_sim but required by its parser.
            # ipmi_sim has no cipher suite list: it accepts any suite whose
            # algorithms it implements (2.0.33: RAKP-HMAC-SHA1 and -MD5, so
            # suite 3 but not 17, which needs HMAC-SHA256).
            f.write('name "bench"\n'
                    "set_working_mc 0x20\n"
                    "  startlan 1\n"
                    "    addr 127.0.0.1 %d\n"
                    "    priv_limit admin\n"
                    "    allowed_auths_callback md5\n"
                    "    allowed_auths_user md5\n"
                    "    allowed_auths_operator md5\n"
                    "    allowed_auths_admin md5\n"
                    "    guid a123456789abcdefa123456789abcdef\n"
                    "  endlan\n"
                    '  user 2 true "%s" "%s" admin 10 md5\n' % (self.port, USER, PASSWORD))
        emu = os.path.join(self.wd, "bench.emu")
        with open(emu, "w") as f:
            # ipmi_sim_cmd(5): one BMC at 0x20, enabled. Values are Get
            # Device ID's (device 0, revision 3, firmware 9.08, IPMI 2.0).
            f.write("mc_setbmc 0x20\n"
                    "mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02\n"
                    "mc_enable 0x20\n")
        self._spawn([self.binary, "-c", conf, "-f", emu, "-s", state, "-n", "-p"], "ipmi_sim.log")
        return self

    def under(self, wrapper):
        return IpmiSim(self.wd, self.binary, wrapper)


# ------------------------------------------------------------- client ----

def ipmitool(t, suite, *args, timeout=120, slow=False):
    argv = ["ipmitool", "-I", "lanplus", "-H", "127.0.0.1", "-p", str(t.port),
            "-U", USER, "-P", PASSWORD, "-C", str(suite)]
    if slow:  # a daemon under valgrind answers in milliseconds, not microseconds
        argv += ["-N", "10", "-R", "2"]
    p = subprocess.run(argv + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       stdin=subprocess.DEVNULL, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace")


def one_session(t, suite, slow=False):
    rc, out = ipmitool(t, suite, "power", "status", slow=slow)
    if rc != 0 or "Chassis Power is" not in out:
        raise RuntimeError("%s suite %d: ipmitool power status failed (rc %d): %s"
                           % (t.name, suite, rc, out.strip()))


def sessions(t, suite, n, slow=False):
    for _ in range(n):
        one_session(t, suite, slow)


def command_file(wd, m):
    path = os.path.join(wd, "requests-%d.txt" % m)
    if not os.path.exists(path):
        with open(path, "w") as f:
            f.write("power status\n" * m)
    return path


def exec_requests(t, suite, path, m, slow=False):
    rc, out = ipmitool(t, suite, "exec", path, timeout=600, slow=slow)
    got = out.count("Chassis Power is")
    if rc != 0 or got != m:
        raise RuntimeError("%s suite %d: ipmitool exec answered %d of %d (rc %d): %s"
                           % (t.name, suite, got, m, rc, out.strip()[-500:]))


def probe_suites(t, suites):
    for s in suites:
        rc, out = ipmitool(t, s, "power", "status", timeout=60)
        if rc == 0 and "Chassis Power is" in out:
            t.suites[s] = None
        else:
            t.suites[s] = " ".join(out.split())[:200] or "rc %d" % rc


# -------------------------------------------------------------- floor ----

class Relay:
    """A UDP relay between ipmitool and a daemon for one probe session: counts
    the datagram exchanges of a session and how long the client takes
    between a reply and its next request (its think time)."""

    def __init__(self, upstream_port):
        self.up = ("127.0.0.1", upstream_port)
        self.front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.front.bind(("127.0.0.1", 0))
        self.port = self.front.getsockname()[1]
        self.back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.back.connect(self.up)

    def run(self, client_argv, timeout=60):
        """Runs the client through the relay; returns (exchanges, gaps in s)."""
        proc = subprocess.Popen(client_argv, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        client, last_reply, exchanges, gaps = None, None, 0, []
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                r, _, _ = select.select([self.front, self.back], [], [], 0.05)
                for sock in r:
                    data, addr = sock.recvfrom(2048)
                    now = time.monotonic()
                    if sock is self.front:
                        client = addr
                        exchanges += 1
                        if last_reply is not None:
                            gaps.append(now - last_reply)
                        self.back.send(data)
                    elif client is not None:
                        self.front.sendto(data, client)
                        last_reply = time.monotonic()
                if not r and proc.poll() is not None:
                    break
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            self.front.close()
            self.back.close()
        return exchanges, gaps


class Floor(Target):
    """tests/bench/udp_echo.c: answers every datagram and does nothing else."""

    name = "floor"

    def __init__(self, wd):
        super().__init__(wd)

    def start(self):
        cc = shutil.which("cc") or shutil.which("gcc")
        if not cc:
            raise RuntimeError("no C compiler for the udp_echo floor")
        exe = os.path.join(self.wd, "udp_echo")
        subprocess.run([cc, "-O2", "-o", exe, os.path.join(HERE, "udp_echo.c")], check=True)
        self.port = harness.free_port("udp")
        self.log_path = os.path.join(self.wd, "udp_echo.log")
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([exe, str(self.port)], stdout=self.log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.settimeout(1.0)
        self.sock.connect(("127.0.0.1", self.port))
        harness.wait_until(lambda: self.proc.poll() is not None or self.ping(), 30,
                           "udp_echo on port %d" % self.port)
        return self

    def ping(self):
        try:
            self.sock.send(b"\x06\x00\xff\x07" + b"\x00" * 60)
            self.sock.recv(2048)
            return True
        except OSError:
            return False

    def session(self, shape):
        """One imitated session: the client's start-up pause, then the
        exchanges a real session has, each after the client's think time."""
        time.sleep(shape["startup"])
        for i in range(shape["exchanges"]):
            if i:
                time.sleep(shape["gap"])
            if not self.ping():
                raise RuntimeError("udp_echo did not answer")

    def stop(self):
        super().stop()
        self.sock.close()


def session_shape(t, suite, wd):
    """Exchanges per `power status` session and the client's median think
    time, seen through a relay; plus the same for exec's in-session gaps."""
    relay = Relay(t.port)
    base = ["ipmitool", "-I", "lanplus", "-H", "127.0.0.1", "-p", str(relay.port),
            "-U", USER, "-P", PASSWORD, "-C", str(suite)]
    exchanges, gaps = relay.run(base + ["power", "status"])
    relay2 = Relay(t.port)
    path = command_file(wd, 50)
    base2 = base[:]
    base2[base2.index(str(relay.port))] = str(relay2.port)
    ex2, gaps2 = relay2.run(base2 + ["exec", path])
    if exchanges < 2 or ex2 < 50 or not gaps or not gaps2:
        raise RuntimeError("relay probe saw %d and %d exchanges" % (exchanges, ex2))
    return {"exchanges": exchanges, "gap": statistics.median(gaps),
            "request_gap": statistics.median(gaps2[-40:])}


# ------------------------------------------------------------ measure ----

def measure_round(t, suite, n, m, wd):
    """One round for one daemon and suite: n sessions, then one session of m
    requests. Returns the figures in microseconds."""
    with Meter(t.pid) as ms:
        sessions(t, suite, n)
    path = command_file(wd, m)
    with Meter(t.pid) as mr:
        exec_requests(t, suite, path, m)
    per_session = ms.cpu / n
    per_session_ticks = ms.ticks / n
    return {
        "cpu_us_per_session": per_session / 1e3,
        "cpu_us_per_session_ticks": per_session_ticks / 1e3,
        "wall_ms_per_session": ms.wall / n * 1e3,
        "cpu_us_per_request": (mr.cpu - per_session) / (m - 1) / 1e3,
        "cpu_us_per_request_ticks": (mr.ticks - per_session_ticks) / (m - 1) / 1e3,
        "wall_us_per_request": (mr.wall - ms.wall / n) / (m - 1) * 1e6,
        "cpu_us_exec_run": mr.cpu / 1e3,
    }


def measure_floor(fl, shape, n, m):
    """The floor for one round: n imitated sessions and m requests with the
    client's in-session think time."""
    with Meter(fl.pid) as ms:
        for _ in range(n):
            fl.session(shape)
    with Meter(fl.pid) as mr:
        for i in range(m):
            if i:
                time.sleep(shape["request_gap"])
            if not fl.ping():
                raise RuntimeError("udp_echo did not answer")
    return {
        "cpu_us_per_session": ms.cpu / n / 1e3,
        "cpu_us_per_session_ticks": ms.ticks / n / 1e3,
        "wall_ms_per_session": ms.wall / n * 1e3,
        "cpu_us_per_request": mr.cpu / m / 1e3,
        "cpu_us_per_request_ticks": mr.ticks / m / 1e3,
        "wall_us_per_request": mr.wall / m * 1e6,
    }


def summarize(values):
    v = sorted(values)
    return {"median": statistics.median(v), "min": v[0], "max": v[-1], "n": len(v)}


def run_rounds(targets, suites, args, wd, floor=None, shape=None):
    results = {}  # (name, suite) -> list of round dicts
    everyone = targets + ([floor] if floor else [])
    for r in range(args.rounds):
        order = everyone if r % 2 == 0 else list(reversed(everyone))
        for t in order:
            if t is floor:
                got = measure_floor(floor, shape, args.sessions, args.requests)
                results.setdefault(("floor", 0), []).append(got)
                print("round %d/%d floor            : %7.1f us CPU/session, %6.2f us CPU/request"
                      % (r + 1, args.rounds, got["cpu_us_per_session"],
                         got["cpu_us_per_request"]), flush=True)
                continue
            for s in suites:
                if t.suites.get(s) is not None:
                    continue
                got = measure_round(t, s, args.sessions, args.requests, wd)
                results.setdefault((t.name, s), []).append(got)
                print("round %d/%d %-8s suite %2d: %7.1f us CPU/session, %6.2f us CPU/request"
                      % (r + 1, args.rounds, t.name, s, got["cpu_us_per_session"],
                         got["cpu_us_per_request"]), flush=True)
    return results


# ---------------------------------------------------------- callgrind ----

def callgrind_control(*args):
    p = subprocess.run(["callgrind_control"] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=120)
    if p.returncode != 0:
        raise RuntimeError("callgrind_control %s: %s" % (" ".join(args), p.stdout.decode()))


def callgrind_block(t, outbase, work):
    """Instructions the daemon executes during work(): zero the counters,
    run, dump, read the dump's summary line."""
    before = set(glob.glob(outbase + "*"))
    callgrind_control("-z", str(t.pid))
    work()
    callgrind_control("-d", str(t.pid))
    new = harness.wait_until(lambda: sorted(set(glob.glob(outbase + "*")) - before), 60,
                             "callgrind dump of %s" % t.name)
    # "summary:" is what callgrind_annotate calls the program total; it is
    # 0 in files written with instrumentation toggled, where "totals:" is
    # the figure.
    got = {}
    with open(new[-1]) as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                got[line.split(":")[0]] = int(line.split()[1])
    if got.get("summary") or got.get("totals"):
        return got.get("summary") or got["totals"]
    raise RuntimeError("no summary in %s" % new[-1])


def run_callgrind(targets, suites, args, wd):
    out = {}
    cgdir = os.path.join(wd, "callgrind")
    os.makedirs(cgdir, exist_ok=True)
    for plain in targets:
        t = plain.under(["valgrind", "--tool=callgrind",
                         "--callgrind-out-file=%s/%%p.out" % cgdir])
        t.start()
        try:
            outbase = os.path.join(cgdir, "%d.out" % t.pid)
            probe_suites(t, suites)
            for s, err in t.suites.items():
                plain.suites.setdefault(s, err)
            for s in suites:
                if t.suites.get(s) is not None:
                    continue
                sessions(t, s, 3, slow=True)  # warm-up: lazy initialisation
                k, m = args.callgrind_sessions, args.callgrind_requests
                ir_sessions = callgrind_block(t, outbase, lambda: sessions(t, s, k, slow=True))
                path = command_file(wd, m)
                ir_exec = callgrind_block(t, outbase,
                                          lambda: exec_requests(t, s, path, m, slow=True))
                per_session = ir_sessions / k
                out[(t.name, s)] = {
                    "instructions_per_session": per_session,
                    "instructions_per_request": (ir_exec - per_session) / (m - 1),
                    "sessions": k, "requests": m,
                }
                print("callgrind %-8s suite %2d: %9.0f instructions/session, %7.0f /request"
                      % (t.name, s, per_session, out[(t.name, s)]["instructions_per_request"]),
                      flush=True)
        finally:
            t.stop()
    return out


# ------------------------------------------------------------- report ----

def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass

    def version(argv, pattern=None):
        try:
            p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=10)
            text = p.stdout.decode("utf-8", "replace").strip()
        except (OSError, subprocess.TimeoutExpired):
            return "?"
        if pattern:
            mt = re.search(pattern, text)
            return mt.group(0) if mt else text.splitlines()[0] if text else "?"
        return text.splitlines()[0] if text else "?"

    return {
        "cpu": cpu, "cpus": os.cpu_count(), "kernel": platform.release(),
        "loadavg": os.getloadavg(),
        "ipmitool": version(["ipmitool", "-V"]),
        "ipmi_sim": version(["dpkg-query", "-W", "-f", "${Version}", "openipmi"]),
        "openssl": version(["openssl", "version"]),
    }


def fmt(s, digits=0):
    f = "%%.%df" % digits
    return "%s (%s-%s)" % (f % s["median"], f % s["min"], f % s["max"])


def paired(a, b, key, minus=None):
    """Ratios a/b of one figure round by round (the rounds were interleaved,
    so round i of both saw the same machine); minus subtracts the floor of
    the same round from both first."""
    out = []
    for i, (x, y) in enumerate(zip(a, b)):
        f = minus[i][key] if minus else 0.0
        if y[key] - f > 0:
            out.append((x[key] - f) / (y[key] - f))
    return summarize(out) if out else None


def report(targets, suites, rounds, cg, args, env_before, env_after, shape):
    lines = []
    add = lines.append
    add("Machine: %s, %d CPUs, Linux %s; load average %.2f at start, %.2f at end."
        % (env_before["cpu"], env_before["cpus"], env_before["kernel"],
           env_before["loadavg"][0], env_after["loadavg"][0]))
    add("Versions: %s; ipmi_sim (openipmi) %s; %s."
        % (env_before["ipmitool"], env_before["ipmi_sim"], env_before["openssl"]))
    for t in targets:
        for s in suites:
            if t.suites.get(s) is not None:
                add("%s: suite %d not supported: %s" % (t.name, s, t.suites[s]))
    fl = rounds.get(("floor", 0))
    if shape.get("floor"):
        sh = shape["floor"]
        add("Session shape (seen through a relay): %d datagram exchanges per `power status` "
            "session, client think time %.0f us between a reply and the next request, %.0f us "
            "inside exec." % (sh["exchanges"], sh["gap"] * 1e6, sh["request_gap"] * 1e6))
    if rounds:
        add("Run: %d rounds x (%d sessions + 1 session of %d requests) per daemon and suite, "
            "interleaved." % (args.rounds, args.sessions, args.requests))
        add("Figures: median (min-max) over rounds. CPU is the daemon's (user + system); "
            "wall time is what the client saw, ipmitool's own start-up included.")
        add("")
        add("| daemon | suite | CPU us / session | CPU us / request | wall ms / session "
            "| wall us / request |")
        add("| --- | --- | --- | --- | --- | --- |")
        rows = [(t.name, s) for t in targets for s in suites if (t.name, s) in rounds]
        if fl:
            rows.append(("floor", 0))
        for name, s in rows:
            rs = rounds[(name, s)]
            add("| %s | %s | %s | %s | %s | %s |" % (
                name if name != "floor" else "floor (udp_echo)",
                s if name != "floor" else "-",
                fmt(summarize([x["cpu_us_per_session"] for x in rs])),
                fmt(summarize([x["cpu_us_per_request"] for x in rs]), 1),
                fmt(summarize([x["wall_ms_per_session"] for x in rs]), 2),
                fmt(summarize([x["wall_us_per_request"] for x in rs]))))
        add("")
    verdict = None
    for s in suites:
        a, b, c = rounds.get(("metalbmc", s)), rounds.get(("ipmi_sim", s)), \
            rounds.get(("baseline", s))
        if a and b:
            rs, rq = paired(a, b, "cpu_us_per_session"), paired(a, b, "cpu_us_per_request")
            add("- Suite %d, metalbmc / ipmi_sim CPU, paired by round: per session %s, "
                "per request %s." % (s, fmt(rs, 2), fmt(rq, 2)))
            if fl:
                fs = paired(a, b, "cpu_us_per_session", fl)
                fq = paired(a, b, "cpu_us_per_request", fl)
                add("- Suite %d, the same above the floor (each minus the floor of its round): "
                    "per session %s, per request %s."
                    % (s, fmt(fs, 2) if fs else "-", fmt(fq, 2) if fq else "-"))
            if verdict is None:
                verdict = rs["median"]
        if a and c:
            rb, rr = paired(a, c, "cpu_us_per_session"), paired(a, c, "cpu_us_per_request")
            add("- Suite %d, metalbmc / baseline CPU, paired by round: per session %s, "
                "per request %s." % (s, fmt(rb, 2), fmt(rr, 2)))
    if verdict is not None:
        add("- Target (metalbmc at most 1/3 of ipmi_sim's CPU per session): %s "
            "(median ratio %.2f)." % ("met" if verdict <= 1 / 3 else "NOT met", verdict))
    if cg:
        add("")
        add("Instructions (valgrind --tool=callgrind; user space only, so no kernel and no "
            "floor; %d sessions and 1 session of %d requests per daemon and suite):"
            % (args.callgrind_sessions, args.callgrind_requests))
        add("")
        add("| daemon | suite | instructions / session | instructions / request |")
        add("| --- | --- | --- | --- |")
        for t in targets:
            for s in suites:
                c = cg.get((t.name, s))
                if c:
                    add("| %s | %d | %.0f | %.0f |" % (t.name, s, c["instructions_per_session"],
                                                       c["instructions_per_request"]))
        add("")
        for s in suites:
            a, b = cg.get(("metalbmc", s)), cg.get(("ipmi_sim", s))
            c = cg.get(("baseline", s))
            if a and c:
                add("- Suite %d instructions, metalbmc / baseline: per session %.2f, "
                    "per request %.2f." % (s, a["instructions_per_session"] /
                                           c["instructions_per_session"],
                                           a["instructions_per_request"] /
                                           c["instructions_per_request"]))
            if a and b:
                add("- Suite %d instructions, metalbmc / ipmi_sim: per session %.2f, "
                    "per request %.2f." % (s, a["instructions_per_session"] /
                                           b["instructions_per_session"],
                                           a["instructions_per_request"] /
                                           b["instructions_per_request"]))
    return "\n".join(lines)


def default_metalbmc():
    for cand in (os.environ.get("METALBMC_BIN"),
                 os.path.join(SOURCE, "build", "appliance", "metalbmc")):
        if cand and os.path.exists(cand):
            return cand
    return shutil.which("metalbmc")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--metalbmc", default=default_metalbmc(),
                    help="metalbmc binary (a Release build); default $METALBMC_BIN or build/")
    ap.add_argument("--baseline", help="a second metalbmc binary (say, before a change), "
                    "measured alongside as 'baseline'")
    ap.add_argument("--ipmi-sim", default=shutil.which("ipmi_sim") or "/usr/bin/ipmi_sim")
    ap.add_argument("--no-ipmi-sim", action="store_true",
                    help="leave ipmi_sim out (metalbmc against --baseline only)")
    ap.add_argument("--sessions", type=int, default=300, help="sessions per round (N)")
    ap.add_argument("--requests", type=int, default=1000,
                    help="requests in the one open session per round (M)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--suites", default="3,17", help="cipher suites, comma-separated")
    ap.add_argument("--no-floor", action="store_true",
                    help="skip the udp_echo floor (needs a C compiler)")
    ap.add_argument("--callgrind", action="store_true",
                    help="also count instructions under valgrind --tool=callgrind")
    ap.add_argument("--callgrind-only", action="store_true",
                    help="only the instruction counts")
    ap.add_argument("--callgrind-sessions", type=int, default=20)
    ap.add_argument("--callgrind-requests", type=int, default=200)
    ap.add_argument("--json", help="write all figures to this file")
    ap.add_argument("--workdir", help="keep configs and logs here (default: a temp dir)")
    args = ap.parse_args()
    if not args.metalbmc or not os.path.exists(args.metalbmc):
        ap.error("no metalbmc binary: pass --metalbmc")
    if not (1 <= args.sessions <= 10000 and 2 <= args.requests <= 100000 and
            1 <= args.rounds <= 100):
        ap.error("sessions 1..10000, requests 2..100000, rounds 1..100")
    suites = [int(x) for x in args.suites.split(",") if x.strip()]
    wd = args.workdir or tempfile.mkdtemp(prefix="metalbmc-bench-")
    os.makedirs(wd, exist_ok=True)
    binary = os.path.abspath(args.metalbmc)

    env_before = machine()
    rounds, cg, targets_shape = {}, {}, {}
    floor = None
    targets = [Metalbmc(wd, binary)]
    if not args.no_ipmi_sim:
        targets.append(IpmiSim(wd, args.ipmi_sim))
    if args.baseline:
        targets.insert(1, Metalbmc(wd, os.path.abspath(args.baseline), name="baseline"))
    if not args.callgrind_only:
        try:
            for t in targets:
                t.start()
                probe_suites(t, suites)
                for s in suites:  # warm-up: lazy initialisation, page faults
                    if t.suites.get(s) is None:
                        sessions(t, s, 10)
                        exec_requests(t, s, command_file(wd, 20), 20)
                    else:
                        print("%s: suite %d not supported: %s" % (t.name, s, t.suites[s]),
                              flush=True)
            floor = shape = None
            if not args.no_floor:
                shapes = {}
                for t in targets:
                    for s in suites:
                        if t.suites.get(s) is None:
                            shapes["%s/%d" % (t.name, s)] = session_shape(t, s, wd)
                shape = dict(shapes["metalbmc/%d" % suites[0]])
                # The start-up pause only needs to be long enough for the
                # machine to go idle; the floor's cost stops growing by 5 ms.
                shape["startup"] = 0.010
                floor = Floor(wd).start()
                targets_shape.update(shapes)
                targets_shape["floor"] = shape
            rounds = run_rounds(targets, suites, args, wd, floor, shape)
        finally:
            for t in targets:
                t.stop()
            if floor:
                floor.stop()
    if args.callgrind or args.callgrind_only:
        cg = run_callgrind(targets, suites, args, wd)
    env_after = machine()

    text = report(targets, suites, rounds, cg, args, env_before, env_after, targets_shape)
    print()
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({
                "machine": env_before, "loadavg_after": env_after["loadavg"],
                "args": vars(args),
                "unsupported": {t.name: {str(s): e for s, e in t.suites.items() if e}
                                for t in targets},
                "rounds": {"%s/%d" % k: v for k, v in rounds.items()},
                "session_shape": targets_shape,
                "callgrind": {"%s/%d" % k: v for k, v in cg.items()},
            }, f, indent=1)
    if not args.workdir:
        shutil.rmtree(wd, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
