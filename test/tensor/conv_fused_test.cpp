// The fused convolutions (tensor/conv.hpp): relu(conv2d(...)) and max_pool2d<W>(relu(conv2d(...)))
// (and without the relu) build one op, conv2d_op<S, P, Relu, Pool>, run by the direct stride-1
// kernels (tensor/conv_kernels.hpp: vectorised rows, the 2 × 2 pooling in vectors) or the GEMM
// path. Each case (conv_fused_case.hpp) is checked against the same composition kept unfused
// (exact, integer inputs), against plain reference loops (float, real inputs) and against
// central differences (double). Geometries hit the kernels' edges: rows wider than three
// vectors, odd and non-square sizes, kernels wider than the direct kernels take (GEMM path),
// stride 2, windows of 3, no bias. One executable in six TUs of one to three cases each (they
// compile in parallel, each well under a minute in the sanitizer build): this one, LeNet's two
// blocks; conv_fused_{wide,shapes,relu,window,gemm}_test.cpp.
#define BOOST_TEST_MODULE tensor_conv_fused
#include <boost/test/unit_test.hpp>

#include "conv_fused_case.hpp"

using conv_fused::fused_case;

// LeNet's first block (direct kernels, one vector pair per row, 2 × 2 pooling in vectors)
BOOST_AUTO_TEST_CASE(lenet_conv1_relu_pool_float) {
    using c = fused_case<float, 2, 1, 28, 28, 6, 5, 5, 1, 2, true, 2, true>;
    c::exact(1);
    c::reference(15);
}
// LeNet's second block: 16 channels, rows of 10 in vectors of 16
BOOST_AUTO_TEST_CASE(lenet_conv2_relu_pool_float) {
    using c = fused_case<float, 3, 6, 14, 14, 16, 5, 5, 1, 0, true, 2, true>;
    c::exact(2);
    c::reference(16);
}
