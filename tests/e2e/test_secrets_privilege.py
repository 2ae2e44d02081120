"""Privilege and secret files, end to end.

- Started as root, the daemon binds, reads its secrets, then becomes an
  unprivileged user (here nobody) keeping only CAP_NET_BIND_SERVICE, with
  no_new_privs, no core dumps and not dumpable; the state directory and
  the generated credential secret change hands; ipmitool still works.
- Started unprivileged with an ambient CAP_NET_BIND_SERVICE (what the
  systemd unit does) it binds a port below 1024 and disables core dumps.
- After the drop, a persona that discovery creates with its own address
  binds the privileged shared port there (the one capability kept).
- A secret file (METALBMC_IPMI_PASSWORD_FILE) readable by group or others
  stops the daemon at start-up with a clear message, never its content;
  mode 0600 works. An unknown `user` stops it too.
The root parts are skipped (and say so) when the test does not run as root."""

import os
import pwd
import socket
import subprocess
import sys
import tempfile

from harness import (BIN, Checks, Daemon, asf_ping, base_config, check_no_sanitizer_report,
                     ipmitool, random_password, read_text, register_log, scan_logs_for_secrets,
                     to_yaml, wait_until, workdir)
from metal_helpers import PROJECT, device, fixture
from harness import MetalSim
from web_helpers import derived_password

NAME = "secrets_privilege"
CAP_NET_BIND_SERVICE = 1 << 10


def proc_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def core_limit(pid):
    with open("/proc/%d/limits" % pid) as f:
        for line in f:
            if line.startswith("Max core file size"):
                return line.split()[4:6]
    return None


def free_low_port():
    """A UDP port below 1024 that nothing uses (binding it needs root)."""
    for port in range(700, 1000):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    return None


def check_locked_down(ck, pid, uid, gid, what):
    st = proc_status(pid)
    ck.eq(st["Uid"].split(), [str(uid)] * 4, "%s: real, effective, saved and fs uid" % what)
    ck.eq(st["Gid"].split(), [str(gid)] * 4, "%s: all gids" % what)
    ck.eq(st["Groups"].split(), [str(gid)] if st["Groups"] else [], "%s: no other groups" % what)
    for k in ("CapEff", "CapPrm"):
        ck.eq(int(st[k], 16), CAP_NET_BIND_SERVICE, "%s: %s is CAP_NET_BIND_SERVICE only" % (what, k))
    ck.eq(int(st["CapInh"], 16) & ~CAP_NET_BIND_SERVICE, 0, "%s: nothing else inheritable" % what)
    ck.eq(core_limit(pid), ["0", "0"], "%s: RLIMIT_CORE 0" % what)
    # not dumpable: the kernel makes /proc/PID/* root's
    ck.eq(os.stat("/proc/%d/environ" % pid).st_uid, 0, "%s: not dumpable" % what)
    return st


def main():
    ck = Checks(NAME)
    wd = workdir(NAME)
    root = os.geteuid() == 0
    nobody = pwd.getpwnam("nobody")
    tmp = tempfile.mkdtemp(prefix="metalbmc-priv-")  # searchable path for the user's files
    os.chmod(tmp, 0o755)
    daemons = []
    sims = []
    try:
        if not root:
            print("not root: the privilege-drop sections are skipped", flush=True)
        else:
            with ck.section("started as root, becomes nobody after binding"):
                state = os.path.join(tmp, "state")
                cfg = {"ipmi": {"setup_rate": 1000, "setup_burst": 1000},
                       "web": {"enabled": False}, "personas": [{"name": "node1"}],
                       "user": "nobody", "state_dir": state}
                d = Daemon(wd, cfg, name="root-start")
                daemons.append(d)
                d.start()
                st = check_locked_down(ck, d.proc.pid, nobody.pw_uid, nobody.pw_gid, "dropped")
                ck.eq(int(st["CapBnd"], 16), CAP_NET_BIND_SERVICE, "bounding set cut to one")
                ck.eq(st.get("NoNewPrivs"), "1", "no_new_privs")
                ck.eq(os.stat(state).st_uid, nobody.pw_uid, "state_dir handed to nobody")
                secret_file = os.path.join(state, "credential-secret")
                s = os.stat(secret_file)
                ck.eq((s.st_uid, s.st_mode & 0o777), (nobody.pw_uid, 0o600),
                      "generated credential secret: nobody's, mode 0600")
                with open(secret_file) as f:
                    master = f.read().strip()
                pw = derived_password(master, "node1")
                rc, out = d.ipmitool("node1", "power", "status", password=pw)
                ck.eq((rc, out.strip()), (0, "Chassis Power is on"), "ipmitool with the derived password")
                ck.ok(d.log_count("privileges: now user nobody") == 1, "the drop is logged")
                d.scan_for_secrets(ck, [master, pw])

            with ck.section("started unprivileged with CAP_NET_BIND_SERVICE (as under systemd)"):
                port = free_low_port()
                ck.ok(port, "a free port below 1024")
                state = os.path.join(tmp, "state2")
                os.mkdir(state, 0o700)
                os.chown(state, nobody.pw_uid, nobody.pw_gid)
                password = random_password()
                cfg = {"ipmi": {"listen": ["127.0.0.1:%d" % port], "password": password},
                       "web": {"enabled": False}, "personas": [{"name": "node1"}],
                       "state_dir": state}
                path = os.path.join(tmp, "unpriv.yaml")
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w") as f:
                    f.write(to_yaml(cfg) + "\n")
                os.chown(path, nobody.pw_uid, nobody.pw_gid)
                log_path = register_log(os.path.join(wd, "unpriv.log"))
                log = open(log_path, "ab")
                p = subprocess.Popen(["setpriv", "--reuid=%d" % nobody.pw_uid,
                                      "--regid=%d" % nobody.pw_gid, "--clear-groups",
                                      "--inh-caps=-all,+net_bind_service",
                                      "--ambient-caps=-all,+net_bind_service",
                                      "--bounding-set=-all,+net_bind_service",
                                      BIN, "--config", path], stdout=log, stderr=subprocess.STDOUT)
                try:
                    wait_until(lambda: p.poll() is not None or asf_ping(port), 30, "the daemon on port %d" % port)
                    ck.ok(p.poll() is None, "it runs", read_text(log_path))
                    if p.poll() is None:
                        check_locked_down(ck, p.pid, nobody.pw_uid, nobody.pw_gid, "unprivileged")
                        rc, out = ipmitool(port, "node1", password, "power", "status")
                        ck.eq((rc, out.strip()), (0, "Chassis Power is on"), "ipmitool on port %d" % port)
                finally:
                    if p.poll() is None:
                        p.terminate()
                    ck.eq(p.wait(timeout=20), 0, "exits 0 after SIGTERM")
                    log.close()
                    # started without Daemon, so checked here: the same
                    # sanitizer and secret checks as every other daemon
                    check_no_sanitizer_report(ck, read_text(log_path), "the unprivileged daemon's log")
                    scan_logs_for_secrets(ck, [password], [log_path])

            with ck.section("after the drop, a discovered persona binds port %s at its own address"
                            % port):
                # CAP_NET_BIND_SERVICE is kept for exactly this: discovery
                # creates personas long after the drop.
                dev = device(7, tags=["ipmi.address=127.0.0.9"])
                sim = MetalSim(wd, fixture([dev]), token="tok-" + random_password())
                sims.append(sim)
                sim.start()
                password = random_password()
                cfg = {"metal": {"token": sim.token, "project_ids": [PROJECT], "api_url": sim.url,
                                 "poll_interval": 1},
                       "ipmi": {"listen": ["127.0.0.1:%d" % port], "password": password},
                       "web": {"enabled": False}, "user": "nobody",
                       "state_dir": os.path.join(tmp, "state3")}
                d = Daemon(wd, cfg, name="late-bind")
                daemons.append(d)
                d.start()
                d.wait_log("own listener on 127.0.0.9:%d" % port, timeout=30)
                ck.ok(d.log_count("privileges: now user nobody") == 1, "dropped before discovery")
                rc, out = ipmitool(port, "admin", password, "power", "status", host="127.0.0.9")
                ck.eq((rc, out.strip()), (0, "Chassis Power is on"),
                      "ipmitool to 127.0.0.9:%d (bound after the drop)" % port)

        with ck.section("a secret file readable by others is refused"):
            secret = random_password()
            path = os.path.join(wd, "ipmi-password")
            with open(path, "w") as f:
                f.write(secret + "\n")
            os.chmod(path, 0o644)
            bad = Daemon(wd, base_config([{"name": "node1"}], None),
                         env={"METALBMC_IPMI_PASSWORD_FILE": path}, name="badfile")
            bad.config["ipmi"].pop("password", None)
            daemons.append(bad)
            ck.eq(bad.start(expect_fail=True), 1, "the daemon refuses to start")
            text = bad.read_log()
            ck.contains(text, "METALBMC_IPMI_PASSWORD_FILE: %s: file is accessible by group or others"
                        % path, "the message names the variable, the file and the reason")
            ck.ok(secret not in text, "the file's content is not in the message")
            os.chmod(path, 0o600)
            good = Daemon(wd, base_config([{"name": "node1"}], None),
                          env={"METALBMC_IPMI_PASSWORD_FILE": path}, name="goodfile")
            good.config["ipmi"].pop("password", None)
            daemons.append(good)
            good.start()
            rc, out = good.ipmitool("node1", "power", "status", password=secret)
            ck.eq((rc, out.strip()), (0, "Chassis Power is on"), "mode 0600: the password works")
            good.scan_for_secrets(ck, [secret])

        if root:
            with ck.section("an unknown user stops the start"):
                u = Daemon(wd, dict(base_config([{"name": "node1"}], random_password()),
                                    user="no-such-user-xyz"), name="nouser")
                daemons.append(u)
                ck.eq(u.start(expect_fail=True), 1, "exit 1")
                ck.contains(u.read_log(), "user: no such account 'no-such-user-xyz'", "says why")
    finally:
        for d in daemons:
            if d.proc and d.proc.poll() is None:
                d.check_exit(ck)
            else:
                d.check_log_clean(ck)  # the ones that refused to start
        for s in sims:
            s.stop()
        subprocess.run(["rm", "-rf", tmp])
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
