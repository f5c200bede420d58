// The float half of tensor/review_conv_odd (see review_conv_odd_test.cpp): small integers, so
// max pooling meets ties everywhere.
#include <boost/test/unit_test.hpp>

#include "review_conv_odd_case.hpp"

BOOST_AUTO_TEST_CASE(odd_shapes_in_float_with_ties) {
    all_cases<float>();
}
