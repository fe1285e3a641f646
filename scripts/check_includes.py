#!/usr/bin/env python3
"""check_includes.py [--dir DIR] - no include cycle among node/'s modules.

A module is a header stem of DIR (x.h -> x). A .c file belongs to module x
when x.h exists in DIR; else to the header whose stem is the longest prefix
of the file's stem followed by "_" (signaling_ws.c -> signaling.h); else to
the module OWNERS names (programs are their own modules: roots). A .c file
none of these place is an error (exit 2): say in OWNERS where it belongs.

Module A -> module B when a file of A has #include "B.h" and B.h is in DIR
(an include naming a subdirectory, such as node/core's headers reached
through the include path, is not one of DIR's modules). Self edges are
ignored. Calls are not edges: includes only.

Prints every elementary cycle as `a -> b -> a` (with the includes that make
each edge) and exits 1, or prints
`check_includes: no include cycle among node/'s N modules` and exits 0.
DIR defaults to node/ of the repository this script is in; subdirectories
of DIR (node/core/) are not read.
"""
import argparse
import os
import re
import sys

# .c files that neither name a header nor start with one's stem.
OWNERS = {
    "shoald.c": "shoald",      # programs: roots, modules of their own
    "shoalctl.c": "shoalctl",
}

INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')
MAX_CYCLES = 1000


def module_of(name, stems):
    """The module a file of DIR belongs to, or None."""
    stem, ext = os.path.splitext(name)
    if ext == ".h" or stem in stems:
        return stem
    prefixes = [s for s in stems if stem.startswith(s + "_")]
    if prefixes:
        return max(prefixes, key=len)
    return OWNERS.get(name)


def build_graph(d):
    """(modules, edges): edges[a][b] is the sorted list of files of a that
    include b.h."""
    names = sorted(n for n in os.listdir(d)
                   if os.path.isfile(os.path.join(d, n)) and n.endswith((".c", ".h")))
    stems = {n[:-2] for n in names if n.endswith(".h")}
    modules = set(stems)
    owner = {}
    unplaced = []
    for n in names:
        m = module_of(n, stems)
        if m is None:
            unplaced.append(n)
            continue
        owner[n] = m
        modules.add(m)
    if unplaced:
        for n in unplaced:
            print(f"check_includes: {os.path.join(d, n)} belongs to no module "
                  "(no header of its stem or prefix): add it to OWNERS in "
                  f"{sys.argv[0]}", file=sys.stderr)
        sys.exit(2)
    edges = {m: {} for m in modules}
    for n, a in owner.items():
        with open(os.path.join(d, n), encoding="utf-8", errors="replace") as f:
            for line in f:
                hit = INCLUDE.match(line)
                if not hit:
                    continue
                inc = hit.group(1)
                if "/" in inc or not inc.endswith(".h") or inc[:-2] not in stems:
                    continue
                b = inc[:-2]
                if b != a:
                    edges[a].setdefault(b, set()).add(n)
    return sorted(modules), {a: {b: sorted(fs) for b, fs in e.items()} for a, e in edges.items()}


def cycles(modules, edges):
    """Every elementary cycle once, starting at its smallest module (a
    depth-first search from each module over the larger ones)."""
    found = []
    for s in modules:
        path = [s]
        on_path = {s}

        def dfs(v):
            for w in sorted(edges[v]):
                if len(found) >= MAX_CYCLES:
                    return
                if w == s:
                    found.append(path + [s])
                elif w > s and w not in on_path:
                    path.append(w)
                    on_path.add(w)
                    dfs(w)
                    on_path.discard(w)
                    path.pop()

        dfs(s)
    return found


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description="no include cycle among node/'s modules")
    ap.add_argument("--dir", default=os.path.join(root, "node"),
                    help="the directory to check (default: node/ of this repository)")
    args = ap.parse_args()
    if not os.path.isdir(args.dir):
        print(f"check_includes: {args.dir}: not a directory", file=sys.stderr)
        return 2
    modules, edges = build_graph(args.dir)
    found = cycles(modules, edges)
    where = os.path.basename(os.path.normpath(args.dir)) + "/"
    if not found:
        print(f"check_includes: no include cycle among {where}'s {len(modules)} modules")
        return 0
    for c in found:
        print(" -> ".join(c))
    if len(found) >= MAX_CYCLES:
        print(f"(stopped after {MAX_CYCLES} cycles)")
    print("edges on a cycle (module -> module: the files that include its header):")
    on_cycle = sorted({(c[i], c[i + 1]) for c in found for i in range(len(c) - 1)})
    for a, b in on_cycle:
        print(f"  {a} -> {b}: {', '.join(edges[a][b])}")
    print(f"check_includes: {len(found)} include cycle(s) among {where}'s {len(modules)} modules",
          file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
