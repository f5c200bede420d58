// The convolution op fused with relu and 2 × 2 max pooling on shapes whose ∂X runs
// channels-last (conv_kernels::geometry::dx_channels_last; see conv_reference_dxcl_test.cpp),
// against plain loops (support/conv_reference.hpp): value, ∂X and ∂K, assigning and
// accumulating, exactly on integers (ties in the windows), for every instruction set
// (test/meson.build): LeNet's conv2 on a batch of 3, 13 input channels (blocks 5 + 5 + 3), and
// an odd 9 × 9 output whose last row and column the pooling drops.
#define BOOST_TEST_MODULE tensor_conv_reference_dxcl_pool
#include <boost/test/unit_test.hpp>

#include "support/conv_reference.hpp"

template <std::size_t C, std::size_t H, std::size_t O, std::size_t K, std::size_t P>
constexpr bool channels_last =
    ctgrad::conv_kernels::geometry<C, H, H, O, K, K, P>::dx_channels_last;

// ... and whose ∂K runs channels-last too: vjp_pair then does both in one pass over the batch
static_assert(ctgrad::ops::conv2d_op<1, 0, true, 2>::layout<ctgrad::shape<3, 6, 14, 14>,
                                                            ctgrad::shape<16, 6, 5, 5>>::pair);

BOOST_AUTO_TEST_CASE(relu_pool) {
    static_assert(channels_last<6, 14, 16, 5, 0> && channels_last<13, 6, 16, 3, 2> &&
                  channels_last<2, 9, 16, 3, 1>);
    conv_reference::check<3, 6, 14, 16, 5, 0, true, 2>(31);  // LeNet's conv2: 10 × 10 → 5 × 5
    conv_reference::check<2, 13, 6, 16, 3, 2, true, 2>(32);  // 8 × 8 → 4 × 4
    conv_reference::check<1, 2, 9, 16, 3, 1, true, 2>(33);   // 9 × 9 → 4 × 4, last row dropped
}
