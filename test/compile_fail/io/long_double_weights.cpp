// Saving a pack whose parameters are long double: weight files hold float and double only.
// expect: weight files hold float and double tensors only
#include <ctgrad/ctgrad.hpp>
#include <ctgrad/io/safetensors.hpp>
#include <ctgrad/nn/parameters.hpp>

#ifndef CTGRAD_CF_CONTROL
using T = long double;
#else
using T = double;
#endif
constexpr auto A = ctgrad::var<"a", ctgrad::tensor<T, 3>>;
using pack = ctgrad::nn::parameters<ctgrad::detail::type_list<std::remove_cvref_t<decltype(A)>>>;

void save(const pack& p) {
    ctgrad::io::save_safetensors("w.safetensors", p);
}
