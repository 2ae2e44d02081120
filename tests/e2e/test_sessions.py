"""Session lifecycle with real clients holding sessions open (ipmitool
shell): the per-persona session limit, Close Session when ipmitool exits,
and the idle timeout (a session in use stays, an idle one goes)."""

import sys
import time

from harness import (Checks, Daemon, IpmiShell, base_config, fields, random_password,
                     wait_until, workdir)

NAME = "sessions"
LIMIT = 3


def active_sessions(d, user="lab1"):
    """The persona's active session count as Get Session Info reports it to
    a fresh session (which counts itself)."""
    rc, out = d.ipmitool(user, "session", "info", "active")
    v = fields(out).get("active sessions")
    return int(v) if rc == 0 and v and v.isdigit() else None


def main():
    ck = Checks(NAME)
    wd = workdir(NAME)
    password = random_password()
    personas = [{"name": "lab1"}, {"name": "lab2"}]
    d = Daemon(wd, base_config(personas, password, max_sessions_per_persona=LIMIT))
    idle = Daemon(wd, base_config(personas, password, session_timeout=5), name="idle")
    shells = []
    try:
        d.start()
        with ck.section("per-persona session limit"):
            for i in range(LIMIT):
                sh = IpmiShell(d.port, "lab1", password)
                shells.append(sh)
                ck.ok(sh.opened, "session %d of %d opens" % (i + 1, LIMIT), sh.last_output)
            rc, out = d.ipmitool("lab1", "-v", "power", "status", retries=1)
            ck.ok(rc != 0, "one more login is refused", out)
            ck.contains(out, "insufficient resources", "ipmitool: insufficient resources")
            ck.ok(d.log_count("ended: persona session limit") >= 1, "the daemon logged the limit")
            rc, out = d.ipmitool("lab2", "power", "status")
            ck.eq((rc, out.strip()), (0, "Chassis Power is on"), "another persona is not affected")
            out = shells[0].command("session info active")
            ck.eq(fields(out or "").get("active sessions"), str(LIMIT), "a held session sees %d" % LIMIT)
            ck.eq(shells.pop(0).close(), 0, "one shell exits")
            rc, out = d.ipmitool("lab1", "power", "status")
            ck.eq((rc, out.strip()), (0, "Chassis Power is on"), "a login works again after one closed")

        with ck.section("session close"):
            while shells:
                ck.eq(shells.pop().close(), 0, "shell exits 0")
            ck.eq(active_sessions(d), 1, "no session left but the asking one")
            before = d.log_count("ended: closed by the console")
            sh = IpmiShell(d.port, "lab1", password)
            shells.append(sh)
            ck.ok(sh.opened, "a shell opens", sh.last_output)
            out = sh.command("session info active")
            handle = fields(out or "").get("session handle")
            ck.eq(active_sessions(d), 2, "another session sees the shell's")
            rc, out = d.ipmitool("lab1", "session", "info", "handle", handle or "0")
            ck.eq(fields(out).get("session handle"), handle, "the shell's session found by handle")
            ck.eq(shells.pop().close(), 0, "the shell exits (Close Session)")
            ck.eq(active_sessions(d), 1, "the shell's session is gone")
            rc, out = d.ipmitool("lab1", "session", "info", "handle", handle or "0")
            ck.ok(fields(out).get("session handle") != handle, "its handle is unknown now", out)
            ck.ok(d.log_count("ended: closed by the console") >= before + 2,
                  "the daemon logged the closes")

        idle.start()
        with ck.section("idle timeout (5 s)"):
            sh = IpmiShell(idle.port, "lab1", password)
            shells.append(sh)
            ck.ok(sh.opened, "a shell opens", sh.last_output)
            # In use every 2 s for 8 s: activity keeps it alive past the timeout.
            t0 = time.monotonic()
            while time.monotonic() - t0 < 8:
                out = sh.command("power status", timeout=10)
                ck.contains(out or "", "Chassis Power is on", "the busy session answers")
                time.sleep(2)
            ck.eq(active_sessions(idle), 2, "the busy session is still there after 8 s")
            ck.eq(idle.log_count("ended: idle timeout"), 0, "nothing timed out yet")
            t0 = time.monotonic()
            wait_until(lambda: active_sessions(idle) == 1, 20, "the idle session to go", interval=0.5)
            gone = time.monotonic() - t0
            ck.ok(idle.log_count("ended: idle timeout") == 1, "the daemon logged one idle timeout")
            ck.ok(gone <= 12, "gone within the timeout (plus slack)", "%.1fs" % gone)
    finally:
        for sh in shells:
            sh.close(timeout=3)
        for x in (d, idle):
            if x.proc:
                x.check_exit(ck)
                x.scan_for_secrets(ck, [password])
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
