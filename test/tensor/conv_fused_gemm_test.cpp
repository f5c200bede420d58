// tensor/conv_fused (see conv_fused_test.cpp): the GEMM path (stride 2, a kernel wider than the
// direct kernels take).
#include <boost/test/unit_test.hpp>

#include "conv_fused_case.hpp"

using conv_fused::fused_case;

// stride 2 and a kernel 9 wide: the GEMM path, fused the same way
BOOST_AUTO_TEST_CASE(gemm_path_stride_2_and_wide_kernel) {
    using c = fused_case<double, 2, 2, 11, 11, 3, 3, 3, 2, 1, true, 2, true>;
    c::exact(11);
    using f = fused_case<float, 2, 2, 12, 12, 4, 9, 9, 1, 2, true, 2, true>;
    f::exact(12);
    f::reference(19);
    c::finite_differences(13);
}
