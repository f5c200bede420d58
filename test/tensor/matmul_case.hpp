// The matmul kernels' checks shared by the TUs of tensor/matmul (matmul_test.cpp and the
// matmul_exact_*_test.cpp files: one executable in several TUs, so that the sizes, each a set of
// kernel instantiations, compile in parallel): kernels<M, K, N, T>, problem, check_all, and the
// size lists.
#pragma once

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

namespace matmul_test {

namespace kn = ctgrad::kernels;
using kn::mode;
using std::size_t;

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

// The products of the layers of interest, in float (b = 1: one-sample inference): for
// X [b, i]·W [i, o] the forward product matmul<b, i, o>, dW = Xᵀ·dD = matmul_tn<i, b, o> and
// dX = dD·Wᵀ = matmul_nt<b, o, i> (each size below is checked with all three kernels).
using layer_sizes =
    std::tuple<dims<32, 100, 200>, dims<100, 32, 200>, dims<32, 200, 100>, dims<32, 200, 10>,
               dims<200, 32, 10>, dims<32, 10, 200>, dims<64, 784, 100>, dims<784, 64, 100>,
               dims<64, 100, 784>, dims<16, 32, 32>, dims<1, 784, 100>, dims<1, 100, 10>>;

}  // namespace matmul_test
