#!/usr/bin/python3
"""Discovery benchmark: metal-sim with 10,000 devices, half of them tagged
ipmi=enabled, and metalbmc in front of it.

Not a test (nothing here passes or fails on timing); a script anyone can
rerun. Results go to docs/performance.md, section "Discovery".

    /usr/bin/python3 tests/bench/discovery_bench.py \\
        --metalbmc BUILD/appliance/metalbmc --metal-sim BUILD/tests/metal-sim/metal-sim

It measures:
  * first poll: paging through every page of the tagged listing and
    reconciling it into 5,000 new personas (metalbmc's own log line gives
    the poll's duration and the reconcile part of it), and the wall time
    from the daemon's start to that line;
  * steady polls: the same listing again, nothing to change;
  * loop stalls: RMCP presence pings (ASF) sent back to back during a
    poll; the slowest answer shows how long page decoding and
    reconciliation hold the loop;
  * memory: the daemon's RSS (VmRSS) and peak (VmHWM) with 5,000 personas;
  * API calls per IPMI operation: metal-sim's request log around
    ipmitool power status, chassis status, power off, bootdev pxe.

Targets (issue 3): a poll under 10 s, RSS under 64 MiB, zero API calls for
power status. Traffic goes only to 127.0.0.1; every wait is bounded.
"""

import argparse
import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))


def free_port(kind):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_until(cond, timeout, what, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise TimeoutError("timed out waiting for " + what)
        time.sleep(interval)


PING = bytes([0x06, 0x00, 0xFF, 0x06, 0x00, 0x00, 0x11, 0xBE, 0x80, 0x42, 0x00, 0x00])


def ping_rtt(sock, port):
    t = time.monotonic()
    sock.sendto(PING, ("127.0.0.1", port))
    try:
        sock.recvfrom(512)
    except socket.timeout:
        return None
    return (time.monotonic() - t) * 1000.0


def status_kib(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


class Sim:
    def __init__(self, binary, fixture, wd, token):
        self.token = token
        port_file = os.path.join(wd, "sim.port")
        self.log = open(os.path.join(wd, "metal-sim.log"), "wb")
        self.proc = subprocess.Popen([binary, "--listen", "127.0.0.1:0", "--token", token,
                                      "--fixture", fixture, "--port-file", port_file],
                                     stdout=self.log, stderr=subprocess.STDOUT)

        def ready():
            try:
                with open(port_file) as f:
                    return int(f.read().strip() or 0)
            except (FileNotFoundError, ValueError):
                return 0
        self.port = wait_until(ready, 60, "metal-sim")

    def call(self, method, path, body=None):
        import http.client
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        hdrs = {"X-Auth-Token": self.token}
        data = json.dumps(body).encode() if body is not None else None
        c.request(method, path, body=data, headers=hdrs)
        r = c.getresponse()
        raw = r.read()
        c.close()
        return r.status, json.loads(raw) if raw else None

    def mark(self):
        return self.call("GET", "/_sim/requests?since=0")[1]["next_seq"] - 1

    def since(self, seq):
        return self.call("GET", "/_sim/requests?since=%d" % seq)[1]["requests"]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.log.close()


def poll_lines(log_path):
    """(total ms, reconcile ms or None, devices) for each finished poll."""
    out = []
    pat_change = re.compile(r"(\d+) tagged device\(s\) in (\d+) page\(s\), (\d+) ms \(reconcile (\d+) ms\)")
    pat_same = re.compile(r"(\d+) device\(s\), (\d+) page\(s\), (\d+) ms, no change \(reconcile (\d+) ms\)")
    with open(log_path, errors="replace") as f:
        for line in f:
            m = pat_change.search(line)
            if m:
                out.append((int(m.group(3)), int(m.group(4)), int(m.group(1)), int(m.group(2))))
                continue
            m = pat_same.search(line)
            if m:
                out.append((int(m.group(3)), int(m.group(4)), int(m.group(1)), int(m.group(2))))
    return out


def ipmitool(port, user, password, *args):
    p = subprocess.run(["ipmitool", "-I", "lanplus", "-C", "17", "-H", "127.0.0.1", "-p", str(port),
                        "-U", user, "-P", password] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    return p.returncode, p.stdout.decode(errors="replace")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--metalbmc", required=True)
    ap.add_argument("--metal-sim", required=True)
    ap.add_argument("--devices", type=int, default=10000)
    ap.add_argument("--tagged-fraction", type=float, default=0.5)
    ap.add_argument("--per-page", type=int, default=0, help="metal.per_page (0: the default)")
    ap.add_argument("--steady-polls", type=int, default=3)
    ap.add_argument("--json", help="also write the figures here")
    args = ap.parse_args()

    wd = tempfile.mkdtemp(prefix="metalbmc-discovery-bench-")
    fixture = os.path.join(wd, "fixture.json")
    with open(fixture, "w") as f:
        subprocess.run([sys.executable, os.path.join(SOURCE, "tests/metal-sim/gen_fixture.py"),
                        "--devices", str(args.devices), "--tagged-fraction",
                        str(args.tagged_fraction)], stdout=f, check=True)
    with open(fixture) as f:
        fx = json.load(f)
    project = fx["projects"][0]["id"]
    tagged = [d for d in fx["projects"][0]["devices"] if "ipmi=enabled" in d.get("tags", [])]
    token = "bench-" + secrets.token_hex(8)
    password = "bench-" + secrets.token_hex(4)
    sim = Sim(args.metal_sim, fixture, wd, token)
    ipmi_port = free_port("udp")
    poll_s = 20
    cfg = os.path.join(wd, "metalbmc.yaml")
    metal = ("metal:\n  token: \"%s\"\n  project_ids: [\"%s\"]\n  api_url: \"http://127.0.0.1:%d/metal/v1\"\n"
             "  poll_interval: %d\n" % (token, project, sim.port, poll_s))
    if args.per_page:
        metal += "  per_page: %d\n" % args.per_page
    with open(os.open(cfg, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(metal + "ipmi:\n  listen: [\"127.0.0.1:%d\"]\n  password: \"%s\"\n"
                "  setup_rate: 1000\n  setup_burst: 1000\nweb:\n  enabled: false\n"
                "state_dir: \"%s\"\n" % (ipmi_port, password, os.path.join(wd, "state")))
    log_path = os.path.join(wd, "metalbmc.log")
    log = open(log_path, "wb")
    t_start = time.monotonic()
    d = subprocess.Popen([args.metalbmc, "--config", cfg, "--log-level", "debug"],
                         stdout=log, stderr=subprocess.STDOUT)
    results = {"devices": args.devices, "tagged": len(tagged)}
    try:
        # Presence pings back to back from the start: the slowest answer
        # is the longest the loop was busy with something else.
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.settimeout(0.2)
        wait_until(lambda: ping_rtt(sock, ipmi_port) is not None, 30, "metalbmc up")
        sock.settimeout(5)
        rtts = []
        deadline = time.monotonic() + 120
        while not poll_lines(log_path) and time.monotonic() < deadline:
            r = ping_rtt(sock, ipmi_port)
            if r is not None:
                rtts.append(r)
        first = poll_lines(log_path)[0]
        t_ready = time.monotonic() - t_start
        results["first_poll_ms"] = first[0]
        results["first_reconcile_ms"] = first[1]
        results["first_poll_devices"] = first[2]
        results["pages"] = first[3]
        results["start_to_personas_s"] = round(t_ready, 2)
        results["ping_max_ms_first_poll"] = round(max(rtts), 1) if rtts else None
        results["ping_median_ms"] = round(statistics.median(rtts), 2) if rtts else None
        results["rss_kib_after_first_poll"] = status_kib(d.pid, "VmRSS")

        # Steady polls (nothing changes), pinging throughout.
        rtts = []
        want = 1 + args.steady_polls
        deadline = time.monotonic() + poll_s * (args.steady_polls + 2) + 60
        while len(poll_lines(log_path)) < want and time.monotonic() < deadline:
            r = ping_rtt(sock, ipmi_port)
            if r is not None:
                rtts.append(r)
            time.sleep(0.002)
        steady = poll_lines(log_path)[1:want]
        results["steady_poll_ms"] = [p[0] for p in steady]
        results["steady_reconcile_ms"] = [p[1] for p in steady]
        results["ping_max_ms_steady"] = round(max(rtts), 1) if rtts else None
        results["rss_kib"] = status_kib(d.pid, "VmRSS")
        results["hwm_kib"] = status_kib(d.pid, "VmHWM")

        # API calls per IPMI operation (between polls: the next one is
        # poll_s away; each phase is checked to stay clear of it).
        active = [x for x in tagged if x.get("state", "active") == "active"]
        user = active[0]["short_id"]
        calls = {}
        mark = sim.mark()
        for _ in range(10):
            ipmitool(ipmi_port, user, password, "power", "status")
        ipmitool(ipmi_port, user, password, "chassis", "status")
        reqs = sim.since(mark)
        calls["power status x10 + chassis status"] = len([r for r in reqs if "/devices/" in r["path"]
                                                          and "/projects/" not in r["path"]])
        mark = sim.mark()
        ipmitool(ipmi_port, user, password, "chassis", "bootdev", "pxe", "options=persistent")
        reqs = sim.since(mark)
        calls["bootdev pxe"] = ["%s %s" % (r["method"], r["status"]) for r in reqs
                                if active[0]["id"] in r["path"]]
        mark = sim.mark()
        ipmitool(ipmi_port, user, password, "power", "off")
        wait_until(lambda: sim.call("GET", "/_sim/devices/%s" % active[0]["id"])[1]["device"]["state"]
                   == "inactive", 60, "power off to settle")
        time.sleep(6)  # the watch runs on a little after the state settles
        reqs = sim.since(mark)
        mine = [r for r in reqs if active[0]["id"] in r["path"]]
        calls["power off (action + refreshes until inactive)"] = {
            "POST": len([r for r in mine if r["method"] == "POST"]),
            "GET": len([r for r in mine if r["method"] == "GET"]),
        }
        results["api_calls"] = calls
        decode = [int(x) for x in re.findall(r"decoded in (\d+) ms", open(log_path).read())]
        results["page_decode_ms_max"] = max(decode) if decode else None
        results["page_decode_ms_median"] = statistics.median(decode) if decode else None
    finally:
        d.terminate()
        d.wait(timeout=30)
        log.close()
        sim.stop()

    print("discovery bench: %d devices, %d tagged, %d pages" %
          (results["devices"], results["tagged"], results["pages"]))
    for k, v in results.items():
        print("  %-34s %s" % (k, v))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    shutil.rmtree(wd, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
