// The tensor-graph baseline's conv2d and max_pool2d nodes (bench/baseline/tensor_graph_conv.hpp):
// a small conv net's loss and gradients against ctgrad's (the same maths, computed by
// ctgrad's engine), and the error for an unregistered geometry.
#define BOOST_TEST_MODULE baseline_tensor_graph_conv
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
