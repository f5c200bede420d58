#!/usr/bin/env bash
# Compile-time cost of ctgrad's heavy TUs: wall time and peak compiler memory for each
# generated case (bench/compile_time/generate.py), with g++ and clang++ at -O2.
# Usage: bench/compile_time/measure.sh [outdir]   (prints a Markdown table)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-/tmp/ctgrad-compile-time}
python3 "$root/bench/compile_time/generate.py" "$out" > /dev/null
printf '| case | compiler | wall s | peak MB |\n|---|---|---|---|\n'
for src in "$out"/*.cpp; do
  name=$(basename "$src" .cpp)
  for cxx in g++ clang++; do
    command -v "$cxx" > /dev/null || continue
    log="$out/$name.$cxx.time"
    if /usr/bin/time -v "$cxx" -std=c++20 -O2 -I"$root/include" "$src" -o "$out/$name.$cxx" 2> "$log"; then
      wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log" | awk -F: '{ if (NF==2) print $1*60+$2; else print $1*3600+$2*60+$3 }')
      mem=$(awk -F': ' '/Maximum resident set size/ {printf "%d", $2/1024}' "$log")
      printf '| %s | %s | %.2f | %s |\n' "$name" "$cxx" "$wall" "$mem"
    else
      printf '| %s | %s | failed | - |\n' "$name" "$cxx"
    fi
  done
done
