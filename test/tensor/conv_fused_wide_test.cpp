// tensor/conv_fused (see conv_fused_test.cpp): rows wider than three vectors.
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
