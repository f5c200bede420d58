#!/usr/bin/env python3
"""The benchmark main's CSV and JSON (bench/tools/bench_main.hpp), on bench/tools/csv_check_bench.cpp:
three benchmarks with user counters none, {loss, GFLOPS}, {GFLOPS}, where Google Benchmark's own
CSVReporter aborts. Runs the binary with --benchmark_format=csv (stdout), with
--benchmark_out_format=csv (a file, CSV alone) and with JSON, each with interleaved repetitions,
and checks the rows and the counters' columns.

Usage: bench_csv.py <csv_check_bench>
"""

import csv
import io
import json
import os
import subprocess
import sys
import tempfile

NAMES = ["csv_check/none/iterations:10", "csv_check/two/iterations:10",
         "csv_check/one/iterations:10"]
COUNTERS = {NAMES[0]: {}, NAMES[1]: {"loss": 0.5, "GFLOPS": 2.0}, NAMES[2]: {"GFLOPS": 3.0}}
FLAGS = ["--benchmark_repetitions=2", "--benchmark_enable_random_interleaving=true"]


def run(binary, *args):
    done = subprocess.run([binary, *FLAGS, *args], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, check=False, timeout=120)
    if done.returncode != 0:
        sys.exit(f"{binary} {' '.join(args)}: exit {done.returncode}\n{done.stderr}")
    return done.stdout


def check_csv(text, where):
    rows = list(csv.DictReader(io.StringIO(text)))
    runs = [r for r in rows if r["name"] in COUNTERS]
    if sorted(r["name"] for r in runs) != sorted(NAMES * 2):
        sys.exit(f"{where}: runs {[r['name'] for r in runs]}, expected each of {NAMES} twice")
    for r in runs:
        for counter in ("loss", "GFLOPS"):
            if counter not in r:
                sys.exit(f"{where}: no column {counter}: {list(r)}")
            want = COUNTERS[r["name"]].get(counter)
            got = r[counter]
            if (want is None and got != "") or (want is not None and float(got) != want):
                sys.exit(f"{where}: {r['name']} {counter} = {got!r}, expected {want}")
    if len(rows) != 3 * 6:  # two runs and four aggregates (mean, median, stddev, cv) each
        sys.exit(f"{where}: {len(rows)} rows, expected 18")


def main():
    binary = sys.argv[1]
    check_csv(run(binary, "--benchmark_format=csv"), "--benchmark_format=csv")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.csv")
        run(binary, "--benchmark_out_format=csv", f"--benchmark_out={out}")
        with open(out, encoding="utf-8") as f:
            check_csv(f.read(), "--benchmark_out_format=csv")
        out = os.path.join(tmp, "out.json")
        run(binary, "--benchmark_format=json", "--benchmark_out_format=json",
            f"--benchmark_out={out}")
        with open(out, encoding="utf-8") as f:
            got = [b for b in json.load(f)["benchmarks"] if b["run_type"] == "iteration"]
        if sorted(b["name"] for b in got) != sorted(NAMES * 2):
            sys.exit(f"json: runs {[b['name'] for b in got]}")
        for b in got:
            for counter, want in COUNTERS[b["name"]].items():
                if b.get(counter) != want:
                    sys.exit(f"json: {b['name']} {counter} = {b.get(counter)}, expected {want}")
    print("CSV (stdout and file) and JSON: every run, every counter's column")


if __name__ == "__main__":
    main()
