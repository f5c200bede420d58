#!/usr/bin/env python3
"""The C++ sources follow .clang-format: `clang-format --dry-run --Werror` over every .hpp/.cpp
under include/, test/, bench/ and examples/.

    check_format.py SOURCE_ROOT

Skipped (exit 77, meson's SKIP) with a message when clang-format is not installed, or when its
major version is not the one the tree is formatted with (formatting differs between versions).
To reformat: clang-format -i $(git ls-files '*.hpp' '*.cpp').
"""
import re
import shutil
import subprocess
import sys
from pathlib import Path

FORMATTED_WITH = 14  # Debian 12's clang-format
DIRS = ("include", "test", "bench", "examples")


def main():
    root = Path(sys.argv[1])
    exe = shutil.which("clang-format")
    if exe is None:
        print("SKIP: clang-format is not installed (Debian package clang-format)")
        return 77
    version = subprocess.run([exe, "--version"], text=True, stdout=subprocess.PIPE).stdout
    m = re.search(r"version (\d+)", version)
    if not m or int(m.group(1)) != FORMATTED_WITH:
        print(f"SKIP: {version.strip()}; the tree is formatted with clang-format {FORMATTED_WITH}")
        return 77
    files = sorted(p for d in DIRS for ext in ("*.hpp", "*.cpp") for p in (root / d).rglob(ext))
    proc = subprocess.run([exe, "--dry-run", "--Werror", "--style=file"] + [str(f) for f in files],
                          text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        print(proc.stdout[-8000:])
        bad = sorted(set(re.findall(r"^(\S+?):\d+:\d+: error", proc.stdout, re.M)))
        print(f"{len(bad)} of {len(files)} files are not formatted: {' '.join(bad)}")
        print("fix: clang-format -i <files>")
        return 1
    print(f"{len(files)} files follow .clang-format")
    return 0


if __name__ == "__main__":
    sys.exit(main())
