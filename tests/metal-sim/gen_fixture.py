#!/usr/bin/python3
"""Generate a metal-sim fixture of realistic Equinix Metal devices.

    gen_fixture.py --devices N --tagged-fraction F [--projects K] [--seed S] > fixture.json

Devices are spread round-robin over K projects.  Exactly round(N * F) of
them carry the tag "ipmi=enabled" (chosen by the seeded generator), so tests
can count on the number.  The same arguments always give the same file.
Every field follows the Device schema of the Metal OpenAPI description, so
the fixture passes Prism's response validation unchanged.

Standard library only: runs under /usr/bin/python3 on a bare CI machine.
"""

import argparse
import json
import random
import sys
import uuid

# metro code, name, country, facilities (code, name)
METROS = [
    ("da", "Dallas", "US", [("da11", "Dallas DA11"), ("da6", "Dallas DA6")]),
    ("sv", "Silicon Valley", "US", [("sv15", "Silicon Valley SV15"), ("sv16", "Silicon Valley SV16")]),
    ("ny", "New York", "US", [("ny5", "New York NY5"), ("ny7", "New York NY7")]),
    ("am", "Amsterdam", "NL", [("am6", "Amsterdam AM6")]),
    ("fr", "Frankfurt", "DE", [("fr2", "Frankfurt FR2")]),
    ("sg", "Singapore", "SG", [("sg4", "Singapore SG4")]),
]

# slug, class line, cpu count, memory, drives
PLANS = [
    ("c3.small.x86", 1, "32GB", [(2, "SSD", "480GB", "boot")]),
    ("c3.medium.x86", 1, "64GB", [(2, "SSD", "240GB", "boot"), (2, "SSD", "480GB", "storage")]),
    ("m3.small.x86", 1, "64GB", [(2, "SSD", "480GB", "boot")]),
    ("m3.large.x86", 2, "256GB", [(2, "SSD", "240GB", "boot"), (2, "NVME", "3.8TB", "storage")]),
    ("n3.xlarge.x86", 2, "512GB", [(2, "SSD", "240GB", "boot"), (4, "NVME", "3.8TB", "storage")]),
    ("s3.xlarge.x86", 1, "192GB", [(2, "SSD", "960GB", "boot"), (12, "HDD", "8TB", "storage")]),
]

OSES = [
    ("ubuntu_22_04", "Ubuntu 22.04 LTS", "ubuntu", "22.04"),
    ("ubuntu_24_04", "Ubuntu 24.04 LTS", "ubuntu", "24.04"),
    ("debian_12", "Debian 12", "debian", "12"),
    ("rocky_9", "Rocky Linux 9", "rocky", "9"),
    ("custom_ipxe", "Custom iPXE", "custom_ipxe", "1"),
]

ROLES = ["web", "db", "cache", "k8s", "ci", "edge", "batch", "gpu"]


def make_uuid(rng):
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def timestamp(rng):
    return "2025-%02d-%02dT%02d:%02d:%02dZ" % (
        rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23),
        rng.randint(0, 59), rng.randint(0, 59))


def ip_addresses(rng, index, device_id, metro, created):
    """A public /31 and a private /31 IPv4, and a public /127 IPv6, like a
    freshly provisioned layer-3 server."""
    pub = "147.%d.%d.%d" % (75 + index // 65536 % 100, index // 256 % 256, index % 128 * 2 + 1)
    priv = "10.%d.%d.%d" % (index // 65536 % 256, index // 256 % 256, index % 128 * 2 + 1)
    v6 = "2604:1380:%x:%x::1" % (index // 65536 % 65536 + 1, index % 65536)
    out = []
    for family, public, addr, cidr, netmask, gateway, network in (
            (4, True, pub, 31, "255.255.255.254", pub.rsplit(".", 1)[0] + ".%d" % (int(pub.rsplit(".", 1)[1]) - 1),
             pub.rsplit(".", 1)[0] + ".%d" % (int(pub.rsplit(".", 1)[1]) - 1)),
            (6, True, v6, 127, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", v6[:-1] + "0", v6[:-1] + "0"),
            (4, False, priv, 31, "255.255.255.254", priv.rsplit(".", 1)[0] + ".%d" % (int(priv.rsplit(".", 1)[1]) - 1),
             priv.rsplit(".", 1)[0] + ".%d" % (int(priv.rsplit(".", 1)[1]) - 1))):
        ip_id = make_uuid(rng)
        out.append({
            "id": ip_id,
            "address_family": family,
            "netmask": netmask,
            "created_at": created,
            "public": public,
            "cidr": cidr,
            "management": True,
            "manageable": True,
            "enabled": True,
            "global_ip": False,
            "address": addr,
            "gateway": gateway,
            "network": network,
            "href": "/metal/v1/ips/%s" % ip_id,
            "assigned_to": {"href": "/metal/v1/devices/%s" % device_id},
            "metro": metro,
            "type": "IPAssignment",
        })
    return out


def make_device(rng, index, project_id, tagged, user):
    device_id = make_uuid(rng)
    short_id = device_id[:8]
    metro_code, metro_name, country, facilities = METROS[index % len(METROS)]
    fac_code, fac_name = facilities[(index // len(METROS)) % len(facilities)]
    plan_slug, cpus, memory, drives = PLANS[rng.randrange(len(PLANS))]
    os_slug, os_name, distro, version = OSES[rng.randrange(len(OSES) - 1)]
    role = ROLES[index % len(ROLES)]
    created = timestamp(rng)
    metro = {"id": make_uuid(rng), "code": metro_code, "name": metro_name, "country": country}
    tags = ["role=%s" % role, "env=%s" % rng.choice(["prod", "staging", "dev"])]
    if tagged:
        tags.insert(0, "ipmi=enabled")
    return {
        "id": device_id,
        "short_id": short_id,
        # Unique: the index is part of the name.
        "hostname": "%s-%s-%05d" % (role, metro_code, index),
        "description": "%s server %d" % (role, index),
        "state": "active",
        "tags": tags,
        "always_pxe": False,
        "billing_cycle": "hourly",
        "bonding_mode": 5,
        "locked": False,
        "spot_instance": False,
        "network_frozen": False,
        "customdata": {},
        "userdata": "",
        "user": "root",
        "iqn": "iqn.2025-01.net.packet:device.%s" % short_id,
        "switch_uuid": "%08x" % rng.getrandbits(32),
        "operating_system": {
            "id": make_uuid(rng), "slug": os_slug, "name": os_name,
            "distro": distro, "version": version, "preinstallable": False,
            "provisionable_on": [plan_slug], "licensed": False,
        },
        "facility": {
            "id": make_uuid(rng), "code": fac_code, "name": fac_name,
            "features": ["baremetal", "backend_transfer", "global_ipv4"],
            "metro": metro,
        },
        "metro": metro,
        "plan": {
            "id": make_uuid(rng), "slug": plan_slug, "name": plan_slug,
            "class": plan_slug, "line": "baremetal", "legacy": False,
            "categories": ["compute", "current_gen"],
            "deployment_types": ["on_demand", "spot_market"],
            "specs": {
                "cpus": [{"count": cpus, "type": "AMD EPYC"}],
                "memory": {"total": memory},
                "drives": [{"count": c, "type": t, "size": s, "category": k} for c, t, s, k in drives],
                "nics": [{"count": 2, "type": "25Gbps"}],
                "features": {"raid": True, "txt": True, "uefi": True},
            },
            "type": "standard",
        },
        "ip_addresses": ip_addresses(rng, index, device_id, metro, created),
        "sos": "sos.%s.platformequinix.com" % fac_code,
        "project": {"href": "/metal/v1/projects/%s" % project_id},
        "created_by": user,
        "ssh_keys": [],
        "volumes": [],
        "created_at": created,
        "updated_at": created,
        "href": "/metal/v1/devices/%s" % device_id,
    }


def generate(devices, tagged_fraction, projects, seed):
    rng = random.Random(seed)
    project_ids = [make_uuid(rng) for _ in range(projects)]
    tagged_count = int(round(devices * tagged_fraction))
    tagged = set(rng.sample(range(devices), tagged_count))
    user_id = make_uuid(rng)
    user = {"id": user_id, "short_id": user_id[:8], "full_name": "Test Operator",
            "email": "ops@example.com", "href": "/metal/v1/users/%s" % user_id}
    out = {"projects": [{"id": pid, "devices": []} for pid in project_ids]}
    for i in range(devices):
        pid = project_ids[i % projects]
        out["projects"][i % projects]["devices"].append(
            make_device(rng, i, pid, i in tagged, user))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--devices", type=int, required=True, help="number of devices (N)")
    ap.add_argument("--tagged-fraction", type=float, required=True,
                    help="share of devices tagged ipmi=enabled, 0..1")
    ap.add_argument("--projects", type=int, default=1, help="number of projects (default 1)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--indent", type=int, default=None, help="pretty-print with this indent")
    args = ap.parse_args(argv)
    if args.devices < 0:
        ap.error("--devices must be >= 0")
    if not 0.0 <= args.tagged_fraction <= 1.0:
        ap.error("--tagged-fraction must be between 0 and 1")
    if args.projects < 1:
        ap.error("--projects must be >= 1")
    fixture = generate(args.devices, args.tagged_fraction, args.projects, args.seed)
    # One write: json.dump would issue one small write per token.
    sys.stdout.write(json.dumps(fixture, indent=args.indent,
                                separators=None if args.indent else (",", ":")) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
