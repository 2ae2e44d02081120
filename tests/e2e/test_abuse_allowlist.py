"""Allow-lists: the global ipmi.allowed_sources drops everyone else before
any work (no answer at all, not even to an ASF ping); a persona's own
allowed_sources lets in only its sources: on the shared listener an
outsider is told what an unknown user name is told, on the persona's own
port it gets silence. An allow-listed source gets in while another is
dropped."""

import sys

from harness import Checks, Daemon, base_config, free_port, random_password, workdir
from rmcpp_raw import ASF_PING, Client, Refused

NAME = "abuse_allowlist"
UNAUTHORIZED_NAME = 0x0D


def login(port, source, user, password, suite=2):
    c = Client(port, source=source)
    try:
        c.login(user, password, suite=suite)
        r = c.request(0x06, 0x01)
        return "ok" if r and r[0] == 0 else "no answer inside the session"
    except Refused as e:
        return (e.step, e.status)
    finally:
        c.close()


def main():
    ck = Checks(NAME)
    wd = workdir(NAME)
    password = random_password()
    own_port = free_port("udp")
    personas = [{"name": "node1"},
                {"name": "node2", "allowed_sources": ["127.0.0.2"]},
                {"name": "node3", "port": own_port, "allowed_sources": ["127.0.0.7/32"]}]
    cfg = base_config(personas, password, cipher_suites=[2, 17],
                      allowed_sources=["127.0.0.1/32", "127.0.0.2", "127.0.0.7"])
    d = Daemon(wd, cfg)
    try:
        d.start()
        with ck.section("global list: an allowed source gets in, another is dropped"):
            rc, out = d.ipmitool("node1", "power", "status")
            ck.eq((rc, out.strip()), (0, "Chassis Power is on"), "ipmitool from 127.0.0.1")
            ck.eq(login(d.port, "127.0.0.2", "node1", password), "ok", "raw login from 127.0.0.2")
            c = Client(d.port, source="127.0.0.5", timeout=0.5)
            ck.eq(c.exchange(ASF_PING), None, "127.0.0.5: no answer to an ASF ping")
            ck.eq(c.channel_auth_caps(), None, "127.0.0.5: no answer to Get Channel Auth Caps")
            ck.eq(c.exchange(c.open_request(17)), None, "127.0.0.5: no answer to Open Session")
            c.close()
            ck.eq(login(d.port, "127.0.0.5", "node1", password),
                  ("open session (no answer)", -1), "127.0.0.5 cannot log in")
        with ck.section("a persona's own list on the shared listener"):
            ck.eq(login(d.port, "127.0.0.2", "node2", password), "ok", "node2 from 127.0.0.2")
            rc, out = d.ipmitool("node2", "-v", "power", "status", retries=1)
            ck.ok(rc != 0, "ipmitool from 127.0.0.1 to node2 is refused", out)
            ck.contains(out, "unauthorized name", "... as if node2 did not exist")
            ck.eq(login(d.port, "127.0.0.1", "node2", password), ("RAKP 2", UNAUTHORIZED_NAME),
                  "raw login from 127.0.0.1 to node2: unauthorized name")
        with ck.section("a persona's own list on its own port"):
            ck.eq(login(own_port, "127.0.0.7", "admin", password), "ok", "node3 from 127.0.0.7")
            c = Client(own_port, source="127.0.0.1", timeout=0.5)
            ck.eq(c.exchange(c.open_request(17)), None, "127.0.0.1: silence on node3's port")
            ck.eq(c.exchange(ASF_PING), None, "127.0.0.1: no ASF pong on node3's port")
            c.close()
            rc, out = d.ipmitool("admin", "power", "status", port=own_port, retries=1, timeout=30)
            ck.ok(rc != 0, "ipmitool from 127.0.0.1 on node3's port gets nowhere", out)
        ck.ok(d.alive(), "the daemon is alive")
    finally:
        if d.proc:
            d.check_exit(ck)
            d.scan_for_secrets(ck, [password])
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
