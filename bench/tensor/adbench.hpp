/// @file ADBench-style vector functions (bench/tensor/adbench_bench.cpp): value and gradient of
/// f: ℝᴺ → ℝ in double, for N ∈ {16, 1024, 16384}:
///
/// | function         | f                                   | gradient                                   |
/// |------------------|-------------------------------------|--------------------------------------------|
/// | `sum`            | Σᵢ xᵢ                               | 1                                          |
/// | `prod`           | Πᵢ xᵢ                               | Πⱼ≠ᵢ xⱼ, without division (zeros allowed) |
/// | `log_sum_exp`    | log Σᵢ exp xᵢ, computed as m + log Σᵢ exp(xᵢ − m), m = maxᵢ xᵢ | exp(xᵢ − m) / Σⱼ exp(xⱼ − m) |
/// | `normal_log_pdf` | Σᵢ log N(xᵢ; μ, σ) = Σᵢ [−(xᵢ − μ)²/(2σ²) − log σ − log(2π)/2] | x, μ and σ (below) |
///
/// For normal_log_pdf, with dᵢ = xᵢ − μ: ∂f/∂xᵢ = −dᵢ/σ², ∂f/∂μ = Σ dᵢ/σ²,
/// ∂f/∂σ = Σ dᵢ²/σ³ − N/σ.
///
/// Three impls of each: `hand` (optimised loops, below), `runtime_graph` (the naive scalar
/// define-by-run baseline of bench/baseline/runtime_graph.hpp, a node per operation), and
/// `reference` (the value alone, by the plainest serial loop: the tests' finite differences).
/// The inputs are deterministic (`make_inputs`), chosen so that every value is finite and normal
/// at N = 16384 (a product of 16384 numbers near 1).
#pragma once

#include <array>    // std::array
#include <cmath>    // std::exp, std::log
#include <cstddef>  // std::size_t
#include <cstdint>  // std::uint32_t
#include <random>   // std::mt19937
#include <span>     // std::span
#include <vector>   // std::vector

#include "../baseline/runtime_graph.hpp"

namespace adbench {

using std::size_t;

enum class function { sum, prod, log_sum_exp, normal_log_pdf };

/// The sizes benchmarked.
inline constexpr std::array<size_t, 3> sizes{16, 1024, 16384};

/// μ and σ of normal_log_pdf.
inline constexpr double normal_mu = 0.3;
inline constexpr double normal_sigma = 1.7;

/// log(2π)/2 (the test checks the digits against std::log).
inline constexpr double half_log_two_pi = 0.91893853320467274178;

/// N deterministic inputs for f: sum U(−1, 1); prod U(0.95, 1.05) (the product of 16384 of
/// them is about e^(−7 ± 4)); log_sum_exp U(−5, 5); normal_log_pdf U(−3, 3).
inline std::vector<double> make_inputs(function f, size_t n, std::uint32_t seed = 2025) {
    const double half_width = f == function::sum           ? 1.0
                              : f == function::prod        ? 0.05
                              : f == function::log_sum_exp ? 5.0
                                                           : 3.0;
    const double center = f == function::prod ? 1.0 : 0.0;
    const double lo = center - half_width;
    const double hi = center + half_width;
    std::mt19937 gen(seed);
    std::vector<double> x(n);
    // From the generator's 32-bit outputs (std::uniform_real_distribution is not portable).
    for (double& v : x) v = lo + (hi - lo) * (double(gen()) * 0x1p-32);
    return x;
}

/// normal_log_pdf's value and its partials in μ and σ (those in x go to an array).
struct normal_result {
    double value;
    double d_mu;
    double d_sigma;
};

// --- hand: optimised loops ---

/// The hand-written impls. Each reduction runs in `lanes` independent accumulators (a[l] takes
/// the elements i ≡ l mod lanes), whose inner loop of `lanes` contiguous elements the compiler
/// turns into vector instructions (SLP) with as many independent dependency chains as vectors:
/// the reassociation a vectorising library is free to do. N is a template parameter, as the
/// sizes are for ctgrad's tensors. Results differ from a serial loop by rounding.
namespace hand {

/// Independent accumulators: 16 doubles = 8 SSE2, 4 AVX or 2 AVX-512 vectors, enough chains
/// to cover an add's latency.
inline constexpr size_t lanes = 16;

namespace detail {

/// a[0] + ... + a[lanes − 1], pairwise.
inline double reduce(const double (&a)[lanes]) {
    double t[lanes / 2];
    for (size_t l = 0; l < lanes / 2; ++l) t[l] = a[l] + a[l + lanes / 2];
    for (size_t w = lanes / 4; w > 0; w /= 2) {
        for (size_t l = 0; l < w; ++l) t[l] += t[l + w];
    }
    return t[0];
}

}  // namespace detail

/// f = Σ xᵢ; grad = 1.
template <size_t N>
double sum(const double* __restrict x, double* __restrict grad) {
    constexpr size_t full = N - N % lanes;
    double acc[lanes] = {};
    for (size_t i = 0; i < full; i += lanes) {
#pragma GCC unroll 16
        for (size_t l = 0; l < lanes; ++l) acc[l] += x[i + l];
    }
    for (size_t i = full; i < N; ++i) acc[i - full] += x[i];
    for (size_t i = 0; i < N; ++i) grad[i] = 1.0;
    return detail::reduce(acc);
}

/// f = Π xᵢ; gradᵢ = Πⱼ≠ᵢ xⱼ, without division. Lane l's elements (i ≡ l mod lanes) get their
/// exclusive prefix product within the lane in a forward pass, which also leaves each lane's
/// product; then a backward pass multiplies in the lane's exclusive suffix product, started at
/// the product of all the other lanes (itself by prefix × suffix over the lanes). Both passes
/// are contiguous and lane-parallel; a zero xᵢ gives the exact gradient.
template <size_t N>
double prod(const double* __restrict x, double* __restrict grad) {
    constexpr size_t full = N - N % lanes;
    double run[lanes];
    for (size_t l = 0; l < lanes; ++l) run[l] = 1.0;
    for (size_t i = 0; i < full; i += lanes) {
#pragma GCC unroll 16
        for (size_t l = 0; l < lanes; ++l) {
            grad[i + l] = run[l];
            run[l] *= x[i + l];
        }
    }
    for (size_t i = full; i < N; ++i) {
        grad[i] = run[i - full];
        run[i - full] *= x[i];
    }
    // other[l] = Π of every lane but l; value = Π of all lanes.
    double other[lanes];
    double value = 1.0;
    for (size_t l = 0; l < lanes; ++l) {
        other[l] = value;
        value *= run[l];
    }
    double after = 1.0;
    for (size_t l = lanes; l-- > 0;) {
        other[l] *= after;
        after *= run[l];
    }
    // Backward: other[l] becomes other lanes × lane l's product after the element.
    for (size_t i = N; i-- > full;) {
        grad[i] *= other[i - full];
        other[i - full] *= x[i];
    }
    for (size_t block = full / lanes; block-- > 0;) {
        const size_t i = block * lanes;
#pragma GCC unroll 16
        for (size_t l = 0; l < lanes; ++l) {
            grad[i + l] *= other[l];
            other[l] *= x[i + l];
        }
    }
    return value;
}

/// f = m + log Σ exp(xᵢ − m) with m = max xᵢ; gradᵢ = exp(xᵢ − m) / Σ. Three passes: the
/// maximum, exp (std::exp, one libm call per element, as any impl makes) and its sum, the
/// scaling by 1/Σ. (The maximum stays scalar, in 16 independent chains: at -O2 neither GCC 12
/// nor Clang 14 vectorises it; GCC does with -ffinite-math-only -fno-signed-zeros. exp
/// dominates anyway.)
template <size_t N>
double log_sum_exp(const double* __restrict x, double* __restrict grad) {
    constexpr size_t full = N - N % lanes;
    double mx[lanes];
    for (size_t l = 0; l < lanes; ++l) mx[l] = x[0];
    for (size_t i = 0; i < full; i += lanes) {
#pragma GCC unroll 16
        for (size_t l = 0; l < lanes; ++l) mx[l] = mx[l] < x[i + l] ? x[i + l] : mx[l];
    }
    for (size_t i = full; i < N; ++i) mx[i - full] = x[i] > mx[i - full] ? x[i] : mx[i - full];
    double m = mx[0];
    for (size_t l = 1; l < lanes; ++l) m = mx[l] > m ? mx[l] : m;

    double acc[lanes] = {};
    for (size_t i = 0; i < full; i += lanes) {
        for (size_t l = 0; l < lanes; ++l) {
            grad[i + l] = std::exp(x[i + l] - m);
            acc[l] += grad[i + l];
        }
    }
    for (size_t i = full; i < N; ++i) {
        grad[i] = std::exp(x[i] - m);
        acc[i - full] += grad[i];
    }
    const double s = detail::reduce(acc);
    const double inv_s = 1.0 / s;
    for (size_t i = 0; i < N; ++i) grad[i] *= inv_s;
    return m + std::log(s);
}

/// f = Σ log N(xᵢ; μ, σ); grad_x[i] = −dᵢ/σ², with ∂f/∂μ and ∂f/∂σ in the result. One pass
/// over x: dᵢ = xᵢ − μ, grad_x, and the sums Σ dᵢ and Σ dᵢ².
template <size_t N>
normal_result normal_log_pdf(const double* __restrict x, double mu, double sigma,
                             double* __restrict grad_x) {
    constexpr size_t full = N - N % lanes;
    const double inv_var = 1.0 / (sigma * sigma);
    const double neg_inv_var = -inv_var;
    double s1[lanes] = {};
    double s2[lanes] = {};
    for (size_t i = 0; i < full; i += lanes) {
#pragma GCC unroll 16
        for (size_t l = 0; l < lanes; ++l) {
            const double d = x[i + l] - mu;
            grad_x[i + l] = d * neg_inv_var;
            s1[l] += d;
            s2[l] += d * d;
        }
    }
    for (size_t i = full; i < N; ++i) {
        const double d = x[i] - mu;
        grad_x[i] = d * neg_inv_var;
        s1[i - full] += d;
        s2[i - full] += d * d;
    }
    const double sum_d = detail::reduce(s1);
    const double sum_d2 = detail::reduce(s2);
    const double n = double(N);
    const double inv_sigma = 1.0 / sigma;
    return {-0.5 * inv_var * sum_d2 - n * (std::log(sigma) + half_log_two_pi), sum_d * inv_var,
            sum_d2 * inv_var * inv_sigma - n * inv_sigma};
}

}  // namespace hand

// --- runtime_graph: the naive scalar baseline ---

/// The same functions on bench/baseline/runtime_graph.hpp, written as a user of a scalar
/// define-by-run autodiff writes them: a leaf per input, a loop that builds the expression
/// (a node per operation), backward(root), the gradient read from the leaves. Each call builds
/// and sorts its whole graph, as such an engine does. The sizes are run-time values.
namespace runtime_graph {

namespace rg = ctgrad_baseline;

namespace detail {

inline std::vector<rg::var> leaves(std::span<const double> x) {
    std::vector<rg::var> v;
    v.reserve(x.size());
    for (const double xi : x) v.emplace_back(xi);
    return v;
}

inline void read_gradient(const std::vector<rg::var>& v, std::span<double> grad) {
    for (size_t i = 0; i < v.size(); ++i) grad[i] = v[i].grad();
}

}  // namespace detail

inline double sum(std::span<const double> x, std::span<double> grad) {
    const auto v = detail::leaves(x);
    rg::var s = v[0];
    for (size_t i = 1; i < v.size(); ++i) s = s + v[i];
    rg::backward(s);
    detail::read_gradient(v, grad);
    return s.value();
}

inline double prod(std::span<const double> x, std::span<double> grad) {
    const auto v = detail::leaves(x);
    rg::var p = v[0];
    for (size_t i = 1; i < v.size(); ++i) p = p * v[i];
    rg::backward(p);
    detail::read_gradient(v, grad);
    return p.value();
}

/// The shift m is a plain number (the gradient of m + log Σ exp(xᵢ − m) in m is 0).
inline double log_sum_exp(std::span<const double> x, std::span<double> grad) {
    const auto v = detail::leaves(x);
    double m = x[0];
    for (const double xi : x) m = xi > m ? xi : m;
    rg::var s = rg::exp(v[0] - m);
    for (size_t i = 1; i < v.size(); ++i) s = s + rg::exp(v[i] - m);
    const rg::var f = m + rg::log(s);
    rg::backward(f);
    detail::read_gradient(v, grad);
    return f.value();
}

/// log σ is computed once and shared by every term, as a careful user writes it.
inline normal_result normal_log_pdf(std::span<const double> x, double mu, double sigma,
                                    std::span<double> grad_x) {
    const auto v = detail::leaves(x);
    const rg::var m(mu);
    const rg::var s(sigma);
    const rg::var log_s = rg::log(s);
    auto term = [&](const rg::var& xi) {
        return -0.5 * rg::square((xi - m) / s) - log_s - half_log_two_pi;
    };
    rg::var f = term(v[0]);
    for (size_t i = 1; i < v.size(); ++i) f = f + term(v[i]);
    rg::backward(f);
    detail::read_gradient(v, grad_x);
    return {f.value(), m.grad(), s.grad()};
}

}  // namespace runtime_graph

// --- reference: the value alone, serially ---

/// The values by the plainest loops (no reassociation), for finite differences.
namespace reference {

inline double sum(std::span<const double> x) {
    double s = 0.0;
    for (const double xi : x) s += xi;
    return s;
}

inline double prod(std::span<const double> x) {
    double p = 1.0;
    for (const double xi : x) p *= xi;
    return p;
}

inline double log_sum_exp(std::span<const double> x) {
    double m = x[0];
    for (const double xi : x) m = xi > m ? xi : m;
    double s = 0.0;
    for (const double xi : x) s += std::exp(xi - m);
    return m + std::log(s);
}

inline double normal_log_pdf(std::span<const double> x, double mu, double sigma) {
    double f = 0.0;
    for (const double xi : x) {
        const double z = (xi - mu) / sigma;
        f += -0.5 * z * z - std::log(sigma) - half_log_two_pi;
    }
    return f;
}

}  // namespace reference

}  // namespace adbench
