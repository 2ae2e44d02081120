"""Power through the Metal backend, with ipmitool and FreeIPMI against
metal-sim: each power request reaches the emulated device as exactly the
expected POST /devices/{id}/actions, power status follows the device
through its transition states, and power status itself costs no API call.
Also the answers when the API refuses: a power on of a server that is on
(422, then a read-back: OK, as a BMC would say), a cycle of a server that
is off (power_on instead of reboot), a power on while the device is still
powering off (queued, sent once it is inactive), a deleted device (0xD3), a token the
API refuses (0xD4), diagnostic interrupt (no Metal action: 0xCC). Neither
the token nor the password reaches a log."""

import sys

from harness import Checks, fields, wait_until, workdir
from metal_helpers import Pair, device, fixture

NAME = "metal_power"
TRANSITION_MS = 1500


def main():
    ck = Checks(NAME)
    wd = workdir(NAME)
    devs = [device(1), device(2, state="inactive"), device(3), device(4), device(5, tagged=False)]
    ids = [d["id"] for d in devs]
    names = [d["short_id"] for d in devs]
    # One poll at start; after that only fast refreshes and actions talk to
    # the API, so every request in the log is one this test caused.
    p = Pair(wd, fixture(devs), poll_interval=3600,
             sim_args=["--transition-ms", str(TRANSITION_MS)])
    try:
        p.start()
        with ck.section("discovery"):
            p.wait_personas(4)
            ck.eq(sorted(p.personas().values()), sorted(names[:4]), "the four tagged devices")

        with ck.section("power status costs no API call"):
            mark = p.mark()
            ck.eq(p.power_status(names[0]), "Chassis Power is on", "active reads on")
            ck.eq(p.power_status(names[1]), "Chassis Power is off", "inactive reads off")
            rc, out = p.ipmitool(names[0], "chassis", "status")
            ck.eq(fields(out).get("System Power"), "on", "chassis status System Power on")
            rc, out = p.d.freeipmi("ipmipower", names[1], "--stat")
            ck.eq(out.strip(), "127.0.0.1: off", "ipmipower --stat off")
            rc, out = p.d.freeipmi("ipmi-chassis", names[0], "--get-chassis-status")
            ck.eq(fields(out).get("System Power"), "on", "ipmi-chassis System Power on")
            ck.eq(p.calls(mark), [], "no API request at all for five status reads")

        with ck.section("power off: one power_off action, status follows"):
            mark = p.mark()
            rc, out = p.ipmitool(names[0], "power", "off")
            ck.eq(rc, 0, "ipmitool power off exits 0")
            ck.contains(out, "Chassis Power Control: Down/Off", "its answer")
            posts = p.calls(mark, "POST", "/metal/v1/devices/%s/actions" % ids[0])
            ck.eq([r["body"] for r in posts], [{"type": "power_off"}], "exactly one power_off")
            ck.eq(posts[0]["status"] if posts else None, 202, "accepted with 202")
            ck.eq(p.power_status(names[0]), "Chassis Power is off", "reads off at once")
            p.wait_sim_state(ids[0], "inactive")
            p.d.wait_log("persona %s: power off by 127.0.0.1:" % names[0])
            ck.eq(p.power_status(names[0]), "Chassis Power is off", "off once settled")
            others = [r for r in p.calls(mark) if ids[0] not in r["path"]]
            ck.eq(others, [], "no request about any other device")

        with ck.section("power on: power_on, through powering_on"):
            mark = p.mark()
            rc, out = p.ipmitool(names[0], "power", "on")
            ck.eq(rc, 0, "ipmitool power on exits 0")
            posts = p.calls(mark, "POST", "/metal/v1/devices/%s/actions" % ids[0])
            ck.eq([r["body"] for r in posts], [{"type": "power_on"}], "exactly one power_on")
            ck.eq(p.power_status(names[0]), "Chassis Power is on", "reads on at once")
            p.wait_sim_state(ids[0], "active")
            refreshes = p.calls(mark, "GET", "/metal/v1/devices/%s" % ids[0])
            ck.ok(len(refreshes) >= 1, "the device was refreshed while it settled",
                  len(refreshes))
            ck.ok(all("exclude=" in r["query"] for r in refreshes), "refreshes ask for less")

        with ck.section("power cycle of an active device: reboot"):
            mark = p.mark()
            rc, out = p.ipmitool(names[2], "power", "cycle")
            ck.eq(rc, 0, "ipmitool power cycle exits 0")
            ck.contains(out, "Chassis Power Control: Cycle", "its answer")
            posts = p.calls(mark, "POST", "/metal/v1/devices/%s/actions" % ids[2])
            ck.eq([r["body"] for r in posts], [{"type": "reboot"}], "exactly one reboot")
            # metal-sim shows a reboot as powering_off then powering_on;
            # the persona follows it through the fast refresh.
            sim_states = set()

            def seen_off():
                sim_states.add(p.sim_device(ids[2])["state"])
                return p.power_status(names[2]) == "Chassis Power is off"
            wait_until(seen_off, 15, "power status off during the reboot")
            p.wait_sim_state(ids[2], "active")
            wait_until(lambda: p.power_status(names[2]) == "Chassis Power is on", 15,
                       "power status on after the reboot")
            ck.ok(True, "power status went off and back on with the device")

        with ck.section("power cycle of an inactive device: power_on"):
            mark = p.mark()
            rc, out = p.ipmitool(names[1], "power", "cycle")
            ck.eq(rc, 0, "ipmitool power cycle exits 0")
            posts = p.calls(mark, "POST", "/metal/v1/devices/%s/actions" % ids[1])
            ck.eq([r["body"] for r in posts], [{"type": "power_on"}],
                  "a cycle of a server that is off turns it on")
            p.wait_sim_state(ids[1], "active")

        with ck.section("hard reset and soft off"):
            p.wait_sim_state(ids[3], "active")
            mark = p.mark()
            rc, out = p.ipmitool(names[3], "power", "reset")
            ck.eq(rc, 0, "ipmitool power reset exits 0")
            posts = p.calls(mark, "POST", "/metal/v1/devices/%s/actions" % ids[3])
            ck.eq([r["body"] for r in posts], [{"type": "reboot"}], "reset is a reboot")
            p.wait_sim_state(ids[3], "active")
            mark = p.mark()
            rc, out = p.ipmitool(names[3], "power", "soft")
            ck.eq(rc, 0, "ipmitool power soft exits 0")
            posts = p.calls(mark, "POST", "/metal/v1/devices/%s/actions" % ids[3])
            ck.eq([r["body"] for r in posts], [{"type": "power_off"}],
                  "soft off is a power_off (Metal has no graceful one)")
            p.wait_sim_state(ids[3], "inactive")

        with ck.section("FreeIPMI ipmipower --on / --off --wait-until-off"):
            mark = p.mark()
            rc, out = p.d.freeipmi("ipmipower", names[3], "--on")
            ck.eq(out.strip(), "127.0.0.1: ok", "ipmipower --on")
            p.wait_sim_state(ids[3], "active")
            rc, out = p.d.freeipmi("ipmipower", names[3], "--off", "--wait-until-off")
            ck.eq(out.strip(), "127.0.0.1: ok", "ipmipower --off --wait-until-off")
            posts = p.calls(mark, "POST", "/metal/v1/devices/%s/actions" % ids[3])
            ck.eq([r["body"] for r in posts], [{"type": "power_on"}, {"type": "power_off"}],
                  "one action each")
            p.wait_sim_state(ids[3], "inactive")

        with ck.section("power on of a server that is on: OK, like a BMC"):
            p.wait_sim_state(ids[0], "active")
            mark = p.mark()
            rc, out = p.ipmitool(names[0], "power", "on")
            ck.eq(rc, 0, "ipmitool power on exits 0")
            reqs = p.calls(mark)
            ck.eq([(r["method"], r["status"]) for r in reqs if ids[0] in r["path"]][:2],
                  [("POST", 422), ("GET", 200)], "refused (422), then read back")
            ck.eq(p.sim_device(ids[0])["state"], "active", "still active")

        with ck.section("power on right after power off: queued until the device settles"):
            # What Ironic and MAAS do for a reboot: power off, read "off"
            # (powering_off reads off), power on at once. Metal refuses an
            # action mid-transition (422); metalbmc answers OK and sends
            # power_on once the device is inactive.
            p.wait_sim_state(ids[0], "active")
            # A long transition, so that a loaded machine still sends the
            # power on while the device is powering off.
            p.faults(transition_ms=8000)
            mark = p.mark()
            rc, out = p.ipmitool(names[0], "power", "off")
            ck.eq(rc, 0, "power off exits 0")
            ck.eq(p.power_status(names[0]), "Chassis Power is off", "reads off at once")
            ck.ok(p.sim_device(ids[0])["state"] == "powering_off",
                  "the device is still powering off", p.sim_device(ids[0])["state"])
            rc, out = p.ipmitool(names[0], "power", "on")
            ck.eq(rc, 0, "power on mid-transition exits 0")
            ck.contains(out, "Chassis Power Control: Up/On", "its answer")
            ck.contains(p.d.read_log(), "queued until the device leaves powering_off",
                        "logged as queued")
            p.wait_sim_state(ids[0], "active")
            p.d.wait_log("persona %s: power on by 127.0.0.1:" % names[0])
            posts = p.calls(mark, "POST", "/metal/v1/devices/%s/actions" % ids[0])
            ck.eq([(r["body"]["type"], r["status"]) for r in posts],
                  [("power_off", 202), ("power_on", 422), ("power_on", 202)],
                  "power_off, power_on refused mid-transition, power_on once inactive")
            wait_until(lambda: p.power_status(names[0]) == "Chassis Power is on", 30,
                       "power status on again")
            ck.ok(True, "power status followed")
            p.faults(transition_ms=TRANSITION_MS)

        with ck.section("diagnostic interrupt: no Metal action"):
            mark = p.mark()
            rc, out = p.ipmitool(names[0], "power", "diag")
            ck.ok(rc != 0, "ipmitool power diag fails", out)
            ck.eq(p.calls(mark, "POST"), [], "nothing sent")

        with ck.section("deleted device: destination unavailable, persona kept"):
            p.sim._call("POST", "/_sim/devices/%s" % ids[2], {"deleted": True})
            rc, out = p.ipmitool(names[2], "power", "off")
            ck.ok(rc != 0, "power off of a deleted device fails", out)
            ck.contains(out.lower(), "destination unavailable", "with cc 0xD3")
            ck.ok(ids[2] in p.personas(), "the persona stays until a listing drops it")
            p.sim._call("POST", "/_sim/devices/%s" % ids[2], {"deleted": False})

        with ck.section("a token the API refuses: insufficient privilege"):
            p.faults(fail_rate=1.0, fail_status=403)
            mark = p.mark()
            rc, out = p.ipmitool(names[0], "power", "off")
            p.faults(reset=True)
            ck.ok(rc != 0, "power off fails", out)
            ck.contains(out.lower(), "insufficient privilege", "with cc 0xD4")
            ck.eq(len(p.calls(mark, "POST")), 1, "a 403 is not retried")
            ck.eq(p.sim_device(ids[0])["state"], "active", "the device did not change")

        with ck.section("a reboot is repeated only when the API surely did not act"):
            # A 500 or a broken connection may come after the action took
            # effect: a reboot is not sent again (a retry could reboot the
            # server twice); power off, which a repeat cannot harm, is.
            actions = "/metal/v1/devices/%s/actions" % ids[3]
            if p.sim_device(ids[3])["state"] != "active":
                p.ipmitool(names[3], "power", "on")
                p.wait_sim_state(ids[3], "active")
            wait_until(lambda: p.power_status(names[3]) == "Chassis Power is on", 30,
                       "the persona to read on")

            def under_fault(settings, action):
                """ipmitool power ACTION while metal-sim answers every call
                with the fault; waits for the outcome in the log. Returns
                ipmitool's (rc, output) and the action POSTs that arrived."""
                p.faults(reset=True, **settings)
                mark = p.mark()
                n = p.d.log_count("persona %s: power" % names[3])
                rc, out = p.ipmitool(names[3], "power", action, retries=1)
                wait_until(lambda: p.d.log_count("persona %s: power" % names[3]) > n, 30,
                           "the power %s's outcome in the log" % action)
                p.faults(reset=True)
                return rc, out, [r["body"] for r in p.calls(mark, "POST", actions)]

            for fault, settings in (("HTTP 500", {"fail_rate": 1.0, "fail_status": 500}),
                                    ("a dropped connection", {"drop_rate": 1.0})):
                rc, out, posts = under_fault(settings, "cycle")
                ck.ok(rc != 0, "power cycle after %s fails" % fault, out)
                ck.eq(posts, [{"type": "reboot"}],
                      "after %s the reboot was sent once, not repeated" % fault)
            _, _, posts = under_fault({"fail_rate": 1.0, "fail_status": 503}, "cycle")
            ck.eq(len(posts), 5, "a 503 (refused before any work) is retried: 5 attempts")
            _, _, posts = under_fault({"fail_rate": 1.0, "fail_status": 500}, "off")
            ck.eq(len(posts), 5, "a power off is retried after a 500")
            ck.eq(p.sim_device(ids[3])["state"], "active", "and nothing reached the device")

        with ck.section("every outcome logged"):
            log = p.d.read_log()
            ck.contains(log, "persona %s: power cycle by 127.0.0.1:" % names[2], "cycle logged")
            ck.contains(log, "failed with cc 0xd3", "the 404 outcome")
            ck.contains(log, "failed with cc 0xd4", "the 403 outcome")

        with ck.section("secrets"):
            p.scan_secrets(ck)
        p.d.check_exit(ck)
    finally:
        p.stop()
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
