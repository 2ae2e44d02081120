"""How a console reaches a persona: on the shared listener by IPMI user
name (the persona's name, or its hostname when unique and at most 16
bytes); on a persona's own UDP port or own local address with the
configured ipmi.user (default admin); and over IPv6 ([::1])."""

import socket
import sys

from harness import Checks, Daemon, base_config, fields, free_port, random_password, workdir

NAME = "addressing"


def ipv6_loopback():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


def asset_tag(d, user, **kw):
    """The FRU asset tag (the persona's hostname) seen through a login."""
    rc, out = d.ipmitool(user, "fru", "print", **kw)
    return fields(out).get("Product Asset Tag") if rc == 0 else "rc=%d: %s" % (rc, out.strip())


def main():
    ck = Checks(NAME)
    wd = workdir(NAME)
    password = random_password()
    own_port = free_port()
    shared_port = free_port()
    v6 = ipv6_loopback()
    v6_port = free_port(host="::1") if v6 else None
    listen = ["127.0.0.1:%d" % shared_port] + (["[::1]:%d" % v6_port] if v6 else [])
    personas = [
        {"name": "lab1", "hostname": "lab1.example"},
        {"name": "lab2", "hostname": "lab2.example", "power": "off"},
        {"name": "lab3", "hostname": "a-hostname-longer-than-16.example"},
        {"name": "dup1", "hostname": "same.example"},
        {"name": "dup2", "hostname": "same.example"},
        {"name": "ownport", "hostname": "ownport.example", "port": own_port},
        {"name": "ownaddr", "hostname": "ownaddr.example", "address": "127.0.0.2"},
    ]
    d = Daemon(wd, base_config(personas, password, listen=listen))
    try:
        d.start()
        with ck.section("shared listener: by name and by hostname"):
            ck.eq(asset_tag(d, "lab1"), "lab1.example", "user lab1 reaches lab1")
            ck.eq(asset_tag(d, "lab1.example"), "lab1.example", "user lab1.example reaches lab1")
            ck.eq(asset_tag(d, "lab2"), "lab2.example", "user lab2 reaches lab2")
            ck.eq(asset_tag(d, "lab2.example"), "lab2.example", "user lab2.example reaches lab2")
            rc, out = d.ipmitool("lab1", "power", "status")
            ck.eq(out.strip(), "Chassis Power is on", "lab1 is on")
            rc, out = d.ipmitool("lab2.example", "power", "status")
            ck.eq(out.strip(), "Chassis Power is off", "lab2 is off: a different persona")
            rc, out = d.ipmitool("lab2", "power", "on")
            ck.eq(d.log_count("persona lab2: power on (local backend)"), 1, "lab2's action is logged as lab2's")
            ck.eq(d.log_count("persona lab1: power on"), 0, "and not lab1's")

        with ck.section("shared listener: names that route nowhere"):
            ck.eq(asset_tag(d, "lab3"), "a-hostname-longer-than-16.example", "lab3 by name")
            rc, out = d.ipmitool("a-hostname-longer-than-16.example"[:16], "-v", "power", "status")
            ck.contains(out, "unauthorized name", "a hostname over 16 bytes is no user name")
            ck.eq(asset_tag(d, "dup1"), "same.example", "dup1 by name")
            ck.eq(asset_tag(d, "dup2"), "same.example", "dup2 by name")
            rc, out = d.ipmitool("same.example", "-v", "power", "status")
            ck.contains(out, "unauthorized name", "a hostname two personas share is no user name")
            rc, out = d.ipmitool("admin", "-v", "power", "status")
            ck.contains(out, "unauthorized name", "'admin' means nothing on the shared listener")

        with ck.section("own UDP port: user admin"):
            ck.ok(d.log_count("persona ownport: own listener on 127.0.0.1:%d (user name admin)" % own_port) == 1,
                  "the daemon logged the own listener")
            ck.eq(asset_tag(d, "admin", port=own_port), "ownport.example", "admin on the own port reaches it")
            rc, out = d.ipmitool("admin", "chassis", "bootdev", "pxe", port=own_port)
            ck.eq(d.log_count("persona ownport: boot pxe (local backend)"), 1, "an action there is ownport's")
            rc, out = d.ipmitool("lab1", "-v", "power", "status", port=own_port)
            ck.contains(out, "unauthorized name", "other user names are refused on the own port")

        with ck.section("own address 127.0.0.2: user admin"):
            ck.eq(asset_tag(d, "admin", host="127.0.0.2", port=shared_port), "ownaddr.example",
                  "admin on 127.0.0.2 reaches it")
            rc, out = d.ipmitool("admin", "lan", "print", host="127.0.0.2", port=shared_port)
            ck.eq(fields(out).get("IP Address"), "127.0.0.2", "lan print shows the own address")
            rc, out = d.ipmitool("lab1", "-v", "power", "status", host="127.0.0.2", port=shared_port)
            ck.contains(out, "unauthorized name", "other user names are refused on the own address")
            rc, out = d.ipmitool("lab1", "lan", "print")
            ck.eq(fields(out).get("IP Address"), "127.0.0.1", "the shared listener still says 127.0.0.1")

        with ck.section("IPv6 listener [::1]"):
            if not v6:
                print("   (skipped: no IPv6 loopback here)")
            else:
                rc, out = d.ipmitool("lab1", "power", "status", host="::1", port=v6_port)
                ck.eq((rc, out.strip()), (0, "Chassis Power is on"), "ipmitool -H ::1 power status")
                rc, out = d.ipmitool("lab2", "power", "off", host="::1", port=v6_port, cipher=3)
                ck.contains(out, "Chassis Power Control: Down/Off", "ipmitool -H ::1 -C 3 power off")
                ck.ok(d.log_count("persona lab2: power off (local backend) by [::1]:") == 1,
                      "the daemon logged the action from [::1]")
                rc, out = d.ipmitool("lab1", "session", "info", "active", host="::1", port=v6_port)
                ck.eq(fields(out).get("session type"), "IPMIv2/RMCP+", "session info over IPv6")
                rc, out = d.freeipmi("ipmipower", "lab2", "--stat", host="[::1]", port=v6_port)
                ck.contains(out, ": off", "FreeIPMI over IPv6 sees lab2 off")
    finally:
        d.check_exit(ck)
        d.scan_for_secrets(ck, [password])
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
