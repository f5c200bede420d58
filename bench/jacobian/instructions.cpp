// Instruction-count driver for `valgrind --tool=callgrind` (bench/tools/instructions.py DRIVER
// --cases snavely,rat43 --impls ctgrad,hand,runtime_graph,ceres): calls one impl of one
// Jacobian case `calls` times through a non-inlined function, so callgrind's inclusive count of `measured` divided by `calls` is the
// cost of one residual + Jacobian, libm calls included.
//
//   jacobian_instructions CASE IMPL [CALLS]   (CASE: snavely | rat43;
//                                             IMPL: ctgrad | hand | runtime_graph | ceres)
#include <cstdio>   // std::printf
#include <cstdlib>  // std::atol
#include <string_view>

#include "cases.hpp"

namespace {

volatile double sink;

template <class Impl, class In, class Out>
[[gnu::noinline]] void measured(Impl& impl, const In& in, Out& out) {
    impl(in, out);
}

}  // namespace

int main(int argc, char** argv) {
    using namespace jacobian_cases;
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s snavely|rat43 ctgrad|hand|runtime_graph|ceres [CALLS]\n",
                     argv[0]);
        return 2;
    }
    const std::string_view which = argv[1];
    const std::string_view impl = argv[2];
    const long calls = argc > 3 ? std::atol(argv[3]) : 1000;
    bool found = true;
    if (which == "snavely") {
        snavely_in in = snavely_inputs;
        void (*f)(const snavely_in&, snavely_out&) = nullptr;
        if (impl == "ctgrad") f = &snavely_ctgrad;
        if (impl == "hand") f = &snavely_hand;
        if (impl == "runtime_graph") f = &snavely_runtime_graph;
#ifdef CTGRAD_HAVE_CERES
        const auto cost = snavely_ceres_cost(in);
        auto ceres_impl = [&](const snavely_in& i, snavely_out& o) { snavely_ceres(*cost, i, o); };
#endif
        for (long i = 0; i < calls; ++i) {
            in.observed_x += 0.0 * sink;
            snavely_out out;
            if (f != nullptr) {
                measured(f, in, out);
            }
#ifdef CTGRAD_HAVE_CERES
            else if (impl == "ceres") {
                measured(ceres_impl, in, out);
            }
#endif
            else {
                found = false;
                break;
            }
            sink = out.residual[0] + out.camera_jacobian[0] + out.point_jacobian[5];
        }
    } else if (which == "rat43") {
        rat43_in in = rat43_inputs;
        void (*f)(const rat43_in&, rat43_out&) = nullptr;
        if (impl == "ctgrad") f = &rat43_ctgrad;
        if (impl == "hand") f = &rat43_hand;
        if (impl == "runtime_graph") f = &rat43_runtime_graph;
#ifdef CTGRAD_HAVE_CERES
        const auto cost = rat43_ceres_cost(in);
        auto ceres_impl = [&](const rat43_in& i, rat43_out& o) { rat43_ceres(*cost, i, o); };
#endif
        for (long i = 0; i < calls; ++i) {
            in.y += 0.0 * sink;
            rat43_out out;
            if (f != nullptr) {
                measured(f, in, out);
            }
#ifdef CTGRAD_HAVE_CERES
            else if (impl == "ceres") {
                measured(ceres_impl, in, out);
            }
#endif
            else {
                found = false;
                break;
            }
            sink = out.residual + out.jacobian[3];
        }
    } else {
        found = false;
    }
    if (!found) {
        std::fprintf(stderr, "unknown case or impl: %s %s\n", argv[1], argv[2]);
        return 2;
    }
    std::printf("%s/%s: %ld calls\n", argv[1], argv[2], calls);
    return 0;
}
