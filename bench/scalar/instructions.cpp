// Instruction-count driver for `valgrind --tool=callgrind`: calls one impl of one scalar case
// `calls` times through a non-inlined function, so callgrind's inclusive count of `measured`
// divided by `calls` is the cost of one value + gradient, including the libm calls it makes.
// Timings on shared 2-core machines are noisy; instruction counts are repeatable.
//
//   instructions CASE IMPL [CALLS]        (IMPL: ctgrad | hand | runtime_graph)
//   valgrind --tool=callgrind --toggle-collect='*measured*' ./instructions sigmoid_neuron hand
//
// bench/tools/instructions.sh runs every case and impl and prints the table of bench/README.md.
#include <cstdio>   // std::printf
#include <cstdlib>  // std::atol
#include <string_view>

#include "cases.hpp"

namespace {

volatile double sink;

/// One call of `Impl` on inputs the compiler cannot see. Kept out of line: it is the function
/// callgrind counts.
template <auto Impl, class In>
[[gnu::noinline]] void measured(const In& in) {
    const auto r = Impl(in);
    double s = r.value;
    for (const double g : r.grad) {
        s += g;
    }
    sink = s;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s CASE ctgrad|hand|runtime_graph [CALLS]\n", argv[0]);
        return 2;
    }
    const std::string_view want_case = argv[1];
    const std::string_view impl = argv[2];
    const long calls = argc > 3 ? std::atol(argv[3]) : 1000;
    bool found = false;
    scalar_cases::for_each_case([&]<class Case>(Case) {
        if (want_case != Case::name) {
            return;
        }
        found = true;
        auto in = Case::inputs;
        for (long i = 0; i < calls; ++i) {
            in[0] += 0.0 * sink;  // an input the optimiser must reload each call
            if (impl == "ctgrad") {
                measured<&Case::ctgrad>(in);
            } else if (impl == "hand") {
                measured<&Case::hand>(in);
            } else if (impl == "runtime_graph") {
                measured<&Case::runtime_graph>(in);
            } else {
                found = false;
                return;
            }
        }
    });
    if (!found) {
        std::fprintf(stderr, "unknown case or impl: %s %s\n", argv[1], argv[2]);
        return 2;
    }
    std::printf("%s/%s: %ld calls\n", argv[1], argv[2], calls);
    return 0;
}
