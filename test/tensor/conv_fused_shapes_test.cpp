// tensor/conv_fused (see conv_fused_test.cpp): the direct kernels' edges: rows wider than three
// vectors, odd and non-square sizes, pooling without relu, relu without pooling, no bias.
#include <boost/test/unit_test.hpp>

#include "conv_fused_case.hpp"

using conv_fused::fused_case;

// rows of 70 outputs: three vectors and a remainder; 35 pooled numbers a row
BOOST_AUTO_TEST_CASE(wide_rows_relu_pool) {
    using f = fused_case<float, 1, 2, 10, 70, 3, 3, 3, 1, 1, true, 2, true>;
    f::exact(3);
    f::reference(17);
    fused_case<double, 1, 2, 10, 70, 3, 3, 3, 1, 1, true, 2, true>::exact(4);
}
// odd channel counts, a non-square kernel, pooling without relu, no bias
BOOST_AUTO_TEST_CASE(odd_sizes_pool_without_relu_no_bias) {
    using c = fused_case<double, 2, 3, 12, 13, 5, 3, 4, 1, 0, false, 2, false>;
    c::exact(5);
    c::finite_differences(6);
}
// relu alone (odd output size: no pooling), bias
BOOST_AUTO_TEST_CASE(relu_only) {
    using f = fused_case<float, 2, 3, 11, 9, 7, 3, 3, 1, 0, true, 0, true>;
    f::exact(7);
    f::reference(18);
    fused_case<double, 2, 3, 11, 9, 7, 3, 3, 1, 0, true, 0, true>::finite_differences(8);
}
