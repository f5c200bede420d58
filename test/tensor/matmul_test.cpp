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

namespace kn = ctgrad::kernels;
using kn::mode;
using std::size_t;

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

// Only the kernels are instantiated per size (through `kernels<M, K, N, T>`); the operands, the
// naive product and the checks take the sizes at run time, which keeps this TU small.

enum class kind { nn, tn, nt };

/// One kernel: C = α·op(A)·op(B), or C += ..., with the sizes bound.
template <class T>
using kernel_fn = void (*)(const T* a, const T* b, T* c, T alpha);

template <class T>
struct kernel_set {
    const char* name;
    kind layout;
    kernel_fn<T> assign, accumulate;
};

template <size_t M, size_t K, size_t N, class T>
struct kernels {
    static constexpr size_t m = M, k = K, n = N;

    template <mode Mode>
    static void nn(const T* a, const T* b, T* c, T alpha) {
        kn::matmul<M, K, N, Mode>(a, b, c, alpha);
    }
    template <mode Mode>
    static void tn(const T* a, const T* b, T* c, T alpha) {
        kn::matmul_tn<M, K, N, Mode>(a, b, c, alpha);
    }
    template <mode Mode>
    static void nt(const T* a, const T* b, T* c, T alpha) {
        kn::matmul_nt<M, K, N, Mode>(a, b, c, alpha);
    }
    static std::array<kernel_set<T>, 3> all() {
        return {{{"matmul", kind::nn, &nn<mode::assign>, &nn<mode::accumulate>},
                 {"matmul_tn", kind::tn, &tn<mode::assign>, &tn<mode::accumulate>},
                 {"matmul_nt", kind::nt, &nt<mode::assign>, &nt<mode::accumulate>}}};
    }
};

template <size_t M, size_t K, size_t N>
struct dims {
    template <class T>
    using with = kernels<M, K, N, T>;
};

/// Integers in [-8, 8] (exact sums: up to 2^17 products stay exact in float) or reals in
/// [-1, 1].
template <class T>
struct draw {
    std::mt19937 gen;
    bool integers;
    T operator()() {
        if (integers) return T(std::uniform_int_distribution<int>(-8, 8)(gen));
        return T(std::uniform_real_distribution<double>(-1, 1)(gen));
    }
};

/// The operands of an [m, k]·[k, n] product in the three layouts, the naive product in long
/// double and, for the rounding bound, Σₖ |A(i, k)·B(k, j)|.
template <class T>
struct problem {
    size_t m, k, n;
    std::vector<T> a, at, b, bt;  // A [m, k], Aᵀ [k, m], B [k, n], Bᵀ [n, k]
    std::vector<long double> ref, abs_ref;

    problem(size_t m_, size_t k_, size_t n_, draw<T> d)
        : m(m_), k(k_), n(n_), a(m * k), at(m * k), b(k * n), bt(k * n) {
        for (size_t i = 0; i < m; ++i) {
            for (size_t l = 0; l < k; ++l) at[l * m + i] = a[i * k + l] = d();
        }
        for (size_t l = 0; l < k; ++l) {
            for (size_t j = 0; j < n; ++j) bt[j * k + l] = b[l * n + j] = d();
        }
        ref.assign(m * n, 0.0L);
        abs_ref.assign(m * n, 0.0L);
        for (size_t i = 0; i < m; ++i) {
            for (size_t j = 0; j < n; ++j) {
                for (size_t l = 0; l < k; ++l) {
                    const long double p = (long double)a[i * k + l] * b[l * n + j];
                    ref[i * n + j] += p;
                    abs_ref[i * n + j] += std::abs(p);
                }
            }
        }
    }

    /// Runs f on the operands in the layout it takes.
    void run(kind layout, kernel_fn<T> f, T* c, T alpha) const {
        f(layout == kind::tn ? at.data() : a.data(), layout == kind::nt ? bt.data() : b.data(), c,
          alpha);
    }
};

/// C with `guard` sentinel elements on each side, to catch writes out of bounds.
template <class T>
struct guarded {
    static constexpr size_t guard = 64;
    static constexpr T sentinel = T(-12345);
    std::vector<T> buf;
    explicit guarded(size_t n) : buf(n + 2 * guard, sentinel) {}
    T* data() { return buf.data() + guard; }
    T& operator[](size_t i) { return buf[guard + i]; }
    size_t size() const { return buf.size() - 2 * guard; }
    bool guards_intact() const {
        for (size_t i = 0; i < guard; ++i) {
            if (buf[i] != sentinel || buf[buf.size() - 1 - i] != sentinel) return false;
        }
        return true;
    }
};

/// The number of elements of C off from want by more than bound(i), reporting the first few; a
/// write outside C counts as one more.
template <class T, class Bound>
int count_off(const problem<T>& p, guarded<T>& c, const std::vector<long double>& want, Bound bound,
              const std::string& what) {
    int bad = 0;
    for (size_t i = 0; i < c.size(); ++i) {
        if (!(std::abs(c[i] - want[i]) <= bound(i)) && bad++ < 3) {
            BOOST_TEST_MESSAGE(what << ": C(" << i / p.n << ", " << i % p.n << ") = " << c[i]
                                    << ", expected " << (double)want[i]);
        }
    }
    if (!c.guards_intact()) {
        BOOST_TEST_MESSAGE(what << ": wrote outside C");
        ++bad;
    }
    return bad;
}

/// Each kernel of `ks` on p, against the naive product: assigned into C full of NaN (assign must
/// not read C), assigned with α = 1/4, accumulated onto C0 with α = -1/2. Exact (bound 0) on
/// integers; on reals within 2(k + 2)·eps·(|C0| + Σₖ|A(i, k)·B(k, j)|), as both the kernel and
/// the naive loop carry at most k·eps times that.
template <class T>
void check(const problem<T>& p, const std::array<kernel_set<T>, 3>& ks, bool exact) {
    const long double eps = exact ? 0.0L : (long double)std::numeric_limits<T>::epsilon();
    const long double gamma = 2 * (long double)(p.k + 2) * eps;
    const std::string size = std::to_string(p.m) + "x" + std::to_string(p.k) + "x" +
                             std::to_string(p.n) + (sizeof(T) == 4 ? " float " : " double ");
    std::vector<long double> want(p.m * p.n);
    guarded<T> c(p.m * p.n);
    std::vector<T> c0(p.m * p.n);
    draw<T> d{std::mt19937(7), true};
    for (T& x : c0) x = d();
    for (const kernel_set<T>& kernel : ks) {
        const std::string name = size + kernel.name;
        for (const T alpha : {T(1), T(0.25)}) {
            std::fill(c.data(), c.data() + c.size(), std::numeric_limits<T>::quiet_NaN());
            p.run(kernel.layout, kernel.assign, c.data(), alpha);
            for (size_t i = 0; i < want.size(); ++i) want[i] = alpha * p.ref[i];
            const auto bound = [&](size_t i) { return gamma * alpha * p.abs_ref[i]; };
            const std::string what = name + " assign, alpha = " + std::to_string(alpha);
            BOOST_TEST(count_off(p, c, want, bound, what) == 0, what);
        }
        std::copy(c0.begin(), c0.end(), c.data());
        p.run(kernel.layout, kernel.accumulate, c.data(), T(-0.5));
        for (size_t i = 0; i < want.size(); ++i) want[i] = c0[i] - 0.5L * p.ref[i];
        const auto bound = [&](size_t i) { return gamma * (std::abs(c0[i]) + p.abs_ref[i]); };
        const std::string what = name + " accumulate, alpha = -0.5";
        BOOST_TEST(count_off(p, c, want, bound, what) == 0, what);
    }
}

template <class Kernels, class T>
void check_all(bool exact) {
    const unsigned seed = unsigned(Kernels::m * 10007 + Kernels::k * 101 + Kernels::n);
    const problem<T> p(Kernels::m, Kernels::k, Kernels::n, draw<T>{std::mt19937(seed), exact});
    check(p, Kernels::all(), exact);
}

/// check_all for every size of a list. (One test case per list, not BOOST_AUTO_TEST_CASE_TEMPLATE:
/// a test case per size doubled this file's compile time; failures name their size.)
template <class T, class... Dims>
void check_sizes(std::tuple<Dims...>, bool exact) {
    (check_all<typename Dims::template with<T>, T>(exact), ...);
}

}  // namespace

// Sizes: 1 in every position, primes, and the remainders of the register block (MR = 6 or 8
// rows, NR = 2 or 3 vectors: 4 to 48 columns depending on T and the target) and of the k blocks
// (at most KC = 16 KiB / (NR·sizeof(T)) rows, 85 to 512: K = 343, 700, 1024 and 1031 make 1 to
// 13 blocks depending on the target, with one or several of them a row longer than the rest),
// in both types. Products of at most 64 multiply-adds (the first three) take the plain loop at
// run time. Products with fewer rows than a register block (M < MR) take the row kernel for
// matmul and matmul_tn: the last five sizes cover its tails (13 = 8 + 4 + 1 columns, 10 = 8 + 2,
// 333 columns in chunks of a register budget plus a tail, 1000 columns with prefetching: B is
// larger than the L1), and ASan checks it reads nothing past B.
using exact_sizes =
    std::tuple<dims<1, 1, 1>, dims<2, 3, 1>, dims<1, 9, 1>, dims<1, 70, 1>, dims<70, 1, 1>,
               dims<1, 1, 70>, dims<5, 5, 5>, dims<7, 13, 5>, dims<13, 11, 29>, dims<17, 19, 47>,
               dims<9, 2, 97>, dims<33, 31, 13>, dims<3, 700, 50>, dims<11, 343, 25>,
               dims<5, 1024, 9>, dims<2, 1031, 7>, dims<1, 7, 13>, dims<1, 100, 10>,
               dims<4, 37, 333>, dims<6, 29, 61>, dims<1, 301, 1000>>;

BOOST_AUTO_TEST_CASE(exact_double) {
    check_sizes<double>(exact_sizes{}, true);
}

BOOST_AUTO_TEST_CASE(exact_float) {
    check_sizes<float>(exact_sizes{}, true);
}

// The products of the layers of interest, in float (b = 1: one-sample inference): for
// X [b, i]·W [i, o] the forward product matmul<b, i, o>, dW = Xᵀ·dD = matmul_tn<i, b, o> and
// dX = dD·Wᵀ = matmul_nt<b, o, i> (each size below is checked with all three kernels).
using layer_sizes =
    std::tuple<dims<32, 100, 200>, dims<100, 32, 200>, dims<32, 200, 100>, dims<32, 200, 10>,
               dims<200, 32, 10>, dims<32, 10, 200>, dims<64, 784, 100>, dims<784, 64, 100>,
               dims<64, 100, 784>, dims<16, 32, 32>, dims<1, 784, 100>, dims<1, 100, 10>>;

BOOST_AUTO_TEST_CASE(exact_layers_float) {
    check_sizes<float>(layer_sizes{}, true);
}

BOOST_AUTO_TEST_CASE(exact_largest_layer_double) {
    check_sizes<double>(std::tuple<dims<64, 784, 100>>{}, true);
}

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
