#!/usr/bin/env python3
"""Generates the compile-time benchmark TUs of issue 12: one C++ file per case, each the code a
user would write, computing at run time what the case is about (and, where the expression is
constexpr, one gradient in a static_assert, so that constant evaluation is measured too). Each
main() returns 0 when run with no arguments and its numbers match the reference computed here.

Families (the size is the last part of the name; any size can be asked for, e.g. chain_100):

  chain_N    t_0 = x0, t_(k+1) = tanh(w * t_k + x_k), k < N: a scalar recurrence with one input
             variable per step (N + 1 variables, about 3N plan entries); gradient at run time,
             and g[w], g[x_(N-1)] checked in a static_assert (every size: the check costs as
             much constant evaluation as one run-time gradient).
  dag_N      d_0 = x * y, d_(k+1) = tanh(d_k * d_k + sin(d_k)): a pure DAG (variables only),
             each level using the previous one three times, so 3^N paths through about 4N
             distinct subexpressions; gradient at run time and g[x] in a static_assert.
  reuse_N    inside main, non-constexpr `auto` levels that hold plain numbers, the pattern
             users write:  auto a0 = 0.5 * x + y;  auto a1 = tanh(a0 * (a0 + 2.0)); ...
             (levels alternate 2.0 and 0.5), each level using the previous one twice;
             gradient only.
  reuse_lit_N  the same with exact literals (0.5_c, 2.0_c): a pure expression.
  reuse_var_N  the same with the numbers as variables p = 0.5, q = 2.0 bound at the call.
  black_scholes_gradient / black_scholes_hessian
             a Black-Scholes call price of S, K, r, sigma, T with the Abramowitz-Stegun normal
             CDF (26.2.17: k = 1/(1 + 0.2316419 x), five coefficients, pdf by exp; valid for
             x >= 0, and the inputs give d1, d2 > 0), subexpressions (d1, d2, sigma*sqrt(T),
             the CDF's k) reused through `auto` with plain numbers in them; value + gradient
             (+ hessian).
  chain_hessian_N  t_0 = x, t_(k+1) = tanh(w * t_k + b): value, gradient and hessian (3 inputs).
  sum_N      x0 + x1 + ... + x(N-1): N variables (the plan's flat tables and lookups).

Usage: generate.py OUTDIR [CASE_OR_GLOB...]
  With no case, writes the standard set (CASES below); a glob selects among them ('dag_*'),
  and a name such as dag_12 writes that size even when it is not in the standard set.
  Prints the paths written.
"""
import fnmatch
import math
import re
import sys
from pathlib import Path

HEADER = "#include <cmath>\n#include <cstdio>\n\n#include <ctgrad/ctgrad.hpp>\n"

# The standard set, in the order measure.sh compiles them (small sizes first in each family,
# so that it can skip the larger sizes once one times out).
CASES = ([f"chain_{n}" for n in (32, 64, 128, 256)] +
         [f"dag_{n}" for n in (8, 16, 24, 32)] +
         [f"{f}_{n}" for f in ("reuse", "reuse_lit", "reuse_var") for n in (8, 16)] +
         ["black_scholes_gradient", "black_scholes_hessian", "chain_hessian_30"] +
         [f"sum_{n}" for n in (16, 64)])


def close(expr, ref, rel=1e-9):
    """A C++ condition: expr equals ref to a relative tolerance (constexpr, no std::abs)."""
    tol = rel * abs(ref) + 1e-300
    return f"(({expr}) - ({ref!r}) <= {tol!r} && ({ref!r}) - ({expr}) <= {tol!r})"


def chain_inputs(n):
    return 0.9, [0.1 * ((k % 7) - 3) for k in range(n)]


def chain(n):
    w, xs = chain_inputs(n)
    # Reference by hand: the forward values, then the adjoint of t back through the steps.
    t = [xs[0]]
    for k in range(n):
        t.append(math.tanh(w * t[k] + xs[k]))
    adj, gw = 1.0, 0.0
    for k in range(n - 1, -1, -1):
        local = adj * (1 - t[k + 1] ** 2)
        gw += local * t[k]
        adj = local * w
    g_last = 1 - t[n] ** 2
    if n == 1:
        g_last += adj  # x0 is t_0 as well
    body = ["constexpr auto w = ctgrad::var<\"w\">;"]
    body += [f"constexpr auto x{k} = ctgrad::var<\"x{k}\">;" for k in range(n)]
    body.append("constexpr auto t0 = x0;")
    body += [f"constexpr auto t{k + 1} = ctgrad::tanh(w * t{k} + x{k});" for k in range(n)]
    binds = ", ".join([f"w = {w!r}"] + [f"x{k} = {x!r}" for k, x in enumerate(xs)])
    body.append(f"constexpr auto g_ct = ctgrad::gradient(t{n}, {binds});")
    body.append(f"static_assert({close('g_ct[w]', gw)});")
    body.append(f"static_assert({close(f'g_ct[x{n - 1}]', g_last)});")
    body.append("\nint main(int argc, char**) {")
    body.append("    const double s = argc;  // 1 when run without arguments")
    rt = ", ".join([f"w = {w!r} * s"] + [f"x{k} = {x!r}" for k, x in enumerate(xs)])
    body.append(f"    const auto g = ctgrad::gradient(t{n}, {rt});")
    body.append(f"    std::printf(\"%.17g %.17g %.17g\\n\", g.value, g[w], g[x{n - 1}]);")
    body.append(f"    return {close('g[w]', gw)} ? 0 : 1;\n}}")
    return HEADER + "\n" + "\n".join(body) + "\n"


def dag(n):
    x, y = 0.5, 0.7
    d, dd = x * y, y  # value and d/dx
    for _ in range(n):
        a = d * d + math.sin(d)
        t = math.tanh(a)
        d, dd = t, (1 - t * t) * (2 * d + math.cos(d)) * dd
    body = ["constexpr auto x = ctgrad::var<\"x\">;", "constexpr auto y = ctgrad::var<\"y\">;",
            "constexpr auto d0 = x * y;"]
    body += [f"constexpr auto d{k + 1} = ctgrad::tanh(d{k} * d{k} + ctgrad::sin(d{k}));"
             for k in range(n)]
    body.append(f"static_assert({close(f'ctgrad::gradient(d{n}, x = {x!r}, y = {y!r})[x]', dd)});")
    body.append("\nint main(int argc, char**) {")
    body.append(f"    const auto g = ctgrad::gradient(d{n}, x = {x!r} * argc, y = {y!r});")
    body.append("    std::printf(\"%.17g %.17g %.17g\\n\", g.value, g[x], g[y]);")
    body.append(f"    return {close('g[x]', dd)} ? 0 : 1;\n}}")
    return HEADER + "\n" + "\n".join(body) + "\n"


def reuse(n, kind):
    """kind: 'plain' (doubles), 'lit' (0.5_c, 2.0_c) or 'var' (p, q bound at the call)."""
    num = {"plain": ("0.5", "2.0"), "lit": ("0.5_c", "2.0_c"), "var": ("p", "q")}[kind]
    x, y = 0.5, 0.25
    a, da = 0.5 * x + y, 0.5  # value and d/dx
    for k in range(n):
        c = 2.0 if k % 2 == 0 else 0.5
        u = a * (a + c)
        t = math.tanh(u)
        a, da = t, (1 - t * t) * (2 * a + c) * da
    body = ["constexpr auto x = ctgrad::var<\"x\">;", "constexpr auto y = ctgrad::var<\"y\">;"]
    if kind == "var":
        body += ["constexpr auto p = ctgrad::var<\"p\">;", "constexpr auto q = ctgrad::var<\"q\">;"]
    body.append("\nint main(int argc, char**) {")
    if kind == "lit":
        body.append("    using namespace ctgrad::literals;")
    body.append(f"    auto a0 = {num[0]} * x + y;")
    for k in range(n):
        c = num[1] if k % 2 == 0 else num[0]
        body.append(f"    auto a{k + 1} = ctgrad::tanh(a{k} * (a{k} + {c}));")
    binds = f"x = {x!r} * argc, y = {y!r}" + (", p = 0.5, q = 2.0" if kind == "var" else "")
    body.append(f"    const auto g = ctgrad::gradient(a{n}, {binds});")
    body.append("    std::printf(\"%.17g %.17g %.17g\\n\", g.value, g[x], g[y]);")
    body.append(f"    return {close('g[x]', da)} ? 0 : 1;\n}}")
    return HEADER + "\n" + "\n".join(body) + "\n"


# Abramowitz & Stegun 26.2.17.
AS_P = 0.2316419
AS_B = (0.319381530, -0.356563782, 1.781477937, -1.821255978, 1.330274429)
BS_INPUTS = {"S": 105.0, "K": 100.0, "r": 0.05, "sigma": 0.2, "T": 1.0}


def bs_price(S, K, r, sigma, T):
    def ncdf(x):
        k = 1 / (1 + AS_P * x)
        poly = k * (AS_B[0] + k * (AS_B[1] + k * (AS_B[2] + k * (AS_B[3] + k * AS_B[4]))))
        return 1 - math.exp(-0.5 * x * x) * 0.3989422804014327 * poly
    vol = sigma * math.sqrt(T)
    d1 = (math.log(S / K) + (r + 0.5 * sigma * sigma) * T) / vol
    d2 = d1 - vol
    return S * ncdf(d1) - K * math.exp(-r * T) * ncdf(d2)


def black_scholes(with_hessian):
    price = bs_price(**BS_INPUTS)
    b = AS_B
    body = [f"constexpr auto {v} = ctgrad::var<\"{v}\">;" for v in BS_INPUTS]
    body.append("""
// The normal CDF for x >= 0 (Abramowitz & Stegun 26.2.17), written as users write it.
auto normal_cdf(auto x) {
    auto k = 1.0 / (1.0 + %r * x);
    auto pdf = 0.3989422804014327 * ctgrad::exp(-0.5 * x * x);
    return 1.0 - pdf * k * (%r + k * (%r + k * (%r + k * (%r + k * %r))));
}

auto call_price(auto S, auto K, auto r, auto sigma, auto T) {
    auto vol = sigma * ctgrad::sqrt(T);
    auto d1 = (ctgrad::log(S / K) + (r + 0.5 * sigma * sigma) * T) / vol;
    auto d2 = d1 - vol;
    return S * normal_cdf(d1) - K * ctgrad::exp(-r * T) * normal_cdf(d2);
}
""" % ((AS_P,) + b))
    binds = ", ".join(f"{v} = {x!r}" + (" * argc" if v == "S" else "")
                      for v, x in BS_INPUTS.items())
    body.append("int main(int argc, char**) {")
    body.append("    const auto c = call_price(S, K, r, sigma, T);")
    body.append(f"    const double v = ctgrad::value(c, {binds});")
    body.append(f"    const auto g = ctgrad::gradient(c, {binds});")
    body.append("    std::printf(\"price %.17g delta %.17g vega %.17g\\n\", v, g[S], g[sigma]);")
    if with_hessian:
        body.append(f"    const auto h = ctgrad::hessian(c, {binds});")
        body.append("    std::printf(\"gamma %.17g vanna %.17g volga %.17g\\n\", h(S, S), "
                    "h(S, sigma), h(sigma, sigma));")
    body.append(f"    return {close('v', price)} ? 0 : 1;\n}}")
    return HEADER + "\n" + "\n".join(body) + "\n"


def chain_hessian(n):
    body = ["constexpr auto x = ctgrad::var<\"x\">;", "constexpr auto w = ctgrad::var<\"w\">;",
            "constexpr auto b = ctgrad::var<\"b\">;", "constexpr auto t0 = x;"]
    body += [f"constexpr auto t{k + 1} = ctgrad::tanh(w * t{k} + b);" for k in range(n)]
    t = 0.5
    for _ in range(n):
        t = math.tanh(0.9 * t + 0.1)
    body.append("\nint main(int argc, char**) {")
    body.append(f"    const auto h = ctgrad::hessian(t{n}, x = 0.5 * argc, w = 0.9, b = 0.1);")
    body.append("    std::printf(\"%.17g %.17g %.17g %.17g\\n\", h.value, h.gradient[w], h(w, w), "
                "h(w, b));")
    body.append(f"    return {close('h.value', t)} ? 0 : 1;\n}}")
    return HEADER + "\n" + "\n".join(body) + "\n"


def wide_sum(n):
    body = [f"constexpr auto x{i} = ctgrad::var<\"x{i}\">;" for i in range(n)]
    total = " + ".join(f"x{i}" for i in range(n))
    binds = ", ".join(f"x{i} = {i}.0" for i in range(n))
    body.append(f"constexpr auto f = {total};")
    body.append(f"static_assert(ctgrad::gradient(f, {binds})[x{n - 1}] == 1.0);")
    body.append("\nint main() {")
    body.append(f"    const auto g = ctgrad::gradient(f, {binds});")
    body.append("    std::printf(\"%g\\n\", g.value);")
    body.append(f"    return g.value == {n * (n - 1) // 2}.0 ? 0 : 1;\n}}")
    return HEADER + "\n" + "\n".join(body) + "\n"


# Family name -> generator of size n (longest names first: reuse_lit before reuse).
FAMILIES = {
    "chain_hessian": chain_hessian,
    "reuse_lit": lambda n: reuse(n, "lit"),
    "reuse_var": lambda n: reuse(n, "var"),
    "reuse": lambda n: reuse(n, "plain"),
    "chain": chain,
    "dag": dag,
    "sum": wide_sum,
}
FIXED = {
    "black_scholes_gradient": lambda: black_scholes(False),
    "black_scholes_hessian": lambda: black_scholes(True),
}


def source(name):
    head = (f"// Generated by bench/compile_time/generate.py (case {name}); regenerate, do not edit.\n"
            "// clang-format off\n")
    return head + body(name)


def body(name):
    if name in FIXED:
        return FIXED[name]()
    m = re.fullmatch(r"([a-z_]+?)_(\d+)", name)
    if not m or m.group(1) not in FAMILIES:
        sys.exit(f"generate.py: unknown case {name!r} (families: {', '.join(FAMILIES)}; "
                 f"fixed cases: {', '.join(FIXED)})")
    return FAMILIES[m.group(1)](int(m.group(2)))


def main():
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        sys.exit(__doc__)
    out = Path(sys.argv[1])
    patterns = sys.argv[2:] or ["*"]
    standard = [c for c in CASES if any(fnmatch.fnmatchcase(c, p) for p in patterns)]
    extra = [p for p in patterns if p not in CASES and not any(ch in p for ch in "*?[")]
    names = standard + list(dict.fromkeys(extra))  # extra: sizes outside the standard set
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        path = out / f"{name}.cpp"
        path.write_text(source(name))
        print(path)


if __name__ == "__main__":
    main()
