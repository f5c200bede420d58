#!/usr/bin/env python3
"""An example answers --help: exit status 0 within a few seconds (it must not start its work),
stdout beginning with "usage:" and listing --help; an unknown option is refused (non-zero)."""
import subprocess
import sys


def main() -> int:
    exe = sys.argv[1]
    r = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=20)
    if r.returncode != 0:
        print(f"{exe} --help: exit status {r.returncode}\n{r.stdout}{r.stderr}")
        return 1
    if not r.stdout.startswith("usage:") or "--help" not in r.stdout:
        print(f"{exe} --help: no usage text with its options:\n{r.stdout}")
        return 1
    bad = subprocess.run([exe, "--no-such-option", "1"], capture_output=True, text=True,
                         timeout=20)
    if bad.returncode == 0:
        print(f"{exe} accepted an unknown option")
        return 1
    print(r.stdout, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
