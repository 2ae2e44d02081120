"""Tag-driven discovery against metal-sim: more devices than one page
(250 tagged at per_page 100, and a second project from METAL_PROJECT_ID),
the listing asked for with the server-side tag filter and exclude, every
call made with the User-Agent metalbmc/<version>; tagging through a real
PUT /devices/{id} adds a persona within two listings, untagging retires it
within three (two, plus the confirming one docs/metal.md describes), and
an ipmitool session held open to it stops answering; a rename re-routes;
ipmi.port=auto gives an own listener whose port survives a restart with
the same state directory; a malformed ipmi tag is logged once and
ignored; a deleted device's persona is retired and its session closed.

Listings are counted from the daemon log (one line per completed listing),
not timed: a slow machine stretches the seconds, not the count."""

import json
import os
import random
import sys
import time

from harness import Checks, fields, wait_until, workdir
from metal_helpers import (PROJECT, PROJECT2, Pair, device, fixture, metalbmc_user_agent,
                           missing_once, quick_shell)

NAME = "metal_discovery"
POLL = 1          # seconds
PER_PAGE = 100
# Only stops a wait that would otherwise never end; what is asserted is
# the number of listings a change takes.
SAFETY = 60
# A tag is seen by the second listing after the PUT at the latest: the one
# in flight may have read the device's page already. An untag is seen
# missing by that one and retired by the next, confirming listing.
TAG_LISTINGS = 2
UNTAG_LISTINGS = TAG_LISTINGS + 1


def retire_holding_a_session(ck, p, d, act, what):
    """Holds an ipmitool shell session to device d, does act (an untag or a
    deletion through the API), and checks that the persona is retired
    within UNTAG_LISTINGS listings and the held session ends with it.
    Returns the number of the listing that retired it."""
    shell = quick_shell(p.d.port, d["short_id"], p.password)
    try:
        ck.ok(shell.opened, "an ipmitool shell holds a session open", shell.last_output)
        ck.contains(shell.command("power status") or "", "Chassis Power is on",
                    "the session answers before")
        ended = p.d.log_count("ended: persona retired")
        t0 = time.monotonic()
        took, number = p.listings_for(act, "(device %s): retired" % d["id"], safety=SAFETY)
        ck.ok(took <= UNTAG_LISTINGS, "retired by listing %d after %s (at most %d), %.1f s"
              % (took, what, UNTAG_LISTINGS, time.monotonic() - t0), took)
        ck.eq(p.d.log_count("ended: persona retired"), ended + 1,
              "the daemon ended the open session with the persona")
        out = shell.command("power status", timeout=SAFETY)
        ck.ok(out is None or ("Unable to get Chassis Power Status" in out
                              and "Chassis Power is on" not in out),
              "the held session no longer answers", out)
        return number
    finally:
        shell.close()


def main():
    ck = Checks(NAME)
    wd = workdir(NAME)
    tagged = [device(i) for i in range(1, 251)]
    spare = [device(i, tagged=False) for i in range(251, 261)]
    other = [device(i, project=PROJECT2) for i in range(1001, 1004)]
    fx = fixture(tagged + spare, more_projects=[(PROJECT2, other)])
    # A port range of its own: tests run in parallel, and another daemon
    # drawing from the default range could take the port this one keeps.
    lo = 30000 + random.randrange(0, 30000, 100)
    p = Pair(wd, fx, poll_interval=POLL, per_page=PER_PAGE,
             ipmi={"port_range": "%d-%d" % (lo, lo + 99)})
    # Both projects from the environment (which wins over the file).
    env_projects = "%s,%s" % (PROJECT, PROJECT2)
    try:
        p.sim.start()
        from harness import Daemon
        # A proxy in the environment must not be used for plain http to
        # the emulator (the token would cross it in clear): this one
        # leads nowhere, so any use of it would fail every poll.
        p.d = Daemon(wd, p.config(), env={"METAL_PROJECT_ID": env_projects,
                                          "http_proxy": "http://127.0.0.1:9",
                                          "HTTP_PROXY": "http://127.0.0.1:9"})
        p.d.start()

        with ck.section("every page of every project"):
            p.wait_personas(253, timeout=60)
            reqs = p.calls(0, "GET", "/metal/v1/projects/%s/devices" % PROJECT)
            pages = sorted({int(dict(kv.split("=", 1) for kv in r["query"].split("&"))["page"])
                            for r in reqs})
            ck.eq(pages, [1, 2, 3], "pages 1..3 of project 1 fetched")
            q = reqs[0]["query"] if reqs else ""
            ck.contains(q, "tag=ipmi%3Denabled", "server-side tag filter")
            ck.contains(q, "per_page=%d" % PER_PAGE, "per_page as configured")
            ck.contains(q, "exclude=", "big fields excluded")
            ck.contains(q, "ip_addresses", "ip_addresses among them")
            ck.ok(p.calls(0, "GET", "/metal/v1/projects/%s/devices" % PROJECT2),
                  "project 2 polled too")
            names = p.personas()
            for d in (tagged[0], tagged[149], tagged[249], other[2]):
                ck.eq(names.get(d["id"]), d["short_id"], "persona for %s" % d["hostname"])
                ck.eq(p.power_status(d["short_id"]), "Chassis Power is on",
                      "%s answers ipmitool" % d["short_id"])
            ck.eq(p.power_status("node-0150"), "Chassis Power is on", "hostname routes too")
            ck.ok(spare[0]["id"] not in names, "untagged device has no persona")

        with ck.section("User-Agent: metalbmc/<version>"):
            want = metalbmc_user_agent()
            agents = {r.get("user_agent") for r in p.calls(0)}
            ck.eq(agents, {want}, "every API call metalbmc made carries %s" % want)

        with ck.section("tagging through the API adds a persona within two listings"):
            d = spare[0]
            t0 = time.monotonic()
            took, _ = p.listings_for(lambda: p.tag(d["id"], ["ipmi=enabled", "role=test"]),
                                     "added for device %s" % d["id"], safety=SAFETY)
            ck.ok(took <= TAG_LISTINGS, "added by listing %d after the PUT (at most %d), %.1f s"
                  % (took, TAG_LISTINGS, time.monotonic() - t0), took)
            ck.eq(p.power_status(d["short_id"]), "Chassis Power is on", "it answers")

        with ck.section("untagging through the API retires it and closes its session"):
            d = tagged[10]
            number = retire_holding_a_session(
                ck, p, d, lambda: p.tag(d["id"], ["role=test"]), "the PUT")
            ck.ok(missing_once(p.listing_line(number - 1)) >= 1,
                  "the listing before the retiring one saw it missing once (confirmed, "
                  "not retired at the first miss)", p.listing_line(number - 1))
            rc, out = p.ipmitool(d["short_id"], "power", "status", retries=1)
            ck.ok(rc != 0, "a new session is refused too", out)
            ck.eq(len(p.personas()), 253, "253 personas: one added, one retired")

        with ck.section("rename through the API re-routes"):
            d = tagged[20]
            st, _ = p.sim.api("PUT", "/devices/%s" % d["id"], {"hostname": "renamed-21"})
            ck.eq(st, 200, "PUT hostname")
            wait_until(lambda: p.power_status("renamed-21") == "Chassis Power is on", SAFETY,
                       "the new hostname to route")
            rc, out = p.ipmitool(d["hostname"], "power", "status", retries=1)
            ck.ok(rc != 0, "the old hostname no longer routes", out)
            ck.eq(p.power_status(d["short_id"]), "Chassis Power is on", "short_id still routes")

        with ck.section("ipmi.port=auto: an own listener"):
            d = tagged[30]
            p.tag(d["id"], ["ipmi=enabled", "role=test", "ipmi.port=auto"])
            p.d.wait_log("persona %s: own listener on" % d["short_id"], timeout=SAFETY)
            state = os.path.join(wd, "metalbmc-state", "assignments.json")
            wait_until(lambda: os.path.exists(state), 10, "assignments.json")
            with open(state) as f:
                entry = [e for e in json.load(f)["assignments"] if e["device_id"] == d["id"]]
            ck.eq(len(entry), 1, "recorded in the state directory")
            port = entry[0]["port"] if entry else 0
            ck.ok(lo <= port <= lo + 99, "port from ipmi.port_range", port)
            ck.eq(oct(os.stat(state).st_mode & 0o777), "0o600", "state file mode 0600")
            rc, out = p.ipmitool("admin", "power", "status", port=port)
            ck.eq((rc, out.strip()), (0, "Chassis Power is on"), "user admin on its own port")
            d2 = tagged[31]
            p.tag(d2["id"], ["ipmi=enabled", "role=test", "ipmi.port=auto"])
            p.d.wait_log("persona %s: own listener on" % d2["short_id"], timeout=SAFETY)

        with ck.section("a restart keeps the own ports"):
            def recorded():
                with open(state) as f:
                    return {e["device_id"]: e["port"] for e in json.load(f)["assignments"]}
            # The listener opens before the file is rewritten: wait for both.
            wait_until(lambda: d2["id"] in recorded(), 10, "the second assignment recorded")
            before = recorded()
            p.d.restart()
            p.wait_personas(253, timeout=60)
            p.d.wait_log("persona %s: own listener on" % d2["short_id"], timeout=30, count=2)
            with open(state) as f:
                after = {e["device_id"]: e["port"] for e in json.load(f)["assignments"]}
            ck.eq(after, before, "same assignments after the restart")
            rc, out = p.ipmitool("admin", "power", "status", port=before[d["id"]])
            ck.eq((rc, out.strip()), (0, "Chassis Power is on"), "same port answers")
            rc, out = p.ipmitool("admin", "power", "status", port=before[d2["id"]])
            ck.eq(rc, 0, "so does the second")

        with ck.section("a malformed ipmi tag is logged once and ignored"):
            d = tagged[40]
            p.tag(d["id"], ["ipmi=enabled", "ipmi.port=banana", "role=test"])
            p.d.wait_log("tag \"ipmi.port=banana\" ignored", timeout=SAFETY)
            # Several more listings: still one line.
            n = p.d.log_count("discovery: project %s" % PROJECT)
            p.d.wait_log("discovery: project %s" % PROJECT, count=n + 3, timeout=20)
            ck.eq(p.d.log_count("ipmi.port=banana"), 1, "logged once")
            ck.eq(p.power_status(d["short_id"]), "Chassis Power is on", "persona unharmed")

        with ck.section("a tag cannot take another device's name"):
            # Device b tagged ipmi.user=<a's short ID>: ipmitool with a's
            # name must still reach a (its FRU serial is a's device ID),
            # never b, whatever order the API lists them in. b comes first
            # in the listing (and in the persona table), where a "first
            # claim wins" index would give it the name.
            b, a = tagged[60], tagged[61]

            def serial(name):
                rc, out = p.ipmitool(name, "fru", "print", "0", retries=1)
                return fields(out).get("Product Serial") if rc == 0 else "rc=%d" % rc
            ck.eq(serial(a["short_id"]), a["id"], "before: a's name reaches a")
            p.tag(b["id"], ["ipmi=enabled", "ipmi.user=%s" % a["short_id"]])
            p.d.wait_log("device %s: another persona claims the user name %s"
                         % (b["id"], a["short_id"]), timeout=SAFETY)
            ck.eq(serial(a["short_id"]), a["id"], "after the clash a's name still reaches a")
            rc, out = p.ipmitool(b["short_id"], "power", "status", retries=1)
            ck.ok(rc != 0, "b's own short ID is not its routing name any more", out)

        with ck.section("a deleted device is retired and its session closed"):
            d = tagged[50]
            retire_holding_a_session(
                ck, p, d, lambda: p.sim._call("POST", "/_sim/devices/%s" % d["id"],
                                              {"deleted": True}), "the deletion")

        with ck.section("secrets"):
            p.scan_secrets(ck)
        p.d.check_exit(ck)
    finally:
        p.stop()
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
