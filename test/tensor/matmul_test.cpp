// The matmul kernels (tensor/matmul.hpp): matmul (A·B), matmul_tn (Aᵀ·B, A stored [K, M]) and
// matmul_nt (A·Bᵀ, B stored [N, K]), assigning and accumulating with a scale α, in double and
// float, against a naive triple loop:
//  - exactly, on integer-valued inputs (every partial sum is then exact, so any summation order
//    gives the naive loop's result bit for bit), over sizes 1, primes, every remainder of the
//    register blocks and of the k blocks, and the network sizes of interest;
//  - within a rounding bound, on random real inputs;
//  - assign never reads C (C starts as NaN), accumulate adds to it, the inputs are not
//    modified, a and b may be one array (A·Aᵀ, Aᵀ·A);
//  - in constant evaluation (static_assert);
//  - on the instruction set active_isa() chooses, which CTGRAD_KERNELS_ISA can hold lower: the
//    executable runs once as it is and once per lower instruction set (test/meson.build), so
//    every copy of the kernels this machine can run is checked.
// One executable in four TUs (matmul_case.hpp holds the checks and the size lists): this one,
// constant evaluation, the instruction set, rounded products, inputs and aliasing;
// matmul_exact_double_test.cpp, matmul_exact_float_test.cpp, matmul_layers_test.cpp.
#define BOOST_TEST_MODULE tensor_matmul
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <ctgrad/tensor/matmul.hpp>

#include "matmul_case.hpp"

using namespace matmul_test;

namespace {

// --- constant evaluation ---

// A = [[1, 2, 3], [4, 5, 6]], B = [[7, 8], [9, 10], [11, 12]]: A·B = [[58, 64], [139, 154]].
constexpr std::array<double, 6> a23{1, 2, 3, 4, 5, 6};
constexpr std::array<double, 6> b32{7, 8, 9, 10, 11, 12};
constexpr std::array<double, 6> a23_t{1, 4, 2, 5, 3, 6};     // Aᵀ, stored [3, 2]
constexpr std::array<double, 6> b32_t{7, 9, 11, 8, 10, 12};  // Bᵀ, stored [2, 3]

constexpr std::array<double, 4> product(int kind) {
    std::array<double, 4> c{};
    if (kind == 0) kn::matmul<2, 3, 2>(a23.data(), b32.data(), c.data());
    if (kind == 1) kn::matmul_tn<2, 3, 2>(a23_t.data(), b32.data(), c.data());
    if (kind == 2) kn::matmul_nt<2, 3, 2>(a23.data(), b32_t.data(), c.data());
    return c;
}
constexpr std::array<double, 4> expected{58, 64, 139, 154};
static_assert(product(0) == expected);
static_assert(product(1) == expected);
static_assert(product(2) == expected);

// C = [1, 1, 1, 1] accumulates -0.5·A·B.
constexpr std::array<double, 4> accumulated(int kind) {
    std::array<double, 4> c{1, 1, 1, 1};
    constexpr mode acc = mode::accumulate;
    if (kind == 0) kn::matmul<2, 3, 2, acc>(a23.data(), b32.data(), c.data(), -0.5);
    if (kind == 1) kn::matmul_tn<2, 3, 2, acc>(a23_t.data(), b32.data(), c.data(), -0.5);
    if (kind == 2) kn::matmul_nt<2, 3, 2, acc>(a23.data(), b32_t.data(), c.data(), -0.5);
    return c;
}
constexpr std::array<double, 4> expected_acc{-28, -31, -68.5, -76};
static_assert(accumulated(0) == expected_acc);
static_assert(accumulated(1) == expected_acc);
static_assert(accumulated(2) == expected_acc);

// A product above the run-time "tiny" threshold (so its run-time path is the blocked kernel)
// still evaluates in a constant expression: 5×5 identity times a 5×5 matrix, in float.
constexpr bool identity_5x5() {
    std::array<float, 25> id{}, m{}, c{};
    for (size_t i = 0; i < 5; ++i) id[i * 5 + i] = 1.0f;
    for (size_t i = 0; i < 25; ++i) m[i] = float(i) - 7.0f;
    kn::matmul_nt<5, 5, 5>(m.data(), id.data(), c.data());  // M·Iᵀ
    return c == m;
}
static_assert(identity_5x5());

// --- run time ---

// The kernels run on the best instruction set the machine has, or the one CTGRAD_KERNELS_ISA
// asks for where the machine has it (the test runs of test/meson.build set it).
BOOST_AUTO_TEST_CASE(instruction_set) {
    const kn::isa active = kn::active_isa();
    BOOST_TEST_MESSAGE("kernels: " << kn::isa_name(active));
    BOOST_TEST(kn::supported(kn::isa::target));
    BOOST_TEST(kn::supported(active));
    const std::array<kn::isa, 3> all{kn::isa::target, kn::isa::avx2, kn::isa::avx512};
    const std::array<const char*, 3> names{"target", "avx2", "avx512"};
    size_t limit = 2;
    if (const char* want = std::getenv("CTGRAD_KERNELS_ISA"); want != nullptr && *want != 0) {
        const auto it = std::find_if(names.begin(), names.end(),
                                     [&](const char* n) { return std::strcmp(n, want) == 0; });
        BOOST_TEST_REQUIRE((it != names.end()), "CTGRAD_KERNELS_ISA=" << want);
        limit = size_t(it - names.begin());
    }
    // The best supported one not above the limit.
    size_t best = 0;
    for (size_t i = 0; i <= limit; ++i) {
        if (kn::supported(all[i])) best = i;
    }
    BOOST_TEST((active == all[best]),
               "active " << kn::isa_name(active) << ", expected " << kn::isa_name(all[best]));
    BOOST_TEST(std::strlen(kn::isa_name(kn::isa::target)) > 0);
    // The choice is made once.
    BOOST_TEST((kn::active_isa() == active));
}

}  // namespace

// Real inputs, within the rounding bound.
using rounded_sizes = std::tuple<dims<7, 13, 5>, dims<32, 100, 200>, dims<3, 700, 50>>;

BOOST_AUTO_TEST_CASE(rounded_double) {
    check_sizes<double>(rounded_sizes{}, false);
}

BOOST_AUTO_TEST_CASE(rounded_float) {
    check_sizes<float>(rounded_sizes{}, false);
}

// The kernels read a and b only: every input is bit for bit what it was.
BOOST_AUTO_TEST_CASE(inputs_not_modified) {
    const problem<float> p(33, 31, 13, draw<float>{std::mt19937(11), false});
    const problem<float> copy = p;
    using k = kernels<33, 31, 13, float>;
    std::vector<float> c(33 * 13, 0.0f);
    copy.run(kind::nn, &k::nn<mode::assign>, c.data(), 1.0f);
    copy.run(kind::tn, &k::tn<mode::accumulate>, c.data(), 2.0f);
    copy.run(kind::nt, &k::nt<mode::accumulate>, c.data(), -3.0f);
    const auto same = [](const std::vector<float>& x, const std::vector<float>& y) {
        return x.size() == y.size() &&
               std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0;
    };
    BOOST_TEST(same(copy.a, p.a));
    BOOST_TEST(same(copy.at, p.at));
    BOOST_TEST(same(copy.b, p.b));
    BOOST_TEST(same(copy.bt, p.bt));
}

// a and b may be the same array: A·Aᵀ (matmul_nt<M, K, M>) and Aᵀ·A (matmul_tn<K, M, K>), the
// Gram matrices, exact on integers and symmetric.
BOOST_AUTO_TEST_CASE(same_array_for_a_and_b) {
    constexpr size_t M = 19, K = 37;
    std::vector<double> a(M * K);
    draw<double> d{std::mt19937(5), true};
    for (double& x : a) x = d();
    std::vector<double> aat(M * M), ata(K * K);
    kn::matmul_nt<M, K, M>(a.data(), a.data(), aat.data());
    kn::matmul_tn<K, M, K>(a.data(), a.data(), ata.data());
    int bad = 0;
    for (size_t i = 0; i < M; ++i) {
        for (size_t j = 0; j < M; ++j) {
            double s = 0;
            for (size_t k = 0; k < K; ++k) s += a[i * K + k] * a[j * K + k];
            bad += aat[i * M + j] != s;
        }
    }
    for (size_t i = 0; i < K; ++i) {
        for (size_t j = 0; j < K; ++j) {
            double s = 0;
            for (size_t k = 0; k < M; ++k) s += a[k * K + i] * a[k * K + j];
            bad += ata[i * K + j] != s || ata[i * K + j] != ata[j * K + i];
        }
    }
    BOOST_TEST(bad == 0);
}
