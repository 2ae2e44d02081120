"""Shared pieces of the Metal end-to-end tests (test_metal_*.py): fixtures,
metal-sim + metalbmc started together, the API calls metalbmc made (from
metal-sim's request log), and the personas discovery holds (from the
daemon's log lines, which discovery writes for every add and retire).
Standard library only."""

import json
import re
import secrets
import time

from harness import Daemon, IpmiShell, MetalSim, random_password, run_metalbmc, wait_until

PROJECT = "5f3a2c1e-8b7d-4e6f-9a0b-1c2d3e4f5a6b"
PROJECT2 = "8d2c6a10-4b1e-4f3a-9c5d-7e8f9a0b1c2d"


def device(n, tagged=True, state="active", tags=(), project=PROJECT, **extra):
    """A Device as the API returns it; id and short_id derived from n so
    tests can name them."""
    did = "d%07x-0000-4000-8000-%012x" % (n, n)
    d = {
        "id": did,
        "short_id": did[:8],
        "hostname": "node-%04d" % n,
        "state": state,
        "tags": (["ipmi=enabled"] if tagged else []) + ["role=test"] + list(tags),
        "always_pxe": False,
        "operating_system": {"slug": "ubuntu_22_04", "name": "Ubuntu 22.04 LTS"},
        "facility": {"code": "da11", "name": "Dallas DA11"},
        "metro": {"code": "da", "name": "Dallas"},
        "plan": {"slug": "c3.small.x86", "name": "c3.small.x86"},
        "ip_addresses": [{"address": "10.0.%d.%d" % (n // 250, n % 250 + 1), "public": False}],
    }
    d.update(extra)
    return d


def fixture(devices, project=PROJECT, more_projects=()):
    projects = [{"id": project, "devices": list(devices)}]
    for pid, devs in more_projects:
        projects.append({"id": pid, "devices": list(devs)})
    return {"projects": projects}


class Pair:
    """metal-sim and metalbmc in front of it, with a fresh random token
    and IPMI password (both checked against every log at the end)."""

    def __init__(self, wd, fx, poll_interval=1, per_page=None, sim_args=(), metal=None,
                 ipmi=None, extra=None, name="metalbmc"):
        self.token = "tok-" + secrets.token_hex(12)
        self.password = random_password()
        self.sim = MetalSim(wd, fx, token=self.token,
                            args=["--verbose"] + list(sim_args))
        self.wd = wd
        self.poll_interval = poll_interval
        self.metal = dict(metal or {})
        if per_page:
            self.metal["per_page"] = per_page
        self.ipmi = dict(ipmi or {})
        self.extra = dict(extra or {})
        self.name = name
        self.d = None

    def config(self):
        metal = {"token": self.token, "project_ids": [PROJECT], "api_url": self.sim.url,
                 "poll_interval": self.poll_interval}
        metal.update(self.metal)
        ipmi = {"password": self.password, "setup_rate": 1000, "setup_burst": 1000}
        ipmi.update(self.ipmi)
        cfg = {"metal": metal, "ipmi": ipmi, "web": {"enabled": False}}
        cfg.update(self.extra)
        return cfg

    def start(self):
        self.sim.start()
        self.d = Daemon(self.wd, self.config(), name=self.name)
        self.d.start()
        return self

    def stop(self):
        if self.d:
            self.d.stop()
        self.sim.stop()

    # -- what discovery did, from the daemon log --------------------------
    def personas(self):
        """Routing names of the personas discovery holds now."""
        live = {}
        for line in self.d.read_log().splitlines():
            if ": added for device " in line:
                name = line.split("persona ", 1)[1].split(":", 1)[0]
                dev = line.split("added for device ", 1)[1].split(" ", 1)[0]
                live[dev] = name
            elif "): retired: " in line:
                dev = line.split("(device ", 1)[1].split(")", 1)[0]
                live.pop(dev, None)
        return live

    def wait_personas(self, count, timeout=30):
        return wait_until(lambda: len(self.personas()) == count, timeout,
                          "%d personas (have %d)" % (count, len(self.personas())))

    def wait_persona(self, device_id, present=True, timeout=30):
        return wait_until(lambda: (device_id in self.personas()) == present, timeout,
                          "device %s persona %s" % (device_id, "added" if present else "retired"))

    # -- listings, counted from the daemon log -------------------------------
    # Every completed listing of a project (a poll or a confirming one, ok
    # or failed) logs one "discovery: project ID: ..." line, after the
    # persona lines it caused; the log is written by the one loop thread,
    # in order. So "how many listings did a change take" is read there.
    @staticmethod
    def _listing_needle(project):
        return "discovery: project %s: " % project

    def listings(self, project=PROJECT):
        """How many listings of project have completed so far."""
        return self.d.log_count(self._listing_needle(project))

    def listing_of(self, event, since, project=PROJECT):
        """The number (1 = the first in the log) and the log line of the
        listing that logged event (the first line holding it after listing
        number since), or None while there is none yet."""
        needle = self._listing_needle(project)
        seen, found = 0, False
        for line in self.d.read_log().splitlines():
            if needle in line:
                seen += 1
                if found:
                    return seen, line
            elif not found and seen >= since and event in line:
                found = True
        return None

    def listing_line(self, number, project=PROJECT):
        needle = self._listing_needle(project)
        lines = [l for l in self.d.read_log().splitlines() if needle in l]
        return lines[number - 1] if 0 < number <= len(lines) else ""

    def listings_for(self, change, event, project=PROJECT, safety=60):
        """Makes change() (a real API call) and returns how many completed
        listings it took until one logged event, and that listing's number.
        A listing in flight during the change may have read the page
        already; the count starts after the change returned (if the event
        came with a listing that ended while the change was answered, that
        listing is the one: 1). safety only stops the wait."""
        before = self.listings(project)
        change()
        after = self.listings(project)
        got = wait_until(lambda: self.listing_of(event, before, project), safety,
                         "a listing of %s to log %r" % (project, event))
        number = got[0]
        return max(1, number - after), number

    # -- what metalbmc asked the API, from metal-sim ------------------------
    def api_requests(self, since_seq=0):
        out = self.sim._call("GET", "/_sim/requests?since=%d" % since_seq)[1]
        return out["requests"], out["next_seq"]

    def mark(self):
        """A point in the request log to count from (?since= returns the
        requests numbered above it; next_seq is the next one's number)."""
        return self.api_requests()[1] - 1

    def calls(self, since, method=None, path=None, path_prefix=None):
        reqs, _ = self.api_requests(since)
        out = []
        for r in reqs:
            if method and r["method"] != method:
                continue
            if path and r["path"] != path:
                continue
            if path_prefix and not r["path"].startswith(path_prefix):
                continue
            out.append(r)
        return out

    def sim_device(self, device_id):
        return self.sim.device(device_id)["device"]

    def wait_sim_state(self, device_id, state, timeout=30):
        return wait_until(lambda: self.sim_device(device_id).get("state") == state, timeout,
                          "device %s to be %s in metal-sim" % (device_id, state))

    def tag(self, device_id, tags):
        """Changes a device's tags through the real API, as a user would."""
        st, body = self.sim.api("PUT", "/devices/%s" % device_id, {"tags": list(tags)})
        assert st == 200, (st, body)
        return body

    def faults(self, **settings):
        st, body = self.sim.faults(settings)
        assert st == 200, (st, body)
        return body

    # -- clients --------------------------------------------------------------
    def ipmitool(self, user, *args, **kw):
        return self.d.ipmitool(user, *args, **kw)

    def power_status(self, user, **kw):
        rc, out = self.ipmitool(user, "power", "status", **kw)
        return out.strip() if rc == 0 else "rc=%d %s" % (rc, out.strip())

    def scan_secrets(self, ck):
        """The token and the IPMI password appear in no log: the daemon's
        (run at debug) and metal-sim's (run --verbose)."""
        self.d.scan_for_secrets(ck, [self.token, self.password])
        try:
            with open("%s/metal-sim.log" % self.wd, errors="replace") as f:
                sim_log = f.read()
        except FileNotFoundError:
            sim_log = ""
        ck.ok(len(sim_log) > 0, "metal-sim wrote a log (--verbose)")
        ck.ok(self.token not in sim_log, "API token absent from the metal-sim log")


def quick_shell(port, user, password):
    """An IpmiShell whose ipmitool gives up on an unanswered request after
    two tries a second apart: a test that shows a session stopped
    answering would otherwise wait about 20 s per command."""
    return IpmiShell(port, user, password, extra_args=("-R", "2", "-N", "1"))


def metalbmc_user_agent():
    """What metalbmc must send as its User-Agent: metalbmc/<version>, the
    version as `metalbmc --version` prints it."""
    rc, out, err = run_metalbmc(["--version"])
    m = re.match(r"metalbmc (\S+)\n?$", out)
    assert rc == 0 and m, (rc, out, err)
    return "metalbmc/" + m.group(1)


def missing_once(line):
    """The number a listing line gives as "N missing once" (0 if none)."""
    m = re.search(r", (\d+) missing once", line)
    return int(m.group(1)) if m else 0


def last_body(reqs):
    return reqs[-1].get("body") if reqs else None


def settle(seconds):
    """For the few places that must let time pass with nothing to poll for
    (to show that something did NOT happen); bounded and explicit."""
    time.sleep(seconds)


def dump_json(x):
    return json.dumps(x, sort_keys=True)
