// tensor/conv_fused (see conv_fused_test.cpp): odd and non-square sizes, pooling without relu,
// no bias.
#include <boost/test/unit_test.hpp>

#include "conv_fused_case.hpp"

using conv_fused::fused_case;

// odd channel counts, a non-square kernel, pooling without relu, no bias
BOOST_AUTO_TEST_CASE(odd_sizes_pool_without_relu_no_bias) {
    using c = fused_case<double, 2, 3, 12, 13, 5, 3, 4, 1, 0, false, 2, false>;
    c::exact(5);
    c::finite_differences(6);
}
