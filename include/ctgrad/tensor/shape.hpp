/// @file
/// Shapes of expressions live in core/shape.hpp (every expression, scalar or tensor, has one
/// and make_node checks them); this header is kept for code that includes it from tensor/.
#pragma once

#include <ctgrad/core/shape.hpp>
