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
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "callgrind.out")
        subprocess.run(["valgrind", "--tool=callgrind", "--toggle-collect=*measured*",
                        f"--callgrind-out-file={out}", driver, case, impl, str(calls)],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(out) as f:
            m = re.search(r"^(?:summary|totals): (\d+)", f.read(), re.M)
    return int(m.group(1)) / calls


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("driver")
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--cases", default=",".join(CASES))
    args = ap.parse_args()
    print("| case | ctgrad instr | hand instr | runtime_graph instr | ctgrad / hand |")
    print("|---|---|---|---|---|")
    worst = 0.0
    for case in args.cases.split(","):
        n = {impl: count(args.driver, case, impl, args.calls) for impl in IMPLS}
        ratio = n["ctgrad"] / n["hand"]
        worst = max(worst, ratio)
        print(f"| {case} | {n['ctgrad']:.0f} | {n['hand']:.0f} | {n['runtime_graph']:.0f} "
              f"| {ratio:.3f} |")
    print(f"\nworst ctgrad / hand: {worst:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
