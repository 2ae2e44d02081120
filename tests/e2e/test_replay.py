"""Replay and retransmission, through a small UDP proxy between ipmitool
and the daemon that records every datagram:
  - an authenticated request sent again (from the client's own address and
    port, or another port) gets no answer, and its action ran once;
  - when the proxy drops the reply to a Chassis Control request, ipmitool
    retransmits it, succeeds, and the action still ran once: the daemon
    answers the retransmission from its response cache."""

import select
import socket
import sys
import threading
import time

from harness import Checks, Daemon, IpmiShell, base_config, random_password, workdir

NAME = "replay"


class UdpProxy:
    """127.0.0.1:port -> daemon. Each client address gets its own upstream
    socket, so the daemon sees one source per client, as without the proxy.
    Records (direction, client, bytes) for every datagram."""

    def __init__(self, target_port, host="127.0.0.1"):
        self.target = (host, target_port)
        self.front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.front.bind((host, 0))
        self.port = self.front.getsockname()[1]
        self.upstream = {}      # client address -> socket towards the daemon
        self.client_of = {}     # upstream socket -> client address
        self.log = []           # (direction "c2s"/"s2c"/"dropped", client, data)
        self.drop_replies = 0   # drop this many next replies to the client
        self.lock = threading.Lock()
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping:
            with self.lock:
                socks = [self.front] + list(self.upstream.values())
            ready, _, _ = select.select(socks, [], [], 0.05)
            for s in ready:
                try:
                    data, addr = s.recvfrom(2048)
                except OSError:
                    continue
                with self.lock:
                    if s is self.front:
                        up = self.upstream.get(addr)
                        if up is None:
                            up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                            up.connect(self.target)
                            self.upstream[addr] = up
                            self.client_of[up] = addr
                        self.log.append(("c2s", addr, data))
                        up.send(data)
                    else:
                        client = self.client_of[s]
                        if self.drop_replies > 0:
                            self.drop_replies -= 1
                            self.log.append(("dropped", client, data))
                        else:
                            self.log.append(("s2c", client, data))
                            self.front.sendto(data, client)

    def mark(self):
        with self.lock:
            return len(self.log)

    def since(self, mark, direction):
        with self.lock:
            return [e for e in self.log[mark:] if e[0] == direction]

    def resend(self, entry):
        """Sends a recorded client datagram again from its upstream socket."""
        with self.lock:
            self.upstream[entry[1]].send(entry[2])

    def close(self):
        self.stopping = True
        self.thread.join(timeout=5)
        for s in [self.front] + list(self.upstream.values()):
            s.close()


def wait_for_reply(sock, timeout):
    """A datagram arriving on sock within timeout s, or None."""
    ready, _, _ = select.select([sock], [], [], timeout)
    return sock.recv(2048) if ready else None


def replay_case(ck, d, cipher, password):
    action = "persona lab1: power cycle (local backend) by 127.0.0.1:"
    before = d.log_count(action)
    proxy = UdpProxy(d.port)
    shell = None
    try:
        shell = IpmiShell(proxy.port, "lab1", password, cipher=cipher)
        ck.ok(shell.opened, "ipmitool shell opened a session through the proxy", shell.last_output)
        m = proxy.mark()
        out = shell.command("power cycle")
        ck.contains(out or "", "Chassis Power Control: Cycle", "power cycle answered")
        sent = proxy.since(m, "c2s")
        ck.eq(len(sent), 1, "one Chassis Control datagram went out")
        ck.eq(d.log_count(action), before + 1, "power cycle ran once")
        if not sent:
            return
        request = sent[0]

        # The same bytes again, from the client's own address and port.
        m = proxy.mark()
        proxy.resend(request)
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline and not proxy.since(m, "s2c"):
            time.sleep(0.05)
        ck.eq(proxy.since(m, "s2c"), [], "a replayed request gets no answer")
        # ... and from another port of the same host.
        other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            other.sendto(request[2], ("127.0.0.1", d.port))
            ck.eq(wait_for_reply(other, 1.0), None, "the replay from another port gets no answer")
        finally:
            other.close()
        ck.eq(d.log_count(action), before + 1, "power cycle still ran once")

        out = shell.command("power status")
        ck.contains(out or "", "Chassis Power is on", "the session still works after the replays")
        ck.eq(shell.close(), 0, "ipmitool shell exits 0")
        shell = None

        # After the session closed, the packet is worthless.
        m = proxy.mark()
        proxy.resend(request)
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline and not proxy.since(m, "s2c"):
            time.sleep(0.05)
        ck.eq(proxy.since(m, "s2c"), [], "a replay after the session closed gets no answer")
        ck.eq(d.log_count(action), before + 1, "power cycle ran once in all")
    finally:
        if shell:
            shell.close()
        proxy.close()


def retransmit_case(ck, d, cipher, password):
    action = "persona lab1: power off (local backend) by 127.0.0.1:"
    before = d.log_count(action)
    proxy = UdpProxy(d.port)
    shell = None
    try:
        shell = IpmiShell(proxy.port, "lab1", password, cipher=cipher)
        ck.ok(shell.opened, "ipmitool shell opened a session through the proxy", shell.last_output)
        m = proxy.mark()
        with proxy.lock:
            proxy.drop_replies = 1
        out = shell.command("power off", timeout=60)
        ck.contains(out or "", "Chassis Power Control: Down/Off", "power off succeeds despite the lost reply")
        ck.eq(len(proxy.since(m, "dropped")), 1, "the proxy dropped the first reply")
        ck.ok(len(proxy.since(m, "c2s")) >= 2, "ipmitool retransmitted the request",
              "%d datagrams sent" % len(proxy.since(m, "c2s")))
        ck.eq(d.log_count(action), before + 1, "power off ran exactly once")
        out = shell.command("power status")
        ck.contains(out or "", "Chassis Power is off", "power status is off")
        out = shell.command("power on")
        ck.contains(out or "", "Chassis Power Control: Up/On", "power on (cleanup)")
    finally:
        if shell:
            ck.eq(shell.close(), 0, "ipmitool shell exits 0")
        proxy.close()


def main():
    ck = Checks(NAME)
    wd = workdir(NAME)
    password = random_password()
    d = Daemon(wd, base_config([{"name": "lab1", "hostname": "lab1.example"}], password))
    try:
        d.start()
        for cipher in (3, 17):
            with ck.section("replayed Chassis Control, -C %d" % cipher):
                replay_case(ck, d, cipher, password)
            with ck.section("lost reply, retransmitted Chassis Control, -C %d" % cipher):
                retransmit_case(ck, d, cipher, password)
    finally:
        d.check_exit(ck)
        d.scan_for_secrets(ck, [password])
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
