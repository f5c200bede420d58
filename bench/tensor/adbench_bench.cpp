// ADBench-style vector functions (adbench.hpp): each iteration computes the value and the
// gradient of f: ℝᴺ → ℝ in double. Benchmark names are `adbench_<f>/<impl>/<N>`, e.g.
// `adbench_sum/hand/1024`, for f in sum, prod, log_sum_exp, normal_log_pdf, N in 16, 1024,
// 16384, and impl `hand` (optimised loops) or `runtime_graph` (the naive scalar baseline); later
// `ctgrad`. items_per_second counts input elements (N per gradient).
//
// Every impl is checked against `hand` at its inputs before it is timed (a mismatch reports an
// error instead of a time); `hand` itself is tested against finite differences in
// test/tensor/mlp_reference_test.cpp.
#include <algorithm>  // std::max
#include <cmath>      // std::abs
#include <cstddef>    // std::size_t
#include <cstdint>    // int64_t
#include <span>       // std::span
#include <vector>     // std::vector

#include <benchmark/benchmark.h>

#include <ctgrad/ctgrad.hpp>

#include "../tools/bench_main.hpp"
#include "adbench.hpp"

namespace {

using adbench::function;
using std::size_t;

/// Value and gradient of F at x (and μ, σ for normal_log_pdf): grad gets ∂f/∂x, then ∂f/∂μ and
/// ∂f/∂σ for normal_log_pdf (grad has N + 2 entries there).
template <function F, size_t N>
double hand_impl(const double* x, double* grad) {
    if constexpr (F == function::sum) {
        return adbench::hand::sum<N>(x, grad);
    } else if constexpr (F == function::prod) {
        return adbench::hand::prod<N>(x, grad);
    } else if constexpr (F == function::log_sum_exp) {
        return adbench::hand::log_sum_exp<N>(x, grad);
    } else {
        const auto r =
            adbench::hand::normal_log_pdf<N>(x, adbench::normal_mu, adbench::normal_sigma, grad);
        grad[N] = r.d_mu;
        grad[N + 1] = r.d_sigma;
        return r.value;
    }
}

template <function F, size_t N>
double runtime_graph_impl(const double* x, double* grad) {
    namespace rg = adbench::runtime_graph;
    const std::span<const double> in(x, N);
    const std::span<double> out(grad, N);
    if constexpr (F == function::sum) {
        return rg::sum(in, out);
    } else if constexpr (F == function::prod) {
        return rg::prod(in, out);
    } else if constexpr (F == function::log_sum_exp) {
        return rg::log_sum_exp(in, out);
    } else {
        const auto r = rg::normal_log_pdf(in, adbench::normal_mu, adbench::normal_sigma, out);
        grad[N] = r.d_mu;
        grad[N + 1] = r.d_sigma;
        return r.value;
    }
}

/// The functions as ctgrad expressions over a tensor variable X [N] (and scalar variables μ,
/// σ), each compiled once into a program. The gradient stays in the program's workspace, where
/// a ctgrad user reads it (`g[X]` is a view): computing it writes every element there, as
/// hand writes every element of `grad`; it is copied into `grad` only when grad is given (the
/// check before timing).
template <function F, size_t N>
struct ctgrad_form {
    static constexpr auto X = ctgrad::var<"X", ctgrad::tensor<double, N>>;
    static constexpr auto mu = ctgrad::var<"mu">;
    static constexpr auto sigma = ctgrad::var<"sigma">;

    static constexpr auto expression() {
        if constexpr (F == function::sum) {
            return ctgrad::sum(X);
        } else if constexpr (F == function::prod) {
            return ctgrad::prod(X);
        } else if constexpr (F == function::log_sum_exp) {
            return ctgrad::log_sum_exp(X);
        } else {
            // Σ log N(xᵢ; μ, σ) = −Σ(xᵢ − μ)²/(2σ²) − N·(log σ + log √(2π))
            return ctgrad::lit<-1, 2> * ctgrad::sum(ctgrad::square(X - mu)) /
                       ctgrad::square(sigma) -
                   double(N) * (ctgrad::log(sigma) + adbench::half_log_two_pi);
        }
    }
};

template <function F, size_t N>
double ctgrad_impl(const double* x, double* grad) {
    using form = ctgrad_form<F, N>;
    static ctgrad::program prog(form::expression());
    const auto xs = ctgrad::view<N>(x);
    if constexpr (F == function::normal_log_pdf) {
        const auto g = prog.gradient(form::X = xs, form::mu = adbench::normal_mu,
                                     form::sigma = adbench::normal_sigma);
        if (grad != nullptr) {
            for (size_t i = 0; i < N; ++i) grad[i] = g[form::X](i);
            grad[N] = g[form::mu];
            grad[N + 1] = g[form::sigma];
        }
        return g.value;
    } else {
        const auto g = prog.gradient(form::X = xs);
        if (grad != nullptr) {
            for (size_t i = 0; i < N; ++i) grad[i] = g[form::X](i);
        }
        return g.value;
    }
}

template <function F>
constexpr size_t extra = F == function::normal_log_pdf ? 2 : 0;

/// a and b agree to 1e-10 relative to max(|a|, |b|, scale).
bool agree(double a, double b, double scale) {
    const double m = std::max({std::abs(a), std::abs(b), scale});
    return std::abs(a - b) <= 1e-10 * m;
}

/// Times value + gradient of F at N inputs by Impl, checked against hand first.
template <function F, size_t N, double (*Impl)(const double*, double*),
          bool GradientInWorkspace = false>
void run(benchmark::State& state) {
    const std::vector<double> x = adbench::make_inputs(F, N);
    std::vector<double> grad(N + extra<F>), expected(N + extra<F>);
    const double value = hand_impl<F, N>(x.data(), expected.data());
    const double got = Impl(x.data(), grad.data());
    double scale = 0.0;
    for (const double g : expected) scale = std::max(scale, std::abs(g));
    bool ok = agree(got, value, 0.0);
    for (size_t i = 0; i < grad.size(); ++i) ok = ok && agree(grad[i], expected[i], scale);
    if (!ok) {
        state.SkipWithError("value or gradient differs from hand");
        return;
    }

    // The inputs' and the gradient's addresses escape once and every iteration clobbers
    // memory, so each iteration reads x again and writes the gradient. (Not DoNotOptimize on
    // the pointer variables: see matmul_bench.cpp.)
    const double* px = x.data();
    double* pg = GradientInWorkspace ? nullptr : grad.data();
    benchmark::DoNotOptimize(static_cast<const double*>(px));
    benchmark::DoNotOptimize(static_cast<const double*>(pg));
    for (auto _ : state) {
        benchmark::DoNotOptimize(Impl(px, pg));
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(N));
}

}  // namespace

// Registers `adbench_<f>/ctgrad/<n>` (gradient left in the program's workspace, see ctgrad_impl).
#define CTGRAD_ADBENCH_CTGRAD(f, n)                                             \
    BENCHMARK_TEMPLATE(run, function::f, n, &ctgrad_impl<function::f, n>, true) \
        ->Name("adbench_" #f "/ctgrad/" #n)

// Registers `adbench_<f>/<impl>/<n>` for one impl and one size.
#define CTGRAD_ADBENCH(f, impl, n)                                        \
    BENCHMARK_TEMPLATE(run, function::f, n, &impl##_impl<function::f, n>) \
        ->Name("adbench_" #f "/" #impl "/" #n)

// ============================================================================================
// ctgrad goes HERE: write `template <function F, size_t N> double ctgrad_impl(const double* x,
// double* grad)` with the contract of hand_impl above (grad gets ∂f/∂x, then ∂f/∂μ and ∂f/∂σ
// for normal_log_pdf), and add `CTGRAD_ADBENCH(f, ctgrad, n);` as the first line of
// CTGRAD_ADBENCH_SIZE below.
// ============================================================================================

#define CTGRAD_ADBENCH_SIZE(f, n) \
    CTGRAD_ADBENCH(f, hand, n);   \
    CTGRAD_ADBENCH(f, runtime_graph, n)

#define CTGRAD_ADBENCH_FUNCTION(f)   \
    CTGRAD_ADBENCH_CTGRAD(f, 16);    \
    CTGRAD_ADBENCH_SIZE(f, 16);      \
    CTGRAD_ADBENCH_CTGRAD(f, 1024);  \
    CTGRAD_ADBENCH_SIZE(f, 1024);    \
    CTGRAD_ADBENCH_CTGRAD(f, 16384); \
    CTGRAD_ADBENCH_SIZE(f, 16384)

#define CTGRAD_ADBENCH_FUNCTION_NO_CTGRAD(f) \
    CTGRAD_ADBENCH_SIZE(f, 16);              \
    CTGRAD_ADBENCH_SIZE(f, 1024);            \
    CTGRAD_ADBENCH_SIZE(f, 16384)

CTGRAD_ADBENCH_FUNCTION(sum);
CTGRAD_ADBENCH_FUNCTION(prod);
CTGRAD_ADBENCH_FUNCTION(log_sum_exp);
CTGRAD_ADBENCH_FUNCTION(normal_log_pdf);

CTGRAD_BENCHMARK_MAIN();
