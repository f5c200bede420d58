// A sum of 1024 terms c[i]·x written by a template: no `auto` piece is copied, but its 2047
// pieces have 12 types, each holding its own number, so the plan would be as large as one of
// copies and it is refused the same way where it is built. value, gradient, hessian, jvp and
// hvp on it add no error of their own (the two below are the only ones).
// expect: copies a subexpression that holds a run-time number
// expect: Pieces of one type built one by one, each with its own number
// expect: subexpression_holding_a_number_is_reused<ctgrad::ops::add_op, 1536, 12>
// errors: 2
#include <ctgrad/ctgrad.hpp>

using namespace ctgrad::literals;

constexpr auto x = ctgrad::var<"x">;

template <int D>
auto terms(const double* c) {
    if constexpr (D == 0) {
#ifndef CTGRAD_CF_CONTROL
        return x * c[0];
#else
        return x * 0.5_c;  // exact: one plan entry however often it occurs
#endif
    } else {
        return terms<D - 1>(c) + terms<D - 1>(c + (1 << (D - 1)));
    }
}

double f(const double* c) {
    const auto e = terms<10>(c);
    const auto g = ctgrad::gradient(e, x = 1.0);
    const auto h = ctgrad::hessian(e, x = 1.0);
    const auto t = ctgrad::jvp(e, ctgrad::along(x = 1.0), x = 1.0);
    const auto hv = ctgrad::hvp(e, ctgrad::along(x = 1.0), x = 1.0);
    return ctgrad::value(e, x = 1.0) + g[x] + h(x, x) + t.tangent + hv[x];
}
