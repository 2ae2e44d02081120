"""An unreliable Metal API (metal-sim's fault knobs, switched at run time):
a window of 500s, a storm of 429s with Retry-After, slow answers, broken
and truncated JSON, dropped connections. Through all of them every persona
stays in place and keeps answering ipmitool (power status needs no API
call), no persona is retired, a 429 holds back every API call for its
Retry-After, and once the fault is gone discovery recovers by itself: a
device tagged afterwards gets its persona. The token never reaches either
log."""

import sys

from harness import Checks, wait_until, workdir
from metal_helpers import Pair, device, fixture

NAME = "metal_faults"
POLL = 1
PER_PAGE = 10
TAGGED = 30


def no_persona_lost(ck, p, what):
    ck.eq(len(p.personas()), p.expected, "%s: every persona still there" % what)
    ck.eq(p.d.log_count("): retired: "), 0, "%s: nothing retired" % what)


def answers(ck, p, names, what):
    for n in names:
        ck.eq(p.power_status(n), "Chassis Power is on", "%s: %s answers" % (what, n))


def polls_failed(p):
    return p.d.log_count("poll failed")


def recover_with_new_tag(ck, p, dev, what):
    """After the fault: a newly tagged device must be picked up."""
    p.tag(dev["id"], ["ipmi=enabled", "role=test"])
    p.wait_persona(dev["id"], True, timeout=30)
    p.expected += 1
    ck.eq(p.power_status(dev["short_id"]), "Chassis Power is on", "%s: new persona answers" % what)


def main():
    ck = Checks(NAME)
    wd = workdir(NAME)
    devs = [device(i) for i in range(1, TAGGED + 1)]
    spare = [device(i, tagged=False) for i in range(100, 106)]
    p = Pair(wd, fixture(devs + spare), poll_interval=POLL, per_page=PER_PAGE)
    sample = [devs[0]["short_id"], devs[14]["short_id"], devs[29]["short_id"]]
    try:
        p.start()
        p.wait_personas(TAGGED)
        p.expected = TAGGED

        with ck.section("a window of 500s"):
            before = polls_failed(p)
            p.faults(reset=True, fail_window="0:12000", fail_status=500)
            p.d.wait_log("poll failed", count=before + 1, timeout=20)
            answers(ck, p, sample, "during the 500s")
            no_persona_lost(ck, p, "during the 500s")
            wait_until(lambda: p.d.log_count("poll failed") >= before + 2, 30,
                       "a second failed poll")
            # A persona's power action waits out the window (retries with
            # backoff inside its budget) and then goes through.
            mark = p.mark()
            rc, out = p.ipmitool(sample[0], "power", "off", retries=12)
            actions = [r for r in p.calls(mark, "POST") if r["status"] == 202]
            if rc == 0:
                ck.eq(len(actions), 1, "power off went through once after the window")
            else:
                ck.ok("timeout" in out.lower() or "unspecified" in out.lower(),
                      "or failed with a timeout/unspecified code", out)
            p.faults(reset=True)
            recover_with_new_tag(ck, p, spare[0], "after the 500s")
            no_persona_lost(ck, p, "after the 500s")
            if rc == 0:
                p.wait_sim_state(devs[0]["id"], "inactive")
                rc, out = p.ipmitool(sample[0], "power", "on")
                p.wait_sim_state(devs[0]["id"], "active")

        with ck.section("a storm of 429s with Retry-After, held globally"):
            mark = p.mark()
            p.faults(reset=True, rate_limit_rate=0.6, retry_after=1)
            p.d.wait_log("rate limited (HTTP 429)", timeout=20)
            answers(ck, p, sample, "during the 429s")
            no_persona_lost(ck, p, "during the 429s")
            # A power action rides it out: the queue holds it, then sends it.
            rc, out = p.ipmitool(sample[1], "power", "cycle", retries=12)
            wait_until(lambda: len([r for r in p.calls(mark) if r["status"] == 429]) >= 4, 30,
                       "several 429s")
            p.faults(reset=True)
            reqs = p.calls(mark)
            limited = [r["t_ms"] for r in reqs if r["status"] == 429]
            ck.ok(len(limited) >= 2, "metal-sim refused several requests", len(limited))
            # After a 429 at t, nothing new may arrive until t + Retry-After
            # (requests already on the wire land within a few ms of t).
            early = [(t, r["t_ms"]) for t in limited for r in reqs
                     if t + 150 < r["t_ms"] < t + 850]
            ck.eq(early, [], "no request inside any Retry-After hold")
            ck.ok(rc == 0 or "busy" in out.lower(), "power cycle succeeded or said busy", out)
            recover_with_new_tag(ck, p, spare[1], "after the 429s")
            no_persona_lost(ck, p, "after the 429s")

        with ck.section("slow answers"):
            p.faults(reset=True, slow_ms=2500)
            n = p.d.log_count("discovery: project")
            wait_until(lambda: p.d.log_count("discovery: project") > n, 30, "a slow poll to finish")
            answers(ck, p, sample, "while the API is slow")
            no_persona_lost(ck, p, "while the API is slow")
            p.faults(reset=True)
            recover_with_new_tag(ck, p, spare[2], "after slow answers")

        with ck.section("malformed and truncated JSON, dropped connections"):
            before = p.d.log_count("malformed answer")
            mark = p.mark()
            p.faults(reset=True, malformed_rate=0.5, truncate_rate=0.2, drop_rate=0.2, seed=7)

            def faulted():
                kinds = [r["fault"] for r in p.calls(mark)]
                return all(kinds.count(k) >= 2 for k in ("malformed", "truncate", "drop"))
            wait_until(faulted, 40, "at least two answers of each broken kind")
            answers(ck, p, sample, "under broken answers")
            no_persona_lost(ck, p, "under broken answers")
            p.faults(reset=True)
            recover_with_new_tag(ck, p, spare[3], "after broken answers")
            ck.ok(p.d.log_count("malformed answer") > before or polls_failed(p) > 0,
                  "broken answers were noticed")

        with ck.section("an API that only fails: personas stay for good"):
            p.faults(reset=True, fail_rate=1.0, fail_status=503)
            before = polls_failed(p)
            wait_until(lambda: polls_failed(p) >= before + 3, 40, "three failed polls")
            answers(ck, p, sample, "with the API down")
            no_persona_lost(ck, p, "with the API down")
            p.faults(reset=True)
            recover_with_new_tag(ck, p, spare[4], "after the outage")

        with ck.section("the daemon is healthy and the token secret"):
            ck.ok(p.d.alive(), "metalbmc still running")
            p.scan_secrets(ck)
        p.d.check_exit(ck)
    finally:
        p.stop()
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
