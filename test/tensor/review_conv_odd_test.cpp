// An outside reviewer's convolution shapes the other suites do not use, through the public API
// only (DESIGN.md: conv2d<Stride, Padding>(X, K[, b]), relu, max_pool2d<Window, Stride>,
// avg_pool2d<Window, Stride>, sum, gradient): 1×1 kernels, a kernel as large as the image,
// stride larger than the kernel, rectangular kernels on rectangular images (3×7, 2×5, 3×1),
// padding as large as or larger than the kernel, channel counts 1, 3 and 17, batch 1, kernel
// widths 8 and 9 (either side of the direct kernels' limit), overlapping (3, stride 2) and
// skipping (2, stride 3) pooling windows, and max pooling with ties. The loss is sum(out ⊙ R)
// for a random R, so ∂out = R; value and ∂X, ∂K, ∂b are compared with plain loops written here
// from the definitions (PyTorch's cross-correlation with zero padding; a tie in max pooling
// sends the gradient to the first maximum in row-major window order), in double with random
// reals and in float with small integers (ties everywhere), and spot-checked against central
// differences in double.
#define BOOST_TEST_MODULE tensor_review_conv_odd
#include <boost/test/unit_test.hpp>

#include "review_conv_odd_case.hpp"

// (float in review_conv_odd_float_test.cpp: two TUs that compile in parallel)
BOOST_AUTO_TEST_CASE(odd_shapes_in_double) {
    all_cases<double>();
}
