/// @file Hand-written gradients of the scalar benchmark cases (the `hand` impl of
/// bench/scalar/scalar_bench.cpp): straight-line code written from the chain rule by a careful
/// person. Forward values are computed once and reused by the reverse pass (exp' = exp,
/// tanh' = 1 - t^2, sigmoid' = s(1 - s), N'(u) = e^(-u^2/2)/sqrt(2 pi)), and each adjoint is
/// written as one expression. No algebraic identity beyond the chain rule is used, since the
/// comparison is with code an autodiff could generate. test/baseline/hand_test.cpp checks
/// every function against finite differences and against the runtime-graph baseline.
#pragma once

#include <array>    // std::array
#include <cmath>    // std::exp, std::log, std::sqrt, std::tanh, std::erfc
#include <cstddef>  // std::size_t
#include <numbers>  // std::numbers::sqrt2, std::numbers::inv_sqrtpi

namespace hand {

/// The value of a case and its gradient, in the order of the function's parameters.
template <std::size_t N>
struct result {
    double value;
    std::array<double, N> grad;
};

/// f(x, y, z) = (x + y) z.
inline result<3> add_mul(double x, double y, double z) {
    const double q = x + y;
    return {q * z, {z, z, q}};
}

/// f(x, y, z) = (x + y)(x + z): x fans out, its two contributions add.
inline result<3> shared_input(double x, double y, double z) {
    const double a = x + y;
    const double b = x + z;
    return {a * b, {b + a, b, a}};
}

/// f = 1 / (1 + exp(-(w0 x0 + w1 x1 + w2))); gradient in the order (w0, x0, w1, x1, w2).
inline result<5> sigmoid_neuron(double w0, double x0, double w1, double x1, double w2) {
    const double s = 1.0 / (1.0 + std::exp(-(w0 * x0 + w1 * x1 + w2)));
    const double ds = s * (1.0 - s);
    return {s, {ds * x0, ds * w0, ds * x1, ds * w1, ds}};
}

/// f = log(sum_i exp(x_i)) over 8 inputs (not max-shifted); df/dx_i = exp(x_i) / sum.
inline result<8> log_sum_exp8(const std::array<double, 8>& x) {
    std::array<double, 8> e;
    double sum = 0.0;
    for (std::size_t i = 0; i < 8; ++i) {
        e[i] = std::exp(x[i]);
        sum += e[i];
    }
    const double inv_sum = 1.0 / sum;
    result<8> r{std::log(sum), {}};
    for (std::size_t i = 0; i < 8; ++i) {
        r.grad[i] = e[i] * inv_sum;
    }
    return r;
}

/// The Black-Scholes call price C = S N(d1) - K e^(-rT) N(d2), with
/// d1 = (log(S/K) + (r + sigma^2/2) T) / (sigma sqrt T), d2 = d1 - sigma sqrt T and
/// N(u) = erfc(-u/sqrt 2)/2; gradient in the order (S, K, sigma, r, T).
///
/// The reverse pass is the chain rule over the forward values. (Textbook Greeks go further with
/// the identity S N'(d1) = K e^(-rT) N'(d2), which no autodiff knows.)
inline result<5> black_scholes(double s, double k, double sigma, double r, double t) {
    constexpr double inv_sqrt2 = 0.5 * std::numbers::sqrt2;
    constexpr double inv_sqrt_2pi = inv_sqrt2 * std::numbers::inv_sqrtpi;

    // forward
    const double sqrt_t = std::sqrt(t);
    const double vol = sigma * sqrt_t;               // sigma sqrt T
    const double drift = r + 0.5 * sigma * sigma;    // r + sigma^2/2
    const double num = std::log(s / k) + drift * t;  // d1's numerator
    const double d1 = num / vol;
    const double d2 = d1 - vol;
    const double n1 = 0.5 * std::erfc(-d1 * inv_sqrt2);
    const double n2 = 0.5 * std::erfc(-d2 * inv_sqrt2);
    const double disc = std::exp(-r * t);
    const double k_disc = k * disc;
    const double price = s * n1 - k_disc * n2;

    // reverse: adjoints of d2, d1, the numerator, vol and r T, then of the inputs
    const double d2_bar = -k_disc * (inv_sqrt_2pi * std::exp(-0.5 * d2 * d2));
    const double d1_bar = s * (inv_sqrt_2pi * std::exp(-0.5 * d1 * d1)) + d2_bar;
    const double num_bar = d1_bar / vol;
    const double vol_bar = -d2_bar - d1 * num_bar;  // d1 = num/vol: d d1/d vol = -d1/vol
    const double rt_bar = k_disc * n2;              // price = ... - K n2 e^(-rT)
    const double drift_bar = num_bar * t;
    return {
        price,
        {n1 + num_bar / s, -disc * n2 - num_bar / k, drift_bar * sigma + vol_bar * sqrt_t,
         drift_bar + rt_bar * t, num_bar * drift + rt_bar * r + vol_bar * sigma * (0.5 / sqrt_t)}};
}

/// Number of steps of tanh_chain20.
inline constexpr int tanh_chain_steps = 20;

/// t_0 = x, t_{k+1} = tanh(w t_k + b), f = t_20; gradient in the order (x, w, b).
inline result<3> tanh_chain20(double x, double w, double b) {
    std::array<double, tanh_chain_steps + 1> t;
    t[0] = x;
    for (int k = 0; k < tanh_chain_steps; ++k) {
        t[k + 1] = std::tanh(w * t[k] + b);
    }
    double t_bar = 1.0;  // d f / d t_k, walking k down from 20
    double w_bar = 0.0;
    double b_bar = 0.0;
    for (int k = tanh_chain_steps; k > 0; --k) {
        const double z_bar = t_bar * (1.0 - t[k] * t[k]);
        w_bar += z_bar * t[k - 1];
        b_bar += z_bar;
        t_bar = z_bar * w;
    }
    return {t[tanh_chain_steps], {t_bar, w_bar, b_bar}};
}

/// The coefficients c_0..c_8 of poly_reuse8.
inline constexpr std::array<double, 9> poly_coefficients = {0.1,  -0.2, 0.3,  -0.4, 0.5,
                                                            -0.6, 0.7,  -0.8, 0.9};

/// u = x y + z; f = c_0 + u (c_1 + u (c_2 + ... + u c_8)) (Horner); gradient in the order
/// (x, y, z). The derivative in u runs along the same Horner recurrence.
inline result<3> poly_reuse8(double x, double y, double z) {
    const double u = x * y + z;
    double p = poly_coefficients[8];
    double dp = 0.0;
    for (int i = 7; i >= 0; --i) {
        dp = dp * u + p;
        p = p * u + poly_coefficients[static_cast<std::size_t>(i)];
    }
    return {p, {dp * y, dp * x, dp}};
}

}  // namespace hand
