/// @file The naive runtime-graph baseline: dynamic (define-by-run) reverse-mode autodiff on
/// scalars, one heap node per operation. Not part of ctgrad; benchmarks and tests compare
/// ctgrad with it (DESIGN.md, "The naive runtime-graph baseline").
///
/// This is what a careful person writes as a simple dynamic autodiff, and what engines such as
/// micrograd or a first PyTorch-style autograd do:
///
/// - every operation allocates a `node` (`std::make_shared`) that records its value, its
///   inputs (shared pointers, so the graph keeps itself alive as long as the result does) and a
///   backward closure that adds its contribution to the inputs' gradients;
/// - `backward(root)` sorts the graph reachable from the root topologically (on every call:
///   the graph is built at run time, so nothing is known before), zeroes the gradients, seeds
///   the root with 1 and runs the closures in reverse topological order.
///
/// It is written honestly and never slowed down on purpose: nodes hold their (at most two)
/// inputs inline instead of in a separate heap vector, closures capture at most one number so
/// `std::function` keeps them in its small buffer (no second allocation), the sort is an
/// iterative depth-first search with a per-call epoch mark (no visited set to clear, no
/// recursion), and its scratch vectors are reused across calls. What remains is the cost of the
/// approach itself: an allocation and a reference count per operation, an indirect call per
/// node in the backward pass, a graph walk per backward, and values kept in memory rather than
/// in registers. That cost is what ctgrad's compile-time graph removes.
///
/// Conventions are ctgrad's: relu'(0) = 0, abs'(0) = 0, a tie in max/min sends the whole
/// gradient to the first argument, d/db a^b = 0 where a = 0 and b > 0.
///
/// Limits, shared with the engines it imitates: not thread-safe for one graph used from
/// several threads, and a result's destructor releases its graph recursively (one stack frame
/// group per node on the longest path), so chains of hundreds of thousands of operations can
/// exhaust the stack on destruction.
#pragma once

#include <array>       // std::array (inline input slots)
#include <atomic>      // std::atomic (backward epochs)
#include <cmath>       // std::exp, std::log, std::log1p, std::sqrt, std::pow, std::sin, ...
#include <cstdint>     // std::uint64_t, std::uint8_t
#include <functional>  // std::function (the backward closure)
#include <memory>      // std::shared_ptr, std::make_shared
#include <numbers>     // std::numbers::inv_sqrtpi
#include <utility>     // std::move, std::pair
#include <vector>      // std::vector (topological order, DFS stack)

namespace ctgrad_baseline {

/// One operation (or one leaf) of the graph.
struct node {
    explicit node(double v) : value(v) {}

    double value;       ///< the output, cached for backward closures that use it (exp, tanh, ...)
    double grad = 0.0;  ///< d root / d this node, valid after backward(root)
    /// The inputs. Every op has arity <= 2, so they live inline; their values are the cached
    /// inputs the backward closure reads (they never change after construction).
    std::array<std::shared_ptr<node>, 2> inputs{};
    std::uint8_t arity = 0;
    /// Epoch of the last backward call that visited this node (the DFS visited mark).
    std::uint64_t mark = 0;
    /// Adds n.grad times the local partials to the inputs' grads. Empty for leaves.
    std::function<void(node&)> backward;
};

/// A value in the graph: a handle on its node. Copying a var shares the node.
class var {
public:
    /// A new leaf (an input variable).
    explicit var(double value) : node_(std::make_shared<node>(value)) {}

    /// Wraps an existing node (used by the operations).
    explicit var(std::shared_ptr<node> n) : node_(std::move(n)) {}

    double value() const { return node_->value; }

    /// d root / d this, after backward(root).
    double grad() const { return node_->grad; }

    node& get() const { return *node_; }

    const std::shared_ptr<node>& node_ptr() const { return node_; }

private:
    std::shared_ptr<node> node_;
};

namespace detail {

/// Backward epochs: each call takes a fresh number, so "visited" is `mark == epoch` and
/// nothing has to be cleared before a sort.
inline std::atomic<std::uint64_t> epoch_counter{0};

/// Scratch space for the sort, kept per thread and reused, so a backward pass allocates only
/// when its graph is larger than every graph this thread has sorted before (the capacity
/// starts at 256 nodes).
struct sort_workspace {
    sort_workspace() {
        order.reserve(256);
        stack.reserve(256);
    }

    std::vector<node*> order;                           // post-order: inputs before users
    std::vector<std::pair<node*, std::uint8_t>> stack;  // node, index of the next input
};

inline sort_workspace& workspace() {
    thread_local sort_workspace ws;
    return ws;
}

template <class Backward>
var make_unary(double value, const var& a, Backward bw) {
    auto n = std::make_shared<node>(value);
    n->inputs[0] = a.node_ptr();
    n->arity = 1;
    n->backward = std::move(bw);
    return var(std::move(n));
}

template <class Backward>
var make_binary(double value, const var& a, const var& b, Backward bw) {
    auto n = std::make_shared<node>(value);
    n->inputs[0] = a.node_ptr();
    n->inputs[1] = b.node_ptr();
    n->arity = 2;
    n->backward = std::move(bw);
    return var(std::move(n));
}

inline node& in0(node& n) {
    return *n.inputs[0];
}

inline node& in1(node& n) {
    return *n.inputs[1];
}

/// 2/sqrt(pi): erf'(x) = 2/sqrt(pi) e^(-x^2).
inline constexpr double two_over_sqrtpi = 2.0 * std::numbers::inv_sqrtpi;

}  // namespace detail

/// Reverse pass: d root / d v for every node v reachable from root, stored in v's grad.
/// Gradients of nodes not reachable from root are left untouched.
inline void backward(const var& root) {
    auto& ws = detail::workspace();
    auto& order = ws.order;
    auto& stack = ws.stack;
    order.clear();
    stack.clear();
    const std::uint64_t epoch = detail::epoch_counter.fetch_add(1, std::memory_order_relaxed) + 1;

    // Iterative depth-first search; a node is appended once all its inputs are, so `order` is
    // topological. Visiting a node zeroes its gradient.
    node* r = &root.get();
    r->mark = epoch;
    r->grad = 0.0;
    stack.emplace_back(r, std::uint8_t{0});
    while (!stack.empty()) {
        auto& [n, next] = stack.back();
        if (next < n->arity) {
            node* in = n->inputs[next++].get();
            if (in->mark != epoch) {
                in->mark = epoch;
                in->grad = 0.0;
                stack.emplace_back(in, std::uint8_t{0});  // may invalidate n and next
            }
        } else {
            order.push_back(n);
            stack.pop_back();
        }
    }

    r->grad = 1.0;
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
        node& n = **it;
        if (n.backward) {
            n.backward(n);
        }
    }
    order.clear();
}

// --- arithmetic ---

inline var operator+(const var& a, const var& b) {
    return detail::make_binary(a.value() + b.value(), a, b, [](node& n) {
        detail::in0(n).grad += n.grad;
        detail::in1(n).grad += n.grad;
    });
}

inline var operator+(const var& a, double c) {
    return detail::make_unary(a.value() + c, a, [](node& n) { detail::in0(n).grad += n.grad; });
}

inline var operator+(double c, const var& b) {
    return detail::make_unary(c + b.value(), b, [](node& n) { detail::in0(n).grad += n.grad; });
}

inline var operator-(const var& a, const var& b) {
    return detail::make_binary(a.value() - b.value(), a, b, [](node& n) {
        detail::in0(n).grad += n.grad;
        detail::in1(n).grad -= n.grad;
    });
}

inline var operator-(const var& a, double c) {
    return detail::make_unary(a.value() - c, a, [](node& n) { detail::in0(n).grad += n.grad; });
}

inline var operator-(double c, const var& b) {
    return detail::make_unary(c - b.value(), b, [](node& n) { detail::in0(n).grad -= n.grad; });
}

inline var operator-(const var& a) {
    return detail::make_unary(-a.value(), a, [](node& n) { detail::in0(n).grad -= n.grad; });
}

inline var operator*(const var& a, const var& b) {
    return detail::make_binary(a.value() * b.value(), a, b, [](node& n) {
        node& x = detail::in0(n);
        node& y = detail::in1(n);
        x.grad += n.grad * y.value;
        y.grad += n.grad * x.value;
    });
}

inline var operator*(const var& a, double c) {
    return detail::make_unary(a.value() * c, a,
                              [c](node& n) { detail::in0(n).grad += n.grad * c; });
}

inline var operator*(double c, const var& b) {
    return detail::make_unary(c * b.value(), b,
                              [c](node& n) { detail::in0(n).grad += n.grad * c; });
}

/// d/da (a/b) = 1/b;  d/db (a/b) = -a/b^2 = -(a/b)/b, from the cached output.
inline var operator/(const var& a, const var& b) {
    return detail::make_binary(a.value() / b.value(), a, b, [](node& n) {
        node& y = detail::in1(n);
        detail::in0(n).grad += n.grad / y.value;
        y.grad -= n.grad * n.value / y.value;
    });
}

inline var operator/(const var& a, double c) {
    return detail::make_unary(a.value() / c, a,
                              [c](node& n) { detail::in0(n).grad += n.grad / c; });
}

/// d/db (c/b) = -c/b^2 = -(c/b)/b, from the cached output.
inline var operator/(double c, const var& b) {
    return detail::make_unary(c / b.value(), b, [](node& n) {
        node& y = detail::in0(n);
        y.grad -= n.grad * n.value / y.value;
    });
}

// --- exp, log, powers ---

inline var exp(const var& a) {
    return detail::make_unary(std::exp(a.value()), a,
                              [](node& n) { detail::in0(n).grad += n.grad * n.value; });
}

inline var log(const var& a) {
    return detail::make_unary(std::log(a.value()), a, [](node& n) {
        node& x = detail::in0(n);
        x.grad += n.grad / x.value;
    });
}

inline var log1p(const var& a) {
    return detail::make_unary(std::log1p(a.value()), a, [](node& n) {
        node& x = detail::in0(n);
        x.grad += n.grad / (1.0 + x.value);
    });
}

/// sqrt'(x) = 0.5/sqrt(x), from the cached output (+inf at 0).
inline var sqrt(const var& a) {
    return detail::make_unary(std::sqrt(a.value()), a,
                              [](node& n) { detail::in0(n).grad += n.grad * (0.5 / n.value); });
}

inline var square(const var& a) {
    return detail::make_unary(a.value() * a.value(), a, [](node& n) {
        node& x = detail::in0(n);
        x.grad += n.grad * (2.0 * x.value);
    });
}

/// d/da a^b = b a^(b-1);  d/db a^b = a^b log a, taken as 0 where a = 0 and b > 0.
inline var pow(const var& a, const var& b) {
    return detail::make_binary(std::pow(a.value(), b.value()), a, b, [](node& n) {
        node& x = detail::in0(n);
        node& e = detail::in1(n);
        x.grad += n.grad * (e.value * std::pow(x.value, e.value - 1.0));
        if (!(x.value == 0.0 && e.value > 0.0)) {
            e.grad += n.grad * (n.value * std::log(x.value));
        }
    });
}

inline var pow(const var& a, double c) {
    return detail::make_unary(std::pow(a.value(), c), a, [c](node& n) {
        node& x = detail::in0(n);
        x.grad += n.grad * (c * std::pow(x.value, c - 1.0));
    });
}

inline var pow(double c, const var& b) {
    return detail::make_unary(std::pow(c, b.value()), b, [c](node& n) {
        node& e = detail::in0(n);
        if (!(c == 0.0 && e.value > 0.0)) {
            e.grad += n.grad * (n.value * std::log(c));
        }
    });
}

// --- trigonometric, hyperbolic, activations ---

inline var sin(const var& a) {
    return detail::make_unary(std::sin(a.value()), a, [](node& n) {
        node& x = detail::in0(n);
        x.grad += n.grad * std::cos(x.value);
    });
}

inline var cos(const var& a) {
    return detail::make_unary(std::cos(a.value()), a, [](node& n) {
        node& x = detail::in0(n);
        x.grad -= n.grad * std::sin(x.value);
    });
}

/// tanh'(x) = 1 - tanh(x)^2, from the cached output.
inline var tanh(const var& a) {
    return detail::make_unary(std::tanh(a.value()), a, [](node& n) {
        detail::in0(n).grad += n.grad * (1.0 - n.value * n.value);
    });
}

/// 1/(1 + e^-x): saturates to exactly 0 or 1 without NaN. sigmoid' = s(1 - s), from the output.
inline var sigmoid(const var& a) {
    return detail::make_unary(1.0 / (1.0 + std::exp(-a.value())), a, [](node& n) {
        detail::in0(n).grad += n.grad * (n.value * (1.0 - n.value));
    });
}

/// max(x, 0), NaN-propagating; relu'(0) = 0.
inline var relu(const var& a) {
    return detail::make_unary(a.value() <= 0.0 ? 0.0 : a.value(), a, [](node& n) {
        node& x = detail::in0(n);
        if (x.value > 0.0) {
            x.grad += n.grad;
        }
    });
}

/// |x|; abs'(0) = 0.
inline var abs(const var& a) {
    return detail::make_unary(std::fabs(a.value()), a, [](node& n) {
        node& x = detail::in0(n);
        if (x.value > 0.0) {
            x.grad += n.grad;
        } else if (x.value < 0.0) {
            x.grad -= n.grad;
        }
    });
}

// --- min, max: a tie sends the whole gradient to the first argument ---

inline var max(const var& a, const var& b) {
    return detail::make_binary(a.value() >= b.value() ? a.value() : b.value(), a, b, [](node& n) {
        node& x = detail::in0(n);
        node& y = detail::in1(n);
        (x.value >= y.value ? x : y).grad += n.grad;
    });
}

inline var max(const var& a, double c) {
    return detail::make_unary(a.value() >= c ? a.value() : c, a, [c](node& n) {
        node& x = detail::in0(n);
        if (x.value >= c) {
            x.grad += n.grad;
        }
    });
}

inline var max(double c, const var& b) {
    return detail::make_unary(c >= b.value() ? c : b.value(), b, [c](node& n) {
        node& y = detail::in0(n);
        if (!(c >= y.value)) {
            y.grad += n.grad;
        }
    });
}

inline var min(const var& a, const var& b) {
    return detail::make_binary(a.value() <= b.value() ? a.value() : b.value(), a, b, [](node& n) {
        node& x = detail::in0(n);
        node& y = detail::in1(n);
        (x.value <= y.value ? x : y).grad += n.grad;
    });
}

inline var min(const var& a, double c) {
    return detail::make_unary(a.value() <= c ? a.value() : c, a, [c](node& n) {
        node& x = detail::in0(n);
        if (x.value <= c) {
            x.grad += n.grad;
        }
    });
}

inline var min(double c, const var& b) {
    return detail::make_unary(c <= b.value() ? c : b.value(), b, [c](node& n) {
        node& y = detail::in0(n);
        if (!(c <= y.value)) {
            y.grad += n.grad;
        }
    });
}

// --- special functions ---

/// erf'(x) = 2/sqrt(pi) e^(-x^2).
inline var erf(const var& a) {
    return detail::make_unary(std::erf(a.value()), a, [](node& n) {
        node& x = detail::in0(n);
        x.grad += n.grad * (detail::two_over_sqrtpi * std::exp(-x.value * x.value));
    });
}

/// erfc'(x) = -2/sqrt(pi) e^(-x^2).
inline var erfc(const var& a) {
    return detail::make_unary(std::erfc(a.value()), a, [](node& n) {
        node& x = detail::in0(n);
        x.grad -= n.grad * (detail::two_over_sqrtpi * std::exp(-x.value * x.value));
    });
}

}  // namespace ctgrad_baseline
