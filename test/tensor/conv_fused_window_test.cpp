// tensor/conv_fused (see conv_fused_test.cpp): 3 × 3 pooling windows, and overlapping windows
// that stay unfused.
#include <algorithm>

#include <boost/test/unit_test.hpp>

#include "conv_fused_case.hpp"

using conv_fused::fused_case;
using ctgrad::tensor;
using std::size_t;

// 3 × 3 windows (the generic pooling loop after the direct kernels)
BOOST_AUTO_TEST_CASE(relu_pool_window_3) {
    using c = fused_case<double, 2, 2, 11, 11, 3, 3, 3, 1, 0, true, 3, true>;
    c::exact(9);
    c::finite_differences(10);
}
// overlapping windows (stride below the window) are not fused: the pooling op stays, on the
// fused relu(conv2d)
BOOST_AUTO_TEST_CASE(overlapping_windows_are_not_fused) {
    constexpr auto X = ctgrad::var<"X", tensor<double, 1, 1, 8, 8>>;
    constexpr auto K = ctgrad::var<"K", tensor<double, 2, 1, 3, 3>>;
    using overlapping = decltype(ctgrad::max_pool2d<3, 1>(ctgrad::relu(ctgrad::conv2d(X, K))));
    static_assert(std::is_same_v<overlapping::op, ctgrad::ops::max_pool2d_op<3, 1>>);
    static_assert(
        std::is_same_v<overlapping::args, ctgrad::detail::type_list<std::remove_cvref_t<
                                              decltype(ctgrad::relu(ctgrad::conv2d(X, K)))>>>);
    static_assert(
        std::is_same_v<std::remove_cvref_t<decltype(ctgrad::relu(ctgrad::conv2d(X, K)))>::op,
                       ctgrad::ops::conv2d_op<1, 0, true, 0>>);
    // and the fused value is the pooling of the fused relu(conv2d)
    tensor<double, 1, 1, 8, 8> x{};
    tensor<double, 2, 1, 3, 3> k{};
    std::mt19937 rng(14);
    using ctgrad::test::fill_uniform;
    fill_uniform(x, rng, -1, 1);
    fill_uniform(k, rng, -1, 1);
    const auto a =
        ctgrad::value(ctgrad::max_pool2d<3, 1>(ctgrad::relu(ctgrad::conv2d(X, K))), X = x, K = k);
    const auto c = ctgrad::value(ctgrad::relu(ctgrad::conv2d(X, K)), X = x, K = k);
    for (size_t o = 0; o < 2; ++o)
        for (size_t i = 0; i < 4; ++i)
            for (size_t j = 0; j < 4; ++j) {
                double m = c(0, o, i, j);
                for (size_t u = 0; u < 3; ++u)
                    for (size_t v = 0; v < 3; ++v) m = std::max(m, c(0, o, i + u, j + v));
                BOOST_TEST(a(0, o, i, j) == m);
            }
}
