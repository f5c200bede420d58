// Instruction counts of the deep_mlp_step_d20w32 training step (20 tanh layers), ctgrad against
// the runtime graph and hand: 100 steps of one impl, for valgrind --tool=callgrind (which runs
// AVX2 code but not AVX-512). On a shared machine, instruction counts compare versions and impls
// where timings cannot (issue 13; bench/README.md, "Training throughput on real processors"):
//
//   g++ -std=c++20 -O2 -march=x86-64-v3 -Iinclude -Ibuild/include -Ibench/tensor -Ibench \
//       bench/tensor/deep_instructions.cpp -o /tmp/deep_instructions
//   valgrind --tool=callgrind /tmp/deep_instructions ctgrad   # then: runtime_graph, hand
//
// Every impl starts from the same parameters and data; the printed sums of the 100 losses agree
// to float rounding (they compute the same step).
#include <cstdio>
#include <cstring>
#include <memory>

#include "mlp_cases.hpp"
#include "mlp_ctgrad.hpp"
#include "mlp_hand.hpp"
#include "mlp_runtime_graph.hpp"

using Case = mlp_cases::deep_mlp_step_d20w32;

template <class Trainer>
double run(int steps) {
    auto p = Case::make_params();
    auto d = Case::make_data();
    auto t = std::make_unique<Trainer>();
    double s = 0;
    for (int i = 0; i < steps; ++i) s += t->step(*p, *d, Case::learning_rate);
    return s;
}

int main(int argc, char** argv) {
    const char* impl = argc > 1 ? argv[1] : "ctgrad";
    double s = 0;
    if (std::strcmp(impl, "hand") == 0) {
        s = run<mlp_hand::trainer<Case>>(100);
    } else if (std::strcmp(impl, "runtime_graph") == 0) {
        s = run<mlp_runtime_graph::trainer<Case>>(100);
    } else {
        s = run<mlp_ctgrad::trainer<Case>>(100);
    }
    std::printf("%s: sum of 100 losses %.6g\n", impl, s);
}
