#!/usr/bin/env python3
"""Checks that every header under INCLUDE_DIR was compiled on its own into one of the header-check
archives (test/meson.build builds one TU per header, test/header_tu.cpp.in, into static libraries
that this test depends on, so `meson test` and `ninja meson-test-prereq` build them).

    header_check.py INCLUDE_DIR [--skip HEADER]... ARCHIVE [ARCHIVE...]

--skip names a header not checked in this build (ctgrad/parallel/mpi.hpp when MPI is absent).

Fails, naming the header, when a header has no object in the archives: a header added after meson
configured (run `meson setup --reconfigure`), or a header-check TU that was not built.
"""
import pathlib
import re
import subprocess
import sys


def underscorify(s):
    return re.sub(r"[^a-zA-Z0-9]", "_", s)


def main():
    root = pathlib.Path(sys.argv[1])
    args = sys.argv[2:]
    skip = set()
    while args and args[0] == "--skip":
        skip.add(args[1])
        args = args[2:]
    members = set()
    for archive in args:
        out = subprocess.run(["ar", "t", archive], check=True, capture_output=True, text=True)
        # (a thin archive lists paths, and meson may prefix generated sources' objects)
        members.update(pathlib.PurePath(m).name for m in out.stdout.split())
    headers = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.hpp"))
    headers = [h for h in headers if h not in skip]
    def compiled(h):
        obj = f"header_{underscorify(h)}.cpp.o"
        return any(m == obj or m.endswith("_" + obj) for m in members)

    missing = [h for h in headers if not compiled(h)]
    for h in missing:
        print(f"{h}: not compiled on its own (no header_{underscorify(h)}.cpp.o in the "
              "header-check archives; reconfigure with `meson setup --reconfigure` after adding "
              "a header)", file=sys.stderr)
    print(f"{len(headers) - len(missing)} of {len(headers)} headers compiled on their own")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
