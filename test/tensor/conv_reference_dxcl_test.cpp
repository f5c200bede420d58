// The convolution op on shapes whose ∂X runs channels-last (conv_kernels::geometry::
// dx_channels_last: the output channels fill the vector lanes better than a row of dY fills a
// padded row of dX, as in LeNet's conv2; tensor/conv_kernels.hpp, grad_image_cl) against plain
// loops (the harness: support/conv_reference.hpp): value, ∂X and ∂K, assigning and
// accumulating, exactly on integers, for every instruction set (test/meson.build). Batches of 1
// to 3; 1, 3, 5 and 7 input channels (blocks of channels with and without a remainder); 12, 16
// and 32 output channels (a part-filled vector, one, two); kernels 2, 3, 5 and 7; paddings 0 to
// 3; rows of 3, 7 and 10 pixels (blocks of pixels with remainders on AVX2 and AVX-512; a plane
// shorter than a vector). The pooled shapes are in conv_reference_dxcl_pool_test.cpp.
#define BOOST_TEST_MODULE tensor_conv_reference_dxcl
#include <boost/test/unit_test.hpp>

#include "support/conv_reference.hpp"

template <std::size_t C, std::size_t H, std::size_t O, std::size_t K, std::size_t P>
constexpr bool channels_last =
    ctgrad::conv_kernels::geometry<C, H, H, O, K, K, P>::dx_channels_last;

// which shapes take the channels-last ∂X
static_assert(channels_last<6, 14, 16, 5, 0>);    // LeNet's conv2: 10 of 16 lanes in the rows
static_assert(!channels_last<1, 28, 6, 5, 2>);    // LeNet's conv1: 6 channels
static_assert(!channels_last<3, 200, 16, 5, 2>);  // wide rows fill their vectors
static_assert(!channels_last<4, 9, 16, 1, 0>);    // a 1 × 1 kernel: one tap per dX number

BOOST_AUTO_TEST_CASE(plain_and_relu) {
    static_assert(channels_last<1, 7, 16, 3, 1> && channels_last<3, 9, 12, 2, 0> &&
                  channels_last<5, 10, 16, 7, 3> && channels_last<7, 10, 32, 4, 2> &&
                  channels_last<3, 3, 16, 3, 1> && channels_last<3, 5, 16, 2, 3>);
    // one channel, 7-wide rows (pixel blocks 4 + 3 / 2 + 2 + 2 + 1), padding 1
    conv_reference::check<1, 1, 7, 16, 3, 1, false, 0>(21);
    // a 2 × 2 kernel, 12 channels (a part-filled vector), relu
    conv_reference::check<2, 3, 9, 12, 2, 0, true, 0>(22);
    // a 7 × 7 kernel, padding 3, five input channels in one block
    conv_reference::check<2, 5, 10, 16, 7, 3, false, 0>(23);
    // seven input channels (blocks 4 + 3), two vectors of output channels, padding 2
    conv_reference::check<3, 7, 10, 32, 4, 2, true, 0>(24);
    // a 3 × 3 image: every plane shorter than a vector
    conv_reference::check<2, 3, 3, 16, 3, 1, false, 0>(25);
    // padding 3 with a 2 × 2 kernel: dY wider than the image
    conv_reference::check<1, 3, 5, 16, 2, 3, true, 0>(26);
}
