// The reference losses of tensor/mlp_reference's cases, compiled in their own TU
// (mlp_reference_loss.cpp, test/meson.build's test_heavy_parts): the finite differences at the
// benchmark sizes evaluate them a few hundred times, which at the sanitizer build's -O0 took
// 430 s; that TU is compiled at -O1 there, the test's own TU at -O0 (bench/README.md, "Test-suite
// time, twelfth pass").
#pragma once

#include "../../bench/tensor/mlp_cases.hpp"

namespace mlp_reference {

namespace mc = mlp_cases;

// Small instances (every parameter is checked) and the benchmark sizes, in double.
using small_regression = mc::regression_mlp<double, 3, 5, 7, 4>;
using small_classifier = mc::classifier_mlp<double, 4, 6, 5, 3>;
using small_deep = mc::deep_tanh<double, 3, 4, 5>;
using regression_f64 = mc::regression_mlp<double, 32, 100, 200, 10>;
using classifier_f64 = mc::classifier_mlp<double, 64, 784, 100, 10>;
using deep_f64 = mc::deep_tanh<double, 16, 32, 20>;

/// Case::reference_loss(p, d), defined (explicitly instantiated) in mlp_reference_loss.cpp for
/// the six cases above and the three float benchmark cases (mlp_cases::mlp_step_32x100x200x10,
/// mlp_step_64x784x100x10, deep_mlp_step_d20w32).
template <class Case>
double reference_loss(const typename Case::params& p, const typename Case::data& d);

}  // namespace mlp_reference
