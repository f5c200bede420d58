// Batch normalisation of images on the NCHW layout (tensor/batch_norm2d.hpp, the op behind
// nn::batch_norm2d): gradients with respect to the images, γ and β against central differences
// (odd sizes, a nonlinear loss, x used twice), the closed forms of dγ and dβ, and the same bits
// as the composition it replaced, channels_first(batch_norm(channels_last(x))), in value,
// running estimates and gradients (float, two shapes, one the Fashion-MNIST CNN's first layer).
#define BOOST_TEST_MODULE nn_batch_norm2d
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstddef>
#include <cstring>
#include <functional>
#include <memory>
#include <random>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/nn.hpp>

#include "support/tensor_fd.hpp"

namespace tt = boost::test_tools;
using ctgrad::tensor;
using ctgrad::wrt;
using ctgrad::test::check_fd;
using std::size_t;

namespace {

template <class T, size_t... D>
void fill_uniform(tensor<T, D...>& t, std::mt19937& rng, double lo, double hi) {
    std::uniform_real_distribution<double> u(lo, hi);
    for (auto& e : t) e = static_cast<T>(u(rng));
}

/// Bit equality of two tensors or views of the same size.
template <class A, class B>
bool same_bits(const A& a, const B& b) {
    return a.size() == b.size() &&
           std::memcmp(a.data(), b.data(), sizeof(*a.data()) * a.size()) == 0;
}

}  // namespace

BOOST_AUTO_TEST_CASE(gradients_match_central_differences) {
    constexpr size_t N = 3, C = 2, H = 3, W = 5;
    constexpr auto X = ctgrad::var<"X", tensor<double, N, C, H, W>>;
    constexpr auto K = ctgrad::var<"K", tensor<double, N, C, H, W>>;
    constexpr auto G = ctgrad::var<"G", tensor<double, C>>;
    constexpr auto B = ctgrad::var<"B", tensor<double, C>>;
    constexpr auto M = ctgrad::var<"M", tensor<double, C>>;
    constexpr auto V = ctgrad::var<"V", tensor<double, C>>;
    std::mt19937 rng(5);
    tensor<double, N, C, H, W> x{}, k{};
    tensor<double, C> g{}, b{}, m{}, v{};
    fill_uniform(x, rng, -2.0, 3.0);
    fill_uniform(k, rng, -1.0, 1.0);
    fill_uniform(g, rng, 0.5, 1.5);
    fill_uniform(b, rng, -0.5, 0.5);
    for (size_t i = 0; i < H * W; ++i) x.data()[(1 * C + 1) * H * W + i] *= 5.0;  // spreads differ
    v = tensor<double, C>::filled(1.0);
    // Σ K ⊙ y: dβ_c = Σ K, dγ_c = Σ K ⊙ x̂ over the channel's N·H·W values
    const auto grad = check_fd(ctgrad::sum(K * ctgrad::batch_norm2d(X, G, B, M, V)), wrt(X, G, B),
                               X = x, K = k, G = g, B = b, M = std::ref(m), V = std::ref(v));
    for (size_t c = 0; c < C; ++c) {
        double mean = 0, var = 0;
        for (size_t n = 0; n < N; ++n)
            for (size_t i = 0; i < H * W; ++i) mean += x.data()[(n * C + c) * H * W + i];
        mean /= N * H * W;
        for (size_t n = 0; n < N; ++n)
            for (size_t i = 0; i < H * W; ++i) {
                const double d = x.data()[(n * C + c) * H * W + i] - mean;
                var += d * d;
            }
        var /= N * H * W;
        double db = 0, dg = 0;
        for (size_t n = 0; n < N; ++n)
            for (size_t i = 0; i < H * W; ++i) {
                const size_t e = (n * C + c) * H * W + i;
                db += k.data()[e];
                dg += k.data()[e] * (x.data()[e] - mean) / std::sqrt(var + 1e-5);
            }
        BOOST_TEST(grad[B](c) == db, tt::tolerance(1e-12));
        BOOST_TEST(grad[G](c) == dg, tt::tolerance(1e-12));
    }
    // nonlinear in the output, and x also used directly (two contributions to its adjoint)
    check_fd(ctgrad::sum(ctgrad::square(ctgrad::batch_norm2d(X, G, B, M, V) + K)) +
                 ctgrad::sum(ctgrad::tanh(X) * K),
             wrt(X, G, B, K), X = x, K = k, G = g, B = b, M = std::ref(m), V = std::ref(v));
}

namespace {

/// Value, running estimates and gradients (X, γ, β) of Σ K ⊙ relu(bn(X)) by the NCHW op and by
/// the channels-last composition: the same bits.
template <size_t N, size_t C, size_t H, size_t W>
void same_as_the_composition(unsigned seed) {
    using img = tensor<float, N, C, H, W>;
    constexpr auto X = ctgrad::var<"X", img>;
    constexpr auto K = ctgrad::var<"K", img>;
    constexpr auto G = ctgrad::var<"G", tensor<float, C>>;
    constexpr auto B = ctgrad::var<"B", tensor<float, C>>;
    constexpr auto M = ctgrad::var<"M", tensor<float, C>>;
    constexpr auto V = ctgrad::var<"V", tensor<float, C>>;
    std::mt19937 rng(seed);
    auto x = std::make_unique<img>(), k = std::make_unique<img>();
    tensor<float, C> g{}, b{};
    fill_uniform(*x, rng, -1.0, 2.0);
    fill_uniform(*k, rng, -1.0, 1.0);
    fill_uniform(g, rng, 0.5, 1.5);
    fill_uniform(b, rng, -0.5, 0.5);
    const auto native = ctgrad::sum(K * ctgrad::relu(ctgrad::batch_norm2d(X, G, B, M, V)));
    const auto composed =
        ctgrad::sum(K * ctgrad::relu(ctgrad::channels_first(
                            ctgrad::batch_norm(ctgrad::channels_last(X), G, B, M, V),
                            ctgrad::shape<N, C, H, W>{})));
    tensor<float, C> m1{}, v1{}, m2{}, v2{};
    v1 = tensor<float, C>::filled(1.0f);
    v2 = tensor<float, C>::filled(1.0f);
    ctgrad::program p1(native, wrt(X, G, B));
    ctgrad::program p2(composed, wrt(X, G, B));
    for (int step = 0; step < 2; ++step) {  // twice: the running estimates move on
        const auto g1 =
            p1.gradient(X = *x, K = *k, G = g, B = b, M = std::ref(m1), V = std::ref(v1));
        const auto g2 =
            p2.gradient(X = *x, K = *k, G = g, B = b, M = std::ref(m2), V = std::ref(v2));
        BOOST_TEST(std::memcmp(&g1.value, &g2.value, sizeof(float)) == 0);
        BOOST_TEST(same_bits(m1, m2));
        BOOST_TEST(same_bits(v1, v2));
        BOOST_TEST(same_bits(g1[G], g2[G]));
        BOOST_TEST(same_bits(g1[B], g2[B]));
        BOOST_TEST(std::memcmp(g1[X].data(), g2[X].data(), sizeof(float) * N * C * H * W) == 0);
        BOOST_TEST(g1[X].data()[7] != 0.0f);
    }
    // value (the forward pass without keeping x̂); ctgrad::value returns the images on the
    // stack, so only for the small shape (the large one is 3.2 MB)
    if constexpr (N * C * H * W <= 4096) {
        const auto y1 = ctgrad::value(ctgrad::batch_norm2d(X, G, B, M, V), X = *x, G = g, B = b,
                                      M = std::ref(m1), V = std::ref(v1));
        const auto y2 = ctgrad::value(
            ctgrad::channels_first(ctgrad::batch_norm(ctgrad::channels_last(X), G, B, M, V),
                                   ctgrad::shape<N, C, H, W>{}),
            X = *x, G = g, B = b, M = std::ref(m2), V = std::ref(v2));
        BOOST_TEST(std::memcmp(y1.data(), y2.data(), sizeof(float) * N * C * H * W) == 0);
        BOOST_TEST(same_bits(m1, m2));
    }
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_same_bits_as_the_channels_last_composition) {
    same_as_the_composition<4, 3, 5, 7>(11);
    same_as_the_composition<64, 16, 28, 28>(12);  // the Fashion-MNIST CNN's bn1
}
