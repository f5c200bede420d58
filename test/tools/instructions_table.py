#!/usr/bin/env python3
"""bench/tools/instructions.py's table for every subset of impls (callgrind replaced by fixed counts).

    instructions_table.py PATH/TO/bench/tools/instructions.py

Runs the tool's main() with its `count` replaced, so no valgrind run is needed: every subset
and order of impls must print a table whose ratio columns are exactly those whose two impls were
chosen, with the right values (the tool crashed with KeyError for --impls ctgrad,hand).
"""
import contextlib
import importlib.util
import io
import itertools
import sys

# (all, libm) instructions per call: made-up, distinct per impl so a swapped ratio shows.
FAKE = {"ctgrad": (100.0, 20.0), "hand": (80.0, 20.0), "runtime_graph": (1000.0, 20.0),
        "ceres": (250.0, 20.0)}


def run(tool, impls):
    saved = sys.argv
    sys.argv = ["instructions.py", "driver", "--cases", "a,b", "--impls", ",".join(impls)]
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            rc = tool.main()
    finally:
        sys.argv = saved
    return rc, out.getvalue()


def check(tool, impls):
    rc, text = run(tool, impls)
    assert rc == 0, (impls, rc)
    rows = [line for line in text.splitlines() if line.startswith("|")]
    head = [c.strip() for c in rows[0].strip("|").split("|")]
    assert head[0] == "case" and head[1:1 + len(impls)] == list(impls), (impls, head)
    want = []
    if "ctgrad" in impls and "hand" in impls:
        want.append(("ctgrad / hand", f"{100 / 80:.3f}"))
    if "ctgrad" in impls:
        for e in impls:
            if e == "runtime_graph":
                want.append(("runtime_graph / ctgrad", f"{1000 / 100:.1f} ({980 / 80:.0f})"))
            elif e == "ceres":
                want.append(("ceres / ctgrad", f"{250 / 100:.2f}"))
    assert head[1 + len(impls):] == [h for h, _ in want], (impls, head)
    assert len(rows) == 2 + 2, (impls, rows)  # heading, rule, cases a and b
    for row, case in zip(rows[2:], "ab"):
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[0] == case, (impls, row)
        for cell, impl in zip(cells[1:], impls):
            t, m = FAKE[impl]
            assert cell == f"{t:.0f} ({t - m:.0f})", (impls, impl, cell)
        assert cells[1 + len(impls):] == [v for _, v in want], (impls, row)
    has_worst = "worst ctgrad / hand: 1.250" in text
    assert has_worst == ("ctgrad" in impls and "hand" in impls), (impls, text)


def main():
    spec = importlib.util.spec_from_file_location("instructions", sys.argv[1])
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    tool.count = lambda driver, case, impl, calls: FAKE[impl]
    n = 0
    for k in range(1, len(FAKE) + 1):
        for impls in itertools.permutations(FAKE, k):
            check(tool, impls)
            n += 1
    print(f"{n} impl subsets/orders: tables as expected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
