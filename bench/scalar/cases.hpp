/// @file The scalar benchmark cases, shared by the timing suite (scalar_bench.cpp) and the
/// instruction-count driver (instructions.cpp).
///
/// One struct per case: its `inputs`, and one static function per impl, each returning
/// hand::result<N> (value and gradient in the order of the inputs): `ctgrad` (the function
/// written once as an expression, its gradient generated at compile time), `hand` (the chain
/// rule written out, hand.hpp) and `runtime_graph` (the naive define-by-run baseline,
/// ../baseline/runtime_graph.hpp, which builds its graph and runs backward every call).
#pragma once

#include <array>    // std::array
#include <cstddef>  // std::size_t
#include <numbers>  // std::numbers::sqrt2
#include <utility>  // std::index_sequence

#include <ctgrad/ctgrad.hpp>

#include "../baseline/runtime_graph.hpp"
#include "hand.hpp"

namespace scalar_cases {

namespace rg = ctgrad_baseline;
using namespace ctgrad::literals;

using in3 = std::array<double, 3>;
using in5 = std::array<double, 5>;
using in8 = std::array<double, 8>;

// --- add_mul: f(x, y, z) = (x + y) z ---

struct add_mul_case {
    static constexpr const char* name = "add_mul";
    static constexpr in3 inputs = {-2.0, 5.0, -4.0};

    static hand::result<3> hand(const in3& p) { return ::hand::add_mul(p[0], p[1], p[2]); }

    static hand::result<3> ctgrad(const in3& p) {
        constexpr auto x = ctgrad::var<"x">;
        constexpr auto y = ctgrad::var<"y">;
        constexpr auto z = ctgrad::var<"z">;
        constexpr auto f = (x + y) * z;
        const auto g = ctgrad::gradient(f, x = p[0], y = p[1], z = p[2]);
        return {g.value, {g[x], g[y], g[z]}};
    }

    static hand::result<3> runtime_graph(const in3& p) {
        const rg::var x(p[0]);
        const rg::var y(p[1]);
        const rg::var z(p[2]);
        const rg::var f = (x + y) * z;
        rg::backward(f);
        return {f.value(), {x.grad(), y.grad(), z.grad()}};
    }
};

// --- shared_input: f(x, y, z) = (x + y)(x + z) ---

struct shared_input_case {
    static constexpr const char* name = "shared_input";
    static constexpr in3 inputs = {-3.0, 2.0, 5.0};

    static hand::result<3> hand(const in3& p) { return ::hand::shared_input(p[0], p[1], p[2]); }

    static hand::result<3> ctgrad(const in3& p) {
        constexpr auto x = ctgrad::var<"x">;
        constexpr auto y = ctgrad::var<"y">;
        constexpr auto z = ctgrad::var<"z">;
        constexpr auto f = (x + y) * (x + z);
        const auto g = ctgrad::gradient(f, x = p[0], y = p[1], z = p[2]);
        return {g.value, {g[x], g[y], g[z]}};
    }

    static hand::result<3> runtime_graph(const in3& p) {
        const rg::var x(p[0]);
        const rg::var y(p[1]);
        const rg::var z(p[2]);
        const rg::var f = (x + y) * (x + z);
        rg::backward(f);
        return {f.value(), {x.grad(), y.grad(), z.grad()}};
    }
};

// --- sigmoid_neuron: f = 1 / (1 + exp(-(w0 x0 + w1 x1 + w2))), inputs (w0, x0, w1, x1, w2) ---

struct sigmoid_neuron_case {
    static constexpr const char* name = "sigmoid_neuron";
    static constexpr in5 inputs = {2.0, -1.0, -3.0, -2.0, -3.0};

    static hand::result<5> hand(const in5& p) {
        return ::hand::sigmoid_neuron(p[0], p[1], p[2], p[3], p[4]);
    }

    static hand::result<5> ctgrad(const in5& p) {
        constexpr auto w0 = ctgrad::var<"w0">;
        constexpr auto x0 = ctgrad::var<"x0">;
        constexpr auto w1 = ctgrad::var<"w1">;
        constexpr auto x1 = ctgrad::var<"x1">;
        constexpr auto w2 = ctgrad::var<"w2">;
        // Written as in the notes; 1_c / e is the reciprocal op, whose derivative reuses 1/e.
        constexpr auto f = 1_c / (1_c + ctgrad::exp(-(w0 * x0 + w1 * x1 + w2)));
        const auto g = ctgrad::gradient(f, w0 = p[0], x0 = p[1], w1 = p[2], x1 = p[3], w2 = p[4]);
        return {g.value, {g[w0], g[x0], g[w1], g[x1], g[w2]}};
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

// --- log_sum_exp8: f = log(sum_i exp(x_i)), 8 inputs, not max-shifted ---

struct log_sum_exp8_case {
    static constexpr const char* name = "log_sum_exp8";
    static constexpr in8 inputs = {-0.3, -0.2, -0.1, 0.0, 0.1, 0.2, 0.3, 0.4};

    static hand::result<8> hand(const in8& p) { return ::hand::log_sum_exp8(p); }

    /// x_I is the variable named "x<I>"; f = log(exp(x0) + ... + exp(x7)) by a fold.
    template <std::size_t I>
    static constexpr auto x = ctgrad::var<ctgrad::indexed_name<"x", I>>;

    template <std::size_t... I>
    static hand::result<8> ctgrad_impl(const in8& p, std::index_sequence<I...>) {
        constexpr auto f = ctgrad::log((ctgrad::exp(x<I>) + ...));
        const auto g = ctgrad::gradient(f, (x<I> = p[I])...);
        return {g.value, {g[x<I>]...}};
    }

    static hand::result<8> ctgrad(const in8& p) {
        return ctgrad_impl(p, std::make_index_sequence<8>{});
    }

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

// --- black_scholes: C = S N(d1) - K e^(-rT) N(d2), N(u) = erfc(-u/sqrt 2)/2, inputs
//     (S, K, sigma, r, T) ---

struct black_scholes_case {
    static constexpr const char* name = "black_scholes";
    static constexpr in5 inputs = {100.0, 95.0, 0.2, 0.03, 0.75};

    static hand::result<5> hand(const in5& p) {
        return ::hand::black_scholes(p[0], p[1], p[2], p[3], p[4]);
    }

    static hand::result<5> ctgrad(const in5& p) {
        constexpr auto S = ctgrad::var<"S">;
        constexpr auto K = ctgrad::var<"K">;
        constexpr auto sigma = ctgrad::var<"sigma">;
        constexpr auto r = ctgrad::var<"r">;
        constexpr auto T = ctgrad::var<"T">;
        constexpr auto N = [](auto u) {
            return 0.5_c * ctgrad::erfc(u * (-0.5 * std::numbers::sqrt2));
        };
        constexpr auto vol = sigma * ctgrad::sqrt(T);  // used twice: computed once (same type)
        constexpr auto d1 = (ctgrad::log(S / K) + (r + 0.5_c * (sigma * sigma)) * T) / vol;
        constexpr auto d2 = d1 - vol;
        constexpr auto f = S * N(d1) - K * ctgrad::exp(-(r * T)) * N(d2);
        const auto g = ctgrad::gradient(f, S = p[0], K = p[1], sigma = p[2], r = p[3], T = p[4]);
        return {g.value, {g[S], g[K], g[sigma], g[r], g[T]}};
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

// --- tanh_chain20: t_0 = x, t_{k+1} = tanh(w t_k + b), f = t_20, inputs (x, w, b) ---

struct tanh_chain20_case {
    static constexpr const char* name = "tanh_chain20";
    static constexpr in3 inputs = {0.5, 0.9, 0.1};

    static hand::result<3> hand(const in3& p) { return ::hand::tanh_chain20(p[0], p[1], p[2]); }

    /// t_K as an expression type: tanh(w tanh(w ... + b) + b), K levels deep.
    template <int K>
    static constexpr auto chain(auto x, auto w, auto b) {
        if constexpr (K == 0) {
            return x;
        } else {
            return ctgrad::tanh(w * chain<K - 1>(x, w, b) + b);
        }
    }

    static hand::result<3> ctgrad(const in3& p) {
        constexpr auto x = ctgrad::var<"x">;
        constexpr auto w = ctgrad::var<"w">;
        constexpr auto b = ctgrad::var<"b">;
        constexpr auto f = chain<::hand::tanh_chain_steps>(x, w, b);
        const auto g = ctgrad::gradient(f, x = p[0], w = p[1], b = p[2]);
        return {g.value, {g[x], g[w], g[b]}};
    }

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

// --- poly_reuse8: u = x y + z, f = c0 + u (c1 + u (c2 + ... + u c8)), inputs (x, y, z) ---

struct poly_reuse8_case {
    static constexpr const char* name = "poly_reuse8";
    static constexpr in3 inputs = {0.3, -0.7, 0.4};

    static hand::result<3> hand(const in3& p) { return ::hand::poly_reuse8(p[0], p[1], p[2]); }

    /// c_I + u (c_{I+1} + u (... + u c_8)) with c_i = (-1)^i (i + 1)/10 as exact literals.
    template <int I>
    static constexpr auto horner(auto u) {
        constexpr auto c = ctgrad::lit<(I % 2 == 0 ? 1 : -1) * (I + 1), 10>;
        if constexpr (I == 8) {
            return c;
        } else {
            return c + u * horner<I + 1>(u);
        }
    }

    static hand::result<3> ctgrad(const in3& p) {
        constexpr auto x = ctgrad::var<"x">;
        constexpr auto y = ctgrad::var<"y">;
        constexpr auto z = ctgrad::var<"z">;
        constexpr auto f = horner<0>(x * y + z);  // u = x y + z, reused 8 times
        const auto g = ctgrad::gradient(f, x = p[0], y = p[1], z = p[2]);
        return {g.value, {g[x], g[y], g[z]}};
    }

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

/// Calls f(Case) for every case, in the order of the benchmark table.
template <class F>
void for_each_case(F&& f) {
    f(add_mul_case{});
    f(shared_input_case{});
    f(sigmoid_neuron_case{});
    f(log_sum_exp8_case{});
    f(black_scholes_case{});
    f(tanh_chain20_case{});
    f(poly_reuse8_case{});
}

}  // namespace scalar_cases
