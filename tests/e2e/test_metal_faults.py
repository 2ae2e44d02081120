"""An unreliable Metal API (metal-sim's fault knobs, switched at run time):
a minute of 500s (metal-sim's time window, left to end by itself), a
storm of 429s with Retry-After, slow answers, broken and truncated JSON,
dropped connections. Through all of them every persona stays in place and
keeps answering ipmitool (power status needs no API call), no persona is
retired, an action inside the 500s is refused and reaches nothing, a 429
holds back every API call for its Retry-After, and once the fault is gone
discovery recovers by itself: a poll succeeds, an action goes through, a
device tagged afterwards gets its persona. The token never reaches either
log."""

import sys

from harness import Checks, wait_until, workdir
from metal_helpers import PROJECT, Pair, device, fixture

NAME = "metal_faults"
POLL = 1
PER_PAGE = 10
TAGGED = 30
WINDOW_MS = 60000   # "a minute of 500s"


def no_persona_lost(ck, p, what):
    ck.eq(len(p.personas()), p.expected, "%s: every persona still there" % what)
    ck.eq(p.d.log_count("): retired: "), 0, "%s: nothing retired" % what)


def answers(ck, p, names, what):
    for n in names:
        ck.eq(p.power_status(n), "Chassis Power is on", "%s: %s answers" % (what, n))


def polls_failed(p):
    return p.d.log_count("poll failed")


def successful_listings(p):
    """Completed listings of the project that did not fail."""
    return sum(1 for line in p.d.read_log().splitlines()
               if "discovery: project %s: " % PROJECT in line and "poll failed" not in line)


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

        with ck.section("a minute of 500s, ending by itself"):
            listed = successful_listings(p)
            failed = polls_failed(p)
            mark = p.mark()
            p.faults(reset=True, fail_window="0:%d" % WINDOW_MS, fail_status=500)

            def window_over():
                return any(r["status"] == 200 for r in p.calls(mark))
            p.d.wait_log("poll failed", count=failed + 1, timeout=30)
            # An action inside the window cannot be carried out: the
            # client hears so, and nothing reaches the device (its call
            # retries within API_ACTION_BUDGET_MS = 20 s, well inside).
            rc, out = p.ipmitool(sample[0], "power", "off")
            ck.ok(rc != 0, "power off during the 500s is refused", out)
            ck.ok(any("failed with cc" in l and "power_off: HTTP 500" in l
                      for l in p.d.read_log().splitlines()),
                  "the daemon answered it with a failure code and logged the API's 500")
            ck.eq([r for r in p.calls(mark, "POST") if r["status"] == 202], [],
                  "no action accepted during the 500s")
            ck.ok(not window_over(), "the window is still on after the refused action")
            # Through the whole window, at every failed poll: every
            # persona in place (all of them answering the first time).
            rounds = 0
            while not window_over():
                n = polls_failed(p)
                answers(ck, p, [d["short_id"] for d in devs] if rounds == 0 else sample,
                        "during the 500s")
                no_persona_lost(ck, p, "during the 500s")
                rounds += 1
                wait_until(lambda: polls_failed(p) > n or window_over(), WINDOW_MS / 1000 + 30,
                           "the next failed poll or the end of the window")
            faulted = [r["t_ms"] for r in p.calls(mark) if r["fault"] == "window"]
            span = (faulted[-1] - faulted[0]) if faulted else 0
            ck.ok(span >= WINDOW_MS - 10000, "500s for about a minute (%d ms of them)" % span, span)
            ck.ok(rounds >= 5, "personas checked at several failed polls", rounds)
            ck.ok(polls_failed(p) >= failed + 5, "several polls failed",
                  polls_failed(p) - failed)
            ck.eq(p.sim_device(devs[0]["id"])["state"], "active", "the device never powered off")

            # No reset: the window ended by itself, and discovery with it.
            wait_until(lambda: successful_listings(p) > listed, 60, "a successful poll")
            ck.ok(True, "a poll succeeded after the window")
            no_persona_lost(ck, p, "after the 500s")
            mark = p.mark()
            rc, out = p.ipmitool(sample[0], "power", "off")
            ck.ok(rc == 0, "power off goes through after the window", out)
            ck.eq(len([r for r in p.calls(mark, "POST") if r["status"] == 202]), 1,
                  "one action accepted")
            p.wait_sim_state(devs[0]["id"], "inactive")
            rc, out = p.ipmitool(sample[0], "power", "on")
            ck.ok(rc == 0, "power on goes through too", out)
            p.wait_sim_state(devs[0]["id"], "active")
            recover_with_new_tag(ck, p, spare[0], "after the 500s")
            no_persona_lost(ck, p, "after the 500s")

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
