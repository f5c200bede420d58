#!/usr/bin/env python3
"""Generates the compile-time benchmark TUs: expressions whose plan is large, each computing
a gradient at run time and checking one at compile time.

  tanh_chain_N   t_{k+1} = tanh(w * t_k + b), N deep: a plan of 3N + 3 entries, w and b fan out N times
  doubling_N     d_{k+1} = d_k * d_k: 2^N paths through N + 1 unique subexpressions (type-level CSE)
  sum_N          x_0 + x_1 + ... + x_{N-1}: N variables (the plan's flat tables and lookups)

Usage: generate.py OUTDIR
"""
import sys
from pathlib import Path

HEADER = "#include <ctgrad/ctgrad.hpp>\n#include <cstdio>\n"


def tanh_chain(n):
    body = ["constexpr auto x = ctgrad::var<\"x\">;", "constexpr auto w = ctgrad::var<\"w\">;",
            "constexpr auto b = ctgrad::var<\"b\">;", "constexpr auto t0 = x;"]
    for k in range(n):
        body.append(f"constexpr auto t{k + 1} = ctgrad::tanh(w * t{k} + b);")
    body.append(f"static_assert(ctgrad::gradient(t{n}, x = 0.5, w = 0.9, b = 0.1)[x] > 0);")
    body.append("int main(int argc, char**) {")
    body.append(f"    auto g = ctgrad::gradient(t{n}, x = 0.5 * argc, w = 0.9, b = 0.1);")
    body.append("    std::printf(\"%g %g %g\\n\", g[x], g[w], g[b]);\n}")
    return HEADER + "\n".join(body) + "\n"


def doubling(n):
    body = ["constexpr auto x = ctgrad::var<\"x\">;", "constexpr auto d0 = x;"]
    for k in range(n):
        body.append(f"constexpr auto d{k + 1} = d{k} * d{k};")
    body.append(f"static_assert(ctgrad::gradient(d{n}, x = 1.0)[x] == {2 ** n}.0);")
    body.append("int main(int argc, char**) {")
    body.append(f"    std::printf(\"%g\\n\", ctgrad::gradient(d{n}, x = 1.0 * argc)[x]);\n}}")
    return HEADER + "\n".join(body) + "\n"


def wide_sum(n):
    body = [f"constexpr auto x{i} = ctgrad::var<\"x{i}\">;" for i in range(n)]
    total = " + ".join(f"x{i}" for i in range(n))
    binds = ", ".join(f"x{i} = {i}.0" for i in range(n))
    body.append(f"constexpr auto f = {total};")
    body.append(f"static_assert(ctgrad::gradient(f, {binds})[x{n - 1}] == 1.0);")
    body.append("int main() {")
    body.append(f"    std::printf(\"%g\\n\", ctgrad::gradient(f, {binds}).value);\n}}")
    return HEADER + "\n".join(body) + "\n"


def main():
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    cases = {}
    for n in (8, 32, 128):
        cases[f"tanh_chain_{n}"] = tanh_chain(n)
    for n in (10, 30):
        cases[f"doubling_{n}"] = doubling(n)
    for n in (16, 64):
        cases[f"sum_{n}"] = wide_sum(n)
    for name, text in cases.items():
        (out / f"{name}.cpp").write_text(text)
        print(out / f"{name}.cpp")


if __name__ == "__main__":
    main()
