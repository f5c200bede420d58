/// @file
/// The constexpr math: every function of ctgrad::math.
///
/// Each function is std::'s at run time, bit for bit, and during constant evaluation a
/// fdlibm-derived implementation that GCC and Clang both evaluate (no std:: math function
/// is called there). float and double are computed in double, long double in long double
/// with the accuracy of double. Largest errors of the constant-evaluation path for double,
/// against the exact value, measured over 10^6 random arguments each (test/math/ checks
/// bounds over its own sweeps, also against std::), in ulp:
/// exp 0.90, expm1 0.81, log 0.89, log1p 0.82; sqrt correctly rounded, cbrt 0.50, pow 0.86;
/// sin and cos 0.77 (any argument); tanh 0.93, sinh 1.72, cosh 1.26; erf 1.00, erfc 2.4;
/// sigmoid 2.01 (the error of its stable formula itself, in both modes).
#pragma once

#include <ctgrad/math/activation.hpp>
#include <ctgrad/math/dual.hpp>
#include <ctgrad/math/exp_log.hpp>
#include <ctgrad/math/fpenv.hpp>
#include <ctgrad/math/hyperbolic.hpp>
#include <ctgrad/math/power.hpp>
#include <ctgrad/math/special.hpp>
#include <ctgrad/math/trig.hpp>
#include <ctgrad/math/vector.hpp>
