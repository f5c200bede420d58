#!/usr/bin/env bash
# Compile time and peak compiler memory of the generated stress cases of issue 12
# (bench/compile_time/generate.py: chain_N, dag_N, reuse*_N, Black-Scholes, chain_hessian_N,
# sum_N). Each TU is compiled alone (-std=c++20 -O2 -c, one compile at a time) with each
# compiler, under a timeout; a timeout or a compile error is a row of the table, not an abort.
# Prints Markdown: the machine, a table (case | compiler | wall s | cpu s | peak MB | status; cpu:
# the compiler's user + system time, the number to compare on a loaded machine), the time
# ratio of each family when its size doubles, and a least-squares fit of the time per step
# (chain), per level (dag, reuse*) or per variable (sum). The raw rows are in OUTDIR/results.tsv
# and each compiler's messages in OUTDIR/CASE.COMPILER.log.
#
# Usage: bench/compile_time/measure.sh [options] [CASE_GLOB...]
#   -t, --timeout S      per-compile timeout in seconds (default 300)
#   -c, --compilers L    comma-separated compilers (default g++,clang++; missing ones skipped)
#   -o, --out DIR        where the TUs, objects and logs go (default /tmp/ctgrad-compile-time)
#   --no-skip            also compile the larger sizes of a family after a smaller one timed out
#                        (by default they are rows "skipped": they would time out as well)
#   --flags "..."        extra compiler flags (after -std=c++20 -O2)
#   --include DIR        the library's include directory (default: this checkout's include/;
#                        e.g. one exported by `git archive COMMIT include | tar -x -C DIR/..`)
#   CASE_GLOB            cases to run, as generate.py takes them ('dag_*', chain_128,
#                        chain_100 for a size outside the standard set); default: all
# Example: bench/compile_time/measure.sh -t 120 -c clang++ 'chain_*' 'dag_*'
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
timeout_s=300
compilers=g++,clang++
out=/tmp/ctgrad-compile-time
skip=1
extra=()
globs=()
inc=$root/include
while [ $# -gt 0 ]; do
  case $1 in
    -t|--timeout) timeout_s=$2; shift 2 ;;
    -c|--compilers) compilers=$2; shift 2 ;;
    -o|--out) out=$2; shift 2 ;;
    --no-skip) skip=0; shift ;;
    --flags) read -r -a extra <<< "$2"; shift 2 ;;
    --include) inc=$(cd "$2" && pwd); shift 2 ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "measure.sh: unknown option $1 (--help)" >&2; exit 2 ;;
    *) globs+=("$1"); shift ;;
  esac
done

mkdir -p "$out"
mapfile -t sources < <(python3 "$root/bench/compile_time/generate.py" "$out" "${globs[@]}")
[ ${#sources[@]} -gt 0 ] || { echo "measure.sh: no case matches ${globs[*]}" >&2; exit 2; }
IFS=, read -r -a cxxs <<< "$compilers"
results="$out/results.tsv"
: > "$results"

# run CXX SRC NAME: one compile under the timeout; appends a row to results.tsv.
# Peak memory: /usr/bin/time's maximum RSS (the largest process: cc1plus, clang -cc1); for a
# compile killed by the timeout, the largest sum of the RSS of the compile's processes sampled
# every second (time's figure is lost with the killed compiler).
run() {
  local cxx=$1 src=$2 name=$3
  local log="$out/$name.$cxx.log" tf="$out/$name.$cxx.time"
  rm -f "$tf" "$out/$name.$cxx.o"
  /usr/bin/time -f '%e %M %U %S' -o "$tf" timeout -k 5 "$timeout_s" \
      "$cxx" -std=c++20 -O2 "${extra[@]}" -I"$inc" -c "$src" -o "$out/$name.$cxx.o" \
      > "$log" 2>&1 &
  local tpid=$! peak=0 kb group rc=0
  while kill -0 "$tpid" 2> /dev/null; do
    sleep 1
    group=$(pgrep -P "$tpid" | head -1 || true)  # timeout: the leader of the compile's group
    if [ -n "$group" ]; then
      kb=$(ps -eo pgid=,rss= | awk -v g="$group" '$1 == g { s += $2 } END { print s + 0 }')
      [ "$kb" -gt "$peak" ] && peak=$kb
    fi
  done
  wait "$tpid" || rc=$?
  local status
  local wall=0 mem=0 usr=0 sys=0
  [ -s "$tf" ] && read -r wall mem usr sys < <(tail -n 1 "$tf")
  if [ "$rc" -eq 0 ]; then
    status=ok
  elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    status=timeout
    mem=$(( peak > mem ? peak : mem ))
  else
    # The first error line, without its path (kept: the file's name and line).
    local first
    first=$(grep -m 1 -E '(fatal )?error' "$log" | sed -E 's#^([^ :]*/)?([^/ :]+:[0-9]+:[0-9]+: )#\2#' \
            | cut -c 1-220 | tr '\t|' ' /' || true)
    status="error: ${first:-exit status $rc}"
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$cxx" "$wall" "$((mem / 1024))" "$status" \
      "$(awk -v u="$usr" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')" >> "$results"
}

declare -A timed_out  # family.compiler -> the size that timed out
for src in "${sources[@]}"; do
  name=$(basename "$src" .cpp)
  family=${name%_*}
  size=${name##*_}
  [[ $size =~ ^[0-9]+$ ]] || { family=$name; size=0; }
  for cxx in "${cxxs[@]}"; do
    if ! command -v "$cxx" > /dev/null; then
      echo "measure.sh: $cxx not found, skipped" >&2
      continue
    fi
    key="$family.$cxx"
    if [ "$skip" -eq 1 ] && [ -n "${timed_out[$key]:-}" ]; then
      printf '%s\t%s\t-\t-\tskipped (%s_%s timed out)\t-\n' "$name" "$cxx" "$family" \
          "${timed_out[$key]}" >> "$results"
    else
      echo "measure.sh: $name with $cxx ($(uptime | sed 's/.*load/load/'))" >&2
      run "$cxx" "$src" "$name"
      tail -n 1 "$results" | grep -q $'\ttimeout\t' && timed_out[$key]=$size
    fi
  done
done

python3 - "$results" "$timeout_s" "$(uptime | sed 's/.*load average: //')" <<'EOF'
import re, subprocess, sys
from collections import defaultdict

path, limit, load = sys.argv[1], float(sys.argv[2]), sys.argv[3]
rows = [(line.rstrip("\n").split("\t") + ["-"])[:6] for line in open(path) if line.strip()]


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


model = sh("lscpu | sed -n 's/^Model name: *//p'")
versions = [sh(f"{c} --version | head -n 1") for c in dict.fromkeys(r[1] for r in rows)]
print(f"Machine: {model}, {sh('nproc')} cores; " + "; ".join(versions))
print(f"Flags: -std=c++20 -O2 -c, each TU alone, timeout {limit:g} s; load average at the end: {load}\n")
print("| case | compiler | wall s | cpu s | peak MB | status |\n|---|---|---|---|---|---|")
for name, cxx, wall, mb, status, cpu in rows:
    if status == "timeout":
        status = f"timeout (> {limit:g} s)"
    elif status.startswith("error"):
        status = f"error ({float(wall):.1f} s): " + status[len("error: "):]
    wall_txt = "-" if wall == "-" else (f"> {limit:g}" if status.startswith("timeout") else wall)
    mb_txt = f"≥ {mb}" if status.startswith("timeout") and mb != "-" else mb
    cpu_txt = "-" if status.startswith(("timeout", "skipped")) else cpu
    print(f"| {name} | {cxx} | {wall_txt} | {cpu_txt} | {mb_txt} | {status} |")

# Families with sizes: the time ratio when the size doubles, and the fitted cost per unit.
# Compiled sizes use the compiler's CPU time (user + system: what the load of a shared machine
# does not inflate), timeouts the wall time (a lower bound; the CPU time of a killed compile is
# lost), rows of an older results.tsv without the cpu column the wall time.
fam = defaultdict(dict)  # (family, compiler) -> size -> (status, seconds)
for name, cxx, wall, mb, status, cpu in rows:
    m = re.fullmatch(r"(.+)_(\d+)", name)
    if m:
        secs = cpu if status == "ok" and cpu != "-" else wall
        fam[(m.group(1), cxx)][int(m.group(2))] = (status, None if secs == "-" else float(secs))


def cell(entry):
    status, wall = entry
    if status == "ok":
        return None
    return "timeout" if status == "timeout" else "error" if status.startswith("error") else "skipped"


print("\nTime ratio when the size doubles (CPU time; target ≤ 2.2):\n")
print("| family | compiler | sizes | ratios |\n|---|---|---|---|")
for (f, cxx), sizes in fam.items():
    ns = sorted(sizes)
    parts = []
    for a in ns:
        if 2 * a not in sizes:
            continue
        (sa, ta), (sb, tb) = sizes[a], sizes[2 * a]
        if sa == "ok" and sb == "ok":
            parts.append(f"{a}→{2 * a}: {tb / ta:.2f}×")
        elif sa == "ok" and sb == "timeout":
            parts.append(f"{a}→{2 * a}: > {limit / ta:.1f}× (timeout)")
        else:
            parts.append(f"{a}→{2 * a}: - ({cell(sizes[a]) or 'ok'}, {cell(sizes[2 * a]) or 'ok'})")
    if parts:
        print(f"| {f} | {cxx} | {', '.join(map(str, ns))} | {'; '.join(parts)} |")

unit = {"chain": "step", "dag": "level", "reuse": "level", "reuse_lit": "level",
        "reuse_var": "level", "sum": "variable", "chain_hessian": "step"}
print("\nFitted cost (least squares, CPU s = a + b · size, over the sizes that compiled):\n")
print("| family | compiler | sizes fitted | s per unit | a (s) |\n|---|---|---|---|---|")
for (f, cxx), sizes in fam.items():
    pts = [(n, t) for n, (s, t) in sorted(sizes.items()) if s == "ok"]
    if len(pts) < 2:
        fitted = "-" if not pts else str(pts[0][0])
        print(f"| {f} | {cxx} | {fitted} | - (fewer than 2 sizes compiled) | - |")
        continue
    k = len(pts)
    mx = sum(n for n, _ in pts) / k
    my = sum(t for _, t in pts) / k
    b = sum((n - mx) * (t - my) for n, t in pts) / sum((n - mx) ** 2 for n, _ in pts)
    a = my - b * mx
    print(f"| {f} | {cxx} | {', '.join(str(n) for n, _ in pts)} | "
          f"{b:.3f} s per {unit.get(f, 'unit')} | {a:.2f} |")
EOF
