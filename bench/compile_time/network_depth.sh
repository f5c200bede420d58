#!/usr/bin/env bash
# Compile time and peak compiler memory of a network of 8, 16, 32, 64 and 128 tanh layers
# (bench/compile_time/deep_network.cpp), g++ and clang++ at -O2. Prints a Markdown table.
# Usage: bench/compile_time/network_depth.sh [depths...]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d)
depths=("${@:-8 16 32 64 128}")
printf '| layers | compiler | wall s | peak MB |\n|---|---|---|---|\n'
for d in ${depths[*]}; do
  for cxx in g++ clang++; do
    command -v "$cxx" > /dev/null || continue
    log="$out/$d.$cxx.time"
    if /usr/bin/time -v "$cxx" -std=c++20 -O2 -DDEPTH="$d" -I"$root/include" \
        "$root/bench/compile_time/deep_network.cpp" -o "$out/net$d" 2> "$log" && "$out/net$d" > /dev/null; then
      wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log" | awk -F: '{ if (NF==2) print $1*60+$2; else print $1*3600+$2*60+$3 }')
      mem=$(awk -F': ' '/Maximum resident set size/ {printf "%d", $2/1024}' "$log")
      printf '| %s | %s | %.1f | %s |\n' "$d" "$cxx" "$wall" "$mem"
    else
      printf '| %s | %s | failed | - |\n' "$d" "$cxx"
    fi
  done
done
rm -rf "$out"
