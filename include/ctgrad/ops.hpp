/// @file
/// Every op family (the only list of families).
#pragma once

#include <ctgrad/ops/activation.hpp>
#include <ctgrad/ops/arithmetic.hpp>
#include <ctgrad/ops/exp_log.hpp>
#include <ctgrad/ops/hyperbolic.hpp>
#include <ctgrad/ops/piecewise.hpp>
#include <ctgrad/ops/power.hpp>
#include <ctgrad/ops/special.hpp>
#include <ctgrad/ops/trig.hpp>
