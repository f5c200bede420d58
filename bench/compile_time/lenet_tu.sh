#!/usr/bin/env bash
# Compile time and peak compiler memory of the LeNet-style TU of issue 14
# (bench/compile_time/lenet_tu.cpp: the network, its gradient program and SGD step), compiled
# alone (-std=c++20 -O2 -c) with each compiler, against one or more include directories (this
# checkout's include/ and, to compare, e.g. main's exported by `git archive main include | tar
# -x -C DIR`), in alternating order, REPS rounds: a loaded machine then slows every side alike.
# Prints one line per compile (CPU s = user + system, peak RSS of the compiler, load average)
# and a Markdown table of medians with the ratio of each include directory to the first.
#
# Usage: bench/compile_time/lenet_tu.sh [options] [INCLUDE_DIR...]
#   -r, --reps N         rounds (default 3)
#   -c, --compilers L    comma-separated compilers (default g++,clang++; missing ones skipped)
#   --flags "..."        extra compiler flags (after -std=c++20 -O2), e.g. -DCTGRAD_KERNELS_NO_DISPATCH
#   INCLUDE_DIR          default: this checkout's include/
# Example (main against this branch):
#   git archive main include | tar -x -C /tmp/lenet_main
#   bench/compile_time/lenet_tu.sh -r 5 /tmp/lenet_main/include include
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
reps=3
compilers=g++,clang++
extra=()
incs=()
while [ $# -gt 0 ]; do
  case $1 in
    -r|--reps) reps=$2; shift 2 ;;
    -c|--compilers) compilers=$2; shift 2 ;;
    --flags) read -r -a extra <<< "$2"; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "lenet_tu.sh: unknown option $1 (--help)" >&2; exit 2 ;;
    *) incs+=("$(cd "$1" && pwd)"); shift ;;
  esac
done
[ ${#incs[@]} -gt 0 ] || incs=("$root/include")
IFS=, read -r -a cxxs <<< "$compilers"
src=$root/bench/compile_time/lenet_tu.cpp
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
rows=$out/rows.tsv
for ((r = 1; r <= reps; ++r)); do
  for inc in "${incs[@]}"; do
    for cxx in "${cxxs[@]}"; do
      command -v "$cxx" > /dev/null || { echo "lenet_tu.sh: $cxx not found, skipped" >&2; continue; }
      load=$(cut -d ' ' -f 1 /proc/loadavg)
      /usr/bin/time -f '%U %S %M' -o "$out/time" \
          "$cxx" -std=c++20 -O2 "${extra[@]}" -I"$inc" -c "$src" -o "$out/lenet_tu.o"
      read -r usr sys kb < "$out/time"
      cpu=$(awk -v u="$usr" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
      printf '%s\t%s\t%s\t%s\t%s\n' "$inc" "$cxx" "$cpu" "$((kb / 1024))" "$load" | tee -a "$rows"
    done
  done
done
python3 - "$rows" "${incs[0]}" <<'EOF'
import statistics, sys
from collections import defaultdict
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1]) if line.strip()]
first = sys.argv[2]
cpu, mb, loads = defaultdict(list), defaultdict(list), []
for inc, cxx, c, m, load in rows:
    cpu[(inc, cxx)].append(float(c))
    mb[(inc, cxx)].append(int(m))
    loads.append(float(load))
print(f"\nLoad average during the runs: {min(loads):.1f}–{max(loads):.1f}\n")
print("| include | compiler | CPU s (median) | runs | peak MB | vs first |\n|---|---|---|---|---|---|")
for (inc, cxx), v in cpu.items():
    med = statistics.median(v)
    base = statistics.median(cpu[(first, cxx)])
    runs = ", ".join(f"{x:.2f}" for x in v)
    print(f"| {inc} | {cxx} | {med:.2f} | {runs} | {max(mb[(inc, cxx)])} | {med / base:.2f}× |")
EOF
