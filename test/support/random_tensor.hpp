// Test support: seeded random tensors whose elements are exactly representable in float, so that
// the same inputs can be handed to a float run, a double run and an outside reference (NumPy,
// PyTorch) without rounding differences between them.
#pragma once

#include <cstddef>  // std::size_t
#include <random>   // std::mt19937, std::uniform_real_distribution

#include <ctgrad/ctgrad.hpp>

namespace ctgrad::test {

/// Every element uniform in [lo, hi] from std::mt19937(seed), rounded to float, then to T.
template <class T, std::size_t... D>
void fill_float_exact(ctgrad::tensor<T, D...>& t, unsigned seed, double lo = -1, double hi = 1) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> u(lo, hi);
    for (auto& e : t) e = static_cast<T>(static_cast<float>(u(rng)));
}

}  // namespace ctgrad::test
