// The convolution op on shapes whose ∂K runs on flat copies of the image
// (conv_kernels::geometry::dk_flat: dY's rows not a whole number of vectors, copies small;
// LeNet's conv1; tensor/conv_kernels.hpp, grad_kernel_flat) against plain loops, as
// conv_reference_test.cpp does (the harness: support/conv_reference.hpp): value, ∂X and ∂K,
// assigning and accumulating, exactly on integers, for every instruction set (test/meson.build).
// Runs of OH·OW numbers with a remainder to the vector (the zero tail of each channel), taps at
// u·OW that are and are not aligned, even kernels, padding wider than the kernel, copies clipped
// to OW columns, blocks of output channels and of taps with remainders on AVX2 and AVX-512,
// batches of 1 to 3. The pooled shapes are in conv_reference_flat_pool_test.cpp.
#define BOOST_TEST_MODULE tensor_conv_reference_flat
#include <boost/test/unit_test.hpp>

#include "support/conv_reference.hpp"

template <std::size_t C, std::size_t H, std::size_t O, std::size_t K, std::size_t P>
using geo = ctgrad::conv_kernels::geometry<C, H, H, O, K, K, P>;

// which shapes take the flat ∂K
static_assert(geo<1, 28, 6, 5, 2>::dk_flat && !geo<1, 28, 6, 5, 2>::dk_shifted);  // LeNet's conv1
static_assert(!geo<6, 14, 16, 5, 0>::dk_flat);  // LeNet's conv2: channels-last
static_assert(!geo<1, 9, 4, 1, 0>::dk_flat);    // a 1 × 1 kernel: nothing to shift
static_assert(!geo<2, 17, 5, 2, 0>::dk_flat);   // 16-wide rows: whole vectors (shifted copies)
static_assert(!geo<4, 40, 3, 3, 1>::dk_flat);   // copies of 4 channels of 40-wide rows: too large

BOOST_AUTO_TEST_CASE(plain_and_relu) {
    static_assert(geo<1, 31, 7, 3, 1>::dk_flat && geo<3, 12, 13, 2, 3>::dk_flat &&
                  geo<2, 9, 3, 2, 0>::dk_flat && geo<1, 28, 6, 5, 2>::dk_flat);
    // 31 × 31 outputs: 961 numbers, a tail of 15 to the vector; 7 output channels (remainder
    // blocks); one image
    conv_reference::check<1, 1, 31, 7, 3, 1, true, 0>(21);
    // padding 3 around a 2-wide kernel: 17-wide rows, copies clipped; 3 input channels, 13 output
    // channels (blocks of 5, 5, 3 on AVX-512); 2 images
    conv_reference::check<2, 3, 12, 13, 2, 3, true, 0>(22);
    // no padding, an even kernel, 8-wide rows (64 numbers: no tail); 3 images, plain
    conv_reference::check<3, 2, 9, 3, 2, 0, false, 0>(23);
    // LeNet's conv1 unfused: 25 taps (a remainder block of 1), rows at u·28
    conv_reference::check<2, 1, 28, 6, 5, 2, true, 0>(24);
}
