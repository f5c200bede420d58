// Dropout's step counter declared as a plain variable: counters are known by their type (so that
// checkpoints and mpi::average treat them as the integers they hold, and a user's own "x.step"
// is left alone), so ctgrad::dropout takes only a variable declared with ctgrad::dropout_counter.
// expect: ctgrad::dropout: the step counter must be a variable declared with ctgrad::dropout_counter
#include <ctgrad/ctgrad.hpp>

#include <functional>

constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, 4, 3>>;
#ifndef CTGRAD_CF_CONTROL
constexpr auto S = ctgrad::var<"drop.step", ctgrad::tensor<float, 1>>;
#else
constexpr auto S = ctgrad::dropout_counter<"drop.step">;
#endif

float f(const ctgrad::tensor<float, 4, 3>& x, ctgrad::tensor<float, 1>& step) {
    return ctgrad::value(ctgrad::sum(ctgrad::dropout<1, 1, 2>(X, S)), X = x, S = std::ref(step));
}
