// The convolution op fused with relu and 2 × 2 max pooling on shapes whose ∂K runs
// channels-last (conv_kernels::geometry::dk_channels_last; see conv_reference_cl_test.cpp),
// against plain loops (support/conv_reference.hpp): value, ∂X and ∂K, assigning and
// accumulating, exactly on integers (ties in the windows), for every instruction set
// (test/meson.build).
#define BOOST_TEST_MODULE tensor_conv_reference_cl_pool
#include <boost/test/unit_test.hpp>

#include "support/conv_reference.hpp"

template <std::size_t C, std::size_t H, std::size_t O, std::size_t K, std::size_t P>
constexpr bool channels_last =
    ctgrad::conv_kernels::geometry<C, H, H, O, K, K, P>::dk_channels_last;

BOOST_AUTO_TEST_CASE(relu_pool) {
    static_assert(channels_last<3, 11, 32, 4, 0> && channels_last<2, 9, 24, 3, 1>);
    conv_reference::check<2, 3, 11, 32, 4, 0, true, 2>(11);  // 8 × 8 → 4 × 4
    conv_reference::check<2, 2, 9, 24, 3, 1, true, 2>(12);   // 9 × 9 → 4 × 4, last row dropped
}
