#!/usr/bin/env python3
"""Prints the headers under INCLUDE_DIR (paths relative to it, one per line, sorted)."""
import pathlib
import sys

root = pathlib.Path(sys.argv[1])
print("\n".join(sorted(p.relative_to(root).as_posix() for p in root.rglob("*.hpp"))))
