// tensor/matmul (see matmul_test.cpp): exact products in double over exact_sizes and the
// largest layer.
#include <boost/test/unit_test.hpp>

#include "matmul_case.hpp"

using namespace matmul_test;

BOOST_AUTO_TEST_CASE(exact_double) {
    check_sizes<double>(exact_sizes{}, true);
}

BOOST_AUTO_TEST_CASE(exact_largest_layer_double) {
    check_sizes<double>(std::tuple<dims<64, 784, 100>>{}, true);
}
