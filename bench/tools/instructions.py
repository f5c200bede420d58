#!/usr/bin/env python3
"""Instructions per value + gradient of every scalar case and impl, counted by callgrind.

    instructions.py PATH/TO/instructions [--calls N] [--cases a,b]

Runs `valgrind --tool=callgrind --toggle-collect=*measured*` on the driver
(bench/scalar/instructions.cpp) once per case and impl, so only the measured call and what it
calls (libm included) is counted, and divides by the number of calls. Prints a Markdown table
with the ratios to `hand`. Instruction counts are repeatable, unlike timings on a shared machine.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

CASES = ["add_mul", "shared_input", "sigmoid_neuron", "log_sum_exp8", "black_scholes",
         "tanh_chain20", "poly_reuse8"]
IMPLS = ["ctgrad", "hand", "runtime_graph"]


def count(driver, case, impl, calls):
    """(all instructions, instructions inside libm) per call."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "callgrind.out")
        subprocess.run(["valgrind", "--tool=callgrind", "--toggle-collect=*measured*",
                        f"--callgrind-out-file={out}", driver, case, impl, str(calls)],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(out) as f:
            total = int(re.search(r"^(?:summary|totals): (\d+)", f.read(), re.M).group(1))
        listing = subprocess.run(["callgrind_annotate", "--inclusive=no", "--threshold=100", out],
                                 check=True, stdout=subprocess.PIPE, text=True).stdout
        # libm's lines: its object named, or its sources (glibc's math/ and ieee754/ trees).
        libm = sum(int(m.group(1).replace(",", ""))
                   for m in re.finditer(r"^\s*([\d,]+) \([^)]*\)\s+(\S+)(.*)$", listing, re.M)
                   if "libm" in m.group(3) or m.group(2).startswith("./math/")
                   or "/ieee754/" in m.group(2))
    return total / calls, libm / calls


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("driver")
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--impls", default=",".join(IMPLS),
                    help="the first three are ctgrad, hand and runtime_graph; more (ceres for"
                         " bench/jacobian/instructions.cpp) add columns")
    args = ap.parse_args()
    impls = args.impls.split(",")
    extra = impls[3:]
    print("Instructions per value + gradient (in parentheses: outside libm, i.e. without the"
          " exp/log/tanh/erfc calls every impl makes).\n")
    print("| case | " + " | ".join(impls) + " | ctgrad / hand | runtime_graph / ctgrad |"
          + "".join(f" {e} / ctgrad |" for e in extra))
    print("|---|" + "---|" * (len(impls) + 2 + len(extra)))
    worst = 0.0
    for case in args.cases.split(","):
        n = {impl: count(args.driver, case, impl, args.calls) for impl in impls}
        ratio = n["ctgrad"][0] / n["hand"][0]
        worst = max(worst, ratio)
        cells = " | ".join(f"{t:.0f} ({t - m:.0f})" for t, m in (n[i] for i in impls))
        own = (n["runtime_graph"][0] - n["runtime_graph"][1]) / (n["ctgrad"][0] - n["ctgrad"][1])
        print(f"| {case} | {cells} | {ratio:.3f} | {n['runtime_graph'][0] / n['ctgrad'][0]:.1f}"
              f" ({own:.0f}) |" + "".join(f" {n[e][0] / n['ctgrad'][0]:.2f} |" for e in extra))
    print(f"\nworst ctgrad / hand: {worst:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
