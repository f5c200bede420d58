/// @file
/// The arithmetic family: a + b, a - b, a * b, a / b and -a, with their algebraic
/// simplifications (used by the symbolic derivative d(f, x), never by the operators a user
/// writes, so a user's expression is evaluated exactly as written).
#pragma once

#include <string_view>  // std::string_view
#include <utility>

#include <ctgrad/core/concepts.hpp>
#include <ctgrad/core/fwd.hpp>
#include <ctgrad/core/literal.hpp>
#include <ctgrad/core/node.hpp>
#include <ctgrad/detail/ieee.hpp>
#include <ctgrad/detail/type_list.hpp>
#include <ctgrad/math/dual.hpp>

namespace ctgrad {
namespace detail {

template <class E, std::intmax_t N>
struct is_literal_equal : std::false_type {};

template <std::intmax_t N>
struct is_literal_equal<literal<N, 1>, N> : std::true_type {};

/// E is the literal N (an integer).
template <class E, std::intmax_t N>
inline constexpr bool is_literal_equal_v = is_literal_equal<std::remove_cvref_t<E>, N>::value;

/// Two subexpressions are known equal from their types alone only when they are pure.
template <class A, class B>
inline constexpr bool same_value_v = (std::is_same_v<A, B> && is_pure_v<A>);

constexpr rational rat_apply(char op, rational a, rational b) {
    switch (op) {
    case '+':
        return rat_add(a, b);
    case '-':
        return rat_add(a, rat_neg(b));
    case '*':
        return rat_mul(a, b);
    default:
        return rat_div(a, b);
    }
}

/// The literal L op R when both are literals and the exact result fits, else void.
template <class L, class R, char Op>
constexpr auto fold_literals() {
    if constexpr (is_literal_v<L> && is_literal_v<R>) {
        constexpr rational r = rat_apply(Op, rational_of<L>, rational_of<R>);
        if constexpr (r.ok) {
            return literal<r.num, r.den>{};
        }
    }
}

template <class L, class R, char Op>
inline constexpr bool foldable_v = !std::is_void_v<decltype(fold_literals<L, R, Op>())>;

}  // namespace detail

namespace ops {

/// -a.  d/da = -1.  Simplifies -(literal) and -(-e).
struct neg_op {
    static constexpr std::string_view name = "neg";
    static constexpr std::string_view prefix = "-";
    static constexpr auto value(auto a) { return -a; }
    static constexpr auto partial(arg_t<0>, auto a, auto) { return -decltype(a)(1); }
    static constexpr auto derivative(arg_t<0>, const auto&, const auto&) { return lit<-1>; }

    template <class A>
    static constexpr auto simplify(A a) {
        if constexpr (is_literal_v<A>) {
            return -a;  // exact (literal::operator-)
        } else if constexpr (is_node_v<A>) {
            if constexpr (std::is_same_v<typename A::op, neg_op>) {
                return a.template child<0>();
            } else {
                return make_node<neg_op>(static_cast<A&&>(a));
            }
        } else {
            return make_node<neg_op>(static_cast<A&&>(a));
        }
    }
};

/// a + b.  d/da = d/db = 1.
struct add_op;
/// a - b.  d/da = 1, d/db = -1.
struct sub_op;

/// a * b.  d/da = b, d/db = a.
struct mul_op {
    static constexpr std::string_view name = "mul";
    static constexpr std::string_view infix = "*";
    static constexpr int precedence = 2;
    static constexpr auto value(auto a, auto b) { return a * b; }
    static constexpr auto partial(arg_t<0>, auto, auto b, auto) { return b; }
    static constexpr auto partial(arg_t<1>, auto a, auto, auto) { return a; }
    static constexpr auto derivative(arg_t<0>, const auto&, const auto&, const auto& b) {
        return b;
    }
    static constexpr auto derivative(arg_t<1>, const auto&, const auto& a, const auto&) {
        return a;
    }

    /// literal folding, 0*e = e*0 = 0, 1*e = e*1 = e, (-1)*e = -e, literals move to the left
    /// and merge: a * (b * e) = (ab) * e.  (0*e = 0 is the symbolic convention: it drops a
    /// term whose factor is exactly zero, as hand-derived formulas do.)
    template <class A, class B>
    static constexpr auto simplify(A a, B b) {
        if constexpr (detail::foldable_v<A, B, '*'>) {
            return detail::fold_literals<A, B, '*'>();
        } else if constexpr (detail::is_literal_equal_v<A, 0> || detail::is_literal_equal_v<B, 0>) {
            return lit<0>;
        } else if constexpr (detail::is_literal_equal_v<A, 1>) {
            return b;
        } else if constexpr (detail::is_literal_equal_v<B, 1>) {
            return a;
        } else if constexpr (detail::is_literal_equal_v<A, -1>) {
            return neg_op::simplify(static_cast<B&&>(b));
        } else if constexpr (detail::is_literal_equal_v<B, -1>) {
            return neg_op::simplify(static_cast<A&&>(a));
        } else if constexpr (is_literal_v<B> && !is_literal_v<A>) {
            return simplify(static_cast<B&&>(b), static_cast<A&&>(a));
        } else if constexpr (is_literal_v<A> && is_node_v<B>) {
            if constexpr (std::is_same_v<typename B::op, mul_op> && is_literal_v<child_t<B, 0>>) {
                return simplify(simplify(a, b.template child<0>()), b.template child<1>());
            } else {
                return make_node<mul_op>(static_cast<A&&>(a), static_cast<B&&>(b));
            }
        } else {
            return make_node<mul_op>(static_cast<A&&>(a), static_cast<B&&>(b));
        }
    }
};

namespace detail_arith {

/// Splits e into (literal coefficient, rest): 3*e -> (3, e), e -> (1, e).
template <class E>
constexpr auto coefficient_of(const E& e) {
    if constexpr (is_node_v<E>) {
        if constexpr (std::is_same_v<typename E::op, mul_op> && is_literal_v<child_t<E, 0>>) {
            return std::pair{e.template child<0>(), e.template child<1>()};
        } else {
            return std::pair{lit<1>, e};
        }
    } else {
        return std::pair{lit<1>, e};
    }
}

template <class E>
using coefficient_t = decltype(coefficient_of(std::declval<const E&>()).first);
template <class E>
using term_t = decltype(coefficient_of(std::declval<const E&>()).second);

}  // namespace detail_arith

struct add_op {
    static constexpr std::string_view name = "add";
    static constexpr std::string_view infix = "+";
    static constexpr int precedence = 1;
    static constexpr auto value(auto a, auto b) { return a + b; }
    static constexpr auto partial(arg_t<0>, auto, auto, auto y) { return decltype(y)(1); }
    static constexpr auto partial(arg_t<1>, auto, auto, auto y) { return decltype(y)(1); }
    static constexpr auto derivative(arg_t<0>, const auto&, const auto&, const auto&) {
        return lit<1>;
    }
    static constexpr auto derivative(arg_t<1>, const auto&, const auto&, const auto&) {
        return lit<1>;
    }

    /// literal folding, e + 0 = 0 + e = e, a*e + b*e = (a+b)*e for a pure e (so e + e = 2*e),
    /// a + (-b) = a - b.
    template <class A, class B>
    static constexpr auto simplify(A a, B b);
};

struct sub_op {
    static constexpr std::string_view name = "sub";
    static constexpr std::string_view infix = "-";
    static constexpr int precedence = 1;
    static constexpr auto value(auto a, auto b) { return a - b; }
    static constexpr auto partial(arg_t<0>, auto, auto, auto y) { return decltype(y)(1); }
    static constexpr auto partial(arg_t<1>, auto, auto, auto y) { return -decltype(y)(1); }
    static constexpr auto derivative(arg_t<0>, const auto&, const auto&, const auto&) {
        return lit<1>;
    }
    static constexpr auto derivative(arg_t<1>, const auto&, const auto&, const auto&) {
        return lit<-1>;
    }

    /// literal folding, e - 0 = e, 0 - e = -e, e - e = 0 for a pure e, a - (-b) = a + b.
    template <class A, class B>
    static constexpr auto simplify(A a, B b) {
        if constexpr (detail::foldable_v<A, B, '-'>) {
            return detail::fold_literals<A, B, '-'>();
        } else if constexpr (detail::is_literal_equal_v<B, 0>) {
            return a;
        } else if constexpr (detail::is_literal_equal_v<A, 0>) {
            return neg_op::simplify(static_cast<B&&>(b));
        } else if constexpr (detail::same_value_v<A, B>) {
            return lit<0>;
        } else if constexpr (is_node_v<B>) {
            if constexpr (std::is_same_v<typename B::op, neg_op>) {
                return add_op::simplify(static_cast<A&&>(a), b.template child<0>());
            } else {
                return make_node<sub_op>(static_cast<A&&>(a), static_cast<B&&>(b));
            }
        } else {
            return make_node<sub_op>(static_cast<A&&>(a), static_cast<B&&>(b));
        }
    }
};

template <class A, class B>
constexpr auto add_op::simplify(A a, B b) {
    using detail_arith::coefficient_of;
    using detail_arith::term_t;
    if constexpr (detail::foldable_v<A, B, '+'>) {
        return detail::fold_literals<A, B, '+'>();
    } else if constexpr (detail::is_literal_equal_v<A, 0>) {
        return b;
    } else if constexpr (detail::is_literal_equal_v<B, 0>) {
        return a;
    } else if constexpr (!is_literal_v<A> && detail::same_value_v<term_t<A>, term_t<B>>) {
        return mul_op::simplify(add_op::simplify(coefficient_of(a).first, coefficient_of(b).first),
                                coefficient_of(a).second);
    } else if constexpr (is_node_v<B>) {
        if constexpr (std::is_same_v<typename B::op, neg_op>) {
            return sub_op::simplify(static_cast<A&&>(a), b.template child<0>());
        } else {
            return make_node<add_op>(static_cast<A&&>(a), static_cast<B&&>(b));
        }
    } else {
        return make_node<add_op>(static_cast<A&&>(a), static_cast<B&&>(b));
    }
}

/// a / b.  d/da = 1/b, d/db = -a/b^2, computed as -q * (1/b) from the output q = a/b: both
/// partials share the one reciprocal 1/b, so the reverse sweep divides once per quotient (the
/// compiler merges the two identical divisions). Simplifies literal / literal, 0/e = 0
/// (symbolic convention), e/1 = e.
struct div_op {
    static constexpr std::string_view name = "div";
    static constexpr std::string_view infix = "/";
    static constexpr int precedence = 2;
    static constexpr auto value(auto a, auto b) { return detail::divide(a, b); }
    static constexpr auto partial(arg_t<0>, auto, auto b, auto y) {
        return detail::divide(decltype(y)(1), b);
    }
    static constexpr auto partial(arg_t<1>, auto, auto b, auto y) {
        return -y * detail::divide(decltype(y)(1), b);
    }
    static constexpr auto derivative(arg_t<0>, const auto&, const auto&, const auto& b) {
        return lit<1> / b;
    }
    static constexpr auto derivative(arg_t<1>, const auto& self, const auto&, const auto& b) {
        return -(self / b);
    }

    template <class A, class B>
    static constexpr auto simplify(A a, B b) {
        if constexpr (detail::foldable_v<A, B, '/'>) {
            return detail::fold_literals<A, B, '/'>();
        } else if constexpr (detail::is_literal_equal_v<A, 0>) {
            return lit<0>;
        } else if constexpr (detail::is_literal_equal_v<B, 1>) {
            return a;
        } else {
            return make_node<div_op>(static_cast<A&&>(a), static_cast<B&&>(b));
        }
    }
};

/// 1 / x, what `1_c / x` builds.  d/dx = -1/x^2, computed from the output y as -y*y: no
/// second division (a / b with a run-time numerator needs -q/b). The value is the same
/// correctly rounded 1/x as the division.
struct reciprocal_op {
    static constexpr std::string_view name = "reciprocal";
    static constexpr std::string_view prefix = "1 / ";
    static constexpr int precedence = 2;
    static constexpr auto value(auto x) { return detail::divide(decltype(x)(1), x); }
    static constexpr auto partial(arg_t<0>, auto, auto y) { return -(y * y); }
    static constexpr auto derivative(arg_t<0>, const auto& self, const auto&) {
        return -(self * self);
    }
};

using arithmetic_family = detail::type_list<neg_op, add_op, sub_op, mul_op, div_op, reciprocal_op>;

}  // namespace ops

// --- the operators a user writes; they build nodes exactly as written (no simplification) ---

/// a + b for expressions and numbers: `x + y`, `x + 1.5`, `2 * x + 1_c`.
template <class A, class B>
    requires expression_operands<A, B>
constexpr auto operator+(A a, B b) {
    return make_node<ops::add_op>(static_cast<A&&>(a), static_cast<B&&>(b));
}

/// a - b.
template <class A, class B>
    requires expression_operands<A, B>
constexpr auto operator-(A a, B b) {
    return make_node<ops::sub_op>(static_cast<A&&>(a), static_cast<B&&>(b));
}

/// a * b.
template <class A, class B>
    requires expression_operands<A, B>
constexpr auto operator*(A a, B b) {
    return make_node<ops::mul_op>(static_cast<A&&>(a), static_cast<B&&>(b));
}

/// a / b. With the exact literal 1 as numerator (`1_c / e`) it builds the reciprocal op,
/// whose derivative reuses the quotient instead of dividing again.
template <class A, class B>
    requires expression_operands<A, B>
constexpr auto operator/(A a, B b) {
    if constexpr (detail::is_literal_equal_v<A, 1> && expression<B>) {
        return make_node<ops::reciprocal_op>(static_cast<B&&>(b));
    } else {
        return make_node<ops::div_op>(static_cast<A&&>(a), static_cast<B&&>(b));
    }
}

/// -a (of an exact literal: the negated literal).
template <expression A>
    requires(!is_literal_v<A>)
constexpr auto operator-(A a) {
    return make_node<ops::neg_op>(static_cast<A&&>(a));
}

}  // namespace ctgrad
