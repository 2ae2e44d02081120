#!/usr/bin/python3
"""metal_sim_api: functional test of metal-sim over real HTTP.

Starts metal-sim on 127.0.0.1 port 0 with generated fixtures and checks the
API (auth, paging, filters, exclude, get/put/actions/events, errors), the
state machine (observed by polling), every fault knob, the /_sim control
surface, the request log, start-up errors and shutdown.

    test_api.py --sim PATH/metal-sim --gen PATH/gen_fixture.py --workdir DIR
"""

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from simtest import LISTEN_LINE, Checks, Sim, gen_fixture, wait_until  # noqa: E402

TOKEN = "sim-test-token-3f9c2a71d5e8"
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
TRANSITION_MS = 150


def q(path, **params):
    return path + "?" + urllib.parse.urlencode(params)


def is_error_body(resp, key="errors"):
    try:
        body = resp.json()
    except ValueError:
        return False
    if key == "errors":
        return (isinstance(body, dict) and isinstance(body.get("errors"), list)
                and len(body["errors"]) > 0 and all(isinstance(e, str) for e in body["errors"]))
    return isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"]


# ---------------------------------------------------------------------------

def check_startup(c, sim):
    c.start("start-up")
    m = LISTEN_LINE.match(sim.listen_line)
    c.ok(m is not None, "stdout line has the documented form", repr(sim.listen_line))
    if m:
        c.eq(int(m.group(2)), sim.port, "port in stdout line equals port file")
    c.ok(sim.port > 0, "port file holds the bound port", sim.port)


def check_auth(c, sim, project_id, device_id):
    c.start("auth")
    for path in ("/projects/%s/devices" % project_id, "/devices/%s" % device_id,
                 "/devices/%s/events" % device_id, "/no/such/route"):
        r = sim.api("GET", path, token=None)
        c.eq(r.status, 401, "missing token on %s" % path)
        c.ok(is_error_body(r, "error"), "401 body is {\"error\": ...}", r.body)
        r = sim.api("GET", path, token="wrong")
        c.eq(r.status, 401, "wrong token on %s" % path)
        # Same length, last character wrong: a prefix match must not pass.
        r = sim.api("GET", path, token=TOKEN[:-1] + "x")
        c.eq(r.status, 401, "same-length wrong token on %s" % path)
        r = sim.api("GET", path, token=TOKEN + "x")
        c.eq(r.status, 401, "token with extra suffix on %s" % path)
    r = sim.api("PUT", "/devices/%s" % device_id, body={"always_pxe": True}, token="nope")
    c.eq(r.status, 401, "PUT without the right token")
    r = sim.api("POST", "/devices/%s/actions" % device_id, body={"type": "power_off"}, token=None)
    c.eq(r.status, 401, "action without token")
    r = sim.api("GET", "/devices/%s" % device_id)
    c.eq(r.status, 200, "refused calls changed nothing")
    c.eq(r.json()["always_pxe"], False, "PUT with a wrong token had no effect")
    c.eq(r.json()["state"], "active", "action with no token had no effect")
    for method, path in (("GET", "/requests"), ("POST", "/requests/clear"), ("GET", "/faults"),
                         ("POST", "/faults"), ("GET", "/devices/%s" % device_id)):
        r = sim.control(method, path, token=None)
        c.eq(r.status, 401, "/_sim%s without token" % path)
        r = sim.control(method, path, token="wrong")
        c.eq(r.status, 401, "/_sim%s with a wrong token" % path)


def page_through(c, sim, first_path, per_page, expect_total, what):
    """Follows meta.next from first_path; checks every page's meta; returns
    the ids in order."""
    ids = []
    path = first_path
    page = 1
    last_page = max(1, -(-expect_total // per_page))
    while path is not None:
        r = sim.request("GET", path)
        if not c.eq(r.status, 200, "%s page %d status" % (what, page)):
            return ids
        body = r.json()
        meta = body["meta"]
        c.eq(sorted(body.keys()), ["devices", "meta"], "%s page %d top-level keys" % (what, page))
        c.eq(meta.get("current_page"), page, "%s page %d current_page" % (what, page))
        c.eq(meta.get("last_page"), last_page, "%s page %d last_page" % (what, page))
        c.eq(meta.get("total"), expect_total, "%s page %d total" % (what, page))
        want = min(per_page, expect_total - (page - 1) * per_page)
        c.eq(len(body["devices"]), want, "%s page %d device count" % (what, page))
        for key in ("first", "self", "last"):
            c.ok(isinstance(meta.get(key), dict) and isinstance(meta[key].get("href"), str),
                 "%s page %d meta.%s is an Href" % (what, page, key), meta.get(key))
        self_q = urllib.parse.parse_qs(urllib.parse.urlsplit(meta["self"]["href"]).query)
        c.eq(self_q.get("page"), [str(page)], "%s page %d self href page" % (what, page))
        c.eq(self_q.get("per_page"), [str(per_page)], "%s page %d self href per_page" % (what, page))
        c.ok(meta["first"]["href"].startswith("/metal/v1/"), "hrefs carry the /metal/v1 prefix",
             meta["first"]["href"])
        c.ok("?page=1&per_page=%d" % per_page in meta["first"]["href"], "first href form",
             meta["first"]["href"])
        c.ok("?page=%d&per_page=%d" % (last_page, per_page) in meta["last"]["href"], "last href form",
             meta["last"]["href"])
        if page == 1:
            c.ok("previous" not in meta, "%s page 1 has no previous" % what, meta.get("previous"))
        else:
            c.ok("?page=%d&" % (page - 1) in meta.get("previous", {}).get("href", ""),
                 "%s page %d previous href" % (what, page), meta.get("previous"))
        if page == last_page:
            c.ok("next" not in meta, "%s last page has no next (absent, not null)" % what,
                 meta.get("next"))
            path = None
        else:
            nxt = meta.get("next", {}).get("href")
            c.ok(nxt is not None and "?page=%d&" % (page + 1) in nxt,
                 "%s page %d next href" % (what, page), meta.get("next"))
            path = nxt
        ids += [d["id"] for d in body["devices"]]
        page += 1
        if page > last_page + 1:
            c.ok(False, "%s: next links never end" % what)
            break
    c.eq(page - 1, last_page, "%s: pages visited" % what)
    return ids


def check_paging(c, sim, fixture):
    c.start("paging and filters")
    proj = fixture["projects"][0]
    pid = proj["id"]
    all_ids = [d["id"] for d in proj["devices"]]
    tagged_ids = [d["id"] for d in proj["devices"] if "ipmi=enabled" in d["tags"]]

    r = sim.api("GET", "/projects/%s/devices" % pid)
    c.eq(r.status, 200, "list status")
    c.eq(r.header("Content-Type"), "application/json", "list content type")
    meta = r.json()["meta"]
    c.eq(len(r.json()["devices"]), 10, "default per_page is 10")
    c.eq(meta["total"], len(all_ids), "total is the project's device count")
    c.ok("per_page=10" in meta["self"]["href"], "default per_page appears in hrefs", meta["self"])

    ids = page_through(c, sim, "/metal/v1/projects/%s/devices?per_page=7" % pid, 7, len(all_ids), "all")
    c.eq(ids, all_ids, "paging returns every device once, in fixture order")

    ids = page_through(c, sim, "/metal/v1/projects/%s/devices?tag=ipmi%%3Denabled&per_page=5" % pid, 5,
                       len(tagged_ids), "tagged")
    c.eq(ids, tagged_ids, "tag filter returns exactly the tagged devices")
    r = sim.api("GET", q("/projects/%s/devices" % pid, tag="ipmi=enabled", per_page=5))
    c.ok("tag=ipmi%3Denabled" in r.json()["meta"]["next"]["href"], "filters are kept in hrefs",
         r.json()["meta"]["next"])
    r = sim.api("GET", "/projects/%s/devices?tag=ipmi=enabled&per_page=1000" % pid)
    c.eq(r.json()["meta"]["total"], len(tagged_ids), "unencoded '=' in the tag value works too")
    r = sim.api("GET", q("/projects/%s/devices" % pid, tag="ipmi"))
    c.eq(r.json()["meta"]["total"], 0, "tag filter is an exact match, not a prefix")
    r = sim.api("GET", q("/projects/%s/devices" % pid, tag="IPMI=ENABLED"))
    c.eq(r.json()["meta"]["total"], 0, "tag filter is case-sensitive")

    host = proj["devices"][3]["hostname"]
    r = sim.api("GET", q("/projects/%s/devices" % pid, search=host))
    c.eq([d["id"] for d in r.json()["devices"]], [proj["devices"][3]["id"]], "search by hostname")
    r = sim.api("GET", q("/projects/%s/devices" % pid, search=proj["devices"][5]["short_id"]))
    c.ok(proj["devices"][5]["id"] in [d["id"] for d in r.json()["devices"]], "search by short_id")
    r = sim.api("GET", q("/projects/%s/devices" % pid, search="no-such-thing-anywhere"))
    c.eq(r.json()["meta"]["total"], 0, "search with no match")
    r = sim.api("GET", q("/projects/%s/devices" % pid, state="active", per_page=1000))
    c.eq(r.json()["meta"]["total"], len(all_ids), "state=active matches all active devices")
    r = sim.api("GET", q("/projects/%s/devices" % pid, state="inactive"))
    c.eq(r.json()["meta"]["total"], 0, "state=inactive matches none")

    # Bounds: the list operations declare no 422, so values are clamped.
    r = sim.api("GET", q("/projects/%s/devices" % pid, per_page=5000))
    c.eq(len(r.json()["devices"]), len(all_ids), "per_page above 1000 clamps to 1000")
    c.ok("per_page=1000" in r.json()["meta"]["self"]["href"], "clamped per_page in hrefs")
    r = sim.api("GET", q("/projects/%s/devices" % pid, per_page=0))
    c.eq(len(r.json()["devices"]), 1, "per_page 0 clamps to 1")
    r = sim.api("GET", q("/projects/%s/devices" % pid, page=0))
    c.eq(r.json()["meta"]["current_page"], 1, "page 0 clamps to 1")
    r = sim.api("GET", q("/projects/%s/devices" % pid, page="abc", per_page="x"))
    c.eq((r.status, r.json()["meta"]["current_page"], len(r.json()["devices"])), (200, 1, 10),
         "unparsable page/per_page take the defaults")
    r = sim.api("GET", q("/projects/%s/devices" % pid, page=99))
    c.eq((r.status, r.json()["devices"], r.json()["meta"]["current_page"]), (200, [], 99),
         "page past the end is empty")
    c.ok("next" not in r.json()["meta"], "page past the end has no next")

    c.start("exclude / include")
    r = sim.api("GET", q("/projects/%s/devices" % pid, exclude="ip_addresses,plan,project", per_page=3))
    for d in r.json()["devices"]:
        c.ok("ip_addresses" not in d and "plan" not in d, "excluded fields are absent", sorted(d))
        c.eq(d.get("project"), {"href": "/metal/v1/projects/%s" % pid},
             "an excluded object with an href is reduced to the href")
        c.ok("hostname" in d and "tags" in d and "metro" in d, "other fields stay")
    c.ok("exclude=ip_addresses,plan,project" in r.json()["meta"]["next"]["href"],
         "exclude is kept in hrefs", r.json()["meta"]["next"])
    r = sim.api("GET", q("/projects/%s/devices" % pid, exclude="facility.metro", per_page=1))
    d = r.json()["devices"][0]
    c.ok("metro" not in d["facility"] and "code" in d["facility"] and "metro" in d,
         "dotted exclude reaches nested attributes", d.get("facility"))
    r = sim.api("GET", q("/devices/%s" % all_ids[0], exclude="ip_addresses"))
    c.ok(r.status == 200 and "ip_addresses" not in r.json(), "exclude on GET /devices/{id}")
    r = sim.api("GET", "/devices/%s" % all_ids[0])
    c.ok("ip_addresses" in r.json() and "plan" in r.json(), "exclude never alters stored devices")
    r = sim.api("GET", q("/projects/%s/devices" % pid, include="project,facility", per_page=2))
    c.eq(r.status, 200, "include is accepted")

    c.start("not found / wrong method")
    for path in ("/projects/00000000-0000-4000-8000-000000000000/devices", "/projects/nope/devices",
                 "/devices/00000000-0000-4000-8000-000000000000", "/devices/not-a-uuid",
                 "/devices/%s/nonsense" % all_ids[0], "/devices/%s/" % all_ids[0], "/projects",
                 "", "/", "/users/me", "/devices/%s/events/x" % all_ids[0]):
        r = sim.api("GET", path)
        c.eq(r.status, 404, "GET /metal/v1%s is 404" % path)
        c.ok(is_error_body(r), "404 body is {\"errors\": [...]}", r.body)
    r = sim.request("GET", "/metal/v2/devices")
    c.eq(r.status, 404, "outside the prefix is 404")
    for method, path, allow in (("DELETE", "/devices/%s" % all_ids[0], "PUT"),
                                ("POST", "/devices/%s" % all_ids[0], "PUT"),
                                ("GET", "/devices/%s/actions" % all_ids[0], "POST"),
                                ("PUT", "/projects/%s/devices" % pid, "GET"),
                                ("POST", "/devices/%s/events" % all_ids[0], "GET")):
        r = sim.api(method, path, raw_body=b"{}")
        c.eq(r.status, 405, "%s %s is 405" % (method, path))
        c.ok(allow in (r.header("Allow") or ""), "405 names the allowed methods", r.header("Allow"))
        c.ok(is_error_body(r), "405 body is an Error", r.body)
    r = sim.api("GET", "/devices/%s" % all_ids[0])
    c.eq(r.json()["state"], "active", "a refused DELETE changed nothing")


def check_device_get_put(c, sim, fixture):
    c.start("GET/PUT device")
    proj = fixture["projects"][0]
    dev = proj["devices"][1]
    did = dev["id"]
    r = sim.api("GET", "/devices/%s" % did)
    c.eq(r.status, 200, "GET device")
    got = r.json()
    for key in ("id", "short_id", "hostname", "tags", "always_pxe", "metro", "facility", "plan", "sos",
                "operating_system", "ip_addresses", "customdata", "created_at", "href", "created_by",
                "switch_uuid"):
        c.eq(got.get(key), dev.get(key), "GET device field %s as in fixture" % key)
    c.eq(got.get("x_vendor_extension"), {"kept": [1, 2, 3]}, "unknown fixture fields are served back")
    c.eq([a["type"] for a in got["actions"]], ["power_off", "reboot", "rescue", "reinstall"],
         "actions of an active device")

    events_before = sim.api("GET", "/devices/%s/events?per_page=1000" % did).json()["meta"]["total"]
    change = {"always_pxe": True, "ipxe_script_url": "http://10.0.0.1:8080/boot.ipxe",
              "tags": dev["tags"] + ["ipmi.port=6230"], "description": "under test",
              "customdata": {"a": {"b": 1}}, "locked": True, "userdata": "#!ipxe",
              "unknown_input_field": "ignored"}
    r = sim.api("PUT", "/devices/%s" % did, body=change)
    c.eq(r.status, 200, "PUT status")
    got = r.json()
    for key in ("always_pxe", "ipxe_script_url", "tags", "description", "customdata", "locked", "userdata"):
        c.eq(got.get(key), change[key], "PUT applied %s" % key)
    c.ok("unknown_input_field" not in got, "unknown input fields are ignored")
    c.ok(TIME_RE.match(got["updated_at"]) and got["updated_at"] >= dev["updated_at"],
         "updated_at bumped", got["updated_at"])
    got2 = sim.api("GET", "/devices/%s" % did).json()
    c.eq(got2["tags"], change["tags"], "PUT is persistent")
    events = sim.api("GET", "/devices/%s/events?per_page=1000" % did).json()
    c.eq(events["meta"]["total"], events_before + 7, "one event per changed field")
    c.eq({e["type"] for e in events["events"][:7]}, {"instance.update"}, "update events have type instance.update")
    c.ok(any("always_pxe changed to true" in e["interpolated"] for e in events["events"][:7]),
         "event text names the field and value", [e["interpolated"] for e in events["events"][:7]])
    r = sim.api("PUT", "/devices/%s" % did, body={"always_pxe": True, "tags": change["tags"]})
    c.eq(r.status, 200, "PUT with unchanged values")
    n = sim.api("GET", "/devices/%s/events" % did).json()["meta"]["total"]
    c.eq(n, events_before + 7, "unchanged values make no events")
    r = sim.api("PUT", "/devices/%s" % did, body={"hostname": "renamed-host", "ipxe_script_url": ""})
    c.eq((r.status, r.json()["hostname"], r.json()["ipxe_script_url"]), (200, "renamed-host", ""),
         "hostname change and clearing ipxe_script_url")
    r = sim.api("PUT", "/devices/%s" % did, body={})
    c.eq(r.status, 200, "empty update object is fine")

    c.start("PUT 422")
    before = sim.api("GET", "/devices/%s" % did).json()
    for what, raw in (("malformed JSON", b'{"always_pxe": tru'), ("JSON array", b"[1,2]"),
                      ("JSON string", b'"x"'), ("empty body", b""), ("duplicate keys",
                      b'{"always_pxe": true, "always_pxe": false}'), ("NUL inside", b'{"a\x00": 1}')):
        r = sim.api("PUT", "/devices/%s" % did, raw_body=raw)
        c.eq(r.status, 422, "PUT %s is 422" % what)
        c.ok(is_error_body(r), "PUT %s has an errors body" % what, r.body)
    for what, body in (("always_pxe string", {"always_pxe": "yes"}), ("tags not a list", {"tags": "a"}),
                       ("tags with a number", {"tags": ["a", 1]}), ("hostname number", {"hostname": 5}),
                       ("hostname invalid", {"hostname": "bad host!"}), ("hostname empty", {"hostname": ""}),
                       ("customdata list", {"customdata": [1]}), ("locked string", {"locked": "true"}),
                       ("ipxe_script_url not a URL", {"ipxe_script_url": "ftp://x"}),
                       ("ipxe_script_url null", {"ipxe_script_url": None}),
                       ("mix of good and bad", {"always_pxe": False, "tags": [None]})):
        r = sim.api("PUT", "/devices/%s" % did, body=body)
        c.eq(r.status, 422, "PUT %s is 422" % what)
        c.ok(is_error_body(r), "PUT %s has an errors body" % what, r.body)
    r = sim.api("PUT", "/devices/%s" % did, body={"always_pxe": "x", "tags": 3, "hostname": 1})
    c.eq(len(r.json().get("errors", [])), 3, "every invalid field is listed")
    after = sim.api("GET", "/devices/%s" % did).json()
    c.eq(after, before, "refused PUTs change nothing")
    r = sim.api("PUT", "/devices/00000000-0000-4000-8000-000000000000", body={"always_pxe": True})
    c.eq(r.status, 404, "PUT unknown device is 404")

    c.start("body limit")
    # Declared too large: refused on the Content-Length alone. Only the
    # head is sent; a client still writing a megabyte when the 413 and the
    # close arrive would see EPIPE instead of the answer (a race, not a
    # behaviour of the server).
    s = socket.create_connection(("127.0.0.1", sim.port), timeout=30)
    try:
        s.sendall(("PUT /metal/v1/devices/%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   "X-Auth-Token: %s\r\nContent-Type: application/json\r\n"
                   "Content-Length: %d\r\n\r\n" % (did, TOKEN, 1024 * 1024 + 10)).encode())
        head = b""
        while b"\r\n" not in head:
            chunk = s.recv(4096)
            if not chunk:
                break
            head += chunk
        status = head.split(b" ", 2)[1] if head.startswith(b"HTTP/1.1 ") else head[:40]
        c.eq(status, b"413", "body over 1 MiB is refused with 413")
    except OSError as e:
        c.ok(False, "body over 1 MiB is answered", e)
    finally:
        s.close()
    c.eq(sim.api("GET", "/devices/%s" % did).json().get("description"), after.get("description"),
         "the oversize PUT changed nothing")
    # A chunked body has no Content-Length: refused once it passes the cap.
    conn = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=30)
    try:
        conn.request("PUT", "/metal/v1/devices/%s" % did, body=iter([b"z" * 65536] * 17),
                     headers={"X-Auth-Token": TOKEN, "Transfer-Encoding": "chunked"}, encode_chunked=True)
        resp = conn.getresponse()
        data = resp.read()
        c.eq(resp.status, 413, "chunked body over 1 MiB is refused with 413")
        c.ok(isinstance(json.loads(data).get("errors"), list), "413 has an Error body", data[:100])
    except (ConnectionError, http.client.HTTPException) as e:
        c.ok(False, "chunked body over 1 MiB is answered", e)
    finally:
        conn.close()
    ok = sim.api("PUT", "/devices/%s" % did, body={"description": "y" * (512 * 1024)})
    c.eq(ok.status, 200, "a 512 KiB body is fine")


def state_of(sim, did):
    return sim.api("GET", "/devices/%s" % did).json()["state"]


def observe_states(sim, did, until, timeout=10):
    """Polls the device state until `until`; returns the distinct states seen."""
    seen = []

    def poll():
        s = state_of(sim, did)
        if not seen or seen[-1] != s:
            seen.append(s)
        return s == until
    wait_until(poll, timeout, "state %s" % until, interval=0.01)
    return seen


def action(sim, did, kind, **extra):
    body = {"type": kind}
    body.update(extra)
    return sim.api("POST", "/devices/%s/actions" % did, body=body)


def check_actions(c, sim, fixture):
    c.start("actions and states")
    did = fixture["projects"][0]["devices"][2]["id"]
    ev0 = sim.api("GET", "/devices/%s/events" % did).json()["meta"]["total"]

    r = action(sim, did, "power_on")
    c.eq(r.status, 422, "power_on while active is 422")
    c.ok(is_error_body(r), "422 body", r.body)

    r = action(sim, did, "power_off")
    c.eq((r.status, r.body), (202, b""), "power_off accepted with 202 and no body")
    c.eq(r.header("Content-Length"), "0", "202 has Content-Length 0")
    got = sim.api("GET", "/devices/%s" % did).json()
    c.eq(got["state"], "powering_off", "state right after power_off")
    c.eq(got["actions"], [], "no actions while powering off")
    r = action(sim, did, "power_on")
    c.eq(r.status, 422, "power_on while powering_off is 422")
    r = action(sim, did, "power_off")
    c.eq(r.status, 422, "power_off while powering_off is 422")
    seen = observe_states(sim, did, "inactive")
    c.eq(seen, ["powering_off", "inactive"], "power_off goes powering_off -> inactive")
    got = sim.api("GET", "/devices/%s" % did).json()
    c.eq([a["type"] for a in got["actions"]], ["power_on", "rescue", "reinstall"], "actions when inactive")
    c.ok(all(isinstance(a.get("name"), str) for a in got["actions"]), "actions have names")
    for kind in ("power_off", "reboot"):
        r = action(sim, did, kind)
        c.eq(r.status, 422, "%s while inactive is 422" % kind)
        c.ok(is_error_body(r), "%s 422 body" % kind, r.body)

    t0 = time.monotonic()
    r = action(sim, did, "power_on")
    c.eq(r.status, 202, "power_on from inactive accepted")
    seen = observe_states(sim, did, "active")
    c.eq(seen, ["powering_on", "active"], "power_on goes powering_on -> active")
    c.ok(time.monotonic() - t0 >= TRANSITION_MS / 1000.0 * 0.9, "the transition takes --transition-ms")

    r = action(sim, did, "reboot")
    c.eq(r.status, 202, "reboot accepted")
    seen = observe_states(sim, did, "active")
    c.eq(seen, ["powering_off", "powering_on", "active"], "reboot goes off -> on -> active")

    events = sim.api("GET", "/devices/%s/events?per_page=100" % did).json()["events"]
    new = events[:len(events) - ev0] if ev0 else events
    types = [e["type"] for e in reversed(new)]
    c.eq(types, ["instance.power_off", "instance.state", "instance.state",
                 "instance.power_on", "instance.state", "instance.state",
                 "instance.reboot", "instance.state", "instance.state", "instance.state"],
         "events of the three actions, in order")
    states = [e["state"] for e in reversed(new) if e["type"] == "instance.state"]
    c.eq(states, ["powering_off", "inactive", "powering_on", "active",
                  "powering_off", "powering_on", "active"], "event states follow the device")
    times = [e["created_at"] for e in events]
    c.eq(times, sorted(times, reverse=True), "events are newest first")

    r = action(sim, did, "rescue")
    c.eq(r.status, 202, "rescue from active accepted")
    c.eq(observe_states(sim, did, "active"), ["powering_off", "powering_on", "active"], "rescue path")
    r = action(sim, did, "reinstall", operating_system="debian_12", preserve_data=True)
    c.eq(r.status, 202, "reinstall accepted")
    c.eq(observe_states(sim, did, "active"), ["reinstalling", "active"], "reinstall path")
    c.eq(sim.api("GET", "/devices/%s" % did).json()["operating_system"]["slug"], "debian_12",
         "reinstall with operating_system changes the OS slug")

    c.start("action 422")
    for what, raw in (("unknown type", b'{"type": "explode"}'), ("missing type", b'{}'),
                      ("type not a string", b'{"type": 1}'), ("malformed JSON", b'{"type": '),
                      ("not an object", b'["power_off"]'), ("empty body", b""),
                      ("bad option type", b'{"type": "reinstall", "preserve_data": "yes"}')):
        r = sim.api("POST", "/devices/%s/actions" % did, raw_body=raw)
        c.eq(r.status, 422, "action with %s is 422" % what)
        c.ok(is_error_body(r), "action %s has an errors body" % what, r.body)
    c.eq(state_of(sim, did), "active", "refused actions change nothing")
    r = action(sim, "00000000-0000-4000-8000-000000000000", "power_off")
    c.eq(r.status, 404, "action on an unknown device is 404")


def check_events(c, sim, fixture):
    c.start("events")
    did = fixture["projects"][0]["devices"][2]["id"]
    body = sim.api("GET", "/devices/%s/events?per_page=4" % did).json()
    total = body["meta"]["total"]
    c.ok(total >= 10, "events accumulated", total)
    c.eq(len(body["events"]), 4, "events per_page")
    for e in body["events"]:
        c.ok(UUID_RE.match(e.get("id", "")), "event id is a UUID", e.get("id"))
        c.ok(TIME_RE.match(e.get("created_at", "")), "event created_at is RFC 3339", e.get("created_at"))
        for key in ("type", "body", "state", "interpolated", "href"):
            c.ok(isinstance(e.get(key), str), "event has string %s" % key, e)
        c.eq(e["href"], "/metal/v1/events/%s" % e["id"], "event href")
        c.eq(e.get("relationships"), [{"href": "/metal/v1/devices/%s" % did}], "event relationships")
        c.ok("{{device}}" not in e["interpolated"], "interpolated text fills in the device", e["interpolated"])
    ids = page_through_events(c, sim, did, 3, total)
    c.eq(len(set(ids)), total, "event pages cover every event once")
    r = sim.api("GET", "/devices/00000000-0000-4000-8000-000000000000/events")
    c.eq(r.status, 404, "events of an unknown device is 404")
    fresh = fixture["projects"][0]["devices"][6]["id"]
    r = sim.api("GET", "/devices/%s/events" % fresh)
    c.eq((r.status, r.json()["events"], r.json()["meta"]["total"], r.json()["meta"]["last_page"]),
         (200, [], 0, 1), "a device with no events has an empty list")


def page_through_events(c, sim, did, per_page, total):
    ids = []
    path = "/metal/v1/devices/%s/events?per_page=%d" % (did, per_page)
    for _ in range(1000):
        body = sim.request("GET", path).json()
        ids += [e["id"] for e in body["events"]]
        nxt = body["meta"].get("next")
        if nxt is None:
            break
        path = nxt["href"]
    c.eq(len(ids), total, "following events next links")
    return ids


def check_control(c, sim, fixture):
    c.start("/_sim requests log")
    pid = fixture["projects"][0]["id"]
    did = fixture["projects"][0]["devices"][4]["id"]
    r = sim.control("POST", "/requests/clear")
    c.eq(r.status, 200, "clear the log")
    c.eq(sim.control("GET", "/requests").json()["requests"], [], "log is empty after clear")
    sim.api("GET", q("/projects/%s/devices" % pid, tag="ipmi=enabled", per_page=3))
    sim.api("PUT", "/devices/%s" % did, body={"always_pxe": True})
    action(sim, did, "power_off")
    sim.api("GET", "/devices/%s" % did, token="bad")
    sim.api("GET", "/devices/%s?leak=%s" % (did, TOKEN),
            headers={"User-Agent": "probe/1.0 " + TOKEN + " " + "x" * 400})
    log = sim.control("GET", "/requests").json()
    reqs = log["requests"]
    # http.client sends no User-Agent unless told to.
    c.eq(reqs[0]["user_agent"], None, "no User-Agent header: user_agent null")
    ua = reqs[-1]["user_agent"] or ""
    c.ok(ua.startswith("probe/1.0 [REDACTED] xxx"), "User-Agent logged, a token in it redacted", ua[:40])
    c.eq(len(ua), 256, "a long User-Agent is cut to 256 bytes")
    c.eq([(e["method"], e["status"]) for e in reqs],
         [("GET", 200), ("PUT", 200), ("POST", 202), ("GET", 401), ("GET", 200)], "logged methods and statuses")
    c.eq(reqs[0]["path"], "/metal/v1/projects/%s/devices" % pid, "logged path")
    c.eq(reqs[0]["query"], "tag=ipmi%3Denabled&per_page=3", "logged raw query")
    c.eq(reqs[1]["body"], {"always_pxe": True}, "PUT body is logged, parsed")
    c.eq(reqs[2]["body"], {"type": "power_off"}, "POST body is logged")
    c.ok("body" not in reqs[0], "GET has no body entry")
    c.ok(all(isinstance(e["t_ms"], int) for e in reqs) and
         [e["t_ms"] for e in reqs] == sorted(e["t_ms"] for e in reqs), "monotonic ms timestamps")
    c.ok(all(e["fault"] is None for e in reqs), "no faults recorded")
    c.eq([e["seq"] for e in reqs], list(range(reqs[0]["seq"], reqs[0]["seq"] + 5)), "sequence numbers")
    c.ok(TOKEN not in json.dumps(log), "the token never appears in the log", reqs[-1])
    c.ok("[REDACTED]" in reqs[-1]["query"], "a token in a URL is redacted", reqs[-1]["query"])
    since = sim.control("GET", "/requests?since=%d" % reqs[2]["seq"]).json()["requests"]
    c.eq([e["seq"] for e in since], [reqs[3]["seq"], reqs[4]["seq"]], "?since= returns later entries")
    sim.control("GET", "/faults")
    c.eq(len(sim.control("GET", "/requests").json()["requests"]), 5, "/_sim calls are not logged")
    wait_until(lambda: state_of(sim, did) == "inactive", 10, "power off")

    c.start("/_sim devices")
    r = sim.control("GET", "/devices/%s" % did)
    raw = r.json()
    c.eq(r.status, 200, "raw device")
    c.eq((raw["device"]["id"], raw["project_id"], raw["deleted"]), (did, pid, False), "raw device fields")
    c.ok(isinstance(raw["pending"], list) and isinstance(raw["events"], int), "raw device has pending/events")
    action(sim, did, "power_on")
    raw = sim.control("GET", "/devices/%s" % did).json()
    c.eq([s["state"] for s in raw["pending"]], ["active"], "pending steps are visible")
    r = sim.control("POST", "/devices/%s" % did, body={"state": "failed"})
    c.eq((r.status, r.json()["device"]["state"], r.json()["pending"]), (200, "failed", []),
         "out-of-band state change cancels pending steps")
    got = sim.api("GET", "/devices/%s" % did).json()
    c.eq((got["state"], [a["type"] for a in got["actions"]]), ("failed", ["reinstall"]),
         "failed device allows only reinstall")
    c.eq(action(sim, did, "power_on").status, 422, "power_on on a failed device is 422")
    ev = sim.api("GET", "/devices/%s/events?per_page=1" % did).json()["events"][0]
    c.ok(ev["type"] == "instance.state" and ev["state"] == "failed", "out-of-band change is an event", ev)
    # The cancelled step was due after one transition; wait past it (polling
    # the raw view) and check it never fired.
    deadline = time.monotonic() + 3 * TRANSITION_MS / 1000.0
    wait_until(lambda: time.monotonic() >= deadline or state_of(sim, did) != "failed", 5, "step time")
    c.eq(state_of(sim, did), "failed", "cancelled step does not fire")
    r = sim.control("POST", "/devices/%s" % did, body={"state": "active", "set": {"x_note": "hi", "description": None}})
    got = sim.api("GET", "/devices/%s" % did).json()
    c.ok(got["state"] == "active" and got["x_note"] == "hi" and "description" not in got,
         "state and set (with null to remove) apply", got.get("x_note"))
    total = sim.api("GET", "/projects/%s/devices" % pid).json()["meta"]["total"]
    r = sim.control("POST", "/devices/%s" % did, body={"deleted": True})
    c.eq(r.status, 200, "delete out of band")
    c.eq(sim.api("GET", "/devices/%s" % did).status, 404, "deleted device is 404")
    c.eq(sim.api("PUT", "/devices/%s" % did, body={"always_pxe": False}).status, 404, "PUT deleted device is 404")
    c.eq(sim.api("GET", "/projects/%s/devices" % pid).json()["meta"]["total"], total - 1,
         "deleted device leaves the list")
    c.eq(sim.control("GET", "/devices/%s" % did).json()["deleted"], True, "raw view still shows it")
    sim.control("POST", "/devices/%s" % did, body={"deleted": False})
    c.eq(sim.api("GET", "/devices/%s" % did).status, 200, "undelete")
    for body in ({"state": "sleeping"}, {"deleted": "yes"}, {"set": []}, {"set": {"id": "x"}}, {"bogus": 1}):
        r = sim.control("POST", "/devices/%s" % did, body=body)
        c.eq(r.status, 422, "bad out-of-band change %r is 422" % body)
    c.eq(sim.control("GET", "/devices/00000000-0000-4000-8000-000000000000").status, 404, "raw unknown device")

    new_id = "0badc0de-0000-4000-8000-00000000beef"
    r = sim.control("POST", "/projects/%s/devices" % pid,
                    body={"id": new_id, "hostname": "added-later", "tags": ["ipmi=enabled"]})
    c.eq(r.status, 201, "add a device at run time")
    got = sim.api("GET", "/devices/%s" % new_id).json()
    c.eq((got["hostname"], got["short_id"], got["state"], got["always_pxe"], got["href"]),
         ("added-later", "0badc0de", "active", False, "/metal/v1/devices/%s" % new_id),
         "added device gets defaults")
    ids = [d["id"] for d in sim.api("GET", q("/projects/%s/devices" % pid, tag="ipmi=enabled",
                                           per_page=1000)).json()["devices"]]
    c.ok(new_id in ids, "added device appears in the tagged list")
    c.eq(sim.control("POST", "/projects/%s/devices" % pid, body={"id": new_id}).status, 409, "duplicate add is 409")
    c.eq(sim.control("POST", "/projects/%s/devices" % pid, body={"id": "x"}).status, 422, "bad device add is 422")
    c.eq(sim.control("GET", "/nothing").status, 404, "unknown /_sim path is 404")
    c.eq(sim.control("DELETE", "/requests").status, 405, "wrong method on /_sim is 405")


def check_faults(c, sim, fixture):
    pid = fixture["projects"][0]["id"]
    did = fixture["projects"][0]["devices"][7]["id"]
    lst = "/projects/%s/devices" % pid

    c.start("fault: fail rate")
    r = sim.control("POST", "/faults", body={"fail_rate": 2})
    c.eq(r.status, 422, "invalid fault setting is 422")
    c.eq(sim.control("POST", "/faults", body={"nonsense": 1}).status, 422, "unknown fault setting is 422")
    c.eq(sim.control("POST", "/faults", body={"fail_status": 200}).status, 422, "fail_status must be an error")
    sim.set_faults(fail_rate=1.0, fail_status=503)
    r = sim.api("GET", lst)
    c.eq(r.status, 503, "fail_rate 1 fails every request with fail_status")
    c.ok(is_error_body(r), "fault answer has the API error body", r.body)
    r = sim.api("PUT", "/devices/%s" % did, body={"description": "during fault"})
    c.eq(r.status, 503, "PUT fails too")
    c.eq(sim.control("GET", "/devices/%s" % did).status, 200, "/_sim is never faulted")
    log = sim.control("GET", "/requests").json()["requests"]
    c.eq((log[-1]["status"], log[-1]["fault"]), (503, "fail"), "faulted request is logged with its fault")
    sim.set_faults(fail_rate=0.0)
    c.ok(sim.api("GET", "/devices/%s" % did).json().get("description") != "during fault",
         "a request refused by a fault has no effect")

    sim.set_faults(fail_rate=0.5, fail_status=500, seed=42)
    first = [sim.api("GET", "/devices/%s" % did).status for _ in range(40)]
    sim.set_faults(seed=42)
    second = [sim.api("GET", "/devices/%s" % did).status for _ in range(40)]
    c.ok(8 <= first.count(500) <= 32, "fail_rate 0.5 fails about half", first.count(500))
    c.eq(set(first), {200, 500}, "only 200 and the fail status")
    c.eq(first, second, "the same seed gives the same fault sequence")
    sim.set_faults(fail_rate=0.0)

    c.start("fault: rate limit")
    sim.set_faults(rate_limit_rate=1.0, retry_after=7)
    r = sim.api("GET", lst)
    c.eq(r.status, 429, "rate_limit_rate 1 answers 429")
    c.eq(r.header("Retry-After"), "7", "429 has Retry-After")
    c.ok(is_error_body(r), "429 has an error body", r.body)
    sim.set_faults(rate_limit_rate=0.0)
    c.eq(sim.api("GET", lst).status, 200, "rate limit off again")

    c.start("fault: malformed")
    sim.set_faults(malformed_rate=1.0)
    for path in (lst, "/devices/%s" % did, "/devices/%s/events" % did):
        r = sim.api("GET", path)
        c.eq(r.status, 200, "malformed answer keeps 200 on %s" % path)
        c.eq(r.header("Content-Type"), "application/json", "malformed answer claims JSON")
        try:
            json.loads(r.body)
            c.ok(False, "malformed answer must not parse", r.body[:80])
        except ValueError:
            c.ok(True, "malformed answer does not parse")
        c.ok(r.body.startswith(b"{"), "malformed answer looks like the real one", r.body[:20])
    r = sim.api("GET", "/devices/00000000-0000-4000-8000-000000000000")
    c.ok(r.status == 404 and is_error_body(r), "error answers are not garbled")
    r = action(sim, did, "reboot")
    c.eq((r.status, r.body), (202, b""), "202 without body is not garbled")
    wait_until(lambda: sim.control("GET", "/devices/%s" % did).json()["device"]["state"] == "active",
               10, "reboot to end")
    sim.set_faults(malformed_rate=0.0)

    c.start("fault: truncate")
    sim.set_faults(truncate_rate=1.0)
    conn = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=10)
    conn.request("GET", "/metal/v1/devices/%s" % did, headers={"X-Auth-Token": TOKEN})
    resp = conn.getresponse()
    c.eq(resp.status, 200, "truncated answer has status 200")
    length = int(resp.getheader("Content-Length"))
    try:
        data = resp.read()
        c.ok(False, "truncated body must be short", len(data))
    except http.client.IncompleteRead as e:
        c.ok(0 < len(e.partial) < length, "body is shorter than Content-Length",
             (len(e.partial), length))
    conn.close()
    sim.set_faults(truncate_rate=0.0)
    c.eq(sim.api("GET", "/devices/%s" % did).status, 200, "truncate off again")

    c.start("fault: drop")
    sim.set_faults(drop_rate=1.0)
    try:
        r = sim.api("GET", "/devices/%s" % did, timeout=10)
        c.ok(False, "dropped request must not be answered", r.status)
    except (http.client.RemoteDisconnected, ConnectionResetError, http.client.BadStatusLine) as e:
        c.ok(True, "connection closed without an answer (%s)" % type(e).__name__)
    log = sim.control("GET", "/requests").json()["requests"]
    c.eq((log[-1]["status"], log[-1]["fault"]), (None, "drop"), "dropped request is logged")
    sim.set_faults(drop_rate=0.0)
    c.eq(sim.api("GET", "/devices/%s" % did).status, 200, "drop off again")

    c.start("fault: slow")
    sim.set_faults(slow_ms=700)
    results = {}

    def slow_call(key):
        t = time.monotonic()
        r2 = sim.api("GET", "/devices/%s" % did)
        results[key] = (r2.status, time.monotonic() - t)
    threads = [threading.Thread(target=slow_call, args=(i,)) for i in range(3)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    # While three slow answers are pending, the control surface answers at once.
    t1 = time.monotonic()
    r = sim.control("GET", "/faults")
    ctl = time.monotonic() - t1
    for t in threads:
        t.join(30)
    wall = time.monotonic() - t0
    c.eq(r.json()["slow_ms"], 700, "slow_ms setting visible")
    c.ok(ctl < 0.5, "other requests are not blocked by slow ones", ctl)
    c.eq(sorted(v[0] for v in results.values()), [200, 200, 200], "slow answers are complete")
    c.ok(all(v[1] >= 0.69 for v in results.values()), "each slow answer took slow_ms",
         [v[1] for v in results.values()])
    c.ok(wall < 2.0, "slow answers run in parallel", wall)
    log = sim.control("GET", "/requests").json()["requests"]
    c.eq(log[-1]["slow_ms"], 700, "slow requests are logged with their delay")
    sim.set_faults(slow_ms=0)

    c.start("fault: window")
    sim.set_faults(fail_window="0:600", fail_status=502)
    t0 = time.monotonic()
    c.eq(sim.api("GET", lst).status, 502, "request inside the window fails")
    wait_until(lambda: sim.api("GET", lst).status == 200, 10, "window to close")
    took = time.monotonic() - t0
    c.ok(0.5 <= took < 5, "window lasted about its length", took)
    statuses = [e["status"] for e in sim.control("GET", "/requests").json()["requests"][-3:]]
    c.eq(statuses[-1], 200, "after the window requests succeed")
    sim.set_faults(fail_window="500:10000")
    c.eq(sim.api("GET", lst).status, 200, "before the window starts requests succeed")
    wait_until(lambda: sim.api("GET", lst).status == 502, 10, "a window starting later")
    sim.set_faults(fail_window=None)
    c.eq(sim.api("GET", lst).status, 200, "window cleared")
    r = sim.control("POST", "/faults", body={"fail_window": "abc"})
    c.eq(r.status, 422, "bad window is 422")
    settings = sim.set_faults(reset=True)
    c.eq((settings["fail_rate"], settings["fail_window"], settings["slow_ms"], settings["fail_status"]),
         (0.0, None, 0, 500), "reset restores the defaults")


def check_cli_faults(c, args, fixture_path, fixture):
    c.start("fault flags on the command line")
    pid = fixture["projects"][0]["id"]
    did = fixture["projects"][0]["devices"][0]["id"]
    log_path = os.path.join(args.workdir, "cli-requests.jsonl")
    flags = ["--fail-window", "0:2500", "--fail-status", "502", "--rate-limit-rate", "1",
             "--retry-after", "9", "--seed", "7", "--transition-ms", "321",
             "--request-log", log_path]
    sim = Sim(args.sim, fixture_path, TOKEN, args.workdir, flags, name="cli")
    try:
        r = sim.api("GET", "/projects/%s/devices" % pid)
        c.eq(r.status, 502, "--fail-window counts from start and uses --fail-status")
        r = wait_until(lambda: (lambda x: x if x.status != 502 else None)(sim.api("GET", "/devices/%s" % did)),
                       15, "window to end")
        c.eq(r.status, 429, "--rate-limit-rate 1 after the window")
        c.eq(r.header("Retry-After"), "9", "--retry-after")
        f = sim.control("GET", "/faults").json()
        c.eq((f["seed"], f["transition_ms"], f["rate_limit_rate"], f["retry_after"], f["fail_window"],
              f["fail_status"]), (7, 321, 1.0, 9, "0:2500", 502), "flags show in /_sim/faults")
        sim.set_faults(reset=True)
        c.eq(sim.api("GET", "/devices/%s" % did).status, 200, "faults off at run time")
    finally:
        rc = sim.stop()
    c.eq(rc, 0, "SIGTERM exits 0")
    with open(log_path) as fh:
        lines = [json.loads(line) for line in fh]
    c.ok(len(lines) >= 3, "--request-log has one JSON line per API request", len(lines))
    c.eq(lines[0]["status"], 502, "request log file records status")
    c.eq(lines[0]["fault"], "window", "request log file records the fault")
    with open(log_path) as fh:
        c.ok(TOKEN not in fh.read(), "token not in the request log file")

    flags = ["--slow-ms", "250", "--malformed-rate", "1", "--truncate-rate", "0.25", "--drop-rate", "0",
             "--fail-rate", "0.125"]
    sim = Sim(args.sim, fixture_path, TOKEN, args.workdir, flags, name="cli2")
    try:
        f = sim.control("GET", "/faults").json()
        c.eq((f["slow_ms"], f["malformed_rate"], f["truncate_rate"], f["drop_rate"], f["fail_rate"]),
             (250, 1.0, 0.25, 0.0, 0.125), "rate and delay flags are read")
        sim.set_faults(fail_rate=0, truncate_rate=0)
        t = time.monotonic()
        r = sim.api("GET", "/devices/%s" % did)
        c.ok(time.monotonic() - t >= 0.24, "--slow-ms delays answers")
        c.ok(r.status == 200 and r.body.endswith(b"{,"), "--malformed-rate garbles answers", r.body[-10:])
    finally:
        c.eq(sim.stop(signal.SIGINT), 0, "SIGINT exits 0")
    c.ok(TOKEN not in sim.stderr() and TOKEN not in sim.listen_line, "token never printed")

    sim = Sim(args.sim, fixture_path, TOKEN, args.workdir, ["--drop-rate", "1"], name="cli3")
    try:
        try:
            sim.api("GET", "/devices/%s" % did, timeout=10)
            c.ok(False, "--drop-rate 1 drops")
        except (http.client.RemoteDisconnected, ConnectionResetError, http.client.BadStatusLine):
            c.ok(True, "--drop-rate 1 drops")
    finally:
        sim.stop()


def run_sim_expect_fail(args, argv, timeout=20):
    p = subprocess.run([args.sim] + argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def check_startup_errors(c, args, good_fixture):
    c.start("bad fixtures and flags")
    cases = [
        ("not JSON", '{"projects": [', "bad.json:"),
        ("no projects", '{"devices": []}', '"projects"'),
        ("project id", '{"projects": [{"id": "p1", "devices": []}]}', "projects[0].id"),
        ("device not object", '{"projects": [{"id": "%s", "devices": [3]}]}' % ("1" * 8 + "-1111-4111-8111-" + "1" * 12),
         "projects[0].devices[0]"),
        ("device id", '{"projects": [{"id": "11111111-1111-4111-8111-111111111111", "devices": [{"id": "x"}]}]}',
         "projects[0].devices[0].id"),
        ("tags type", '{"projects": [{"id": "11111111-1111-4111-8111-111111111111", "devices": '
         '[{"id": "22222222-2222-4222-8222-222222222222", "tags": "ipmi=enabled"}]}]}', "tags"),
        ("tag item", '{"projects": [{"id": "11111111-1111-4111-8111-111111111111", "devices": '
         '[{"id": "22222222-2222-4222-8222-222222222222", "tags": ["a", 2]}]}]}', "tags[1]"),
        ("state", '{"projects": [{"id": "11111111-1111-4111-8111-111111111111", "devices": '
         '[{"id": "22222222-2222-4222-8222-222222222222", "state": "on"}]}]}', "state"),
        ("always_pxe", '{"projects": [{"id": "11111111-1111-4111-8111-111111111111", "devices": '
         '[{"id": "22222222-2222-4222-8222-222222222222", "always_pxe": "no"}]}]}', "always_pxe"),
        ("duplicate device", '{"projects": [{"id": "11111111-1111-4111-8111-111111111111", "devices": '
         '[{"id": "22222222-2222-4222-8222-222222222222"}, {"id": "22222222-2222-4222-8222-222222222222"}]}]}',
         "appears twice"),
        ("duplicate key", '{"projects": [], "projects": []}', "duplicate"),
    ]
    path = os.path.join(args.workdir, "bad.json")
    for what, text, needle in cases:
        with open(path, "w") as f:
            f.write(text)
        rc, out, err = run_sim_expect_fail(args, ["--token", TOKEN, "--fixture", path])
        c.eq(rc, 2, "bad fixture (%s) exits 2" % what)
        c.ok(path in err and needle in err, "message names the file and the problem (%s)" % what, err)
        c.eq(out, "", "nothing on stdout for a bad fixture (%s)" % what)
    rc, _, err = run_sim_expect_fail(args, ["--token", TOKEN, "--fixture", "/nonexistent/f.json"])
    c.ok(rc == 2 and "/nonexistent/f.json" in err, "missing fixture file exits 2", err)
    for what, argv in (("no token", ["--fixture", good_fixture]),
                       ("no fixture", ["--token", TOKEN]),
                       ("bad listen", ["--token", TOKEN, "--fixture", good_fixture, "--listen", "127.0.0.1"]),
                       ("bad port", ["--token", TOKEN, "--fixture", good_fixture, "--listen", "127.0.0.1:99999"]),
                       ("name not address", ["--token", TOKEN, "--fixture", good_fixture, "--listen", "example.com:1"]),
                       ("bad rate", ["--token", TOKEN, "--fixture", good_fixture, "--fail-rate", "1.5"]),
                       ("bad window", ["--token", TOKEN, "--fixture", good_fixture, "--fail-window", "5"]),
                       ("bad status", ["--token", TOKEN, "--fixture", good_fixture, "--fail-status", "200"]),
                       ("unknown flag", ["--token", TOKEN, "--fixture", good_fixture, "--frobnicate"])):
        rc, out, err = run_sim_expect_fail(args, argv)
        c.eq(rc, 2, "%s exits 2" % what)
        c.ok(TOKEN not in out + err, "token not echoed (%s)" % what)
    rc, out, _ = run_sim_expect_fail(args, ["--help"])
    c.ok(rc == 0 and "--fail-window" in out, "--help lists the flags")


def check_ipv6(c, args, fixture_path, fixture):
    c.start("IPv6 listen")
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.bind(("::1", 0))
        s.close()
    except OSError:
        print("(no IPv6 loopback here: IPv6 check skipped)")
        return
    sim = Sim(args.sim, fixture_path, TOKEN, args.workdir, name="v6", listen="[::1]:0")
    try:
        c.eq(sim.listen_line, "metal-sim listening on http://[::1]:%d/metal/v1\n" % sim.port, "IPv6 stdout line")
        r = sim.api("GET", "/devices/%s" % fixture["projects"][0]["devices"][0]["id"])
        c.eq(r.status, 200, "served over IPv6")
    finally:
        c.eq(sim.stop(), 0, "IPv6 sim exits 0")


def check_tls(c, args, fixture_path, fixture):
    """--tls-cert/--tls-key: the same API over https (metalbmc's TLS tests
    point it at a certificate it does not trust, then at one it does)."""
    import ssl
    c.start("TLS")
    cert = os.path.join(args.workdir, "tls-cert.pem")
    key = os.path.join(args.workdir, "tls-key.pem")
    p = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                        "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    c.ok(p.returncode == 0, "openssl made a self-signed certificate", p.stdout)
    rc, _, err = run_sim_expect_fail(args, ["--token", TOKEN, "--fixture", fixture_path,
                                            "--tls-cert", cert])
    c.ok(rc == 2 and "--tls-key" in err, "--tls-cert without --tls-key exits 2", err)
    rc, _, err = run_sim_expect_fail(args, ["--token", TOKEN, "--fixture", fixture_path,
                                            "--tls-cert", cert, "--tls-key", "/nonexistent/k.pem"])
    c.ok(rc == 2 and "/nonexistent/k.pem" in err, "an unreadable key exits 2", err)
    sim = Sim(args.sim, fixture_path, TOKEN, args.workdir, name="tls",
              args=["--tls-cert", cert, "--tls-key", key])
    try:
        c.eq(sim.listen_line, "metal-sim listening on https://127.0.0.1:%d/metal/v1\n" % sim.port,
             "https in the stdout line")
        did = fixture["projects"][0]["devices"][0]["id"]
        conn = http.client.HTTPSConnection("127.0.0.1", sim.port, timeout=10,
                                           context=ssl.create_default_context(cafile=cert))
        conn.request("GET", "/metal/v1/devices/%s" % did, headers={"X-Auth-Token": TOKEN})
        r = conn.getresponse()
        c.eq((r.status, json.loads(r.read()).get("id")), (200, did), "served over TLS")
        conn.close()
        try:
            conn = http.client.HTTPSConnection("127.0.0.1", sim.port, timeout=10,
                                               context=ssl.create_default_context())
            conn.request("GET", "/metal/v1/devices/%s" % did, headers={"X-Auth-Token": TOKEN})
            c.ok(False, "an untrusted certificate must fail verification", conn.getresponse().status)
        except ssl.SSLCertVerificationError as e:
            c.ok("self-signed" in str(e) or "self signed" in str(e),
                 "a client without the certificate refuses it", str(e))
        finally:
            conn.close()
    finally:
        c.eq(sim.stop(), 0, "TLS sim exits 0")
        err = sim.stderr()
        c.ok("ERROR: AddressSanitizer" not in err and "runtime error:" not in err,
             "no sanitizer reports from the TLS sim", err[-3000:])


def check_robustness(c, sim, fixture):
    c.start("robustness")
    did = fixture["projects"][0]["devices"][0]["id"]
    junk = [b"\x00\xff\x13garbage\r\n\r\n", b"GET /metal/v1/devices/%zz HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET " + b"/a" * 5000 + b" HTTP/1.1\r\n\r\n", b"PUT /metal/v1/devices/x HTTP/1.1\r\n"
            b"Content-Length: 99999999999\r\nX-Auth-Token: " + TOKEN.encode() + b"\r\n\r\n",
            b"POST /metal/v1/devices/x/actions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"GET /metal/v1/../../etc/passwd HTTP/1.0\r\n\r\n", b"\r\n" * 100]
    for blob in junk:
        try:
            with socket.create_connection(("127.0.0.1", sim.port), timeout=5) as s:
                s.sendall(blob)
                s.shutdown(socket.SHUT_WR)
                while s.recv(65536):
                    pass
        except OSError:
            pass
    for path in ("/metal/v1/devices/%00", "/metal/v1/projects/%2e%2e/devices", "/metal/v1/devices/" + "a" * 10000,
                 "/metal/v1/projects/x/devices?" + "&".join("p%d=%d" % (i, i) for i in range(500)),
                 "/metal/v1/projects/x/devices?exclude=" + ",".join("a.b.c.d" for _ in range(200)),
                 "/_sim/devices/%ff%fe", "/metal/v1/devices/%s?exclude=..,.,,a..b" % did):
        r = sim.request("GET", path)
        c.ok(r.status in (200, 400, 404, 414, 431), "odd path answered (%s...)" % path[:40], r.status)
    r = sim.api("GET", "/devices/%s?exclude=..,.,,a..b" % did)
    c.eq(r.status, 200, "odd exclude lists are harmless")

    # Client text quoted in messages, events and the log is cut to a length
    # and may be any bytes: answers must stay valid JSON, checks must hold.
    before = sim.api("GET", "/devices/%s" % did).json()
    r = sim.api("PUT", "/devices/%s" % did, body={"hostname": "x" + "\u00e9" * 150})
    c.eq(r.status, 422, "non-ASCII hostname refused even when its quote is cut mid-character")
    c.ok(is_error_body(r), "that 422 body is valid JSON", r.body[:100])
    c.eq(sim.api("GET", "/devices/%s" % did).json()["hostname"], before["hostname"], "hostname unchanged")
    n0 = sim.api("GET", "/devices/%s/events" % did).json()["meta"]["total"]
    r = sim.api("PUT", "/devices/%s" % did, body={"description": "d" + "\u00e9" * 300})
    c.eq(r.status, 200, "long non-ASCII description accepted")
    ev = sim.api("GET", "/devices/%s/events" % did).json()
    c.eq(ev["meta"]["total"], n0 + 1, "its event is recorded though its text is cut")
    sim.request("GET", "/metal/v1/devices/%s?q=%%ff%%fe%%00x" % did)
    sim.request("PUT", "/metal/v1/devices/%s" % did, raw_body=b'\xff\xfe{"a": 1}\x00')
    r = sim.control("GET", "/requests")
    c.eq(r.status, 200, "request log with binary input still serves")
    c.ok(r.json()["requests"][-1]["method"] == "PUT" and "?" in r.json()["requests"][-1]["body"],
         "binary body logged as sanitised text", r.json()["requests"][-1].get("body"))
    c.ok(sim.proc.poll() is None, "simulator still running after junk input")
    c.eq(sim.api("GET", "/devices/%s" % did).status, 200, "and still answering")


def check_scale(c, args):
    c.start("10,000 devices")
    path = os.path.join(args.workdir, "fixture-10k.json")
    fixture = gen_fixture(args.gen, path, 10000, 0.5, seed=11)
    pid = fixture["projects"][0]["id"]
    tagged = [d["id"] for d in fixture["projects"][0]["devices"] if "ipmi=enabled" in d["tags"]]
    c.eq(len(tagged), 5000, "generator tags exactly the requested share")
    del fixture
    sim = Sim(args.sim, path, TOKEN, args.workdir, name="scale")
    try:
        ids = []
        worst = 0.0
        url = "/metal/v1/projects/%s/devices?tag=ipmi%%3Denabled&per_page=1000" % pid
        while url:
            t = time.monotonic()
            r = sim.request("GET", url)
            worst = max(worst, time.monotonic() - t)
            body = r.json()
            ids += [d["id"] for d in body["devices"]]
            url = body["meta"].get("next", {}).get("href")
        c.eq(ids, tagged, "all 5,000 tagged devices in 5 pages")
        c.ok(worst < 1.0, "a 1,000-device page is served in well under a second", "%.3fs" % worst)
        print("   slowest 1000-device page: %.3fs" % worst)
    finally:
        c.eq(sim.stop(), 0, "exit 0")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sim", required=True)
    ap.add_argument("--gen", required=True)
    ap.add_argument("--workdir", required=True)
    args = ap.parse_args()
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir)
    c = Checks("metal_sim_api")
    started = time.monotonic()

    fixture_path = os.path.join(args.workdir, "fixture.json")
    fixture = gen_fixture(args.gen, fixture_path, 47, 0.6, projects=2, seed=3)
    # An unknown vendor field must survive the round trip.
    fixture["projects"][0]["devices"][1]["x_vendor_extension"] = {"kept": [1, 2, 3]}
    with open(fixture_path, "w") as f:
        json.dump(fixture, f)

    sim = Sim(args.sim, fixture_path, TOKEN, args.workdir, ["--transition-ms", str(TRANSITION_MS)])
    try:
        check_startup(c, sim)
        check_auth(c, sim, fixture["projects"][0]["id"], fixture["projects"][0]["devices"][0]["id"])
        check_paging(c, sim, fixture)
        check_device_get_put(c, sim, fixture)
        check_actions(c, sim, fixture)
        check_events(c, sim, fixture)
        check_control(c, sim, fixture)
        check_faults(c, sim, fixture)
        check_robustness(c, sim, fixture)
    except Exception as e:  # a crash of the test is a failure, not an error
        import traceback
        traceback.print_exc()
        c.ok(False, "test raised %s" % type(e).__name__, e)
    finally:
        rc = sim.stop()
        c.start("shutdown")
        c.eq(rc, 0, "SIGTERM exits 0")
        err = sim.stderr()
        c.ok(TOKEN not in err, "token never printed on stderr")
        c.ok("ERROR: AddressSanitizer" not in err and "runtime error:" not in err, "no sanitizer reports", err[-3000:])

    for step in (lambda: check_cli_faults(c, args, fixture_path, fixture),
                 lambda: check_startup_errors(c, args, fixture_path),
                 lambda: check_ipv6(c, args, fixture_path, fixture),
                 lambda: check_tls(c, args, fixture_path, fixture),
                 lambda: check_scale(c, args)):
        try:
            step()
        except Exception as e:
            import traceback
            traceback.print_exc()
            c.ok(False, "test raised %s" % type(e).__name__, e)
    print("took %.1fs" % (time.monotonic() - started))
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
