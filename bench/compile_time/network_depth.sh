#!/usr/bin/env bash
# Compile time and peak compiler memory of a network of 8, 16, 32, 64 and 128 tanh layers, g++
# and clang++ at -O2 (-std=c++20 -O2 -c, each TU alone, one compile at a time, under a timeout),
# then linked and run once (the program checks its own loss). Prints a Markdown table with the
# load average before each compile, and the time ratio when the depth doubles.
#
# Usage: bench/compile_time/network_depth.sh [-t SECONDS] [-c g++,clang++] [--net NAME] [depths...]
#   --net tanh_network   (default) bench/compile_time/tanh_network.cpp: tanh layers of width 32,
#                        a 10-class output with softmax cross-entropy, program + gradient + one
#                        SGD step (issue 12's network)
#   --net deep_network   bench/compile_time/deep_network.cpp: tanh layers, Σ(A − Y)², gradient
# Example: bench/compile_time/network_depth.sh -t 300 -c g++ 64 128
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
timeout_s=600
compilers=g++,clang++
net=tanh_network
depths=()
while [ $# -gt 0 ]; do
  case $1 in
    -t) timeout_s=$2; shift 2 ;;
    -c) compilers=$2; shift 2 ;;
    --net) net=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) depths+=("$1"); shift ;;
  esac
done
[ ${#depths[@]} -gt 0 ] || depths=(8 16 32 64 128)
IFS=, read -r -a cxxs <<< "$compilers"
out=$(mktemp -d)
src="$root/bench/compile_time/$net.cpp"
echo "Machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(g++ --version | head -1); $(clang++ --version | head -1)"
echo "Source: bench/compile_time/$net.cpp, -std=c++20 -O2 -c, timeout $timeout_s s; commit $(git -C "$root" rev-parse --short HEAD)"
echo
printf '| layers | compiler | cpu s | wall s | peak MB | load | run |\n|---|---|---|---|---|---|---|\n'
declare -A cpu
for d in "${depths[@]}"; do
  for cxx in "${cxxs[@]}"; do
    command -v "$cxx" > /dev/null || continue
    load=$(cut -d' ' -f1 /proc/loadavg)
    tf="$out/$d.$cxx.time"
    if /usr/bin/time -f '%e %M %U %S' -o "$tf" timeout -k 5 "$timeout_s" "$cxx" -std=c++20 -O2 \
        -DDEPTH="$d" -I"$root/include" -c "$src" -o "$out/net$d.$cxx.o" 2> "$out/$d.$cxx.log"; then
      read -r wall mem usr sys < <(tail -n 1 "$tf")
      c=$(echo "$usr + $sys" | bc)
      cpu[$d.$cxx]=$c
      run=failed
      "$cxx" "$out/net$d.$cxx.o" -o "$out/net$d.$cxx" && "$out/net$d.$cxx" > "$out/$d.$cxx.run" && run=ok
      printf '| %s | %s | %.1f | %.1f | %d | %s | %s |\n' "$d" "$cxx" "$c" "$wall" $((mem / 1024)) "$load" "$run"
    else
      msg=$(grep -m1 -E 'error|Killed' "$out/$d.$cxx.log" | cut -c1-160 || true)
      printf '| %s | %s | failed or > %s s | - | - | %s | %s |\n' "$d" "$cxx" "$timeout_s" "$load" "${msg:-timeout}"
    fi
  done
done
echo
for cxx in "${cxxs[@]}"; do
  prev=
  for d in "${depths[@]}"; do
    if [ -n "$prev" ] && [ -n "${cpu[$prev.$cxx]:-}" ] && [ -n "${cpu[$d.$cxx]:-}" ]; then
      echo "$cxx $prev -> $d layers: $(echo "scale=2; ${cpu[$d.$cxx]} / ${cpu[$prev.$cxx]}" | bc)x CPU time"
    fi
    prev=$d
  done
done
rm -rf "$out"
