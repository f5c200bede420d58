#!/usr/bin/env python3
"""Instructions per value + gradient of every scalar case and impl, counted by callgrind.

    instructions.py PATH/TO/instructions [--calls N] [--cases a,b] [--impls ctgrad,hand,...]

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


def ratio_columns(impls):
    """(heading, numerator, denominator) of every ratio column the chosen impls allow: ctgrad /
    hand, runtime_graph / ctgrad, then every further impl (ceres...) / ctgrad. A column whose two
    impls are not both chosen is left out, so any subset of impls gives a table."""
    cols = []
    if "ctgrad" in impls and "hand" in impls:
        cols.append(("ctgrad / hand", "ctgrad", "hand"))
    if "ctgrad" in impls:
        cols += [(f"{e} / ctgrad", e, "ctgrad") for e in impls if e not in ("ctgrad", "hand")]
    return cols


def table(cases, impls, count_of):
    """The Markdown table's lines; count_of(case, impl) = (all, libm) instructions per call."""
    cols = ratio_columns(impls)
    lines = ["| case | " + " | ".join(impls) + " |" + "".join(f" {h} |" for h, _, _ in cols),
             "|---|" + "---|" * (len(impls) + len(cols))]
    worst = None
    for case in cases:
        n = {impl: count_of(case, impl) for impl in impls}
        cells = " | ".join(f"{t:.0f} ({t - m:.0f})" for t, m in (n[i] for i in impls))
        ratios = ""
        for heading, num, den in cols:
            r = n[num][0] / n[den][0]
            if heading == "ctgrad / hand":
                worst = r if worst is None else max(worst, r)
                ratios += f" {r:.3f} |"
            elif num == "runtime_graph":
                # in parentheses: the same ratio outside libm (the graph's own overhead)
                own = (n[num][0] - n[num][1]) / (n[den][0] - n[den][1])
                ratios += f" {r:.1f} ({own:.0f}) |"
            else:
                ratios += f" {r:.2f} |"
        lines.append(f"| {case} | {cells} |{ratios}")
    if worst is not None:
        lines += ["", f"worst ctgrad / hand: {worst:.3f}"]
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("driver")
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--impls", default=",".join(IMPLS),
                    help="any of ctgrad, hand, runtime_graph (and ceres for"
                         " bench/jacobian/instructions.cpp), in column order; a ratio column"
                         " appears when both its impls are chosen")
    args = ap.parse_args()
    impls = args.impls.split(",")
    if len(set(impls)) != len(impls) or "" in impls:
        ap.error(f"--impls {args.impls!r}: each impl once, comma-separated")
    print("Instructions per value + gradient (in parentheses: outside libm, i.e. without the"
          " exp/log/tanh/erfc calls every impl makes).\n")
    for line in table(args.cases.split(","), impls,
                      lambda case, impl: count(args.driver, case, impl, args.calls)):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
