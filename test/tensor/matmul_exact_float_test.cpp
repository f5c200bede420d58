// tensor/matmul (see matmul_test.cpp): exact products in float over exact_sizes.
#include <boost/test/unit_test.hpp>

#include "matmul_case.hpp"

using namespace matmul_test;

BOOST_AUTO_TEST_CASE(exact_float) {
    check_sizes<float>(exact_sizes{}, true);
}
