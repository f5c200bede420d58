#!/usr/bin/env python3
"""Runs a test executable with CTGRAD_KERNELS_ISA=ISA, or skips it (exit code 77, meson's "SKIP")
when that limit leaves this processor on the same kernels as the run without it.

    isa_run.py ISA -- EXECUTABLE [ARGS...]

ctgrad::kernels::active_isa() (include/ctgrad/tensor/matmul.hpp) takes the best of avx512, avx2
and target that the processor runs and that is not above the limit; without the variable the
limit is avx512. So the avx512 run is the run without the variable on every machine, and the
avx2 run is on a processor without AVX-512 (the AMD EPYC of passes 9-11): they would execute the
same kernels and the same assertions a second time. The processor's instructions are read as
`__builtin_cpu_supports` reads them (/proc/cpuinfo flags: avx512f, avx2, fma; the kernel clears
them when the operating system does not save the registers); without /proc/cpuinfo the run is
never skipped.
"""
import os
import sys

ORDER = ["target", "avx2", "avx512"]


def best_isa():
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            flags = set()
            for line in f:
                if line.startswith("flags"):
                    flags |= set(line.split(":", 1)[1].split())
    except OSError:
        return None
    if {"avx512f", "avx2", "fma"} <= flags:
        return "avx512"
    if {"avx2", "fma"} <= flags:
        return "avx2"
    return "target"


def main():
    if len(sys.argv) < 4 or sys.argv[2] != "--" or sys.argv[1] not in ORDER:
        sys.exit(__doc__)
    isa, cmd = sys.argv[1], sys.argv[3:]
    best = best_isa()
    if best is not None:
        chosen = ORDER[min(ORDER.index(isa), ORDER.index(best))]
        if chosen == best:
            print(f"skipped: CTGRAD_KERNELS_ISA={isa} runs the {best} kernels on this processor, "
                  f"as the run without it does")
            return 77
    os.environ["CTGRAD_KERNELS_ISA"] = isa
    os.execv(cmd[0], cmd)


if __name__ == "__main__":
    sys.exit(main())
