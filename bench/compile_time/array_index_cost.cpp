// Compile-time probe: what one element read/write costs the compilers' constant evaluators,
// through std::array::operator[], through a pointer from data(), and in a built-in array
// (bench/README.md, sc15: why ad/plan.hpp and core/fragment.hpp read their tables through
// pointers and built-in arrays). Nothing of ctgrad; one variant per -DFORM=1/2/3:
//
//   for f in 1 2 3; do /usr/bin/time -f "FORM=$f %U s" g++ -std=c++20 -fsyntax-only \
//       -fconstexpr-ops-limit=1000000000 -DFORM=$f bench/compile_time/array_index_cost.cpp; done
//
// (clang++: -fconstexpr-steps=1000000000.) FORM=1 std::array a[j]; FORM=2 a.data()[j];
// FORM=3 a built-in array. -DSIZE sets the array's length (the cost is per access, not per
// element: compare SIZE=8 with the default).
#include <array>
#include <cstddef>
#include <cstdint>

#ifndef FORM
#define FORM 1
#endif
#ifndef SIZE
#define SIZE 1024  // accesses / 2 must be a multiple
#endif

constexpr std::size_t n = SIZE;
constexpr std::size_t accesses = 614'400;  // reads + writes, about chain_256's plan passes

constexpr std::uint64_t run() {
#if FORM == 3
    std::uint64_t a[n]{};
#else
    std::array<std::uint64_t, n> store{};
#if FORM == 2
    std::uint64_t* const a = store.data();
#else
    std::array<std::uint64_t, n>& a = store;
#endif
#endif
    std::uint64_t sum = 0;
    for (std::size_t r = 0; r < accesses / 2 / n; ++r) {  // nested: g++'s loop limit is 262144
        for (std::size_t j = 0; j < n; ++j) {
            a[j] = a[j] + r;  // one read, one write
            sum += j;
        }
    }
    return sum + a[0];
}

// The loop above runs in the constant evaluator; the value checks that it ran.
static_assert(run() > 0, "the constant-evaluated loop ran");

int main() {
    return 0;
}
