// Test support: exact comparison of floating-point results, for tests whose reference gives the
// very bits the library must give (the engine's piecewise backward loops against plain loops).
#pragma once

#include <cmath>    // std::isnan
#include <cstring>  // std::memcmp

namespace ctgrad::test {

/// Same bits (−0 and +0 differ), or both NaN (whatever their payloads).
template <class T>
bool same_bits(T a, T b) {
    if (std::isnan(a) && std::isnan(b)) return true;
    return std::memcmp(&a, &b, sizeof(T)) == 0;
}

}  // namespace ctgrad::test
