// Instruction counts of one-sample inference (bench/tensor/infer_bench.cpp's infer_1), ctgrad
// against the same layers written by hand around ctgrad's kernels (`hand_kernels`) and the plain
// hand loops (`hand`): `calls` calls of one impl through the non-inlined function `measured`,
// for valgrind --tool=callgrind (which runs the AVX2 kernels, not the AVX-512 ones):
//
//   g++ -std=c++20 -O2 -Iinclude -Ibuild/include -Ibench/tensor
//       bench/tensor/infer_instructions.cpp -o /tmp/infer_instructions   (one line)
//   valgrind --tool=callgrind --toggle-collect='*measured*' /tmp/infer_instructions ctgrad
//   # then hand_kernels, hand; instructions per call = inclusive count of measured / calls
//
// Every impl prints the sum of its logits over the calls, which must agree to rounding.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "infer_cases.hpp"

using namespace infer_cases;

namespace {

float logits[classes];

[[gnu::noinline]] void measured(int impl, int calls) {
    const auto& d = data();
    ctgrad::program prog(net(X<1>));
    const auto x = ctgrad::view<1, pixels>(d.images.data());
    float sum = 0;
    for (int c = 0; c < calls; ++c) {
        if (impl == 0) {
            const auto out = prog.value(*d.params, X<1> = x);
            std::memcpy(logits, out.data(), sizeof logits);
        } else if (impl == 1) {
            hand_kernels_forward<1>(*d.params, d.images.data(), logits);
        } else {
            hand_forward<1>(*d.params, d.images.data(), logits);
        }
        sum += logits[c % classes];
    }
    std::printf("sum of logits: %.6g\n", double(sum));
}

}  // namespace

int main(int argc, char** argv) {
    const char* impls[] = {"ctgrad", "hand_kernels", "hand"};
    int impl = -1;
    for (int i = 0; i < 3 && argc > 1; ++i) {
        if (std::strcmp(argv[1], impls[i]) == 0) impl = i;
    }
    if (impl < 0) {
        std::fprintf(stderr, "usage: infer_instructions ctgrad|hand_kernels|hand [CALLS]\n");
        return 2;
    }
    static_cast<void>(data());  // the fixture is made outside the measured calls
    measured(impl, argc > 2 ? std::atoi(argv[2]) : 1000);
}
