// batch_norm2d with a momentum above 1: the options are checked once for both batch-norm ops
// (tensor/batch_norm.hpp, detail::batch_norm_common).
// expect: ctgrad::batch_norm_options: the momentum of the running estimates must be in [0, 1]
#include <ctgrad/ctgrad.hpp>

#include <functional>

constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, 2, 3, 4, 4>>;
constexpr auto G = ctgrad::var<"G", ctgrad::tensor<float, 3>>;
constexpr auto B = ctgrad::var<"B", ctgrad::tensor<float, 3>>;
constexpr auto M = ctgrad::var<"M", ctgrad::tensor<float, 3>>;
constexpr auto V = ctgrad::var<"V", ctgrad::tensor<float, 3>>;
#ifndef CTGRAD_CF_CONTROL
constexpr ctgrad::batch_norm_options opts{.momentum_num = 3, .momentum_den = 2};
#else
constexpr ctgrad::batch_norm_options opts{.momentum_num = 1, .momentum_den = 2};
#endif

float f(const ctgrad::tensor<float, 2, 3, 4, 4>& x, const ctgrad::tensor<float, 3>& g,
        const ctgrad::tensor<float, 3>& b, ctgrad::tensor<float, 3>& m,
        ctgrad::tensor<float, 3>& v) {
    return ctgrad::value(ctgrad::sum(ctgrad::batch_norm2d<opts>(X, G, B, M, V)), X = x, G = g,
                         B = b, M = std::ref(m), V = std::ref(v));
}
