/// @file The tensor-granularity runtime-graph baseline: dynamic (define-by-run) reverse-mode
/// autodiff on tensors of rank 0, 1 and 2, one heap node per tensor operation, like a minimal
/// PyTorch autograd. Not part of ctgrad; benchmarks and tests compare ctgrad with it (DESIGN.md,
/// "The naive runtime-graph baseline"). bench/baseline/runtime_graph.hpp is its scalar twin.
///
/// This is what a careful person writes as a simple dynamic autodiff at tensor granularity:
///
/// - every operation allocates a `node<T>` (`std::make_shared`) holding its value as a
///   `std::vector<T>` with a run-time shape (rank 0: [], rank 1: [n], rank 2: [rows, cols],
///   row-major), its inputs (shared pointers, so the graph keeps itself alive as long as the
///   result does) and a backward closure (`std::function`) that adds its contribution to the
///   inputs' gradients; nothing is fused, one node per op (a dense layer is a `matmul` node
///   and an `add` node);
/// - `requires_grad` propagates as in PyTorch: an op none of whose inputs requires a gradient
///   records no inputs and no closure, and a closure skips the inputs that require none (the
///   data X of `matmul(X, W)` never gets dX = dD·Wᵀ computed);
/// - `backward(root)` sorts the graph reachable from the root topologically on every call (it
///   is built at run time, so nothing is known before): an iterative depth-first search with a
///   per-call epoch mark and per-thread scratch vectors reused across calls. Visiting a node
///   sizes its gradient vector and zeroes it (allocated on the first backward that reaches the
///   node, so once per step for the intermediates of a rebuilt graph); then the root's gradient
///   is set to 1 (every element: a non-scalar root means the gradient of its sum) and the
///   closures run in reverse topological order;
/// - a training step rebuilds the graph, as define-by-run does: parameters are leaves that
///   live across steps (`tensor::set_values` rebinds a leaf's values, `sgd_step` updates them
///   in place from their gradients), everything else is built again from them.
///
/// It is written honestly and never slowed down on purpose: no needless copies (values are
/// moved into their nodes), closures capture at most one pointer or number so `std::function`
/// keeps them in its small buffer, backward closures reuse cached outputs where the maths
/// allows (relu'(x) from relu(x) > 0, sigmoid' = s(1 - s), tanh' = 1 - t²) and the softmax of
/// `softmax_cross_entropy` is saved by its forward pass. What remains is the cost of the
/// approach: an allocation (node, value, gradient) and a reference count per op, an indirect
/// call per node, a graph walk per backward, a fresh output vector per op (zero-filled by
/// `std::vector(n)` before being written), and a memory round trip between any two ops.
///
/// **Matmul and the kernel registry.** At tensor granularity the baseline must use the same
/// matmul kernels as ctgrad (`ctgrad::kernels::matmul`, `matmul_tn`, `matmul_nt`,
/// include/ctgrad/tensor/matmul.hpp). Those have compile-time sizes and the baseline's shapes
/// are run-time values, so a program registers the sizes it uses once, before building graphs:
///
///     tg::register_matmul<float, 32, 100, 200>();  // for matmul(a [32, 100], b [100, 200])
///
/// which records three function pointers for the forward sizes (M, K, N): C = A·B
/// (`matmul<M, K, N>`), dA += dC·Bᵀ (`matmul_nt<M, N, K>`) and dB += Aᵀ·dC (`matmul_tn<K, M,
/// N>`). Each `matmul` op looks its sizes up once (a linear scan of the few registered entries,
/// negligible next to the product) and its closure keeps the entry. A product whose sizes are
/// not registered runs a plain loop instead (i-k-j order for A·B and Aᵀ·B, dot products for
/// A·Bᵀ), which is correct but not what the benchmarks mean to measure: every such product
/// increments `fallback_matmuls()`, which a benchmark or test checks is 0. Registration is not
/// thread-safe; register before any thread builds graphs.
///
/// Conventions are ctgrad's: relu'(0) = 0; `mse(a, y)` = 1/(2n)·Σ(y - a)² with n the rows
/// (the batch) of a matrix and 1 for a vector or a scalar; `softmax_cross_entropy` is the mean
/// over the batch. Shape mismatches throw `std::invalid_argument` naming the op and the shapes.
///
/// Limits, shared with the engines it imitates: not thread-safe for one graph used from
/// several threads, and a result's destructor releases its graph recursively (one stack frame
/// group per node on the longest path).
#pragma once

#include <algorithm>         // std::copy, std::fill, std::max_element
#include <array>             // std::array (inline input slots)
#include <atomic>            // std::atomic (backward epochs, fallback counter)
#include <cmath>             // std::exp, std::log, std::tanh
#include <cstddef>           // std::size_t
#include <cstdint>           // std::uint64_t, std::uint8_t
#include <deque>             // std::deque (the kernel registry: stable element addresses)
#include <functional>        // std::function (the backward closure)
#include <initializer_list>  // std::initializer_list (sgd_step)
#include <memory>            // std::shared_ptr, std::make_shared
#include <span>              // std::span
#include <stdexcept>         // std::invalid_argument
#include <string>            // std::string, std::to_string
#include <type_traits>       // std::type_identity_t
#include <utility>           // std::move, std::forward, std::pair
#include <vector>            // std::vector (values, gradients, topological order, DFS stack)

#include <ctgrad/tensor/matmul.hpp>

namespace ctgrad_baseline::tg {

/// A run-time shape: rank 0 ([], one element), 1 ([cols], rows = 1) or 2 ([rows, cols]).
struct shape {
    std::uint8_t rank = 0;
    std::size_t rows = 1;
    std::size_t cols = 1;

    std::size_t size() const { return rows * cols; }

    friend bool operator==(const shape&, const shape&) = default;
};

/// "[]", "[n]" or "[rows, cols]", for error messages.
inline std::string to_string(const shape& s) {
    switch (s.rank) {
    case 0:
        return "[]";
    case 1:
        return "[" + std::to_string(s.cols) + "]";
    default:
        return "[" + std::to_string(s.rows) + ", " + std::to_string(s.cols) + "]";
    }
}

/// One operation (or one leaf) of the graph.
template <class T>
struct node {
    node(shape s, std::vector<T>&& v) : dims(s), value(std::move(v)) {}

    shape dims;
    std::vector<T> value;  ///< the output, row-major, cached for the backward closures
    /// d root / d this node, same layout as value: sized and zeroed by every backward(root)
    /// that reaches the node, empty before the first one.
    std::vector<T> grad;
    /// Values the backward closure needs besides inputs and output (softmax_cross_entropy's
    /// softmax, as PyTorch's saved tensors).
    std::vector<T> saved;
    /// The inputs (arity <= 2, 3 for conv2d's image, kernel and bias in
    /// tensor_graph_conv.hpp), recorded only when requires_grad.
    std::array<std::shared_ptr<node>, 3> inputs{};
    std::uint8_t arity = 0;
    /// A leaf created with requires_grad, or an op with such an input.
    bool requires_grad = false;
    /// Epoch of the last backward call that visited this node (the DFS visited mark).
    std::uint64_t mark = 0;
    /// Adds grad times the local Jacobian to the inputs' grads. Empty for leaves and constants.
    std::function<void(node&)> backward;
};

/// A tensor in the graph: a handle on its node. Copying a tensor shares the node.
template <class T>
class tensor {
public:
    /// An empty handle (to be assigned before use).
    tensor() = default;

    explicit tensor(std::shared_ptr<node<T>> n) : node_(std::move(n)) {}

    const shape& dims() const { return node_->dims; }
    std::size_t rank() const { return node_->dims.rank; }
    std::size_t rows() const { return node_->dims.rows; }
    std::size_t cols() const { return node_->dims.cols; }
    std::size_t size() const { return node_->value.size(); }
    bool requires_grad() const { return node_->requires_grad; }

    std::span<const T> values() const { return node_->value; }

    /// The single element of a rank-0 (or one-element) tensor.
    T item() const { return node_->value[0]; }

    /// d root / d this, after a backward(root) that reached it (empty before the first one).
    std::span<const T> grad() const { return node_->grad; }

    /// Rebinds the values in place (a parameter updated outside the graph, the next batch of a
    /// data leaf), keeping the node and its allocation. Graphs already built on this tensor see
    /// the new values, so rebuild them, as define-by-run does anyway.
    void set_values(std::span<const T> values) const {
        if (values.size() != node_->value.size()) {
            throw std::invalid_argument("tg::tensor::set_values: " + std::to_string(values.size()) +
                                        " values for shape " + to_string(node_->dims));
        }
        std::copy(values.begin(), values.end(), node_->value.begin());
    }

    node<T>& get() const { return *node_; }
    const std::shared_ptr<node<T>>& node_ptr() const { return node_; }

private:
    std::shared_ptr<node<T>> node_;
};

// --- leaves ---

namespace detail {

template <class T>
tensor<T> make_leaf(std::vector<T>&& values, shape s, bool requires_grad, const char* what) {
    if (s.rows == 0 || s.cols == 0) {
        throw std::invalid_argument(std::string("tg::") + what + ": empty shape " + to_string(s));
    }
    if (values.size() != s.size()) {
        throw std::invalid_argument(std::string("tg::") + what + ": " +
                                    std::to_string(values.size()) + " values for shape " +
                                    to_string(s));
    }
    auto n = std::make_shared<node<T>>(s, std::move(values));
    n->requires_grad = requires_grad;
    return tensor<T>(std::move(n));
}

}  // namespace detail

/// A [rows, cols] leaf holding `values` (row-major, rows·cols of them, both dimensions > 0).
template <class T>
tensor<T> leaf(std::vector<T> values, std::size_t rows, std::size_t cols,
               bool requires_grad = true) {
    return detail::make_leaf(std::move(values), shape{2, rows, cols}, requires_grad, "leaf");
}

/// A [n] leaf (a bias, say) holding `values`, n = values.size() > 0.
template <class T>
tensor<T> vector_leaf(std::vector<T> values, bool requires_grad = true) {
    const std::size_t n = values.size();
    return detail::make_leaf(std::move(values), shape{1, 1, n}, requires_grad, "vector_leaf");
}

/// A rank-0 leaf.
template <class T>
tensor<T> scalar_leaf(T value, bool requires_grad = true) {
    return detail::make_leaf(std::vector<T>{value}, shape{}, requires_grad, "scalar_leaf");
}

// --- backward ---

namespace detail {

/// Backward epochs: each call takes a fresh number, so "visited" is `mark == epoch` and
/// nothing has to be cleared before a sort.
inline std::atomic<std::uint64_t> epoch_counter{0};

/// Scratch space for the sort, kept per thread and element type and reused, so a backward
/// pass allocates here only when its graph is larger than every graph sorted before.
template <class T>
struct sort_workspace {
    sort_workspace() {
        order.reserve(256);
        stack.reserve(256);
    }

    std::vector<node<T>*> order;                           // post-order: inputs before users
    std::vector<std::pair<node<T>*, std::uint8_t>> stack;  // node, index of the next input
};

template <class T>
sort_workspace<T>& workspace() {
    thread_local sort_workspace<T> ws;
    return ws;
}

}  // namespace detail

/// Reverse pass: d root / d v for every node v reachable from root through nodes that require
/// a gradient, stored in v's grad (an all-ones seed: for a rank-0 root, the gradient; else the
/// gradient of the sum of its elements). Gradients of nodes not reached are left untouched.
/// Throws std::invalid_argument if root does not require a gradient.
template <class T>
void backward(const tensor<T>& root) {
    node<T>* r = &root.get();
    if (!r->requires_grad) {
        throw std::invalid_argument("tg::backward: the root does not require grad");
    }
    auto& ws = detail::workspace<T>();
    auto& order = ws.order;
    auto& stack = ws.stack;
    order.clear();
    stack.clear();
    const std::uint64_t epoch = detail::epoch_counter.fetch_add(1, std::memory_order_relaxed) + 1;

    // Iterative depth-first search; a node is appended once all its inputs are, so `order` is
    // topological. Visiting a node zeroes its gradient (allocating it the first time).
    r->mark = epoch;
    r->grad.assign(r->value.size(), T(0));
    stack.emplace_back(r, std::uint8_t{0});
    while (!stack.empty()) {
        auto& [n, next] = stack.back();
        if (next < n->arity) {
            node<T>* in = n->inputs[next++].get();
            if (in->requires_grad && in->mark != epoch) {
                in->mark = epoch;
                in->grad.assign(in->value.size(), T(0));
                stack.emplace_back(in, std::uint8_t{0});  // may invalidate n and next
            }
        } else {
            order.push_back(n);
            stack.pop_back();
        }
    }

    std::fill(r->grad.begin(), r->grad.end(), T(1));
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
        node<T>& n = **it;
        if (n.backward) {
            n.backward(n);
        }
    }
    order.clear();
}

/// p -= lr·grad(p) for every parameter p (a leaf) that a backward pass reached; leaves with no
/// gradient yet are skipped.
template <class T>
void sgd_step(std::span<const tensor<T>> params, std::type_identity_t<T> lr) {
    for (const tensor<T>& p : params) {
        node<T>& n = p.get();
        if (n.grad.size() != n.value.size()) {
            continue;
        }
        T* v = n.value.data();
        const T* g = n.grad.data();
        const std::size_t size = n.value.size();
        for (std::size_t i = 0; i < size; ++i) v[i] -= lr * g[i];
    }
}

template <class T>
void sgd_step(const std::vector<tensor<T>>& params, std::type_identity_t<T> lr) {
    sgd_step(std::span<const tensor<T>>(params), lr);
}

template <class T>
void sgd_step(std::initializer_list<tensor<T>> params, std::type_identity_t<T> lr) {
    sgd_step(std::span<const tensor<T>>(params.begin(), params.size()), lr);
}

// --- the matmul kernel registry ---

/// The kernels for one forward product A [m, k] · B [k, n].
template <class T>
struct matmul_kernels {
    std::size_t m;
    std::size_t k;
    std::size_t n;
    void (*forward)(const T* a, const T* b, T* c);   ///< C = A·B       (matmul<m, k, n>)
    void (*grad_a)(const T* dc, const T* b, T* da);  ///< dA += dC·Bᵀ  (matmul_nt<m, n, k>)
    void (*grad_b)(const T* a, const T* dc, T* db);  ///< dB += Aᵀ·dC  (matmul_tn<k, m, n>)
};

namespace detail {

/// Per element type; a deque so that the entries the closures point to never move.
template <class T>
inline std::deque<matmul_kernels<T>> matmul_registry;

inline std::atomic<std::size_t> fallback_count{0};

template <class T>
const matmul_kernels<T>* find_matmul(std::size_t m, std::size_t k, std::size_t n) {
    for (const auto& e : matmul_registry<T>) {
        if (e.m == m && e.k == k && e.n == n) {
            return &e;
        }
    }
    return nullptr;
}

// The fallback loops, for sizes nobody registered. Each counts itself.

/// C [m, n] += A [m, k] · B [k, n], i-k-j order (rows of B and C read contiguously).
template <class T>
void fallback_nn(const T* a, const T* b, T* c, std::size_t m, std::size_t k, std::size_t n) {
    fallback_count.fetch_add(1, std::memory_order_relaxed);
    for (std::size_t i = 0; i < m; ++i) {
        T* ci = c + i * n;
        for (std::size_t l = 0; l < k; ++l) {
            const T ail = a[i * k + l];
            const T* bl = b + l * n;
            for (std::size_t j = 0; j < n; ++j) ci[j] += ail * bl[j];
        }
    }
}

/// C [m, n] += Aᵀ·B for A stored [k, m], B [k, n]: k-i-j order (every row read contiguously).
template <class T>
void fallback_tn(const T* a, const T* b, T* c, std::size_t m, std::size_t k, std::size_t n) {
    fallback_count.fetch_add(1, std::memory_order_relaxed);
    for (std::size_t l = 0; l < k; ++l) {
        const T* al = a + l * m;
        const T* bl = b + l * n;
        for (std::size_t i = 0; i < m; ++i) {
            const T ali = al[i];
            T* ci = c + i * n;
            for (std::size_t j = 0; j < n; ++j) ci[j] += ali * bl[j];
        }
    }
}

/// C [m, n] += A·Bᵀ for A [m, k], B stored [n, k]: dot products of rows (both contiguous).
template <class T>
void fallback_nt(const T* a, const T* b, T* c, std::size_t m, std::size_t k, std::size_t n) {
    fallback_count.fetch_add(1, std::memory_order_relaxed);
    for (std::size_t i = 0; i < m; ++i) {
        const T* ai = a + i * k;
        for (std::size_t j = 0; j < n; ++j) {
            const T* bj = b + j * k;
            T s = T(0);
            for (std::size_t l = 0; l < k; ++l) s += ai[l] * bj[l];
            c[i * n + j] += s;
        }
    }
}

}  // namespace detail

/// Registers ctgrad's kernels for matmul(a [M, K], b [K, N]) with elements T: the forward
/// product and both backward products. Registering the same sizes again does nothing.
template <class T, std::size_t M, std::size_t K, std::size_t N>
void register_matmul() {
    namespace kn = ctgrad::kernels;
    if (detail::find_matmul<T>(M, K, N) != nullptr) {
        return;
    }
    detail::matmul_registry<T>.push_back(matmul_kernels<T>{
        M, K, N, [](const T* a, const T* b, T* c) { kn::matmul<M, K, N>(a, b, c); },
        [](const T* dc, const T* b, T* da) {
            kn::matmul_nt<M, N, K, kn::mode::accumulate>(dc, b, da);
        },
        [](const T* a, const T* dc, T* db) {
            kn::matmul_tn<K, M, N, kn::mode::accumulate>(a, dc, db);
        }});
}

/// Whether matmul(a [m, k], b [k, n]) with elements T runs ctgrad's kernels.
template <class T>
bool matmul_registered(std::size_t m, std::size_t k, std::size_t n) {
    return detail::find_matmul<T>(m, k, n) != nullptr;
}

/// How many products (forward or backward, any T) ran the fallback loop instead of a
/// registered kernel since the start or the last reset.
inline std::size_t fallback_matmuls() {
    return detail::fallback_count.load(std::memory_order_relaxed);
}

inline void reset_fallback_matmuls() {
    detail::fallback_count.store(0, std::memory_order_relaxed);
}

// --- graph construction helpers ---

namespace detail {

/// A result of one input: records the input and the closure only if it requires a gradient.
template <class T, class Backward>
tensor<T> make_unary(shape s, std::vector<T>&& value, const tensor<T>& a, Backward&& bw) {
    auto n = std::make_shared<node<T>>(s, std::move(value));
    if (a.requires_grad()) {
        n->inputs[0] = a.node_ptr();
        n->arity = 1;
        n->requires_grad = true;
        n->backward = std::forward<Backward>(bw);
    }
    return tensor<T>(std::move(n));
}

/// A result of two inputs: records both (their values feed the closure) if either requires a
/// gradient; the closure checks which ones do.
template <class T, class Backward>
tensor<T> make_binary(shape s, std::vector<T>&& value, const tensor<T>& a, const tensor<T>& b,
                      Backward&& bw) {
    auto n = std::make_shared<node<T>>(s, std::move(value));
    if (a.requires_grad() || b.requires_grad()) {
        n->inputs[0] = a.node_ptr();
        n->inputs[1] = b.node_ptr();
        n->arity = 2;
        n->requires_grad = true;
        n->backward = std::forward<Backward>(bw);
    }
    return tensor<T>(std::move(n));
}

template <class T>
node<T>& in0(node<T>& n) {
    return *n.inputs[0];
}

template <class T>
node<T>& in1(node<T>& n) {
    return *n.inputs[1];
}

[[noreturn]] inline void shape_error(const char* op, const shape& a, const shape& b,
                                     const char* expected) {
    throw std::invalid_argument(std::string("tg::") + op + ": shapes " + to_string(a) + " and " +
                                to_string(b) + " do not match (" + expected + ")");
}

/// Whether b broadcasts over the rows of a: a [N, O], b [O].
inline bool row_broadcast(const shape& a, const shape& b) {
    return a.rank == 2 && b.rank == 1 && a.cols == b.cols;
}

/// Addition or subtraction (Sign = +1 or -1 applied to b): same shapes, or a [N, O] with a
/// row vector b [O] (in either order of the operands: the vector is added to every row).
template <int Sign, class T>
tensor<T> add_sub(const tensor<T>& a, const tensor<T>& b, const char* op) {
    const shape& sa = a.dims();
    const shape& sb = b.dims();
    if (sa == sb) {
        const std::size_t size = sa.size();
        std::vector<T> out(size);
        const T* x = a.values().data();
        const T* y = b.values().data();
        for (std::size_t i = 0; i < size; ++i) out[i] = Sign > 0 ? x[i] + y[i] : x[i] - y[i];
        return make_binary(sa, std::move(out), a, b, [](node<T>& n) {
            const std::size_t len = n.grad.size();
            const T* g = n.grad.data();
            node<T>& p = in0(n);
            node<T>& q = in1(n);
            if (p.requires_grad) {
                T* gp = p.grad.data();
                for (std::size_t i = 0; i < len; ++i) gp[i] += g[i];
            }
            if (q.requires_grad) {
                T* gq = q.grad.data();
                for (std::size_t i = 0; i < len; ++i) {
                    if constexpr (Sign > 0) {
                        gq[i] += g[i];
                    } else {
                        gq[i] -= g[i];
                    }
                }
            }
        });
    }
    const bool vector_second = row_broadcast(sa, sb);
    if (!vector_second && !row_broadcast(sb, sa)) {
        shape_error(op, sa, sb, "same shapes, or [N, O] and [O]");
    }
    const shape& sm = vector_second ? sa : sb;
    const std::size_t rows = sm.rows;
    const std::size_t cols = sm.cols;
    std::vector<T> out(sm.size());
    const T* x = a.values().data();
    const T* y = b.values().data();
    // x or y is the [cols] vector: read with index j, the matrix with i·cols + j.
    const std::size_t rx = vector_second ? cols : 0;
    const std::size_t ry = vector_second ? 0 : cols;
    for (std::size_t i = 0; i < rows; ++i) {
        const T* xi = x + i * rx;
        const T* yi = y + i * ry;
        T* oi = out.data() + i * cols;
        for (std::size_t j = 0; j < cols; ++j) oi[j] = Sign > 0 ? xi[j] + yi[j] : xi[j] - yi[j];
    }
    return make_binary(sm, std::move(out), a, b, [](node<T>& n) {
        const std::size_t nr = n.dims.rows;
        const std::size_t nc = n.dims.cols;
        const T* g = n.grad.data();
        // The matrix operand gets ±g, the vector operand the column sums of ±g.
        for (int which = 0; which < 2; ++which) {
            node<T>& p = which == 0 ? in0(n) : in1(n);
            if (!p.requires_grad) {
                continue;
            }
            const T sign = which == 0 || Sign > 0 ? T(1) : T(-1);
            T* gp = p.grad.data();
            if (p.dims.rank == 2) {
                const std::size_t len = nr * nc;
                if (sign > 0) {
                    for (std::size_t i = 0; i < len; ++i) gp[i] += g[i];
                } else {
                    for (std::size_t i = 0; i < len; ++i) gp[i] -= g[i];
                }
            } else {
                for (std::size_t i = 0; i < nr; ++i) {
                    const T* gi = g + i * nc;
                    if (sign > 0) {
                        for (std::size_t j = 0; j < nc; ++j) gp[j] += gi[j];
                    } else {
                        for (std::size_t j = 0; j < nc; ++j) gp[j] -= gi[j];
                    }
                }
            }
        }
    });
}

/// An elementwise function of one tensor: value f(x); the closure adds g·f'(x, f(x)).
template <class T, class F, class Backward>
tensor<T> elementwise(const tensor<T>& a, F f, Backward&& bw) {
    const std::size_t size = a.size();
    std::vector<T> out(size);
    const T* x = a.values().data();
    for (std::size_t i = 0; i < size; ++i) out[i] = f(x[i]);
    return make_unary(a.dims(), std::move(out), a, std::forward<Backward>(bw));
}

}  // namespace detail

// --- operations ---

/// a [m, k] · b [k, n] -> [m, n], by ctgrad's kernels if these sizes are registered
/// (register_matmul), by the fallback loop otherwise (counted by fallback_matmuls()).
/// Backward: dA += dC·Bᵀ, dB += Aᵀ·dC, each only for an input that requires a gradient.
template <class T>
tensor<T> matmul(const tensor<T>& a, const tensor<T>& b) {
    const shape& sa = a.dims();
    const shape& sb = b.dims();
    if (sa.rank != 2 || sb.rank != 2 || sa.cols != sb.rows) {
        detail::shape_error("matmul", sa, sb, "[m, k] and [k, n]");
    }
    const std::size_t m = sa.rows;
    const std::size_t k = sa.cols;
    const std::size_t n = sb.cols;
    const matmul_kernels<T>* kern = detail::find_matmul<T>(m, k, n);
    std::vector<T> out(m * n);
    if (kern != nullptr) {
        kern->forward(a.values().data(), b.values().data(), out.data());
    } else {
        detail::fallback_nn(a.values().data(), b.values().data(), out.data(), m, k, n);
    }
    return detail::make_binary(shape{2, m, n}, std::move(out), a, b, [kern](node<T>& c) {
        node<T>& x = detail::in0(c);
        node<T>& w = detail::in1(c);
        if (x.requires_grad) {
            if (kern != nullptr) {
                kern->grad_a(c.grad.data(), w.value.data(), x.grad.data());
            } else {
                detail::fallback_nt(c.grad.data(), w.value.data(), x.grad.data(), x.dims.rows,
                                    w.dims.cols, x.dims.cols);
            }
        }
        if (w.requires_grad) {
            if (kern != nullptr) {
                kern->grad_b(x.value.data(), c.grad.data(), w.grad.data());
            } else {
                detail::fallback_tn(x.value.data(), c.grad.data(), w.grad.data(), w.dims.rows,
                                    x.dims.rows, w.dims.cols);
            }
        }
    });
}

/// a + b: same shapes, or a [N, O] matrix and a [O] row vector (either first) added to every
/// row (the vector's gradient is the column sums of the result's).
template <class T>
tensor<T> add(const tensor<T>& a, const tensor<T>& b) {
    return detail::add_sub<1>(a, b, "add");
}

/// a - b: same shapes, or a matrix and a row vector as in add.
template <class T>
tensor<T> sub(const tensor<T>& a, const tensor<T>& b) {
    return detail::add_sub<-1>(a, b, "sub");
}

/// Elementwise a·b, same shapes.
template <class T>
tensor<T> mul(const tensor<T>& a, const tensor<T>& b) {
    if (a.dims() != b.dims()) {
        detail::shape_error("mul", a.dims(), b.dims(), "same shapes");
    }
    const std::size_t size = a.size();
    std::vector<T> out(size);
    const T* x = a.values().data();
    const T* y = b.values().data();
    for (std::size_t i = 0; i < size; ++i) out[i] = x[i] * y[i];
    return detail::make_binary(a.dims(), std::move(out), a, b, [](node<T>& n) {
        const std::size_t len = n.grad.size();
        const T* g = n.grad.data();
        node<T>& p = detail::in0(n);
        node<T>& q = detail::in1(n);
        if (p.requires_grad) {
            T* gp = p.grad.data();
            const T* yv = q.value.data();
            for (std::size_t i = 0; i < len; ++i) gp[i] += g[i] * yv[i];
        }
        if (q.requires_grad) {
            T* gq = q.grad.data();
            const T* xv = p.value.data();
            for (std::size_t i = 0; i < len; ++i) gq[i] += g[i] * xv[i];
        }
    });
}

/// c·a for a number c.
template <class T>
tensor<T> scale(std::type_identity_t<T> c, const tensor<T>& a) {
    return detail::elementwise(
        a, [c](T x) { return c * x; },
        [c](node<T>& n) {
            const std::size_t size = n.grad.size();
            const T* g = n.grad.data();
            T* ga = detail::in0(n).grad.data();
            for (std::size_t i = 0; i < size; ++i) ga[i] += c * g[i];
        });
}

/// max(x, 0) elementwise; relu'(x) = 1 where relu(x) > 0 (the cached output), else 0.
template <class T>
tensor<T> relu(const tensor<T>& a) {
    return detail::elementwise(
        a, [](T x) { return x <= T(0) ? T(0) : x; },
        [](node<T>& n) {
            const std::size_t size = n.grad.size();
            const T* g = n.grad.data();
            const T* y = n.value.data();
            T* ga = detail::in0(n).grad.data();
            for (std::size_t i = 0; i < size; ++i) ga[i] += y[i] > T(0) ? g[i] : T(0);
        });
}

/// 1/(1 + e^-x) elementwise; sigmoid' = s(1 - s), from the cached output.
template <class T>
tensor<T> sigmoid(const tensor<T>& a) {
    return detail::elementwise(
        a, [](T x) { return T(1) / (T(1) + std::exp(-x)); },
        [](node<T>& n) {
            const std::size_t size = n.grad.size();
            const T* g = n.grad.data();
            const T* s = n.value.data();
            T* ga = detail::in0(n).grad.data();
            for (std::size_t i = 0; i < size; ++i) ga[i] += g[i] * (s[i] * (T(1) - s[i]));
        });
}

/// tanh elementwise; tanh' = 1 - t², from the cached output.
template <class T>
tensor<T> tanh(const tensor<T>& a) {
    return detail::elementwise(
        a, [](T x) { return std::tanh(x); },
        [](node<T>& n) {
            const std::size_t size = n.grad.size();
            const T* g = n.grad.data();
            const T* t = n.value.data();
            T* ga = detail::in0(n).grad.data();
            for (std::size_t i = 0; i < size; ++i) ga[i] += g[i] * (T(1) - t[i] * t[i]);
        });
}

/// x² elementwise; derivative 2x.
template <class T>
tensor<T> square(const tensor<T>& a) {
    return detail::elementwise(
        a, [](T x) { return x * x; },
        [](node<T>& n) {
            const std::size_t size = n.grad.size();
            const T* g = n.grad.data();
            node<T>& p = detail::in0(n);
            const T* x = p.value.data();
            T* ga = p.grad.data();
            for (std::size_t i = 0; i < size; ++i) ga[i] += g[i] * (T(2) * x[i]);
        });
}

/// The sum of all elements, rank 0.
template <class T>
tensor<T> sum(const tensor<T>& a) {
    T s = T(0);
    for (const T x : a.values()) s += x;
    return detail::make_unary(shape{}, std::vector<T>{s}, a, [](node<T>& n) {
        node<T>& p = detail::in0(n);
        const T g = n.grad[0];
        for (T& gp : p.grad) gp += g;
    });
}

/// The mean of all elements, rank 0.
template <class T>
tensor<T> mean(const tensor<T>& a) {
    T s = T(0);
    for (const T x : a.values()) s += x;
    return detail::make_unary(shape{}, std::vector<T>{s / T(a.size())}, a, [](node<T>& n) {
        node<T>& p = detail::in0(n);
        const T g = n.grad[0] / T(p.grad.size());
        for (T& gp : p.grad) gp += g;
    });
}

/// 1/(2n)·Σ(y - a)², rank 0, for a and y of the same shape; n = a's rows for a matrix (the
/// batch), 1 otherwise. d/da = (a - y)/n, d/dy = (y - a)/n.
template <class T>
tensor<T> mse(const tensor<T>& a, const tensor<T>& y) {
    if (a.dims() != y.dims()) {
        detail::shape_error("mse", a.dims(), y.dims(), "same shapes");
    }
    const std::size_t size = a.size();
    const T* p = a.values().data();
    const T* q = y.values().data();
    T s = T(0);
    for (std::size_t i = 0; i < size; ++i) {
        const T d = q[i] - p[i];
        s += d * d;
    }
    const T batch = T(a.rank() == 2 ? a.rows() : 1);
    return detail::make_binary(shape{}, std::vector<T>{s / (T(2) * batch)}, a, y, [](node<T>& n) {
        node<T>& pa = detail::in0(n);
        node<T>& py = detail::in1(n);
        const std::size_t len = pa.value.size();
        const T g = n.grad[0] / T(pa.dims.rank == 2 ? pa.dims.rows : 1);
        const T* av = pa.value.data();
        const T* yv = py.value.data();
        if (pa.requires_grad) {
            T* ga = pa.grad.data();
            for (std::size_t i = 0; i < len; ++i) ga[i] += g * (av[i] - yv[i]);
        }
        if (py.requires_grad) {
            T* gy = py.grad.data();
            for (std::size_t i = 0; i < len; ++i) gy[i] += g * (yv[i] - av[i]);
        }
    });
}

/// Mean over the batch of -Σⱼ yᵢⱼ·log softmax(zᵢ)ⱼ, rank 0, for logits z [N, C] and targets
/// y [N, C] (one-hot rows, or any weights). Computed stably per row: m = max zᵢ,
/// lse = m + log Σⱼ e^(zᵢⱼ - m), loss row = Σⱼ yᵢⱼ (lse - zᵢⱼ). The forward pass saves the
/// softmax p; backward: dz = (p·Σⱼ yᵢⱼ - y)/N, which is (p - y)/N for one-hot rows, and, if the
/// targets require a gradient, dy = (lse - z)/N.
template <class T>
tensor<T> softmax_cross_entropy(const tensor<T>& logits, const tensor<T>& targets) {
    const shape& sz = logits.dims();
    if (sz.rank != 2 || sz != targets.dims()) {
        detail::shape_error("softmax_cross_entropy", sz, targets.dims(),
                            "logits [N, C] and targets [N, C]");
    }
    const std::size_t rows = sz.rows;
    const std::size_t cols = sz.cols;
    const bool keep = logits.requires_grad() || targets.requires_grad();
    const bool keep_lse = targets.requires_grad();
    std::vector<T> saved;
    if (keep) {
        saved.resize(rows * cols + (keep_lse ? rows : 0));
    }
    const T* z = logits.values().data();
    const T* y = targets.values().data();
    T total = T(0);
    for (std::size_t i = 0; i < rows; ++i) {
        const T* zi = z + i * cols;
        const T* yi = y + i * cols;
        const T m = *std::max_element(zi, zi + cols);
        T s = T(0);
        if (keep) {
            T* pi = saved.data() + i * cols;
            for (std::size_t j = 0; j < cols; ++j) {
                pi[j] = std::exp(zi[j] - m);
                s += pi[j];
            }
            const T inv = T(1) / s;
            for (std::size_t j = 0; j < cols; ++j) pi[j] *= inv;
        } else {
            for (std::size_t j = 0; j < cols; ++j) s += std::exp(zi[j] - m);
        }
        const T lse = m + std::log(s);
        if (keep_lse) {
            saved[rows * cols + i] = lse;
        }
        T row = T(0);
        for (std::size_t j = 0; j < cols; ++j) row += yi[j] * (lse - zi[j]);
        total += row;
    }
    tensor<T> out = detail::make_binary(
        shape{}, std::vector<T>{total / T(rows)}, logits, targets, [](node<T>& n) {
            node<T>& pz = detail::in0(n);
            node<T>& py = detail::in1(n);
            const std::size_t nr = pz.dims.rows;
            const std::size_t nc = pz.dims.cols;
            const T g = n.grad[0] / T(nr);
            const T* p = n.saved.data();
            const T* yv = py.value.data();
            if (pz.requires_grad) {
                T* gz = pz.grad.data();
                for (std::size_t i = 0; i < nr; ++i) {
                    const T* yi = yv + i * nc;
                    T ysum = T(0);
                    for (std::size_t j = 0; j < nc; ++j) ysum += yi[j];
                    const T* pi = p + i * nc;
                    T* gi = gz + i * nc;
                    for (std::size_t j = 0; j < nc; ++j) gi[j] += g * (pi[j] * ysum - yi[j]);
                }
            }
            if (py.requires_grad) {
                const T* lse = p + nr * nc;
                const T* zv = pz.value.data();
                T* gy = py.grad.data();
                for (std::size_t i = 0; i < nr; ++i) {
                    for (std::size_t j = 0; j < nc; ++j) {
                        gy[i * nc + j] += g * (lse[i] - zv[i * nc + j]);
                    }
                }
            }
        });
    if (keep) {
        out.get().saved = std::move(saved);
    }
    return out;
}

// --- operators: the same ops, spelled as PyTorch users write them ---

template <class T>
tensor<T> operator+(const tensor<T>& a, const tensor<T>& b) {
    return add(a, b);
}

template <class T>
tensor<T> operator-(const tensor<T>& a, const tensor<T>& b) {
    return sub(a, b);
}

template <class T>
tensor<T> operator*(const tensor<T>& a, const tensor<T>& b) {
    return mul(a, b);
}

template <class T>
tensor<T> operator*(std::type_identity_t<T> c, const tensor<T>& a) {
    return scale(c, a);
}

}  // namespace ctgrad_baseline::tg
