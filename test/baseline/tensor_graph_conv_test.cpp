// The tensor-graph baseline's conv2d and max_pool2d nodes (bench/baseline/tensor_graph_conv.hpp):
// a small conv net's loss and gradients against ctgrad's (the same maths, computed by
// ctgrad's engine), the error for an unregistered geometry, and LeNet's two convolutions (the
// shapes whose ∂K and ∂X run on the flat and channels-last kernels).
#define BOOST_TEST_MODULE baseline_tensor_graph_conv
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <random>
#include <stdexcept>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <ctgrad/ctgrad.hpp>

#include "../../bench/baseline/tensor_graph_conv.hpp"

namespace tg = ctgrad_baseline::tg;
namespace tt = boost::test_tools;
using ctgrad::tensor;
using std::size_t;

BOOST_AUTO_TEST_CASE(conv_net_matches_ctgrad) {
    constexpr size_t N = 3, C = 2, H = 8, O = 4, K = 3, P = 1, Cls = 5;
    // conv 2->4 3x3 pad 1 [3, 4, 8, 8], relu, pool 2 [3, 4, 4, 4], dense 64 -> 5
    constexpr auto X = ctgrad::var<"X", tensor<double, N, C, H, H>>;
    constexpr auto Kv = ctgrad::var<"K", tensor<double, O, C, K, K>>;
    constexpr auto B = ctgrad::var<"B", tensor<double, O>>;
    constexpr auto W = ctgrad::var<"W", tensor<double, O * 16, Cls>>;
    constexpr auto Y = ctgrad::var<"Y", tensor<double, N, Cls>>;
    std::mt19937 rng(5);
    std::uniform_real_distribution<double> u(-1, 1);
    tensor<double, N, C, H, H> x{};
    tensor<double, O, C, K, K> k{};
    tensor<double, O> b{};
    tensor<double, O * 16, Cls> w{};
    tensor<double, N, Cls> y{};
    for (auto& e : x) e = u(rng);
    for (auto& e : k) e = u(rng);
    for (auto& e : b) e = u(rng);
    for (auto& e : w) e = u(rng);
    for (size_t n = 0; n < N; ++n) y(n, n % Cls) = 1;
    const auto loss = ctgrad::softmax_cross_entropy(
        ctgrad::matmul(
            ctgrad::flatten(ctgrad::max_pool2d<2>(ctgrad::relu(ctgrad::conv2d<1, P>(X, Kv, B)))),
            W),
        Y);
    const auto g =
        ctgrad::gradient(loss, ctgrad::wrt(X, Kv, B, W), X = x, Kv = k, B = b, W = w, Y = y);

    tg::register_conv2d<double, N, C, H, H, O, K, 1, P>();
    tg::register_max_pool2d<double, N, O, H, H, 2>();
    tg::register_matmul<double, N, O * 16, Cls>();
    const auto xl = tg::leaf(std::vector<double>(x.begin(), x.end()), N, C * H * H);
    const auto kl = tg::leaf(std::vector<double>(k.begin(), k.end()), O, C * K * K);
    const auto bl = tg::vector_leaf(std::vector<double>(b.begin(), b.end()));
    const auto wl = tg::leaf(std::vector<double>(w.begin(), w.end()), O * 16, Cls);
    const auto yl = tg::leaf(std::vector<double>(y.begin(), y.end()), N, Cls, false);
    const tg::conv_geometry geo{N, C, H, H, O, K, 1, P};
    const tg::pool_geometry pg{N, O, H, H, 2};
    const auto l = tg::softmax_cross_entropy(
        tg::matmul(tg::max_pool2d(tg::relu(tg::conv2d(xl, kl, bl, geo)), pg), wl), yl);
    tg::backward(l);
    BOOST_TEST(l.item() == g.value, tt::tolerance(1e-12));
    for (size_t e = 0; e < x.size(); ++e)
        BOOST_TEST(xl.grad()[e] == g[X].data()[e], tt::tolerance(1e-10));
    for (size_t e = 0; e < k.size(); ++e)
        BOOST_TEST(kl.grad()[e] == g[Kv].data()[e], tt::tolerance(1e-10));
    for (size_t e = 0; e < b.size(); ++e)
        BOOST_TEST(bl.grad()[e] == g[B].data()[e], tt::tolerance(1e-10));
    for (size_t e = 0; e < w.size(); ++e)
        BOOST_TEST(wl.grad()[e] == g[W].data()[e], tt::tolerance(1e-10));
    BOOST_TEST(tg::fallback_matmuls() == 0u);
    // an unregistered geometry is refused with a message
    BOOST_CHECK_THROW(tg::conv2d(xl, kl, bl, tg::conv_geometry{N, C, H, H, O, K, 2, P}),
                      std::invalid_argument);
}

// LeNet's two convolutions (float, two images): conv1 1 -> 6, 5 x 5, padding 2 on 28 x 28, whose
// ∂K runs on flat or shifted copies of the image, and conv2 6 -> 16, 5 x 5 on 14 x 14, whose ∂X
// runs channels-last: the baseline calls the kernels ctgrad's op calls for these shapes.
BOOST_AUTO_TEST_CASE(lenet_convolutions_match_ctgrad) {
    constexpr size_t N = 2, Cls = 10;
    using c1 = ctgrad::ops::conv2d_op<1, 2>;
    using c2 = ctgrad::ops::conv2d_op<1, 0>;
    using l1 = c1::layout<ctgrad::shape<N, 1, 28, 28>, ctgrad::shape<6, 1, 5, 5>>;
    using l2 = c2::layout<ctgrad::shape<N, 6, 14, 14>, ctgrad::shape<16, 6, 5, 5>>;
    static_assert(l1::direct && (l1::geo::dk_flat || l1::geo::dk_shifted) &&
                  !l1::geo::dk_channels_last);
    static_assert(l2::direct && (l2::dx_cl || !ctgrad::conv_kernels::has_pool2));
    constexpr auto X = ctgrad::var<"X", tensor<float, N, 1, 28, 28>>;
    constexpr auto K1 = ctgrad::var<"K1", tensor<float, 6, 1, 5, 5>>;
    constexpr auto B1 = ctgrad::var<"B1", tensor<float, 6>>;
    constexpr auto K2 = ctgrad::var<"K2", tensor<float, 16, 6, 5, 5>>;
    constexpr auto B2 = ctgrad::var<"B2", tensor<float, 16>>;
    constexpr auto W = ctgrad::var<"W", tensor<float, 16 * 25, Cls>>;
    constexpr auto Y = ctgrad::var<"Y", tensor<float, N, Cls>>;
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> u(-1, 1);
    tensor<float, N, 1, 28, 28> x{};
    tensor<float, 6, 1, 5, 5> k1{};
    tensor<float, 6> b1{};
    tensor<float, 16, 6, 5, 5> k2{};
    tensor<float, 16> b2{};
    tensor<float, 16 * 25, Cls> w{};
    tensor<float, N, Cls> y{};
    for (auto& e : x) e = u(rng);
    for (auto& e : k1) e = 0.4f * u(rng);
    for (auto& e : b1) e = 0.1f * u(rng);
    for (auto& e : k2) e = 0.2f * u(rng);
    for (auto& e : b2) e = 0.1f * u(rng);
    for (auto& e : w) e = 0.1f * u(rng);
    for (size_t n = 0; n < N; ++n) y(n, (3 * n) % Cls) = 1;
    // (X is an input with a gradient too: conv1's ∂X runs as well, through the row kernels)
    const auto h1 = ctgrad::max_pool2d<2>(ctgrad::relu(ctgrad::conv2d<1, 2>(X, K1, B1)));
    const auto h2 = ctgrad::max_pool2d<2>(ctgrad::relu(ctgrad::conv2d<1, 0>(h1, K2, B2)));
    const auto loss = ctgrad::softmax_cross_entropy(ctgrad::matmul(ctgrad::flatten(h2), W), Y);
    const auto g = ctgrad::gradient(loss, ctgrad::wrt(X, K1, B1, K2, B2, W), X = x, K1 = k1,
                                    B1 = b1, K2 = k2, B2 = b2, W = w, Y = y);

    tg::register_conv2d<float, N, 1, 28, 28, 6, 5, 1, 2>();
    tg::register_max_pool2d<float, N, 6, 28, 28, 2>();
    tg::register_conv2d<float, N, 6, 14, 14, 16, 5, 1, 0>();
    tg::register_max_pool2d<float, N, 16, 10, 10, 2>();
    tg::register_matmul<float, N, 16 * 25, Cls>();
    auto vec = [](const auto& t) { return std::vector<float>(t.begin(), t.end()); };
    const auto xl = tg::leaf(vec(x), N, 28 * 28);
    const auto k1l = tg::leaf(vec(k1), 6, 25);
    const auto b1l = tg::vector_leaf(vec(b1));
    const auto k2l = tg::leaf(vec(k2), 16, 6 * 25);
    const auto b2l = tg::vector_leaf(vec(b2));
    const auto wl = tg::leaf(vec(w), 16 * 25, Cls);
    const auto yl = tg::leaf(vec(y), N, Cls, false);
    const auto a1 = tg::max_pool2d(tg::relu(tg::conv2d(xl, k1l, b1l, {N, 1, 28, 28, 6, 5, 1, 2})),
                                   {N, 6, 28, 28, 2});
    const auto a2 = tg::max_pool2d(tg::relu(tg::conv2d(a1, k2l, b2l, {N, 6, 14, 14, 16, 5, 1, 0})),
                                   {N, 16, 10, 10, 2});
    const auto l = tg::softmax_cross_entropy(tg::matmul(a2, wl), yl);
    tg::backward(l);
    BOOST_TEST(l.item() == g.value, tt::tolerance(1e-5f));
    // (float sums in other orders: relative 1e-3 of each tensor's largest entry)
    auto check = [](const auto& got, const auto& want, const char* name) {
        float scale = 0;
        for (size_t e = 0; e < got.size(); ++e) scale = std::max(scale, std::abs(want.data()[e]));
        BOOST_TEST(scale > 0.0f, name);
        for (size_t e = 0; e < got.size(); ++e) {
            BOOST_TEST(std::abs(got[e] - want.data()[e]) <= 1e-3f * scale,
                       name << "[" << e << "] " << got[e] << " want " << want.data()[e]);
        }
    };
    check(xl.grad(), g[X], "dX");
    check(k1l.grad(), g[K1], "dK1");
    check(b1l.grad(), g[B1], "dB1");
    check(k2l.grad(), g[K2], "dK2");
    check(b2l.grad(), g[B2], "dB2");
    check(wl.grad(), g[W], "dW");
    BOOST_TEST(tg::fallback_matmuls() == 0u);
}
