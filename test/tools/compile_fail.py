#!/usr/bin/env python3
"""Compile-fail test runner.

    compile_fail.py SOURCE [--pch-arg=ARG ...] -- COMPILER [ARGS...]

Compiles SOURCE twice with COMPILER ARGS -fsyntax-only:
  1. as written: the compiler must reject it, and its diagnostics must contain every string
     given on a `// expect: <text>` line of SOURCE (so a test fails if the code is rejected for
     a different reason than the one it documents);
  2. with -DCTGRAD_CF_CONTROL: the corrected twin of the misuse must compile (so the test cannot
     pass because of a typo or a missing include).
An optional `// errors: N` line requires exactly N diagnostics of kind "error:" (so that a
misuse is reported once, without errors that follow from it).
Exit status 0 when both hold; the diagnostics are printed either way.

--pch-arg: arguments that load a precompiled <ctgrad/ctgrad.hpp> (test/pch/ctgrad_cf_pch.hpp,
built by test/meson.build), added to both compiles only when the first preprocessing directive
of SOURCE is `#include <ctgrad/ctgrad.hpp>` (then the header is read before the same code
either way; any other SOURCE is compiled as it stands). -Winvalid-pch: an unusable header fails.
"""
import re
import subprocess
import sys


def compile_(cmd):
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return proc.returncode, proc.stdout


def main():
    if "--" not in sys.argv:
        sys.exit(__doc__)
    split = sys.argv.index("--")
    source, compiler = sys.argv[1], sys.argv[split + 1:]
    pch = [a[len("--pch-arg="):] for a in sys.argv[2:split] if a.startswith("--pch-arg=")]
    with open(source, encoding="utf-8") as f:
        text = f.read()
        expects = re.findall(r"^// expect: (.+?)\s*$", text, re.M)
        counts = re.findall(r"^// errors: (\d+)\s*$", text, re.M)
        first = re.search(r"^\s*#.*$", text, re.M)
    if not expects:
        sys.exit(f"{source}: no '// expect:' line")
    if pch and first and re.fullmatch(r"\s*#\s*include\s*<ctgrad/ctgrad\.hpp>\s*", first[0]):
        compiler = compiler + ["-Winvalid-pch"] + pch
    base = compiler + ["-fsyntax-only", "-x", "c++", source]

    ok = True
    rc, out = compile_(base)
    if rc == 0:
        print(f"FAIL {source}: compiled, but it is a misuse that must be rejected")
        ok = False
    else:
        # Compilers quote with ‘’ or ''; compare modulo quoting and whitespace.
        norm = re.sub(r"\s+", " ", out.replace("‘", "'").replace("’", "'"))
        for e in expects:
            if re.sub(r"\s+", " ", e) not in norm:
                print(f"FAIL {source}: the diagnostics do not contain: {e}")
                ok = False
        errors = len(re.findall(r"(?:^|: )error: ", out, re.M))
        for n in counts:
            if errors != int(n):
                print(f"FAIL {source}: {errors} errors, expected {n}")
                ok = False
    print(out[-6000:])

    rc, ctl = compile_(base + ["-DCTGRAD_CF_CONTROL"])
    if rc != 0:
        print(f"FAIL {source}: the control twin (-DCTGRAD_CF_CONTROL) does not compile:\n{ctl[-4000:]}")
        ok = False
    if ok:
        print(f"ok {source}: rejected with {', '.join(repr(e) for e in expects)}; control compiles")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
