/// @file
/// simplify(e): rebuilds an expression bottom-up through each op's own simplification
/// rules (an op may define `static simplify(args...)`, e.g. 0*e = 0, 1*e = e, e + 0 = e,
/// literal arithmetic); ops without rules are rebuilt unchanged.
#pragma once

#include <cstddef>  // std::size_t
#include <utility>  // std::index_sequence, std::move

#include <ctgrad/core/concepts.hpp>
#include <ctgrad/core/fwd.hpp>
#include <ctgrad/core/node.hpp>

namespace ctgrad {

/// `Op` applied to already simplified arguments, through the op's rules when it has some.
template <class Op, expression... A>
constexpr auto make_simplified(A... a) {
    if constexpr (requires { Op::simplify(std::move(a)...); }) {
        return Op::simplify(std::move(a)...);
    } else {
        return make_node<Op>(std::move(a)...);
    }
}

/// The expression rebuilt bottom-up with every op's simplification rules. It has the same
/// value wherever both are defined; the rules used by the library are listed in the op files
/// (ops/arithmetic.hpp). Symbolic derivatives are simplified this way.
template <expression E>
constexpr auto simplify(const E& e) {
    if constexpr (is_node_v<E>) {
        return [&]<std::size_t... I>(std::index_sequence<I...>) {
            return make_simplified<typename E::op>(simplify(e.template child<I>())...);
        }
        (std::make_index_sequence<E::arity>{});
    } else {
        return e;
    }
}

}  // namespace ctgrad
