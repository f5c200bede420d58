// tensor/conv_fused (see conv_fused_test.cpp): relu without pooling.
#include <boost/test/unit_test.hpp>

#include "conv_fused_case.hpp"

using conv_fused::fused_case;

// relu alone (odd output size: no pooling), bias
BOOST_AUTO_TEST_CASE(relu_only) {
    using f = fused_case<float, 2, 3, 11, 9, 7, 3, 3, 1, 0, true, 0, true>;
    f::exact(7);
    f::reference(18);
    fused_case<double, 2, 3, 11, 9, 7, 3, 3, 1, 0, true, 0, true>::finite_differences(8);
}
