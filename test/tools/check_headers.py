#!/usr/bin/env python3
"""Every public header compiles on its own (no reliance on include order), warning-free.

    check_headers.py INCLUDE_DIR -- COMPILER [ARGS...]
"""
import pathlib
import subprocess
import sys


def main():
    split = sys.argv.index("--")
    root = pathlib.Path(sys.argv[1])
    compiler = sys.argv[split + 1:]
    headers = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.hpp"))
    failed = 0
    for h in headers:
        src = f"#include <{h}>\n#include <{h}>\n"  # twice: the include guard works too
        proc = subprocess.run(compiler + ["-fsyntax-only", "-x", "c++", "-"], input=src, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        status = "ok  " if proc.returncode == 0 else "FAIL"
        print(f"{status} {h}")
        if proc.returncode != 0:
            failed += 1
            print(proc.stdout[-4000:])
    print(f"{len(headers) - failed} of {len(headers)} headers compile on their own")
    return 1 if failed or not headers else 0


if __name__ == "__main__":
    sys.exit(main())
