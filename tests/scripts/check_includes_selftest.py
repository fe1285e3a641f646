#!/usr/bin/env python3
"""check_includes_selftest.py - scripts/check_includes.py on small trees made
in a temporary directory: a cycle (exit 1, printed as `a -> b -> a`), the
same tree without it (exit 0), a cycle through a .c file placed by its
stem's prefix (a_extra.c -> a), an include through a subdirectory that is
no module, and a .c file that belongs to no module (exit 2)."""
import os
import subprocess
import sys
import tempfile

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts",
                      "check_includes.py")


def run(files):
    with tempfile.TemporaryDirectory() as tmp:
        d = os.path.join(tmp, "node")
        os.mkdir(d)
        for name, text in files.items():
            path = os.path.join(d, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        p = subprocess.run([sys.executable, SCRIPT, "--dir", d], capture_output=True, text=True)
        return p.returncode, p.stdout


def expect(what, got, want_rc, want_line):
    rc, out = got
    lines = out.splitlines()
    if rc != want_rc or (want_line is not None and want_line not in lines):
        print(f"FAIL {what}: exit {rc} (want {want_rc}), output:\n{out}")
        return False
    print(f"ok   {what}")
    return True


A_H = '#include <stdint.h>\nint a(void);\n'
B_H = '#include "a.h"\nint b(void);\n'
ok = True
ok &= expect("cycle a <-> b",
             run({"a.h": A_H, "a.c": '#include "a.h"\n#include "b.h"\n',
                  "b.h": B_H, "b.c": '#include "b.h"\n'}),
             1, "a -> b -> a")
ok &= expect("no cycle",
             run({"a.h": A_H, "a.c": '#include "a.h"\n',
                  "b.h": B_H, "b.c": '#include "b.h"\n'}),
             0, "check_includes: no include cycle among node/'s 2 modules")
ok &= expect("cycle through a_extra.c (a's by prefix)",
             run({"a.h": A_H, "a.c": '#include "a.h"\n', "a_extra.c": '  #  include "b.h"\n',
                  "b.h": B_H, "b.c": '#include "b.h"\n'}),
             1, "a -> b -> a")
ok &= expect("sub/b.h is not module b, nor is <b.h>",
             run({"a.h": A_H, "a.c": '#include "sub/b.h"\n#include <b.h>\n',
                  "b.h": B_H, "b.c": "", "sub/b.h": ""}),
             0, None)
ok &= expect("orphan.c belongs to no module",
             run({"a.h": A_H, "orphan.c": '#include "a.h"\n'}),
             2, None)
sys.exit(0 if ok else 1)
