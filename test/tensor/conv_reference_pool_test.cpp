// The convolution op fused with relu and 2 × 2 max pooling against plain loops, as
// conv_reference_test.cpp does for the unpooled op (the harness: support/conv_reference.hpp):
// value, ∂X and ∂K, exactly on integers (the windows tie often: the first maximum in row-major
// order keeps the gradient), a 12 × 12 output and LeNet's two blocks, for every instruction
// set (test/meson.build).
#define BOOST_TEST_MODULE tensor_conv_reference_pool
#include <boost/test/unit_test.hpp>

#include "support/conv_reference.hpp"

BOOST_AUTO_TEST_CASE(relu_pool) {
    conv_reference::check<2, 2, 12, 7, 3, 1, true, 2>(4);  // 12 × 12 → 6 × 6, ties in the windows
    conv_reference::check<2, 1, 28, 6, 5, 2, true, 2>(5);   // LeNet's conv1 block
    conv_reference::check<2, 6, 14, 16, 5, 0, true, 2>(6);  // LeNet's conv2 block (10-wide rows)
}
