"""The README's first command, as a new user runs it: images/demo.

Runs the demo script itself (on binaries this build made, so it does not
build a second copy), reads what it prints, and runs the printed command
lines as printed: the ipmitool and FreeIPMI lines reach a persona, the
status page answers with the printed credentials and lists the servers,
the printed curl tags the fourth server and its persona appears. Then
Ctrl-C (SIGINT to its process group) must stop everything with status 0
and leave no file behind. Both modes: discovery in front of metal-sim, and
--local.

The demo prints this run's passwords on purpose; this test never prints
the demo's output unredacted."""

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import urllib.request

from harness import SANITIZER_ENV, SANITIZER_MARKERS, Checks, free_port, run, wait_until

SOURCE = os.environ.get("METALBMC_SOURCE_DIR",
                        os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
DEMO = os.path.join(SOURCE, "images", "demo")


def udp_free(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def two_free_udp_ports():
    """A port whose neighbour is free too (--local gives one persona port+1)."""
    for _ in range(50):
        p = free_port("udp")
        if p < 65535 and udp_free(p + 1):
            return p
    raise RuntimeError("no two adjacent free UDP ports")


class Demo:
    def __init__(self, args, tmp):
        self.tmp = tmp
        self.out_path = os.path.join(tmp, "..", os.path.basename(tmp) + ".out")
        self.port = two_free_udp_ports()
        self.web_port = free_port("tcp")
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TMPDIR": tmp,
               "METALBMC_DEMO_BIN": os.environ["METALBMC_BIN"],
               "METALBMC_DEMO_SIM": os.environ["METAL_SIM_BIN"],
               "METALBMC_DEMO_PORT": str(self.port),
               "METALBMC_DEMO_WEB_PORT": str(self.web_port)}
        for k in SANITIZER_ENV:
            if k in os.environ:
                env[k] = os.environ[k]
        self.out = open(self.out_path, "wb")
        self.proc = subprocess.Popen(["bash", DEMO] + args, stdout=self.out,
                                     stderr=subprocess.STDOUT, env=env, cwd=SOURCE,
                                     start_new_session=True)
        self.secrets = []

    def text(self):
        with open(self.out_path, "r", errors="replace") as f:
            return f.read()

    def redacted(self):
        t = self.text()
        for s in self.secrets:
            t = t.replace(s, "<secret>")
        return t[-4000:]

    def wait_for(self, pattern, what, timeout=120):
        def seen():
            if self.proc.poll() is not None:
                raise RuntimeError("the demo exited (%s) before %s:\n%s" %
                                   (self.proc.returncode, what, self.redacted()))
            return re.search(pattern, self.text(), re.M)
        return wait_until(seen, timeout, what, interval=0.1)

    def printed_lines(self):
        """The command lines the demo printed (indented by two spaces),
        with backslash continuations joined and trailing comments cut."""
        lines, cur = [], ""
        for raw in self.text().splitlines():
            part = raw.strip()
            if cur:  # a continuation line
                if part.endswith("\\"):
                    cur += part[:-1] + " "
                else:
                    lines.append(cur + part)
                    cur = ""
            elif raw.startswith("  ") and not raw.startswith("   "):
                if part.endswith("\\"):
                    cur = part[:-1] + " "
                else:
                    lines.append(part)
        out = []
        for line in lines:
            try:
                words = shlex.split(line, comments=True)
            except ValueError:
                continue
            if words:
                out.append(words)
        return out

    def stop(self):
        """Ctrl-C, as a user stops it: SIGINT to the foreground group."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.out.close()
        return self.proc.returncode


def command(lines, first_word, *needles):
    """The first printed command starting with first_word that contains
    every needle."""
    for words in lines:
        if words[0] == first_word and all(n in words for n in needles):
            return words
    return None


def page(port, user, password, path="/"):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path))
    mgr = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    mgr.add_password(None, "http://127.0.0.1:%d/" % port, user, password)
    opener = urllib.request.build_opener(urllib.request.HTTPBasicAuthHandler(mgr))
    with opener.open(req, timeout=10) as r:
        return r.status, r.read().decode("utf-8", "replace")


def status_page(demo):
    m = demo.wait_for(r"Status page: http://127\.0\.0\.1:(\d+)/  \(user (\S+), password (\S+)\)",
                      "the status page line")
    demo.secrets.append(m.group(3))
    return int(m.group(1)), m.group(2), m.group(3)


def ipmi_password(demo):
    m = demo.wait_for(r"[Pp]assword for this run: (\S+)", "the IPMI password line")
    demo.secrets.append(m.group(1))
    return m.group(1)


def check_no_sanitizer_report(ck, demo):
    text = demo.text()
    for marker in SANITIZER_MARKERS:
        ck.ok(marker not in text, "no sanitizer report in the demo's output (%s)" % marker)


def check_stopped_clean(ck, demo):
    rc = demo.stop()
    ck.eq(rc, 0, "Ctrl-C stops the demo with status 0")
    ck.eq(os.listdir(demo.tmp), [], "the demo removed its config and state (it holds secrets)")
    pids = subprocess.run(["pgrep", "-f", demo.tmp], capture_output=True, text=True).stdout.split()
    ck.eq(pids, [], "no process of the demo is left running")
    check_no_sanitizer_report(ck, demo)


def metal_mode(ck, base):
    tmp = tempfile.mkdtemp(prefix="demo-metal-", dir=base)
    os.chmod(tmp, 0o755)
    demo = Demo([], tmp)
    try:
        with ck.section("images/demo: discovery in front of metal-sim"):
            ipmi_password(demo)
            web_port, web_user, web_pw = status_page(demo)
            ck.eq(web_port, demo.web_port, "the page is on the port asked for")
            demo.wait_for(r"metalbmc \S+ ready", "metalbmc ready")
            lines = demo.printed_lines()
            status = command(lines, "ipmitool", "7e1c4b2a", "status")
            ck.ok(status is not None, "the demo prints an ipmitool power status line")

            def answers():
                rc, out = run(status, timeout=30)
                return rc == 0 and "Chassis Power is" in out
            wait_until(answers, 60, "the printed ipmitool line to answer (first poll)", interval=0.5)
            ck.ok(True, "the printed ipmitool power status line answers")

            by_host = command(lines, "ipmitool", "web-da-01", "status")
            rc, out = run(by_host, timeout=30)
            ck.ok(rc == 0 and "Chassis Power is on" in out,
                  "the printed by-hostname line answers: power on", out)
            own = command(lines, "ipmitool", "admin", "on")
            rc, out = run(own, timeout=30)
            ck.ok(rc == 0 and "Chassis Power Control: Up/On" in out,
                  "the printed own-port line powers db-da-01 on", out)
            freeipmi = command(lines, "ipmipower", "--stat")
            rc, out = run(freeipmi, timeout=30)
            ck.ok(rc == 0 and re.search(r"127\.0\.0\.1(:\d+)?: (on|off)", out),
                  "the printed FreeIPMI line answers", out)

            code, html = page(web_port, web_user, web_pw)
            ck.eq(code, 200, "the status page answers with the printed credentials")
            for host in ("web-da-01", "db-da-01", "pxe-am-01"):
                ck.ok(host in html, "the page lists %s" % host)
            ck.ok("build-am-01" not in html, "the untagged fourth server has no persona yet")

            tag = command(lines, "curl", "PUT")
            ck.ok(tag is not None, "the demo prints the tagging curl")
            demo.secrets += [w.split(":", 1)[1].strip() for w in tag if w.startswith("X-Auth-Token:")]
            rc, out = run(tag, timeout=30)
            ck.eq((rc, out.strip()), (0, "200"), "the printed curl tags the fourth server: 200")
            build = command(lines, "ipmitool", "build-am-01", "status")

            def build_answers():
                rc, out = run(build, timeout=30)
                return rc == 0 and "Chassis Power is" in out
            wait_until(build_answers, 60, "the tagged server's persona to answer", interval=0.5)
            ck.ok(True, "the tagged server's persona answers the printed line")
            code, html = page(web_port, web_user, web_pw)
            ck.ok("build-am-01" in html, "and the page lists it")
    finally:
        check_stopped_clean(ck, demo)
        text = demo.text()
        ck.ok(not any(s in line for s in demo.secrets for line in text.splitlines()
                      if " info: " in line or " warn: " in line or " debug: " in line),
              "no log line of the demo's metalbmc holds a password")
        shutil.rmtree(tmp, ignore_errors=True)


def local_mode(ck, base):
    tmp = tempfile.mkdtemp(prefix="demo-local-", dir=base)
    os.chmod(tmp, 0o755)
    demo = Demo(["--local"], tmp)
    try:
        with ck.section("images/demo --local"):
            ipmi_password(demo)
            web_port, web_user, web_pw = status_page(demo)
            demo.wait_for(r"metalbmc \S+ ready", "metalbmc ready")
            lines = demo.printed_lines()
            status = command(lines, "ipmitool", "web01", "status")
            rc, out = run(status, timeout=30)
            ck.ok(rc == 0 and "Chassis Power is on" in out, "the printed web01 line answers: on",
                  out)
            boot = command(lines, "ipmitool", "web01", "bootdev")
            rc, out = run(boot, timeout=30)
            ck.ok(rc == 0 and "Set Boot Device to pxe" in out, "the printed bootdev line works",
                  out)
            own = command(lines, "ipmitool", "admin", "status")
            rc, out = run(own, timeout=30)
            ck.ok(rc == 0 and "Chassis Power is" in out, "the printed own-port line answers", out)
            freeipmi = command(lines, "ipmipower", "--stat")
            rc, out = run(freeipmi, timeout=30)
            ck.ok(rc == 0 and re.search(r"127\.0\.0\.1(:\d+)?: on", out),
                  "the printed FreeIPMI line answers: on", out)
            code, html = page(web_port, web_user, web_pw)
            ck.ok(code == 200 and "web-01.demo" in html and "edge-01.demo" in html,
                  "the page lists the local personas")
    finally:
        check_stopped_clean(ck, demo)
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ck = Checks("demo")
    # Under /tmp, not the build tree: run as root, metalbmc drops to an
    # unprivileged user that must reach the demo's state directory, and a
    # checkout may sit below a private home directory.
    base = tempfile.mkdtemp(prefix="metalbmc-e2e-demo-")
    os.chmod(base, 0o755)
    try:
        metal_mode(ck, base)
        local_mode(ck, base)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
