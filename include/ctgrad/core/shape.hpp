/// @file
/// Shapes of expressions: `shape<Dims...>`, the shape of every expression type (a scalar has
/// shape<>), and the broadcasting rule of elementwise ops. Shapes are computed from types
/// alone, so a mismatch is a compile error at the line that builds the expression.
#pragma once

#include <array>        // std::array
#include <cstddef>      // std::size_t
#include <type_traits>  // std::is_same_v

#include <ctgrad/core/fwd.hpp>
#include <ctgrad/detail/fixed_string.hpp>
#include <ctgrad/detail/type_list.hpp>

namespace ctgrad {

template <class T, std::size_t... Dims>
struct tensor;

/// The shape of an expression: its dimensions, outermost first (row-major). shape<> is a
/// scalar.
template <std::size_t... Dims>
struct shape {
    static constexpr std::size_t rank = sizeof...(Dims);
    static constexpr std::size_t count = (std::size_t{1} * ... * Dims);
    static constexpr std::array<std::size_t, rank> dims{Dims...};
    /// The shape seen as a matrix: every dimension but the last are rows, the last is columns
    /// (a scalar is 1 × 1, a vector 1 × n). Loops over expressions run over rows × cols.
    static constexpr std::size_t cols = rank == 0 ? 1 : dims[rank == 0 ? 0 : rank - 1];
    static constexpr std::size_t rows = count / cols;
};

/// Diagnostic types: left incomplete and instantiated next to a static_assert, so that the
/// compiler prints the operation and the shapes involved.
template <class Op, class... Shapes>
struct elementwise_shapes_do_not_broadcast;

template <class Op, class... Shapes>
struct tensor_op_shape_mismatch;

namespace detail {

/// The shape of an expression type. Variables of scalar kind, literals and run-time constants
/// are scalars; a variable of kind tensor<T, Dims...> has shape<Dims...>; a node's shape is
/// its op's rule applied to its arguments' shapes (see node_shape).
template <class E>
struct shape_of {
    using type = shape<>;
};

/// Selects where the shape of E is read: a node's is its member `ctgrad_shape_t` (computed by
/// node_base, core/node.hpp, when the node is built: no class is instantiated per node to name
/// it), a leaf's is shape_of<E>.
template <bool Node>
struct shape_reader {
    template <class E>
    using type = typename shape_of<E>::type;
};

template <>
struct shape_reader<true> {
    template <class E>
    using type = typename E::ctgrad_shape_t;
};

template <class E>
using shape_of_t = typename shape_reader<is_node<E>::value>::template type<E>;

template <fixed_string Name, class T, std::size_t... Dims>
struct shape_of<variable<Name, tensor<T, Dims...>>> {
    using type = shape<Dims...>;
};

/// Ops that are not elementwise (matmul, reductions, softmax, ...) mark themselves with
/// `static constexpr bool tensor_op = true` and give their result shape as
/// `template <class... ArgShapes> using result = shape<...>`.
template <class Op>
concept tensor_op = requires {
    requires Op::tensor_op;
};

/// The shapes two operands of an elementwise op broadcast to, or void. Equal shapes, a scalar
/// with anything, and (for results of rank at most 2) numpy's rule on the shapes aligned at
/// the right: each dimension equal or 1 (a row vector [O] over a matrix [N, O], a column
/// [N, 1] over [N, O]).
template <class A, class B>
struct broadcast2 {
    static constexpr auto compute() {
        if constexpr (std::is_same_v<A, B>) {
            return A{};
        } else if constexpr (A::rank == 0) {
            return B{};
        } else if constexpr (B::rank == 0) {
            return A{};
        } else if constexpr (A::rank <= 2 && B::rank <= 2) {
            constexpr std::size_t ar = A::rank == 2 ? A::dims[0] : 1, ac = A::cols;
            constexpr std::size_t br = B::rank == 2 ? B::dims[0] : 1, bc = B::cols;
            constexpr bool rows_ok = ar == br || ar == 1 || br == 1;
            constexpr bool cols_ok = ac == bc || ac == 1 || bc == 1;
            if constexpr (rows_ok && cols_ok) {
                constexpr std::size_t r = ar > br ? ar : br, c = ac > bc ? ac : bc;
                if constexpr (A::rank == 2 || B::rank == 2) {
                    return shape<r, c>{};
                } else {
                    return shape<c>{};
                }
            }
        }
    }
    using type = decltype(compute());
};

template <class Op, class... S>
struct broadcast_all;

template <class Op, class S>
struct broadcast_all<Op, S> {
    using type = S;
};

template <class Op, class A, class B, class... Rest>
struct broadcast_all<Op, A, B, Rest...> {
    using ab = typename broadcast2<A, B>::type;
    static constexpr auto checked() {
        if constexpr (std::is_void_v<ab>) {
            static_assert(!std::is_void_v<ab>,
                          "ctgrad: the shapes of the arguments of an elementwise operation do not "
                          "broadcast (each dimension, aligned at the right, must be equal or 1; "
                          "the operation and the shapes are named in "
                          "'elementwise_shapes_do_not_broadcast<...>' below)");
            static_cast<void>(sizeof(elementwise_shapes_do_not_broadcast<Op, A, B>));
            return shape<>{};
        } else {
            return typename broadcast_all<Op, ab, Rest...>::type{};
        }
    }
    using type = decltype(checked());
};

template <class Op, class... ArgShapes>
struct node_shape {
    using type = typename broadcast_all<Op, ArgShapes...>::type;
};

template <tensor_op Op, class... ArgShapes>
struct node_shape<Op, ArgShapes...> {
    using type = typename Op::template result<ArgShapes...>;
};

/// (shape_of_t reads a node's member directly; this is for code that names shape_of itself.)
template <class N>
requires is_node<N>::value struct shape_of<N> {
    using type = typename N::ctgrad_shape_t;
};

/// The index, in an operand of shape `Of`, of the element that position (r, c, i) of a loop
/// over shape `In` reads: the same element for the same shape, element 0 of a scalar, and
/// the broadcast row or column otherwise.
template <class Of, class In>
constexpr std::size_t broadcast_index(std::size_t r, std::size_t c, std::size_t i) noexcept {
    if constexpr (std::is_same_v<Of, In> || Of::count == In::count) {
        return i;
    } else if constexpr (Of::count == 1) {
        return 0;
    } else {
        constexpr std::size_t orows = Of::rows, ocols = Of::cols;
        return (orows == 1 ? 0 : r) * ocols + (ocols == 1 ? 0 : c);
    }
}

}  // namespace detail
}  // namespace ctgrad
