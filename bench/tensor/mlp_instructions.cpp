// Instruction counts of the mlp_step_32x100x200x10 training step, ctgrad against hand: 200 steps
// of one impl, for valgrind --tool=callgrind (which runs AVX2 code but not AVX-512). The
// command behind bench/README.md's counts:
//
//   g++ -std=c++20 -O2 -march=x86-64-v3 -Iinclude -Ibuild/include -Ibench/tensor -Ibench \
//       bench/tensor/mlp_instructions.cpp -o /tmp/mlp_instructions
//   valgrind --tool=callgrind /tmp/mlp_instructions ctgrad   # then: ... hand
//
// Both impls start from the same parameters and data; the printed sum of the 200 losses must
// be the same for both (they compute the same step).
#include <cstdio>
#include <cstring>
#include <memory>

#include "mlp_cases.hpp"
#include "mlp_ctgrad.hpp"
#include "mlp_hand.hpp"

using Case = mlp_cases::mlp_step_32x100x200x10;

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
    const bool hand = argc > 1 && std::strcmp(argv[1], "hand") == 0;
    const double s = hand ? run<mlp_hand::trainer<Case>>(200) : run<mlp_ctgrad::trainer<Case>>(200);
    std::printf("%s: sum of 200 losses %.6g\n", hand ? "hand" : "ctgrad", s);
}
