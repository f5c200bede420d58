// Hessians: each iteration computes the value, the gradient and the full Hessian. Names
// `<case>/<impl>` (DESIGN.md): `<case>_hessian/ctgrad` is ctgrad::hessian (forward-over-reverse:
// one fused sweep on math::dual<double, n>), `<case>_hessian/symbolic` the way hessian worked
// before (row i = the gradient of the symbolic derivative d(f, x_i), one sweep per variable;
// only for cases where that compiles in reasonable time: not Black–Scholes), and
// `<case>_gradient/ctgrad` one value + gradient, the unit the Hessian's cost is measured in.
#include <array>    // std::array
#include <cmath>    // std::abs
#include <cstddef>  // std::size_t
#include <numbers>  // std::numbers::sqrt2

#include <benchmark/benchmark.h>

#include <ctgrad/ctgrad.hpp>

#include "../tools/bench_main.hpp"

namespace {

using namespace ctgrad::literals;

template <std::size_t N>
struct hess {
    double value;
    std::array<double, N> grad;
    std::array<std::array<double, N>, N> h;
};

/// The old symbolic Hessian: row i is gradient(d(f, x_i)); vars in the order of `v`.
template <class F, class... V, class... B>
auto symbolic_hessian(const F& f, std::tuple<V...> v, const B&... b) {
    constexpr std::size_t n = sizeof...(V);
    hess<n> r{};
    const auto g = ctgrad::gradient(f, b...);
    r.value = g.value;
    r.grad = {g[V{}]...};
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        ((r.h[I] =
              [&] {
                  const auto gi = ctgrad::gradient(ctgrad::d(f, std::get<I>(v)), b...);
                  return std::array<double, n>{gi[V{}]...};
              }()),
         ...);
    }
    (std::make_index_sequence<n>{});
    return r;
}

template <class F, class... V, class... B>
auto dual_hessian(const F& f, std::tuple<V...>, const B&... b) {
    constexpr std::size_t n = sizeof...(V);
    hess<n> r{};
    const auto h = ctgrad::hessian(f, b...);
    r.value = h.value;
    r.grad = {h.gradient[V{}]...};
    const auto row = [&](auto u) { return std::array<double, n>{h(u, V{})...}; };
    r.h = {row(V{})...};
    return r;
}

template <class F, class... V, class... B>
auto gradient_only(const F& f, std::tuple<V...>, const B&... b) {
    hess<sizeof...(V)> r{};
    const auto g = ctgrad::gradient(f, b...);
    r.value = g.value;
    r.grad = {g[V{}]...};
    return r;
}

// --- the cases: inputs, and the function as an expression ---

constexpr auto w0 = ctgrad::var<"w0">;
constexpr auto x0 = ctgrad::var<"x0">;
constexpr auto w1 = ctgrad::var<"w1">;
constexpr auto x1 = ctgrad::var<"x1">;
constexpr auto w2 = ctgrad::var<"w2">;

struct sigmoid_neuron {
    static constexpr std::array<double, 5> inputs = {2.0, -1.0, -3.0, -2.0, -3.0};
    static constexpr auto f = 1_c / (1_c + ctgrad::exp(-(w0 * x0 + w1 * x1 + w2)));
    template <auto Impl>
    static auto run(const std::array<double, 5>& p) {
        return Impl(f, std::tuple{w0, x0, w1, x1, w2}, w0 = p[0], x0 = p[1], w1 = p[2], x1 = p[3],
                    w2 = p[4]);
    }
};

constexpr auto cx = ctgrad::var<"x">;
constexpr auto cw = ctgrad::var<"w">;
constexpr auto cb = ctgrad::var<"b">;

template <int K>
constexpr auto chain() {
    if constexpr (K == 0) {
        return cx;
    } else {
        return ctgrad::tanh(cw * chain<K - 1>() + cb);
    }
}

struct tanh_chain8 {
    static constexpr std::array<double, 3> inputs = {0.5, 0.9, 0.1};
    static constexpr auto f = chain<8>();
    template <auto Impl>
    static auto run(const std::array<double, 3>& p) {
        return Impl(f, std::tuple{cx, cw, cb}, cx = p[0], cw = p[1], cb = p[2]);
    }
};

constexpr auto S = ctgrad::var<"S">;
constexpr auto K = ctgrad::var<"K">;
constexpr auto sigma = ctgrad::var<"sigma">;
constexpr auto r = ctgrad::var<"r">;
constexpr auto T = ctgrad::var<"T">;

/// bench/scalar/cases.hpp's black_scholes: C = S N(d1) - K e^(-rT) N(d2), N by erfc.
struct black_scholes {
    static constexpr std::array<double, 5> inputs = {100.0, 95.0, 0.2, 0.03, 0.75};
    static constexpr auto N = [](auto u) {
        return 0.5_c * ctgrad::erfc(u * (-0.5 * std::numbers::sqrt2));
    };
    static constexpr auto vol = sigma * ctgrad::sqrt(T);
    static constexpr auto d1 = (ctgrad::log(S / K) + (r + 0.5_c * (sigma * sigma)) * T) / vol;
    static constexpr auto d2 = d1 - vol;
    static constexpr auto f = S * N(d1) - K * ctgrad::exp(-(r * T)) * N(d2);
    template <auto Impl>
    static auto run(const std::array<double, 5>& p) {
        return Impl(f, std::tuple{S, K, sigma, r, T}, S = p[0], K = p[1], sigma = p[2], r = p[3],
                    T = p[4]);
    }
};

// Impl tags (function templates cannot be template arguments themselves).
struct dual_impl {
    template <class... A>
    auto operator()(const A&... a) const {
        return dual_hessian(a...);
    }
};
struct symbolic_impl {
    template <class... A>
    auto operator()(const A&... a) const {
        return symbolic_hessian(a...);
    }
};
struct gradient_impl {
    template <class... A>
    auto operator()(const A&... a) const {
        return gradient_only(a...);
    }
};

template <std::size_t N>
bool agree(const hess<N>& a, const hess<N>& b) {
    const auto same = [](double u, double v) {
        const double m = std::abs(u) > std::abs(v) ? std::abs(u) : std::abs(v);
        return std::abs(u - v) <= 1e-10 * (m > 1.0 ? m : 1.0);
    };
    bool ok = same(a.value, b.value);
    for (std::size_t i = 0; i < N; ++i) {
        ok = ok && same(a.grad[i], b.grad[i]);
        for (std::size_t j = 0; j < N; ++j) {
            ok = ok && same(a.h[i][j], b.h[i][j]);
        }
    }
    return ok;
}

/// Times Impl on Case; the inputs escape once and memory is clobbered every iteration (see
/// scalar_bench.cpp). Where `Check`, the forward-over-reverse Hessian is first compared with the
/// symbolic one (a mismatch reports an error instead of a time).
template <class Case, class Impl, bool Check>
void run(benchmark::State& state) {
    auto in = Case::inputs;
    if constexpr (Check) {
        if (!agree(Case::template run<dual_impl{}>(in), Case::template run<symbolic_impl{}>(in))) {
            state.SkipWithError("forward-over-reverse and symbolic Hessians differ");
        }
    }
    benchmark::DoNotOptimize(in.data());
    for (auto _ : state) {
        benchmark::ClobberMemory();
        const auto res = Case::template run<Impl{}>(in);
        benchmark::DoNotOptimize(res);
    }
}

BENCHMARK_TEMPLATE(run, sigmoid_neuron, gradient_impl, false)
    ->Name("sigmoid_neuron_gradient/ctgrad");
BENCHMARK_TEMPLATE(run, sigmoid_neuron, dual_impl, true)->Name("sigmoid_neuron_hessian/ctgrad");
BENCHMARK_TEMPLATE(run, sigmoid_neuron, symbolic_impl, false)
    ->Name("sigmoid_neuron_hessian/symbolic");
BENCHMARK_TEMPLATE(run, tanh_chain8, gradient_impl, false)->Name("tanh_chain8_gradient/ctgrad");
BENCHMARK_TEMPLATE(run, tanh_chain8, dual_impl, true)->Name("tanh_chain8_hessian/ctgrad");
BENCHMARK_TEMPLATE(run, tanh_chain8, symbolic_impl, false)->Name("tanh_chain8_hessian/symbolic");
BENCHMARK_TEMPLATE(run, black_scholes, gradient_impl, false)->Name("black_scholes_gradient/ctgrad");
BENCHMARK_TEMPLATE(run, black_scholes, dual_impl, false)->Name("black_scholes_hessian/ctgrad");

}  // namespace

CTGRAD_BENCHMARK_MAIN();
