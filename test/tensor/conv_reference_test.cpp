// The convolution op's kernels (tensor/conv.hpp, tensor/conv_kernels.hpp: the direct stride-1
// kernels with fused bias, relu and 2 × 2 max pooling) against plain loops written here from
// the definitions, in float, exactly: integer-valued images, kernels, biases and adjoints keep
// every sum exact, so any summation order must give the loop's numbers bit for bit. Checked:
// the value (forward_saving), ∂X (vjp 0) and ∂K (vjp 1), assigning and accumulating, for a
// plain convolution, conv + relu, conv + relu + pooling (integers tie often: the first maximum
// of a window in row-major order keeps the gradient, as PyTorch) and LeNet's two shapes. The
// executable runs once per instruction set (test/meson.build), so the SSE2, AVX2 and AVX-512
// copies of the kernels and their dispatch are each checked against the same loops. The
// pooled shapes are in conv_reference_pool_test.cpp (the harness: support/conv_reference.hpp).
#define BOOST_TEST_MODULE tensor_conv_reference
#include <boost/test/unit_test.hpp>

#include "support/conv_reference.hpp"

BOOST_AUTO_TEST_CASE(plain_and_relu) {
    conv_reference::check<2, 1, 9, 3, 4, 0, false, 0>(1);  // 6 × 6 output, even kernel
    conv_reference::check<2, 3, 13, 5, 5, 2, true, 0>(2);  // odd sizes, padding 2
    // 9 output channels: a block and a remainder
    conv_reference::check<3, 2, 11, 9, 3, 1, true, 0>(3);
}
