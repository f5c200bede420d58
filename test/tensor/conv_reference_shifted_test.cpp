// The convolution op on shapes whose ∂K runs on shifted copies of the image
// (conv_kernels::geometry::dk_shifted: the row-layout ∂K of shapes with few channels, and of
// LeNet's conv1 with SSE2; tensor/conv_kernels.hpp, grad_kernel_shifted) against plain loops, as
// conv_reference_test.cpp does (the harness: support/conv_reference.hpp): value, ∂X and ∂K,
// assigning and accumulating, exactly on integers, for every instruction set (test/meson.build).
// The shifted copies serve the shapes whose dY rows are whole vectors (OW a multiple of 16; the
// others take the flat copies, conv_reference_flat_test.cpp, but with SSE2 these copies too). Bands of dY rows with a remainder,
// even kernels, no padding and padding wider than the kernel, rows clipped to the copies' width,
// blocks of output channels and of taps with remainders on AVX2 and AVX-512, batches of 1 to 3;
// and one shape whose copies would be too large (the row kernel). The pooled shapes are in
// conv_reference_shifted_pool_test.cpp.
#define BOOST_TEST_MODULE tensor_conv_reference_shifted
#include <boost/test/unit_test.hpp>

#include "support/conv_reference.hpp"

template <std::size_t C, std::size_t H, std::size_t O, std::size_t K, std::size_t P>
using geo = ctgrad::conv_kernels::geometry<C, H, H, O, K, K, P>;

// which shapes take the shifted ∂K
static_assert(geo<1, 32, 6, 5, 2>::dk_shifted);    // LeNet's conv1 on 32 × 32 images
static_assert(!geo<1, 28, 6, 5, 2>::dk_shifted);   // LeNet's conv1: the flat copies
static_assert(!geo<6, 14, 16, 5, 0>::dk_shifted);  // LeNet's conv2: channels-last
static_assert(!geo<1, 9, 4, 1, 0>::dk_shifted);    // a 1 × 1 kernel: nothing to shift
static_assert(!geo<4, 40, 3, 3, 1>::dk_shifted);  // copies of 4 channels of 40-wide rows: too large

BOOST_AUTO_TEST_CASE(plain_and_relu) {
    static_assert(geo<1, 32, 7, 3, 1>::dk_shifted && geo<2, 17, 5, 2, 0>::dk_shifted &&
                  geo<1, 13, 13, 2, 2>::dk_shifted);
    // 32 rows of dY: bands of 14, 14 and 4; 7 output channels (remainder blocks); one image
    conv_reference::check<1, 1, 32, 7, 3, 1, true, 0>(11);
    // no padding, an even kernel, 17-wide rows: the copies clipped to 16 columns; 2 channels
    conv_reference::check<3, 2, 17, 5, 2, 0, false, 0>(12);
    // padding 2 around a 2-wide kernel; 13 output channels, 16-wide rows
    conv_reference::check<2, 1, 13, 13, 2, 2, true, 0>(13);
    // the row kernel (grad_kernel) still, for a shape whose copies would not stay small
    conv_reference::check<2, 4, 40, 3, 3, 1, true, 0>(14);
}
