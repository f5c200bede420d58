/// @file
/// The one include: expressions, every op, value, gradient, d, hessian, jvp, hvp,
/// to_string, tensors.
#pragma once

#include <ctgrad/ad/directional.hpp>
#include <ctgrad/ad/dual_sweep.hpp>
#include <ctgrad/ad/gradient.hpp>
#include <ctgrad/ad/hessian.hpp>
#include <ctgrad/ad/jacobian.hpp>
#include <ctgrad/ad/print.hpp>
#include <ctgrad/ad/program.hpp>
#include <ctgrad/ad/symbolic/d.hpp>
#include <ctgrad/ad/symbolic/simplify.hpp>
#include <ctgrad/config.hpp>
#include <ctgrad/core/binding.hpp>
#include <ctgrad/core/concepts.hpp>
#include <ctgrad/core/constant.hpp>
#include <ctgrad/core/literal.hpp>
#include <ctgrad/core/node.hpp>
#include <ctgrad/core/var.hpp>
#include <ctgrad/math/fpenv.hpp>
#include <ctgrad/math/vector.hpp>
#include <ctgrad/nn.hpp>
#include <ctgrad/ops.hpp>
#include <ctgrad/tensor/batch_norm.hpp>
#include <ctgrad/tensor/batch_norm2d.hpp>
#include <ctgrad/tensor/conv.hpp>
#include <ctgrad/tensor/dropout.hpp>
#include <ctgrad/tensor/matmul.hpp>
#include <ctgrad/tensor/ops.hpp>
#include <ctgrad/tensor/program.hpp>
#include <ctgrad/tensor/shape.hpp>
#include <ctgrad/tensor/tensor.hpp>
