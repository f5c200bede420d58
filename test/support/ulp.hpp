// Test support: distances in ulps, and the sweeps that measure the constexpr math with them.
//  - ulp_distance(a, b): how many representable values apart two floats or doubles are
//    (constexpr: usable in static_assert);
//  - ulp_error(value, reference): the error of a value in ulps of its type, against a
//    reference of more precision (long double for double, double for float);
//  - sweep points: deterministic samples over a range, linear or logarithmic;
//  - worst_distance / worst_error: the largest of those over a sweep, and where it occurs;
//  - check_*: the Boost.Test assertions built on them (each logs its maximum, visible with
//    --log_level=message).
#pragma once

#include <bit>          // std::bit_cast
#include <cmath>        // std::exp2, std::fabs, std::isfinite, std::isnan
#include <cstdint>      // std::int32_t, std::int64_t, std::uint32_t, std::uint64_t
#include <iomanip>      // std::setprecision
#include <limits>       // std::numeric_limits
#include <string_view>  // std::string_view
#include <type_traits>  // std::conditional_t, std::is_same_v
#include <vector>       // std::vector

#include <boost/test/unit_test.hpp>

namespace ctgrad::test {

namespace detail {

/// The bits of x as a signed integer that orders like x (-0 and +0 both map to 0).
constexpr std::int64_t ordered_bits(double x) {
    const auto i = std::bit_cast<std::int64_t>(x);
    return i < 0 ? std::numeric_limits<std::int64_t>::min() - i : i;
}

constexpr std::int64_t ordered_bits(float x) {
    const auto i = std::bit_cast<std::int32_t>(x);
    return i < 0 ? std::int64_t{std::numeric_limits<std::int32_t>::min()} - i : std::int64_t{i};
}

/// The float or double next to a finite x >= 0 upwards (`up`), or towards 0 (x > 0): its bits
/// plus or minus one, the value std::nextafter returns there, without a call into libm
/// (ulp_error runs once per input of the math sweeps: ~40 million per function in math/vector).
template <class T>
constexpr T next_magnitude(T x, bool up) {
    using bits =
        std::conditional_t<sizeof(T) == sizeof(std::uint32_t), std::uint32_t, std::uint64_t>;
    static_assert(sizeof(T) == sizeof(bits));
    const auto i = std::bit_cast<bits>(x);
    return std::bit_cast<T>(static_cast<bits>(up ? i + 1u : i - 1u));
}

}  // namespace detail

/// The number of representable values between a and b (0 when they are equal, +0 and -0
/// included, or both NaN; the maximum when exactly one is NaN). Infinities are the values
/// after max(), so inf is 1 ulp from max().
template <class T>
    requires std::is_same_v<T, float> || std::is_same_v<T, double>
constexpr std::uint64_t ulp_distance(T a, T b) {
    if (a != a || b != b) {
        return (a != a && b != b) ? 0 : std::numeric_limits<std::uint64_t>::max();
    }
    const std::int64_t ka = detail::ordered_bits(a);
    const std::int64_t kb = detail::ordered_bits(b);
    return ka > kb ? static_cast<std::uint64_t>(ka) - static_cast<std::uint64_t>(kb)
                   : static_cast<std::uint64_t>(kb) - static_cast<std::uint64_t>(ka);
}

/// True if a and b are at most n ulps apart.
template <class T>
constexpr bool within_ulps(T a, T b, std::uint64_t n) {
    return ulp_distance(a, b) <= n;
}

/// |value - reference| in ulps of T at the reference (rounded to T), as a real number; the
/// reference has more precision than T. 0 when both are the same infinity or both NaN, and
/// infinite when only one of them is not finite.
template <class T, class R>
    requires std::is_same_v<T, float> || std::is_same_v<T, double>
double ulp_error(T value, R reference) {
    // Round to T by hand past max(): the conversion of an out-of-range value is undefined.
    constexpr T max = std::numeric_limits<T>::max();
    constexpr T max_ulp = max - detail::next_magnitude(max, false);
    const R overflow = static_cast<R>(max) + static_cast<R>(max_ulp) / 2;
    const T rounded = std::fabs(reference) >= overflow
                          ? (reference > 0 ? std::numeric_limits<T>::infinity()
                                           : -std::numeric_limits<T>::infinity())
                          : static_cast<T>(reference);
    if (!std::isfinite(rounded) || !std::isfinite(value)) {
        const bool same = value == rounded || (std::isnan(value) && std::isnan(rounded));
        return same ? 0.0 : std::numeric_limits<double>::infinity();
    }
    // The spacing of T in the binade of the reference: below a power of two that the
    // reference rounded up to, it is the spacing under that power.
    const T magnitude = std::fabs(rounded);
    const bool rounded_up = static_cast<R>(magnitude) > std::fabs(reference);
    // (magnitude > 0 when rounded up; below max() the next value up is finite)
    const T ulp = rounded_up         ? magnitude - detail::next_magnitude(magnitude, false)
                  : magnitude == max ? max_ulp
                                     : detail::next_magnitude(magnitude, true) - magnitude;
    return static_cast<double>(std::fabs(static_cast<R>(value) - reference) / static_cast<R>(ulp));
}

/// A 64-bit generator (splitmix64) so that the sweeps are the same on every platform.
class sample_source {
public:
    explicit sample_source(std::uint64_t seed) : state_(seed) {}

    /// Uniform in [0, 1).
    double next() {
        state_ += 0x9e3779b97f4a7c15u;
        std::uint64_t z = state_;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
        z ^= z >> 31;
        return static_cast<double>(z >> 11) * 0x1p-53;
    }

private:
    std::uint64_t state_;
};

/// n points spread over [lo, hi] (uniform in value), appended to `points`.
template <class T>
void add_linear(std::vector<T>& points, double lo, double hi, int n, std::uint64_t seed = 1) {
    sample_source s(seed);
    for (int i = 0; i < n; ++i) {
        points.push_back(static_cast<T>(lo + (hi - lo) * s.next()));
    }
}

/// n points with |x| = 2^e, e uniform in [lo_exp2, hi_exp2] (so tiny, moderate and huge
/// magnitudes alike), positive, or of both signs when `both_signs`.
template <class T>
void add_logarithmic(std::vector<T>& points, double lo_exp2, double hi_exp2, int n, bool both_signs,
                     std::uint64_t seed = 2) {
    sample_source s(seed);
    for (int i = 0; i < n; ++i) {
        const double e = lo_exp2 + (hi_exp2 - lo_exp2) * s.next();
        T x = 0;
        if constexpr (sizeof(T) > sizeof(double)) {
            x = std::exp2(static_cast<T>(e));  // beyond the exponent range of double
        } else {
            x = static_cast<T>(std::exp2(e));
        }
        points.push_back(both_signs && s.next() < 0.5 ? -x : x);
    }
}

template <class T>
struct worst_distance {
    std::uint64_t ulps = 0;
    T at = 0;
};

/// The largest ulp_distance(f(x), g(x)) over the points.
template <class T, class F, class G>
worst_distance<T> max_ulp_distance(const std::vector<T>& points, F f, G g) {
    worst_distance<T> w;
    for (const T x : points) {
        const std::uint64_t d = ulp_distance(static_cast<T>(f(x)), static_cast<T>(g(x)));
        if (d > w.ulps) {
            w = {d, x};
        }
    }
    return w;
}

template <class T>
struct worst_error {
    double ulps = 0;
    T at = 0;
};

/// The largest ulp_error(f(x), reference(x)) over the points.
template <class T, class F, class R>
worst_error<T> max_ulp_error(const std::vector<T>& points, F f, R reference) {
    worst_error<T> w;
    for (const T x : points) {
        const double e = ulp_error(static_cast<T>(f(x)), reference(x));
        if (e > w.ulps) {
            w = {e, x};
        }
    }
    return w;
}

/// True when long double carries more precision than double, so that std:: in long double
/// can serve as the reference for the accuracy of double results (x86-64, aarch64 Linux;
/// not MSVC, where the accuracy checks are skipped).
inline constexpr bool long_double_is_wider =
    std::numeric_limits<long double>::digits >= std::numeric_limits<double>::digits + 10;

/// BOOST_TEST that f(x) and g(x) are at most `bound` ulps apart at every point.
template <class T, class F, class G>
void check_ulp_distance(std::string_view what, const std::vector<T>& points, F f, G g,
                        std::uint64_t bound) {
    const worst_distance<T> w = max_ulp_distance(points, f, g);
    BOOST_TEST_MESSAGE(what << ": at most " << w.ulps << " ulp apart over " << points.size()
                            << " points (x = " << std::setprecision(17) << w.at << ")");
    BOOST_TEST(w.ulps <= bound, what << ": " << w.ulps << " ulp apart (bound " << bound
                                     << ") at x = " << std::setprecision(17) << w.at);
}

/// BOOST_TEST that f(x) is within `bound` ulps of the more precise reference(x) at every
/// point.
template <class T, class F, class R>
void check_ulp_error(std::string_view what, const std::vector<T>& points, F f, R reference,
                     double bound) {
    const worst_error<T> w = max_ulp_error(points, f, reference);
    BOOST_TEST_MESSAGE(what << ": error at most " << std::setprecision(3) << w.ulps << " ulp over "
                            << points.size() << " points (x = " << std::setprecision(17) << w.at
                            << ")");
    BOOST_TEST(w.ulps <= bound, what << ": error " << std::setprecision(3) << w.ulps
                                     << " ulp (bound " << bound
                                     << ") at x = " << std::setprecision(17) << w.at);
}

/// BOOST_TEST that f(x) and g(x) have the same bits at every point (so -0 differs from +0).
template <class T, class F, class G>
void check_bit_identical(std::string_view what, const std::vector<T>& points, F f, G g) {
    using bits = std::conditional_t<sizeof(T) == 8, std::uint64_t, std::uint32_t>;
    std::size_t mismatches = 0;
    T first = 0;
    for (const T x : points) {
        const auto a = std::bit_cast<bits>(static_cast<T>(f(x)));
        const auto b = std::bit_cast<bits>(static_cast<T>(g(x)));
        if (a != b && mismatches++ == 0) {
            first = x;
        }
    }
    BOOST_TEST(mismatches == 0u,
               what << ": " << mismatches << " of " << points.size()
                    << " points differ, the first at x = " << std::setprecision(17) << first);
}

/// BOOST_TEST that f(x) is within `bound` ulps *of double* of g(x) (relative error over
/// double's epsilon) at every point: the claim made for long double arguments, which are
/// computed in long double with double's coefficients.
template <class F, class G>
void check_long_double(std::string_view what, const std::vector<long double>& points, F f, G g,
                       double bound) {
    double worst = 0;
    long double at = 0;
    for (const long double x : points) {
        const long double a = f(x);
        const long double b = g(x);
        double e = 0;
        if (b == 0 || !std::isfinite(b)) {
            e = (a == b) ? 0.0 : std::numeric_limits<double>::infinity();
        } else {
            constexpr auto eps = static_cast<long double>(std::numeric_limits<double>::epsilon());
            e = static_cast<double>(std::fabs((a - b) / b) / eps);
        }
        if (!(e <= worst)) {
            worst = e;
            at = x;
        }
    }
    BOOST_TEST_MESSAGE(what << ": relative error at most " << std::setprecision(3) << worst
                            << " double ulp over " << points.size()
                            << " points (x = " << std::setprecision(21) << at << ")");
    BOOST_TEST(worst <= bound, what << ": relative error " << std::setprecision(3) << worst
                                    << " double ulp (bound " << bound
                                    << ") at x = " << std::setprecision(21) << at);
}

}  // namespace ctgrad::test
