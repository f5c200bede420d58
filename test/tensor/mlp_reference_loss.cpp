// Case::reference_loss of tensor/mlp_reference's double cases, out of line (see
// mlp_reference_loss.hpp): part of the test_tensor_mlp_reference executable, no test cases.
#include "mlp_reference_loss.hpp"

namespace mlp_reference {

template <class Case>
double reference_loss(const typename Case::params& p, const typename Case::data& d) {
    return Case::reference_loss(p, d);
}

template double reference_loss<small_regression>(const small_regression::params&,
                                                 const small_regression::data&);
template double reference_loss<small_classifier>(const small_classifier::params&,
                                                 const small_classifier::data&);
template double reference_loss<small_deep>(const small_deep::params&, const small_deep::data&);
template double reference_loss<regression_f64>(const regression_f64::params&,
                                               const regression_f64::data&);
template double reference_loss<classifier_f64>(const classifier_f64::params&,
                                               const classifier_f64::data&);
template double reference_loss<deep_f64>(const deep_f64::params&, const deep_f64::data&);
template double reference_loss<mc::mlp_step_32x100x200x10>(
    const mc::mlp_step_32x100x200x10::params&, const mc::mlp_step_32x100x200x10::data&);
template double reference_loss<mc::mlp_step_64x784x100x10>(
    const mc::mlp_step_64x784x100x10::params&, const mc::mlp_step_64x784x100x10::data&);
template double reference_loss<mc::deep_mlp_step_d20w32>(const mc::deep_mlp_step_d20w32::params&,
                                                         const mc::deep_mlp_step_d20w32::data&);

}  // namespace mlp_reference
