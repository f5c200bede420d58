#!/usr/bin/env python3
"""Turns Google Benchmark JSON (run with --benchmark_repetitions=N) into a Markdown table of
median time per iteration for every `<case>/<impl>` and the ratios between impls of the same
case, all from one run.

Usage: compare.py RESULT.json [--base ctgrad]
"""
import argparse
import json
import statistics
import sys
from collections import defaultdict

IMPL_ORDER = ["ctgrad", "hand", "blas", "runtime_graph", "libtorch", "libtorch_ftz", "ceres", "std"]


def split(name):
    """'case/impl[/N]' -> (case[/N], impl). Aggregates carry a suffix like _median."""
    parts = name.split("/")
    if len(parts) >= 3:  # adbench_<f>/<impl>/<N>
        return parts[0] + "/" + "/".join(parts[2:]), parts[1]
    return parts[0], parts[1] if len(parts) > 1 else ""


def processor_model():
    """The processor this table was made on (the results are read on the machine that ran them):
    /proc/cpuinfo's model name and its widest x86 vector extension, else platform.processor()."""
    import platform
    try:
        with open("/proc/cpuinfo") as f:
            info = f.read()
    except OSError:
        return platform.processor() or platform.machine()
    model, flags = None, set()
    for line in info.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name" and model is None:
            model = value.strip()
        elif key.strip() == "flags" and not flags:
            flags = set(value.split())
    isa = next((name for flag, name in [("avx512f", "AVX-512"), ("avx2", "AVX2"),
                                        ("avx", "AVX"), ("sse2", "SSE2")] if flag in flags), None)
    model = model or platform.processor() or platform.machine()
    return f"{model}, {isa}" if isa else model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("json")
    ap.add_argument("--base", default="ctgrad")
    args = ap.parse_args()
    with open(args.json) as f:
        data = json.load(f)
    samples = defaultdict(list)  # (case, impl) -> [ns]
    errors = {}
    for b in data["benchmarks"]:
        if b.get("error_occurred"):
            errors[split(b["run_name"] if "run_name" in b else b["name"])] = b.get("error_message", "error")
            continue
        if b.get("run_type") == "aggregate":
            continue
        scale = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}[b.get("time_unit", "ns")]
        samples[split(b.get("run_name", b["name"]))].append(b["real_time"] * scale)
    cases = []
    for (case, impl) in list(samples) + list(errors):
        if case not in cases:
            cases.append(case)
    impls = [i for i in IMPL_ORDER if any((c, i) in samples or (c, i) in errors for c in cases)]
    ctx = data.get("context", {})
    load = ctx.get("load_avg")
    load_text = f", load {' '.join(f'{x:.2f}' for x in load)}" if load else ""
    print(f"Processor: {processor_model()}{load_text}")
    print(f"Machine: {ctx.get('num_cpus', '?')} CPUs at {ctx.get('mhz_per_cpu', '?')} MHz, "
          f"{ctx.get('library_build_type', '?')} Google Benchmark, "
          f"{len(next(iter(samples.values()), []))} repetitions, medians.\n")
    head = "| case | " + " | ".join(f"{i} ns" for i in impls)
    others = [i for i in impls if i != args.base]
    head += " | " + " | ".join(f"{i} / {args.base}" for i in others) + " |"
    print(head)
    print("|" + "---|" * (1 + len(impls) + len(others)))
    for case in cases:
        med = {i: statistics.median(samples[(case, i)]) for i in impls if (case, i) in samples}
        cells = [f"{med[i]:.1f}" if i in med else ("error" if (case, i) in errors else "-")
                 for i in impls]
        ratios = []
        for i in others:
            if i in med and args.base in med and med[args.base] > 0:
                ratios.append(f"{med[i] / med[args.base]:.2f}")
            else:
                ratios.append("-")
        print(f"| {case} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")
    if errors:
        print("\nErrors:", file=sys.stderr)
        for k, v in errors.items():
            print(f"  {k}: {v}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
