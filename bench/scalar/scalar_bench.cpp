// Scalar cases: each iteration computes the value AND the full gradient with respect to every
// input. Benchmark names are `<case>/<impl>` (DESIGN.md); impls here: `hand` (the chain rule
// written out, bench/scalar/hand.hpp) and `runtime_graph` (the naive define-by-run baseline,
// bench/baseline/runtime_graph.hpp, which builds its graph and runs backward every iteration).
//
// One section per case: a struct holds the case's inputs and one static function per impl, all
// returning hand::result<N> (value and gradient in the order of the inputs). Adding an impl is
// one function in each struct and one registration line per case.
#include <array>    // std::array
#include <cmath>    // std::abs
#include <cstddef>  // std::size_t
#include <numbers>  // std::numbers::sqrt2

#include <benchmark/benchmark.h>

#include "../baseline/runtime_graph.hpp"
#include "hand.hpp"

namespace rg = ctgrad_baseline;

namespace {

/// a and b agree to 1e-10, relative to the larger of them and of `scale`.
bool agree(double a, double b, double scale) {
    const double m = std::abs(a) > std::abs(b) ? std::abs(a) : std::abs(b);
    return std::abs(a - b) <= 1e-10 * (m > scale ? m : scale);
}

/// The benchmark of `Impl` on `Case`: first checks the impl against `hand` at the inputs (a
/// mismatch reports an error instead of a time), then times value + gradient.
///
/// The inputs' address escapes once and every iteration clobbers memory, so the compiler must
/// read the inputs again each time: it can neither fold the computation nor hoist it out of the
/// loop. The result is kept alive with DoNotOptimize. (Not `DoNotOptimize(double&)` on each
/// input: in Google Benchmark 1.7.1 that is an asm with a "+m,r" operand, and GCC 12 at -O2
/// hands the next computation garbage or another input's value through it; checked here.)
template <class Case, auto Impl>
void run(benchmark::State& state) {
    auto in = Case::inputs;
    const auto expected = Case::hand(in);
    const auto got = Impl(in);
    double scale = 0.0;
    for (const double g : expected.grad) {
        scale = scale > std::abs(g) ? scale : std::abs(g);
    }
    bool ok = agree(got.value, expected.value, 0.0);
    for (std::size_t i = 0; i < expected.grad.size(); ++i) {
        ok = ok && agree(got.grad[i], expected.grad[i], scale);
    }
    if (!ok) {
        state.SkipWithError("value or gradient differs from hand");
    }

    benchmark::DoNotOptimize(in.data());
    for (auto _ : state) {
        benchmark::ClobberMemory();
        const auto r = Impl(in);
        benchmark::DoNotOptimize(r);
    }
}

using in3 = std::array<double, 3>;
using in5 = std::array<double, 5>;
using in8 = std::array<double, 8>;

// --- add_mul: f(x, y, z) = (x + y) z ---

struct add_mul_case {
    static constexpr in3 inputs = {-2.0, 5.0, -4.0};

    static hand::result<3> hand(const in3& p) { return ::hand::add_mul(p[0], p[1], p[2]); }

    static hand::result<3> runtime_graph(const in3& p) {
        const rg::var x(p[0]);
        const rg::var y(p[1]);
        const rg::var z(p[2]);
        const rg::var f = (x + y) * z;
        rg::backward(f);
        return {f.value(), {x.grad(), y.grad(), z.grad()}};
    }
};

BENCHMARK_TEMPLATE(run, add_mul_case, &add_mul_case::hand)->Name("add_mul/hand");
BENCHMARK_TEMPLATE(run, add_mul_case, &add_mul_case::runtime_graph)
    ->Name("add_mul/runtime_graph");

// --- shared_input: f(x, y, z) = (x + y)(x + z) ---

struct shared_input_case {
    static constexpr in3 inputs = {-3.0, 2.0, 5.0};

    static hand::result<3> hand(const in3& p) { return ::hand::shared_input(p[0], p[1], p[2]); }

    static hand::result<3> runtime_graph(const in3& p) {
        const rg::var x(p[0]);
        const rg::var y(p[1]);
        const rg::var z(p[2]);
        const rg::var f = (x + y) * (x + z);
        rg::backward(f);
        return {f.value(), {x.grad(), y.grad(), z.grad()}};
    }
};

BENCHMARK_TEMPLATE(run, shared_input_case, &shared_input_case::hand)->Name("shared_input/hand");
BENCHMARK_TEMPLATE(run, shared_input_case, &shared_input_case::runtime_graph)
    ->Name("shared_input/runtime_graph");

// --- sigmoid_neuron: f = 1 / (1 + exp(-(w0 x0 + w1 x1 + w2))), inputs (w0, x0, w1, x1, w2) ---

struct sigmoid_neuron_case {
    static constexpr in5 inputs = {2.0, -1.0, -3.0, -2.0, -3.0};

    static hand::result<5> hand(const in5& p) {
        return ::hand::sigmoid_neuron(p[0], p[1], p[2], p[3], p[4]);
    }

    static hand::result<5> runtime_graph(const in5& p) {
        const rg::var w0(p[0]);
        const rg::var x0(p[1]);
        const rg::var w1(p[2]);
        const rg::var x1(p[3]);
        const rg::var w2(p[4]);
        const rg::var f = 1.0 / (1.0 + rg::exp(-(w0 * x0 + w1 * x1 + w2)));
        rg::backward(f);
        return {f.value(), {w0.grad(), x0.grad(), w1.grad(), x1.grad(), w2.grad()}};
    }
};

BENCHMARK_TEMPLATE(run, sigmoid_neuron_case, &sigmoid_neuron_case::hand)
    ->Name("sigmoid_neuron/hand");
BENCHMARK_TEMPLATE(run, sigmoid_neuron_case, &sigmoid_neuron_case::runtime_graph)
    ->Name("sigmoid_neuron/runtime_graph");

// --- log_sum_exp8: f = log(sum_i exp(x_i)), 8 inputs, not max-shifted ---

struct log_sum_exp8_case {
    static constexpr in8 inputs = {-0.3, -0.2, -0.1, 0.0, 0.1, 0.2, 0.3, 0.4};

    static hand::result<8> hand(const in8& p) { return ::hand::log_sum_exp8(p); }

    static hand::result<8> runtime_graph(const in8& p) {
        const std::array<rg::var, 8> x = {rg::var(p[0]), rg::var(p[1]), rg::var(p[2]),
                                          rg::var(p[3]), rg::var(p[4]), rg::var(p[5]),
                                          rg::var(p[6]), rg::var(p[7])};
        rg::var sum = rg::exp(x[0]);
        for (std::size_t i = 1; i < 8; ++i) {
            sum = sum + rg::exp(x[i]);
        }
        const rg::var f = rg::log(sum);
        rg::backward(f);
        hand::result<8> r{f.value(), {}};
        for (std::size_t i = 0; i < 8; ++i) {
            r.grad[i] = x[i].grad();
        }
        return r;
    }
};

BENCHMARK_TEMPLATE(run, log_sum_exp8_case, &log_sum_exp8_case::hand)->Name("log_sum_exp8/hand");
BENCHMARK_TEMPLATE(run, log_sum_exp8_case, &log_sum_exp8_case::runtime_graph)
    ->Name("log_sum_exp8/runtime_graph");

// --- black_scholes: C = S N(d1) - K e^(-rT) N(d2), N(u) = erfc(-u/sqrt 2)/2, inputs
//     (S, K, sigma, r, T) ---

struct black_scholes_case {
    static constexpr in5 inputs = {100.0, 95.0, 0.2, 0.03, 0.75};

    static hand::result<5> hand(const in5& p) {
        return ::hand::black_scholes(p[0], p[1], p[2], p[3], p[4]);
    }

    /// N(u) as a user of a define-by-run library writes it (the constant -1/sqrt 2 folded).
    static rg::var normal_cdf(const rg::var& u) {
        return 0.5 * rg::erfc(u * (-0.5 * std::numbers::sqrt2));
    }

    static hand::result<5> runtime_graph(const in5& p) {
        const rg::var s(p[0]);
        const rg::var k(p[1]);
        const rg::var sigma(p[2]);
        const rg::var r(p[3]);
        const rg::var t(p[4]);
        const rg::var vol = sigma * rg::sqrt(t);  // sigma sqrt T, used twice
        const rg::var d1 = (rg::log(s / k) + (r + 0.5 * (sigma * sigma)) * t) / vol;
        const rg::var d2 = d1 - vol;
        const rg::var f = s * normal_cdf(d1) - k * rg::exp(-(r * t)) * normal_cdf(d2);
        rg::backward(f);
        return {f.value(), {s.grad(), k.grad(), sigma.grad(), r.grad(), t.grad()}};
    }
};

BENCHMARK_TEMPLATE(run, black_scholes_case, &black_scholes_case::hand)
    ->Name("black_scholes/hand");
BENCHMARK_TEMPLATE(run, black_scholes_case, &black_scholes_case::runtime_graph)
    ->Name("black_scholes/runtime_graph");

// --- tanh_chain20: t_0 = x, t_{k+1} = tanh(w t_k + b), f = t_20, inputs (x, w, b) ---

struct tanh_chain20_case {
    static constexpr in3 inputs = {0.5, 0.9, 0.1};

    static hand::result<3> hand(const in3& p) { return ::hand::tanh_chain20(p[0], p[1], p[2]); }

    static hand::result<3> runtime_graph(const in3& p) {
        const rg::var x(p[0]);
        const rg::var w(p[1]);
        const rg::var b(p[2]);
        rg::var t = x;
        for (int k = 0; k < ::hand::tanh_chain_steps; ++k) {
            t = rg::tanh(w * t + b);
        }
        rg::backward(t);
        return {t.value(), {x.grad(), w.grad(), b.grad()}};
    }
};

BENCHMARK_TEMPLATE(run, tanh_chain20_case, &tanh_chain20_case::hand)->Name("tanh_chain20/hand");
BENCHMARK_TEMPLATE(run, tanh_chain20_case, &tanh_chain20_case::runtime_graph)
    ->Name("tanh_chain20/runtime_graph");

// --- poly_reuse8: u = x y + z, f = c0 + u (c1 + u (c2 + ... + u c8)), inputs (x, y, z) ---

struct poly_reuse8_case {
    static constexpr in3 inputs = {0.3, -0.7, 0.4};

    static hand::result<3> hand(const in3& p) { return ::hand::poly_reuse8(p[0], p[1], p[2]); }

    static hand::result<3> runtime_graph(const in3& p) {
        const auto& c = ::hand::poly_coefficients;
        const rg::var x(p[0]);
        const rg::var y(p[1]);
        const rg::var z(p[2]);
        const rg::var u = x * y + z;
        rg::var acc = u * c[8];
        for (std::size_t i = 7; i >= 1; --i) {
            acc = u * (c[i] + acc);
        }
        const rg::var f = c[0] + acc;
        rg::backward(f);
        return {f.value(), {x.grad(), y.grad(), z.grad()}};
    }
};

BENCHMARK_TEMPLATE(run, poly_reuse8_case, &poly_reuse8_case::hand)->Name("poly_reuse8/hand");
BENCHMARK_TEMPLATE(run, poly_reuse8_case, &poly_reuse8_case::runtime_graph)
    ->Name("poly_reuse8/runtime_graph");

}  // namespace

BENCHMARK_MAIN();
