// The tests' precompiled header (test/meson.build: every Boost.Test executable is compiled with
// it, `-Dtest_pch=false` turns it off). Parsing Boost.Test and ctgrad took 2-3 s of every test
// TU's compile time with g++ -O2 and clang++ -O0 ASan+UBSan alike (bench/README.md, "Test-suite
// build time, tenth pass"): this header is compiled once per flag set and loaded in well under a
// second. It holds what nearly every test includes; a test still includes what it uses.
//
// Boost.Test's main: a test file defines BOOST_TEST_MODULE before it includes
// <boost/test/unit_test.hpp>, and boost/test/detail/config.hpp turns that into BOOST_TEST_MAIN
// (main, init_unit_test in that TU) only when it sees the macro. This header therefore leaves out
// unit_test.hpp and unit_test_suite.hpp (small; they define main) and lets config.hpp (macros
// only) be read again after the test's BOOST_TEST_MODULE.
#include <boost/test/detail/config.hpp>
#include <boost/test/detail/pp_variadic.hpp>
#include <boost/test/framework.hpp>
#include <boost/test/test_tools.hpp>
#include <boost/test/tree/auto_registration.hpp>
#include <boost/test/tree/global_fixture.hpp>
#include <boost/test/tree/test_case_template.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/nn.hpp>

#undef BOOST_TEST_CONFIG_HPP_071894GER
