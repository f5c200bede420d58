#!/usr/bin/env python3
"""Regression guard for the tensor engine's names (issue 12, part 4): the functions generated
for the steps of a tensor sweep must be named after what each step computes, not after the
plan, so their longest name does not grow with the depth of a network.

    engine_symbol_guard.py SOURCE_ROOT OUTDIR -- CXX [ARGS...]

Compiles bench/compile_time/deep_network.cpp with 4 and 24 layers at -O0 (every instantiated
function is then a symbol of the object file) and compares, between the two, the longest
mangled name among the step functions (ctgrad::tensor_ad::forward_*, backward_*, push, val,
contribute, pointer, update_step, seed, zeros, flush_to): it must be the same within a small
slack (offsets get a digit more); and the number of step functions must be the same (layers of
the same shapes share their step functions: a step's offsets are read at run time, see
tensor_ad::lifted). Before the rewrite every per-entry function was a member of
the engine, named after the whole plan, so the longest name grew linearly with depth (and the
number of such functions too). No time is measured.
"""
import os
import re
import subprocess
import sys

STEP = re.compile(r"^(?:\S+ )?ctgrad::tensor_ad::(forward_|backward_|push<|val<|contribute<|pointer<|"
                  r"update_step<|seed<|zeros<|flush_to<)")
SLACK = 64


def symbols(cxx, args, root, out, depth):
    obj = os.path.join(out, f"engine_symbols_{depth}.o")
    subprocess.run(cxx + args + ["-std=c++20", "-O0", f"-DDEPTH={depth}",
                                 "-I" + os.environ.get("CTGRAD_INCLUDE", os.path.join(root, "include")), "-c",
                                 os.path.join(root, "bench", "compile_time", "deep_network.cpp"),
                                 "-o", obj], check=True)
    mangled = subprocess.run(["nm", "--defined-only", obj], check=True, stdout=subprocess.PIPE,
                             text=True).stdout.split("\n")
    names = [line.split()[-1] for line in mangled if line.strip()]
    demangled = subprocess.run(["c++filt"], input="\n".join(names), check=True,
                               stdout=subprocess.PIPE, text=True).stdout.split("\n")
    steps = [m for m, d in zip(names, demangled) if STEP.match(d)]
    return max((len(m) for m in steps), default=0), len(steps)


def main():
    sep = sys.argv.index("--")
    root, out = sys.argv[1], sys.argv[2]
    cxx, args = [sys.argv[sep + 1]], sys.argv[sep + 2:]
    os.makedirs(out, exist_ok=True)
    small = symbols(cxx, args, root, out, 4)
    large = symbols(cxx, args, root, out, 24)
    print(f"4 layers: longest step name {small[0]}, {small[1]} step functions")
    print(f"24 layers: longest step name {large[0]}, {large[1]} step functions")
    ok = True
    if small[1] == 0 or large[1] == 0:
        print("FAIL: no step functions found (renamed? update STEP)")
        ok = False
    if large[0] > small[0] + SLACK:
        print(f"FAIL: the longest step name grows with depth ({small[0]} -> {large[0]})")
        ok = False
    if large[1] != small[1]:
        print(f"FAIL: the number of step functions grows with depth ({small[1]} -> {large[1]}): "
              "steps that differ only in their buffers must share a function (tensor_ad::lifted)")
        ok = False
    print("ok" if ok else "failed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
