// tensor/matmul (see matmul_test.cpp): exact products in float over the layers of interest.
#include <boost/test/unit_test.hpp>

#include "matmul_case.hpp"

using namespace matmul_test;

BOOST_AUTO_TEST_CASE(exact_layers_float) {
    check_sizes<float>(layer_sizes{}, true);
}
