// Elementwise transcendental functions over a tensor (issue 13): `<fn>_<type>/<impl>` for fn in
// exp, log, log1p, tanh, sigmoid (the ops of ctgrad that have a loop kernel; expm1 is a kernel
// without an op), type f32 / f64, impl
//   - ctgrad: program::value of f(X) for X a [64, 256] tensor -- the tensor engine's fused
//     elementwise loop with the branch-free kernels of math/vector.hpp;
//   - std: the same loop written with the std:: function (glibc's scalar libm), which is what
//     the engine's loop called before (math::f is std::f at run time); sigmoid as the stable
//     formula 1/(1 + e^-x), e^x/(1 + e^x) with std::exp.
// items_per_second is elements per second. Inputs are spread over the range where each function
// is not saturated (exp: [-80, 80] for float, log: (0, 100], tanh: [-5, 5], ...).
#include <cmath>
#include <cstddef>
#include <memory>
#include <random>

#include <benchmark/benchmark.h>

#include <ctgrad/ctgrad.hpp>

#include "../tools/bench_main.hpp"

namespace {

constexpr std::size_t rows = 64, cols = 256, n = rows * cols;

enum class fn { exp, expm1, log, log1p, tanh, sigmoid };

template <class T>
T std_sigmoid(T x) {
    if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
    const T e = std::exp(x);
    return e / (T(1) + e);
}

template <fn F, class T>
T std_fn(T x) {
    if constexpr (F == fn::exp) return std::exp(x);
    if constexpr (F == fn::expm1) return std::expm1(x);
    if constexpr (F == fn::log) return std::log(x);
    if constexpr (F == fn::log1p) return std::log1p(x);
    if constexpr (F == fn::tanh) return std::tanh(x);
    if constexpr (F == fn::sigmoid) return std_sigmoid(x);
}

template <fn F, class E>
constexpr auto apply(E e) {
    if constexpr (F == fn::exp) return ctgrad::exp(e);
    if constexpr (F == fn::log) return ctgrad::log(e);
    if constexpr (F == fn::log1p) return ctgrad::log1p(e);
    if constexpr (F == fn::tanh) return ctgrad::tanh(e);
    if constexpr (F == fn::sigmoid) return ctgrad::sigmoid(e);
}

template <fn F, class T>
std::unique_ptr<ctgrad::tensor<T, rows, cols>> inputs() {
    auto x = std::make_unique<ctgrad::tensor<T, rows, cols>>();
    std::mt19937 gen(7);
    const double lo = F == fn::log ? 1e-3 : F == fn::log1p ? -0.9 : F == fn::tanh ? -5 : -80;
    const double hi = F == fn::log ? 100 : F == fn::log1p ? 100 : F == fn::tanh ? 5 : 80;
    std::uniform_real_distribution<double> d(lo, hi);
    for (T& e : *x) e = static_cast<T>(d(gen));
    return x;
}

template <fn F, class T>
void ctgrad_impl(benchmark::State& state) {
    constexpr auto X = ctgrad::var<"X", ctgrad::tensor<T, rows, cols>>;
    const auto x = inputs<F, T>();
    ctgrad::program prog(apply<F>(X));
    for (auto _ : state) {
        const auto y = prog.value(X = *x);
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(n));
}

template <fn F, class T>
void std_impl(benchmark::State& state) {
    const auto x = inputs<F, T>();
    auto y = std::make_unique<ctgrad::tensor<T, rows, cols>>();
    for (auto _ : state) {
        const T* xs = x->data();
        T* ys = y->data();
        for (std::size_t i = 0; i < n; ++i) ys[i] = std_fn<F>(xs[i]);
        benchmark::DoNotOptimize(ys);
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(n));
}

}  // namespace

#define CTGRAD_ELEMENTWISE_CASE(f)                                          \
    BENCHMARK_TEMPLATE(ctgrad_impl, fn::f, float)->Name(#f "_f32/ctgrad");  \
    BENCHMARK_TEMPLATE(std_impl, fn::f, float)->Name(#f "_f32/std");        \
    BENCHMARK_TEMPLATE(ctgrad_impl, fn::f, double)->Name(#f "_f64/ctgrad"); \
    BENCHMARK_TEMPLATE(std_impl, fn::f, double)->Name(#f "_f64/std");

CTGRAD_ELEMENTWISE_CASE(exp)
CTGRAD_ELEMENTWISE_CASE(log)
CTGRAD_ELEMENTWISE_CASE(log1p)
CTGRAD_ELEMENTWISE_CASE(tanh)
CTGRAD_ELEMENTWISE_CASE(sigmoid)

CTGRAD_BENCHMARK_MAIN();
