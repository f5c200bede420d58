// One-row products x [1, K]·W [K, N] (tensor/matmul.hpp, "Few rows"): the flat stream that a
// row whose B is larger than half an L1 and whose N is not a whole number of vectors takes
// (flat_body: the lanes repeat their columns every P = W / gcd(N, W) rows), and the row kernel
// it falls back to, against a plain loop in long double:
//  - exactly, on integer-valued inputs (every partial sum exact, so any summation order gives
//    the plain loop's result bit for bit);
//  - sizes chosen so that, with the float and double lanes of SSE2, AVX2 and AVX-512 (the
//    executable runs once per instruction set, test/meson.build), the flat stream runs with
//    periods of 2, 4, 8 and 16 rows, with K a whole number of periods and with 1 to 15 rows
//    left (the last vector of B then partial: ASan checks nothing past B is read), and the
//    row kernel runs where the period needs too many registers;
//  - B at a 64-byte aligned address (the flat stream) and one element past it (the row kernel:
//    the flat stream takes only an aligned B); assign never reads C (C starts as NaN); accumulate
//    adds α times the product to C; nothing outside C is written; A and B are not modified.
#define BOOST_TEST_MODULE tensor_matmul_rows
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <new>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <ctgrad/tensor/matmul.hpp>

namespace kn = ctgrad::kernels;
using std::size_t;

namespace {

template <size_t K, size_t N>
struct dims {};

/// An allocator of 64-byte aligned arrays (B at a vector boundary of every instruction set).
template <class T>
struct aligned {
    using value_type = T;
    aligned() = default;
    template <class U>
    explicit aligned(const aligned<U>&) {}
    T* allocate(size_t n) {
        return static_cast<T*>(::operator new (n * sizeof(T), std::align_val_t{64}));
    }
    void deallocate(T* p, size_t) { ::operator delete (p, std::align_val_t{64}); }
    friend bool operator==(const aligned&, const aligned&) { return true; }
};

/// The product on one row, every kernel entry that takes it (matmul, and matmul_tn whose A
/// [K, 1] is the same numbers), in both modes and with both α, against the plain loop.
template <class T, size_t K, size_t N>
void check(dims<K, N>) {
    std::mt19937 gen(unsigned(K * 1009 + N));
    std::uniform_int_distribution<int> d(-8, 8);
    std::vector<T> a(K), c0(N);
    std::vector<T, aligned<T>> bbuf(K * N + 16);
    for (T& x : a) x = T(d(gen));
    for (T& x : bbuf) x = T(d(gen));
    for (T& x : c0) x = T(d(gen));
    const std::vector<T> a_in = a, b_in(bbuf.begin(), bbuf.end());
    constexpr size_t guard = 16;
    const T sentinel = T(-12345);
    for (const size_t offset : {size_t(0), size_t(1)}) {
        const T* b = bbuf.data() + offset;
        std::vector<long double> ref(N, 0.0L);
        for (size_t j = 0; j < N; ++j) {
            for (size_t k = 0; k < K; ++k) ref[j] += (long double)a[k] * b[k * N + j];
        }
        for (int entry = 0; entry < 2; ++entry) {
            for (int acc = 0; acc < 2; ++acc) {
                for (const T alpha : {T(1), T(0.25), T(-0.5)}) {
                    std::vector<T> cbuf(N + 2 * guard, sentinel);
                    T* c = cbuf.data() + guard;
                    for (size_t j = 0; j < N; ++j) {
                        c[j] = acc ? c0[j] : std::numeric_limits<T>::quiet_NaN();
                    }
                    if (entry == 0 && acc == 0) kn::matmul<1, K, N>(a.data(), b, c, alpha);
                    if (entry == 0 && acc == 1) {
                        kn::matmul<1, K, N, kn::mode::accumulate>(a.data(), b, c, alpha);
                    }
                    if (entry == 1 && acc == 0) kn::matmul_tn<1, K, N>(a.data(), b, c, alpha);
                    if (entry == 1 && acc == 1) {
                        kn::matmul_tn<1, K, N, kn::mode::accumulate>(a.data(), b, c, alpha);
                    }
                    int bad = 0;
                    for (size_t j = 0; j < N; ++j) {
                        const long double want = (acc ? (long double)c0[j] : 0.0L) + alpha * ref[j];
                        if (!(c[j] == want) && bad++ < 3) {
                            BOOST_TEST_MESSAGE("C(0, " << j << ") = " << c[j] << ", expected "
                                                       << double(want));
                        }
                    }
                    for (size_t g = 0; g < guard; ++g) {
                        bad += cbuf[g] != sentinel;
                        bad += cbuf[guard + N + g] != sentinel;
                    }
                    const std::string what =
                        "1x" + std::to_string(K) + "x" + std::to_string(N) +
                        (sizeof(T) == 4 ? " float" : " double") +
                        (entry ? " matmul_tn" : " matmul") + (acc ? " accumulate" : " assign") +
                        " alpha " + std::to_string(alpha) + " B offset " + std::to_string(offset);
                    BOOST_TEST(bad == 0, what);
                }
            }
        }
    }
    BOOST_TEST((a == a_in && std::equal(bbuf.begin(), bbuf.end(), b_in.begin())),
               "inputs modified");
}

template <class T, class... D>
void check_sizes(std::tuple<D...>) {
    (check<T>(D{}), ...);
}

// N = 100 (the MLP's hidden layer; 783 leaves 3 rows of a 4-row period with 16 float lanes),
// N = 10 (periods of 2 to 8 rows), N = 20 with 1 row left, N = 36 with 2 left, N = 23 (prime:
// a 16-row period, 7 rows and a partial vector left), N = 37 (too many registers for a period:
// the row kernel), and B below half an L1 (the row kernel).
using sizes = std::tuple<dims<784, 100>, dims<783, 100>, dims<1000, 10>, dims<517, 20>,
                         dims<130, 36>, dims<263, 23>, dims<999, 37>, dims<50, 36>>;

}  // namespace

BOOST_AUTO_TEST_CASE(exact_float) {
    BOOST_TEST_MESSAGE("kernels: " << kn::isa_name(kn::active_isa()));
    check_sizes<float>(sizes{});
}

BOOST_AUTO_TEST_CASE(exact_double) {
    check_sizes<double>(sizes{});
}
