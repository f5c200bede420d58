// Compile-time probe: the Jacobian of a 12-input, 2-output function (Ceres' bundle-adjustment
// reprojection error, bench/jacobian/cases.hpp) and nothing else, for /usr/bin/time -v:
//
//   /usr/bin/time -v g++ -std=c++20 -O2 -Iinclude -c bench/compile_time/jacobian_12_inputs.cpp
//
// (-DCTGRAD_PROBE_EMPTY compiles only the includes: the fixed cost every ctgrad TU pays.)
#include <cstdio>
#include <cstdlib>

#include <ctgrad/ctgrad.hpp>

#ifndef CTGRAD_PROBE_EMPTY
#include "../jacobian/cases.hpp"
#endif

int main(int argc, char** argv) {
    double p[14];
    for (int i = 0; i < 14; ++i) p[i] = i + 1 < argc ? std::atof(argv[i + 1]) : 0.1 * (i + 1);
#ifndef CTGRAD_PROBE_EMPTY
    using namespace jacobian_cases::sv;
    const auto J = ctgrad::jacobian(F, camera_and_point, a0 = p[0], a1 = p[1], a2 = p[2], t0 = p[3],
                                    t1 = p[4], t2 = p[5], focal = p[6], l1 = p[7], l2 = p[8],
                                    X = p[9], Y = p[10], Z = p[11], ox = p[12], oy = p[13]);
    std::printf("%g %g %g\n", J.value[0], J.rows[0][0], J.rows[1][11]);
#else
    std::printf("%g\n", p[0]);
#endif
    return 0;
}
