// The shifted ∂K (see conv_reference_shifted_test.cpp) behind the fused relu + 2 × 2 max pooling,
// whose ∂Y the vector unpooling writes into the dense layout the kernel reads (reading past an
// image's pooled rows into the next image's, and through a scratch row at the batch's end):
// against plain loops, exactly, for every instruction set (test/meson.build).
#define BOOST_TEST_MODULE tensor_conv_reference_shifted_pool
#include <boost/test/unit_test.hpp>

#include "support/conv_reference.hpp"

template <std::size_t C, std::size_t H, std::size_t O, std::size_t K, std::size_t P>
using geo = ctgrad::conv_kernels::geometry<C, H, H, O, K, K, P>;

BOOST_AUTO_TEST_CASE(relu_pool) {
    static_assert(geo<1, 32, 6, 7, 3>::dk_shifted && geo<3, 16, 4, 5, 2>::dk_shifted);
    // a 7 × 7 kernel (49 taps: a remainder block), bands of 14, 14 and 4 rows, 3 images
    conv_reference::check<3, 1, 32, 6, 7, 3, true, 2>(15);
    // 3 input channels, 4 output channels, 8-wide pooled rows, one image (its last row through the scratch row)
    conv_reference::check<1, 3, 16, 4, 5, 2, true, 2>(16);
}
