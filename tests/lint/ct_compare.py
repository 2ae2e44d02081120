#!/usr/bin/env python3
"""Lint: secrets are compared in constant time.

A MAC, an AuthCode, a password, a token or a CSRF value compared with
memcmp/strcmp and friends leaks, through timing, how many leading bytes
matched. The files that handle such values must compare them with
secret_ct_equal() / secret_equals() / CRYPTO_memcmp() only. Any other
comparison call in them fails this lint unless its exact line (stripped of
surrounding whitespace) is in ALLOWED below with the reason it compares
nothing secret. An ALLOWED line that no longer exists fails too, so the
list stays true.

    ct_compare.py [--source DIR]   lint the tree (default: this checkout)
    ct_compare.py --self-test      prove the lint catches what it must
"""

import os
import re
import sys
import tempfile

FILES = [
    "appliance/cipher.c", "appliance/rakp.c", "appliance/lan15.c", "appliance/rmcpplus.c",
    "appliance/secret.c", "appliance/cmd_app.c", "appliance/session.c", "appliance/engine.c",
    "web/web_auth.c", "web/csrf.c",
]

# Variable-time comparisons. CRYPTO_memcmp (constant time) does not match:
# the name must not follow an identifier character.
CALL = re.compile(r"(?<![A-Za-z0-9_])(memcmp|bcmp|strcmp|strncmp|strcasecmp|strncasecmp|"
                  r"strcoll|wcscmp|wmemcmp)\s*\(")

# (file, exact stripped line) -> why it is not a secret
ALLOWED = {
    ("appliance/rakp.c",
     "s->user_len == ulen && memcmp(s->user, name, ulen) == 0 &&"):
        "a repeated RAKP 1: the user name is not secret (the console rand next to it "
        "is compared with secret_ct_equal)",
    ("appliance/engine.c",
     "if (len != ul || memcmp(name, e->cfg->ipmi_user, ul) != 0)"):
        "routing by the configured user name, which is not secret",
    ("appliance/engine.c",
     "return memcmp(&((const struct sockaddr_in6 *)&s->peer)->sin6_addr,"):
        "a session's peer IPv6 address",
    ("appliance/session.c",
     "return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,"):
        "counting sessions per IPv6 source address",
    ("web/web_auth.c",
     "strncasecmp(header, \"Basic\", 5) != 0 || (header[5] != ' ' && header[5] != '\\t'))"):
        "the Authorization scheme name, not the credentials",
}


def strip_comments(text):
    """C comments and string literals blanked (lines kept), so a word in a
    comment or a string does not count as a call."""
    out, i, n = [], 0, len(text)
    while i < n:
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text[i] in "\"'":
            q, j = text[i], i + 1
            while j < n and text[j] != q and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(q + " " * (j - i - 2) + q if j - i >= 2 else text[i:j])
            i = j
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def lint(source, files=FILES, allowed=ALLOWED):
    """Returns a list of problems (empty when clean)."""
    problems = []
    used = set()
    for rel in files:
        path = os.path.join(source, rel)
        try:
            with open(path, errors="replace") as f:
                text = f.read()
        except FileNotFoundError:
            problems.append("%s: missing (update FILES in %s)" % (rel, __file__))
            continue
        code = strip_comments(text).splitlines()
        for no, (line, real) in enumerate(zip(code, text.splitlines()), 1):
            m = CALL.search(line)
            if not m:
                continue
            key = (rel, real.strip())
            if key in allowed:
                used.add(key)
                continue
            problems.append("%s:%d: %s() is not constant time; compare secrets with "
                            "secret_ct_equal(), or add this exact line to ALLOWED with the "
                            "reason it is not a secret:\n    %s" % (rel, no, m.group(1), real.strip()))
    for key in sorted(set(allowed) - used):
        problems.append("%s: ALLOWED line no longer present (remove it): %s" % key)
    return problems


def self_test():
    """The lint must flag a MAC compared with memcmp, strcmp on a password,
    and a stale ALLOWED entry; it must pass a constant-time compare, a
    comment and a string that mention memcmp, and an allowed line."""
    failures = []
    with tempfile.TemporaryDirectory() as d:
        os.makedirs(os.path.join(d, "x"))

        def run(body, allowed):
            with open(os.path.join(d, "x", "f.c"), "w") as f:
                f.write(body)
            return lint(d, ["x/f.c"], allowed)

        cases = [
            ("memcmp on a MAC", "if (memcmp(want, code, 12) == 0)\n\tok = 1;\n", {}, 1),
            ("strcmp on a password", "ok = !strcmp(pw, given);\n", {}, 1),
            ("strncmp, spaced", "ok = strncmp (tok, csrf, 64) == 0;\n", {}, 1),
            ("CRYPTO_memcmp", "ok = CRYPTO_memcmp(want, code, 12) == 0;\n", {}, 0),
            ("secret_ct_equal", "ok = secret_ct_equal(want, code, 12);\n", {}, 0),
            ("comment and string", "/* never memcmp( a MAC */\nlog(\"memcmp(\");\n", {}, 0),
            ("after a quote character", "if (c == '\"') ok = !memcmp(a, b, 4);\n", {}, 1),
            ("allowed line", "if (memcmp(name, user, n) == 0)\n",
             {("x/f.c", "if (memcmp(name, user, n) == 0)"): "names"}, 0),
            ("stale allowed line", "ok = 1;\n",
             {("x/f.c", "if (memcmp(name, user, n) == 0)"): "names"}, 1),
        ]
        for what, body, allowed, want in cases:
            got = run(body, allowed)
            if len(got) != want:
                failures.append("%s: %d problem(s), want %d: %s" % (what, len(got), want, got))
    return failures


def main(argv):
    if argv[1:] == ["--self-test"]:
        failures = self_test()
        for f in failures:
            print("FAIL self-test: %s" % f)
        print("ct_compare self-test: %s" % ("ok" if not failures else "%d failed" % len(failures)))
        return 1 if failures else 0
    source = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if len(argv) == 3 and argv[1] == "--source":
        source = argv[2]
    elif len(argv) != 1:
        print(__doc__)
        return 2
    problems = lint(source)
    for p in problems:
        print(p)
    print("ct_compare: %d file(s), %d problem(s)" % (len(FILES), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
