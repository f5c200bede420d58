// Test support: central finite differences and tolerant comparison.
#pragma once

#include <algorithm>  // std::max
#include <cmath>      // std::abs, std::cbrt, std::isfinite
#include <limits>     // std::numeric_limits

namespace ctgrad::test {

/// Step for a central difference at x: cbrt(eps) * max(1, |x|) balances truncation
/// (O(h^2)) and rounding (O(eps/h)) errors.
inline double fd_step(double x) {
    return std::cbrt(std::numeric_limits<double>::epsilon()) * std::max(1.0, std::abs(x));
}

/// The step at x for a function defined only above `lower` (log: 0, log1p: -1): the central
/// difference must not leave the domain, and near the edge it must be small relative to the
/// distance to it.
inline double fd_step(double x, double lower) {
    const double h = fd_step(x);
    const double room = (x - lower) * 1e-4;
    return room < h ? room : h;
}

/// f(t), rounded to a double by an out-of-line call: with FMA targets g++ contracts across
/// statements by default, and would otherwise fuse f's last product into the difference below
/// (f(h) - f(-h) of t*t at 0 then gives the rounding error of h², not 0).
template <class F>
[[gnu::noinline]] double evaluate(F& f, double t) {
    return f(t);
}

/// (f(x + h) - f(x - h)) / (2h), with both values rounded to double first.
template <class F>
double central_difference(F f, double x, double h) {
    return (evaluate(f, x + h) - evaluate(f, x - h)) / (2 * h);
}

template <class F>
double central_difference(F f, double x) {
    return central_difference(f, x, fd_step(x));
}

/// A derivative agrees with its central difference when they differ by at most the two errors
/// of the difference: truncation, relative to the derivative (`rel_tol`), and rounding, about
/// eps * |f| / h for a function of size |f| differenced with step h.
inline bool fd_agrees(double exact, double fd, double f_size, double h, double rel_tol = 1e-6) {
    if (exact == fd) {
        return true;
    }
    if (!std::isfinite(exact) || !std::isfinite(fd)) {
        return false;
    }
    const double rounding = 64 * std::numeric_limits<double>::epsilon() * std::abs(f_size) / h;
    return std::abs(exact - fd) <= rel_tol * std::max(std::abs(exact), std::abs(fd)) + rounding +
                                       std::numeric_limits<double>::min();
}

/// |a - b| <= tol * max(|a|, |b|): relative agreement (equal infinities agree).
inline bool close(double a, double b, double tol) {
    if (a == b) {
        return true;  // also equal infinities
    }
    if (!std::isfinite(a) || !std::isfinite(b)) {
        return false;
    }
    return std::abs(a - b) <= tol * std::max(std::abs(a), std::abs(b));
}

/// |a − b| within tol relative to the larger magnitude, usable in constant expressions (the
/// static_assert checks of the second-order tests; std::abs is not constexpr in C++20).
constexpr bool near(double a, double b, double tol) {
    const auto mag = [](double v) { return v < 0 ? -v : v; };
    return mag(a - b) <= tol * (mag(a) > mag(b) ? mag(a) : mag(b)) + 1e-300;
}

}  // namespace ctgrad::test
