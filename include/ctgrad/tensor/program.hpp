/// @file
/// The sweeps of expressions over tensors, planned at compile time from the expression type, in
/// three files that a reader follows in order from `gradient()` to the generated code:
/// - tensor/schedule.hpp: the compile-time decisions (what is stored, inlined, assigned or
///   accumulated; which scalars each loop hoists), as constexpr tables indexed by plan entry;
/// - tensor/workspace.hpp: where each stored value and adjoint lives in the one workspace;
/// - tensor/engine.hpp: the steps (fused loops and kernel calls), each a small type named after
///   what it computes, and the engine that binds one call's memory and runs them in order.
#pragma once

#include <ctgrad/tensor/engine.hpp>
#include <ctgrad/tensor/schedule.hpp>
#include <ctgrad/tensor/workspace.hpp>
