// The flat ∂K (see conv_reference_flat_test.cpp) behind the fused relu + 2 × 2 max pooling, whose
// ∂Y the vector unpooling writes into the flat layout the kernel reads (whole pairs of vectors
// from each row's first column, the numbers past a row's end landing in the next row, written
// after it; reading past an image's pooled rows into the next image's, and through a scratch
// row at the batch's end): against plain loops, exactly, for every instruction set
// (test/meson.build).
#define BOOST_TEST_MODULE tensor_conv_reference_flat_pool
#include <boost/test/unit_test.hpp>

#include "support/conv_reference.hpp"

template <std::size_t C, std::size_t H, std::size_t O, std::size_t K, std::size_t P>
using geo = ctgrad::conv_kernels::geometry<C, H, H, O, K, K, P>;

BOOST_AUTO_TEST_CASE(relu_pool) {
    static_assert(geo<1, 30, 6, 7, 3>::dk_flat && geo<3, 14, 4, 5, 2>::dk_flat &&
                  geo<1, 28, 6, 5, 2>::dk_flat && geo<2, 22, 9, 3, 0>::dk_flat);
    // a 7 × 7 kernel (49 taps: a remainder block), 30-wide rows, 3 images
    conv_reference::check<3, 1, 30, 6, 7, 3, true, 2>(25);
    // 3 input channels, 4 output channels, 7-wide pooled rows, one image (its last row through
    // the scratch row)
    conv_reference::check<1, 3, 14, 4, 5, 2, true, 2>(26);
    // LeNet's conv1 block, 3 images
    conv_reference::check<3, 1, 28, 6, 5, 2, true, 2>(27);
    // 20 × 20 outputs: 10 pooled columns (two vectors on SSE2), 400 numbers (a tail of 0 on
    // AVX-512 of 16, of 0 on 8), 9 channels, 2 images
    conv_reference::check<2, 2, 22, 9, 3, 0, true, 2>(28);
    // 27 × 27 outputs: the last row and column dropped by the pooling (the row never written)
    static_assert(geo<1, 27, 5, 3, 1>::dk_flat);
    conv_reference::check<2, 1, 27, 5, 3, 1, true, 2>(29);
}
