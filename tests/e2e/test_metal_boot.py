"""Boot device through the Metal backend: `chassis bootdev pxe` becomes
PUT /devices/{id} with always_pxe true and ipxe_script_url =
METALBMC_IPXE_URL, `bootdev disk` always_pxe false; the device in metal-sim
really changes. A one-time PXE request is undone (always_pxe false) after
the next boot metalbmc causes, a persistent one is not. Boot devices Metal
cannot do are refused without an API call. Get System Boot Options reports
what the device really has, also after a change made behind metalbmc's
back. FreeIPMI's ipmi-chassis reads the same."""

import sys

from harness import Checks, fields, wait_until, workdir
from metal_helpers import Pair, device, fixture

NAME = "metal_boot"
IPXE_URL = "http://192.0.2.10/metalbmc/boot.ipxe"


def bootparam5(p, user):
    rc, out = p.ipmitool(user, "chassis", "bootparam", "get", "5")
    return rc, fields(out).get("Boot parameter data"), out


def main():
    ck = Checks(NAME)
    wd = workdir(NAME)
    devs = [device(1), device(2), device(3, operating_system={"slug": "custom_ipxe"},
                                         always_pxe=True, ipxe_script_url="http://old/x.ipxe")]
    ids = [d["id"] for d in devs]
    names = [d["short_id"] for d in devs]
    p = Pair(wd, fixture(devs), poll_interval=2, metal={"ipxe_url": IPXE_URL},
             sim_args=["--transition-ms", "1500"])
    try:
        p.start()
        p.wait_personas(3)
        put_path = "/metal/v1/devices/%s" % ids[0]

        with ck.section("bootdev pxe (next boot only)"):
            mark = p.mark()
            rc, out = p.ipmitool(names[0], "chassis", "bootdev", "pxe")
            ck.eq(rc, 0, "ipmitool chassis bootdev pxe exits 0")
            ck.contains(out, "Set Boot Device to pxe", "its answer")
            puts = p.calls(mark, "PUT", put_path)
            ck.eq([r["body"] for r in puts], [{"always_pxe": True, "ipxe_script_url": IPXE_URL}],
                  "one PUT with always_pxe and the configured iPXE URL")
            dev = p.sim_device(ids[0])
            ck.eq((dev.get("always_pxe"), dev.get("ipxe_script_url")), (True, IPXE_URL),
                  "the device has them")
            rc, data, out = bootparam5(p, names[0])
            ck.eq(data, "8004000000", "bootparam 5: PXE, valid, this boot only")

        with ck.section("bootdev disk"):
            mark = p.mark()
            rc, out = p.ipmitool(names[0], "chassis", "bootdev", "disk")
            ck.eq(rc, 0, "ipmitool chassis bootdev disk exits 0")
            puts = p.calls(mark, "PUT", put_path)
            ck.eq([r["body"] for r in puts], [{"always_pxe": False}], "one PUT: always_pxe false")
            ck.eq(p.sim_device(ids[0]).get("always_pxe"), False, "the device has it")
            ck.eq(p.sim_device(ids[0]).get("ipxe_script_url"), IPXE_URL,
                  "the iPXE URL is left alone")
            rc, data, out = bootparam5(p, names[0])
            ck.eq(data, "8008000000", "bootparam 5: disk")

        with ck.section("one-time PXE is undone after the next boot metalbmc causes"):
            rc, out = p.ipmitool(names[1], "chassis", "bootdev", "pxe")
            ck.eq(rc, 0, "bootdev pxe exits 0")
            ck.eq(p.sim_device(ids[1]).get("always_pxe"), True, "always_pxe on")
            mark = p.mark()
            rc, out = p.ipmitool(names[1], "power", "cycle")
            ck.eq(rc, 0, "power cycle exits 0")
            undo_path = "/metal/v1/devices/%s" % ids[1]
            wait_until(lambda: p.calls(mark, "PUT", undo_path), 30,
                       "the always_pxe=false PUT after the reboot")
            reqs = p.calls(mark)
            kinds = [(r["method"], r.get("body")) for r in reqs
                     if ids[1] in r["path"] and r["method"] != "GET"]
            ck.eq(kinds, [("POST", {"type": "reboot"}), ("PUT", {"always_pxe": False})],
                  "the reboot, then the undo, nothing else")
            # The undo comes only once the device is back: its state when
            # the PUT arrived was active, and it went through a transition.
            put_t = [r["t_ms"] for r in reqs if r["method"] == "PUT"][0]
            post_t = [r["t_ms"] for r in reqs if r["method"] == "POST"][0]
            ck.ok(put_t - post_t >= 2 * 1500 - 200, "undo after both reboot steps",
                  "%d ms after the reboot" % (put_t - post_t))
            ck.eq(p.sim_device(ids[1]).get("always_pxe"), False, "always_pxe off again")
            p.d.wait_log("persona %s: one-time PXE boot done" % names[1])
            rc, data, out = bootparam5(p, names[1])
            ck.eq(data, "0000000000", "bootparam 5: no override once that boot is done")

        with ck.section("persistent PXE stays after a boot"):
            mark = p.mark()
            rc, out = p.ipmitool(names[0], "chassis", "bootdev", "pxe", "options=persistent")
            ck.eq(rc, 0, "bootdev pxe options=persistent exits 0")
            rc, data, out = bootparam5(p, names[0])
            ck.eq(data, "c004000000", "bootparam 5: PXE, persistent")
            rc, out = p.ipmitool(names[0], "power", "cycle")
            ck.eq(rc, 0, "power cycle exits 0")
            p.wait_sim_state(ids[0], "powering_on")
            p.wait_sim_state(ids[0], "active")
            # Two more polls and refreshes; nothing may undo it.
            p.d.wait_log("discovery: project", count=p.d.log_count("discovery: project") + 2,
                         timeout=20)
            puts = p.calls(mark, "PUT", put_path)
            ck.eq([r["body"] for r in puts], [{"always_pxe": True, "ipxe_script_url": IPXE_URL}],
                  "only the one PUT")
            ck.eq(p.sim_device(ids[0]).get("always_pxe"), True, "still always_pxe")

        with ck.section("boot devices Metal cannot do are refused"):
            for dev in ("cdrom", "bios", "floppy"):
                mark = p.mark()
                rc, out = p.ipmitool(names[0], "chassis", "bootdev", dev)
                ck.ok(rc != 0 or "failed" in out.lower() or "error" in out.lower(),
                      "bootdev %s refused" % dev, out)
                ck.eq(p.calls(mark, "PUT"), [], "no PUT for %s" % dev)

        with ck.section("the device's real setting, also when changed behind our back"):
            rc, data, out = bootparam5(p, names[2])
            ck.eq(data, "c004000000", "a custom_ipxe device with always_pxe reads PXE persistent")
            st, _ = p.sim.api("PUT", "/devices/%s" % ids[2], {"always_pxe": False})
            ck.eq(st, 200, "someone turns always_pxe off through the API")
            wait_until(lambda: bootparam5(p, names[2])[1] == "0000000000", 20,
                       "bootparam 5 to show no override after the next poll")
            rc, out = p.d.freeipmi("ipmi-chassis", names[2], "--get-boot-flags")
            ck.eq(rc, 0, "ipmi-chassis --get-boot-flags exits 0")
            ck.contains(out, "No override", "FreeIPMI sees no override")
            st, _ = p.sim.api("PUT", "/devices/%s" % ids[2], {"always_pxe": True})
            wait_until(lambda: bootparam5(p, names[2])[1] == "c004000000", 20,
                       "bootparam 5 back to PXE persistent")
            rc, out = p.d.freeipmi("ipmi-chassis", names[2], "--get-boot-flags")
            ck.contains(out, "PXE", "FreeIPMI sees PXE")

        with ck.section("every boot change logged and recorded"):
            log = p.d.read_log()
            ck.contains(log, "persona %s: boot pxe once by 127.0.0.1:" % names[0], "pxe once")
            ck.contains(log, "persona %s: boot disk once by 127.0.0.1:" % names[0], "disk")
            ck.contains(log, "persona %s: boot pxe persistent by 127.0.0.1:" % names[0],
                        "pxe persistent")

        with ck.section("secrets"):
            p.scan_secrets(ck)
        p.d.check_exit(ck)
    finally:
        p.stop()
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
