// The convolution op on shapes whose ∂K runs channels-last (conv_kernels::geometry::
// dk_channels_last: the output channels fill more vector lanes than dY's rows, as in LeNet's
// conv2; tensor/conv_kernels.hpp, grad_kernel_cl) against plain loops, as
// conv_reference_test.cpp does for the others (the harness: support/conv_reference.hpp): value,
// ∂X and ∂K, assigning and accumulating, exactly on integers, for every instruction set
// (test/meson.build). Odd sizes, even and odd kernels, paddings, output channels filling whole
// vectors or not, blocks of kernel rows with and without a remainder. The pooled shapes are in
// conv_reference_cl_pool_test.cpp (one TU for all six came near the 60 s compile budget under
// clang++ with ASan).
#define BOOST_TEST_MODULE tensor_conv_reference_cl
#include <boost/test/unit_test.hpp>

#include "support/conv_reference.hpp"

template <std::size_t C, std::size_t H, std::size_t O, std::size_t K, std::size_t P>
constexpr bool channels_last =
    ctgrad::conv_kernels::geometry<C, H, H, O, K, K, P>::dk_channels_last;

// which shapes take the channels-last ∂K
static_assert(channels_last<6, 14, 16, 5, 0>);   // LeNet's conv2: 10-wide rows, 16 channels
static_assert(!channels_last<1, 28, 6, 5, 2>);   // LeNet's conv1: 28-wide rows, 6 channels
static_assert(!channels_last<1, 9, 16, 3, 0>);   // too few weights per dY number (C·K² = 9)
static_assert(!channels_last<2, 20, 16, 5, 0>);  // 16-wide rows fill their vectors

BOOST_AUTO_TEST_CASE(plain_and_relu) {
    static_assert(channels_last<2, 9, 16, 3, 0> && channels_last<3, 8, 20, 4, 1> &&
                  channels_last<1, 7, 12, 5, 2> && channels_last<1, 10, 16, 7, 3>);
    // a whole vector of channels, odd 7-wide rows
    conv_reference::check<2, 2, 9, 16, 3, 0, false, 0>(7);
    // 20 channels (the last vector part-filled), an even kernel, padding
    conv_reference::check<2, 3, 8, 20, 4, 1, true, 0>(8);
    // a 5-tall kernel: blocks of kernel rows with a remainder on AVX2
    conv_reference::check<3, 1, 7, 12, 5, 2, true, 0>(9);
    // a 7 × 7 kernel: a remainder block of kernel rows on AVX-512
    conv_reference::check<2, 1, 10, 16, 7, 3, false, 0>(10);
}
