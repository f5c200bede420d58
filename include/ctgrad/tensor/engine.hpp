/// @file
/// The engine of a tensor sweep: the generated loops and kernel calls that run a schedule
/// (tensor/schedule.hpp) on a workspace (tensor/workspace.hpp). The third of the three files
/// behind tensor/program.hpp.
///
/// Every step of a sweep (the forward loop of an entry, the backward loop rooted at an entry, a
/// kernel call, an in-place update) is a small type that describes only what that step needs --
/// the op, the shapes, the buffer offsets, and for a fused loop the inlined subtree (its ops and
/// where its leaves are read) -- with a static `run(const context<S>&)`. Its name grows with the
/// fused region, never with the plan, so a network of any depth has short symbols and one
/// instantiation per step. Bound tensors, numbers and run-time constants reach the steps at run
/// time, through the context: an array of pointers filled once per call by `engine`, the one
/// class that knows the expression and the bindings.
///
/// The loops run over rows in blocks of `lanes` (two vectors of the element type, at least 8), a
/// partial sum per lane for reductions and for the adjoints of scalars; the numbers a loop reads
/// that do not change in it (scalar variables, reductions' values) are loaded into locals before
/// it, and GCC is told that its blocks are independent, so that the loops are vectorised without
/// run-time overlap checks: the workspace never overlaps a bound tensor (do not bind a view into a
/// program's workspace to the same program).
#pragma once

#include <array>        // std::array
#include <cstddef>      // std::size_t
#include <string_view>  // std::string_view
#include <type_traits>  // std::conditional_t, std::is_const_v
#include <utility>      // std::index_sequence

#include <boost/hana/at.hpp>
#include <boost/hana/basic_tuple.hpp>
#include <boost/hana/unpack.hpp>

#include <ctgrad/core/binding.hpp>
#include <ctgrad/core/fwd.hpp>
#include <ctgrad/core/shape.hpp>
#include <ctgrad/detail/type_list.hpp>
#include <ctgrad/tensor/matmul.hpp>
#include <ctgrad/tensor/ops.hpp>
#include <ctgrad/tensor/schedule.hpp>
#include <ctgrad/tensor/tensor.hpp>
#include <ctgrad/tensor/workspace.hpp>

/// Forces inlining of the engine's loops and their bodies (GCC, Clang): each is instantiated for
/// one step, so inlining it costs no code, and the state of the loop (its invariants and
/// accumulators) then lives in registers of the step's function. Not forced with
/// -DCTGRAD_NO_FORCED_INLINE in a Clang -O0 build (tensor/matmul.hpp).
#if (defined(__GNUC__) || defined(__clang__)) && \
    !(defined(CTGRAD_NO_FORCED_INLINE) && defined(__clang__) && !defined(__OPTIMIZE__))
#define CTGRAD_ALWAYS_INLINE __attribute__((always_inline))
#else
#define CTGRAD_ALWAYS_INLINE
#endif

/// (CTGRAD_IVDEP, GCC's `ivdep` before a loop whose iterations are independent: tensor/matmul.hpp.)

namespace ctgrad {
namespace tensor_ad {

// --- what every step reads at run time ---

/// The run-time state of one call: the workspace, the sources (per source slot: the memory of a
/// bound variable, or a number: a scalar bound by value, a run-time constant), the writable
/// memory of variables bound with std::ref (per variable slot, null otherwise), the step size of
/// an SGD step, and the numbers of the step that runs (`arg`: its workspace offsets and source
/// slots, see `lifted` below; a step's type holds only positions in this array).
template <class S>
struct context {
    S* ws;
    const S* const* src;
    S* const* mut;
    S lr;
    const std::size_t* arg = nullptr;
};

/// Independent partial sums per reduction: the loops over columns run in blocks of this many,
/// each lane with its own accumulator, so that additions do not wait on each other. Two vectors
/// of S (kernels::detail::vector_bytes: 16 bytes with SSE2, 32 with AVX, 64 with AVX-512F), at
/// least 8: 8 doubles with SSE2 or AVX, 16 with AVX-512F.
template <class S>
inline constexpr std::size_t lanes =
    2 * kernels::detail::lanes<S> > 8 ? 2 * kernels::detail::lanes<S> : 8;

/// The lanes of a loop over rows of D::cols: the largest of lanes, lanes / 2, ..., 8 that leaves
/// at least two blocks in a row (a loop, which the compiler vectorises: one block is
/// straight-line code, which GCC does not vectorise past the workspace's stores), else 8 if a row
/// has 8 elements, else 1.
template <class S, class D>
inline constexpr std::size_t lanes_for = [] {
    std::size_t l = lanes<S>;
    while (l > 8 && 2 * l > D::cols) l /= 2;
    return D::cols >= l ? l : std::size_t{1};
}();

/// f(r, c, i, lane) for every position of a loop over shape D in blocks of L. Independent: no two
/// positions of a row write the same element (every loop but one that adds into a column
/// broadcast over the rows), so the blocks of a row may run as vectors; this is asserted to the
/// compiler (CTGRAD_IVDEP), which cannot see that the workspace and the bound tensors do not
/// overlap (a bound tensor must not be a view into the program's own workspace). The lanes of an
/// independent block are a loop of constant trip count L, which the compiler vectorises as it
/// is (contiguous loads and stores); unrolled by hand, GCC vectorised the loop over blocks
/// instead, with the L lanes as an interleaved group: permutes and spills, 2.2x slower for a
/// loop of exp (math/vector.hpp) at AVX-512.
template <class D, std::size_t L, bool Independent = true, class F>
CTGRAD_ALWAYS_INLINE constexpr void loop(F&& f) {
    for (std::size_t r = 0; r < D::rows; ++r) {
        std::size_t c = 0;
        if constexpr (Independent) {
            CTGRAD_IVDEP
            for (; c + L <= D::cols; c += L) {
                CTGRAD_IVDEP
                for (std::size_t l = 0; l < L; ++l) f(r, c + l, r * D::cols + c + l, l);
            }
        } else {
            for (; c + L <= D::cols; c += L) {
#pragma GCC unroll 64
                for (std::size_t l = 0; l < L; ++l) f(r, c + l, r * D::cols + c + l, l);
            }
        }
        for (; c < D::cols; ++c) f(r, c, r * D::cols + c, 0);
    }
}

/// a[0] + ... + a[L - 1], pairwise (L is a power of two): the halves added as vectors, log2(L)
/// dependent additions, not L - 1.
template <class S, std::size_t L>
constexpr S lane_sum(const S (&a)[L]) {
    if constexpr (L == 1) {
        return a[0];
    } else {
        S h[L / 2];
#pragma GCC unroll 64
        for (std::size_t l = 0; l < L / 2; ++l) h[l] = a[l] + a[l + L / 2];
#pragma GCC unroll 8
        for (std::size_t w = L / 4; w > 0; w /= 2) {
#pragma GCC unroll 64
            for (std::size_t l = 0; l < w; ++l) h[l] += h[l + w];
        }
        return h[0];
    }
}

// --- descriptions of a value at a loop position (the fused loop body) ---

/// A source (bound variable, number, run-time constant) of shape Shape, broadcast over the loop.
template <std::size_t Slot, class Shape>
struct v_src {};
/// An exact literal E.
template <class E>
struct v_lit {};
/// A stored buffer at workspace offset Off, of shape Shape.
template <std::size_t Off, class Shape>
struct v_ws {};
/// Invariant M of the loop, loaded before it.
template <std::size_t M>
struct v_inv {};
/// Op applied to the values A... (an inlined entry).
template <class Op, class... A>
struct v_op {};
/// The same, stored at workspace offset Off (forward sweep: an entry stored by the loop that reads
/// it).
template <std::size_t Off, class Shape, class Op, class... A>
struct v_store {};

/// The loaded invariants of a loop.
template <class S, std::size_t M>
struct inv_values {
    S v[M > 0 ? M : 1] = {};
};

/// Op's value at a loop position: its loop kernel (Op::loop_value, the branch-free vector math of
/// math/vector.hpp) where it has one for these numbers, else Op::value.
template <class Op, class... X>
CTGRAD_ALWAYS_INLINE constexpr auto loop_value(X... x) {
    if constexpr (requires { Op::loop_value(x...); }) {
        return Op::loop_value(x...);
    } else {
        return Op::value(x...);
    }
}

/// Op's partial derivative at a loop position: Op::loop_partial where it has one, else
/// Op::partial.
template <class Op, class I, class... X>
CTGRAD_ALWAYS_INLINE constexpr auto loop_partial(I i, X... x) {
    if constexpr (requires { Op::loop_partial(i, x...); }) {
        return Op::loop_partial(i, x...);
    } else {
        return Op::partial(i, x...);
    }
}

/// The value of description V at a loop position over shape D: `val<V>::at<D>(cx, val<V>::pos,
/// r, c, i, inv)`. A leaf's number (its source slot, workspace offset or invariant slot) is `pos`,
/// passed to `at` as an argument, so that the leaves of one kind and shape share one function
/// (`at` of a base named after the shape only), whatever their numbers: a test TU's loops read
/// their leaves through ~60 such functions, not ~500. The loop's invariants (`inv`) and, in
/// `push` and `contribute`, its lane accumulators reach them as pointers (`const S*`,
/// `S (*)[L]`), not as inv_values<S, M> and accumulators<S, Count, L>: their functions are not
/// named after how many invariants and accumulators a loop has, so loops share them.
template <class V>
struct val;

/// A source of shape Shape: slot cx.arg[pos].
template <class Shape>
struct src_at {
    template <class D, class S>
    static constexpr S at(const context<S>& cx, std::size_t pos, std::size_t r, std::size_t c,
                          std::size_t i, const S*) {
        return cx.src[cx.arg[pos]][detail::broadcast_index<Shape, D>(r, c, i)];
    }
};

/// A stored buffer of shape Shape at workspace offset cx.arg[pos].
template <class Shape>
struct ws_at {
    template <class D, class S>
    static constexpr S at(const context<S>& cx, std::size_t pos, std::size_t r, std::size_t c,
                          std::size_t i, const S*) {
        return cx.ws[cx.arg[pos] + detail::broadcast_index<Shape, D>(r, c, i)];
    }
};

/// Invariant pos of the loop.
struct inv_at {
    template <class D, class S>
    static constexpr S at(const context<S>&, std::size_t pos, std::size_t, std::size_t, std::size_t,
                          const S* inv) {
        return inv[pos];
    }
};

template <std::size_t Slot, class Shape>
struct val<v_src<Slot, Shape>> : src_at<Shape> {
    static constexpr std::size_t pos = Slot;
};

template <std::size_t Off, class Shape>
struct val<v_ws<Off, Shape>> : ws_at<Shape> {
    static constexpr std::size_t pos = Off;
};

template <std::size_t M>
struct val<v_inv<M>> : inv_at {
    static constexpr std::size_t pos = M;
};

template <class E>
struct val<v_lit<E>> {
    static constexpr std::size_t pos = 0;

    template <class D, class S>
    static constexpr S at(const context<S>&, std::size_t, std::size_t, std::size_t, std::size_t,
                          const S*) {
        return E::template as<S>();
    }
};

template <class Op, class... A>
struct val<v_op<Op, A...>> {
    static constexpr std::size_t pos = 0;

    template <class D, class S>
    static constexpr S at(const context<S>& cx, std::size_t, std::size_t r, std::size_t c,
                          std::size_t i, const S* inv) {
        return static_cast<S>(
            loop_value<Op>(val<A>::template at<D>(cx, val<A>::pos, r, c, i, inv)...));
    }
};

template <std::size_t Off, class Shape, class Op, class... A>
struct val<v_store<Off, Shape, Op, A...>> {
    static constexpr std::size_t pos = 0;

    template <class D, class S>
    static constexpr S at(const context<S>& cx, std::size_t, std::size_t r, std::size_t c,
                          std::size_t i, const S* inv) {
        const S y = static_cast<S>(
            loop_value<Op>(val<A>::template at<D>(cx, val<A>::pos, r, c, i, inv)...));
        cx.ws[cx.arg[Off] + detail::broadcast_index<Shape, D>(r, c, i)] = y;
        return y;
    }
};

/// The invariants of a loop: the values V... (sources, stored scalars), loaded once before it.
/// Read through the context they could, as far as the compiler knows, be changed by the loop's
/// stores into the workspace, and be loaded again for every element (which also keeps the loop
/// from being vectorised).
template <class... V>
struct invs {
    template <class D, class S>
    static constexpr inv_values<S, sizeof...(V)> open(const context<S>& cx) {
        return {
            {val<V>::template at<D>(cx, val<V>::pos, 0, 0, 0, static_cast<const S*>(nullptr))...}};
    }
};

template <>
struct invs<> {
    template <class D, class S>
    static constexpr inv_values<S, 0> open(const context<S>&) {
        return {};
    }
};

// --- descriptions of pushing an adjoint through a fused loop body (backward sweep) ---

/// How a contribution reaches an argument: not at all; written (assigned or added) to a stored
/// adjoint at workspace offset Off of shape Shape; added to the lane accumulator Slot of a scalar;
/// pushed further through the inlined argument Node. (Their numbers as members, for
/// `contribute`.)
struct e_skip {};
template <bool Assign, std::size_t Off, class Shape>
struct e_write {
    static constexpr bool assign = Assign;
    static constexpr std::size_t off = Off;
    using shape = Shape;
};
template <std::size_t Slot>
struct e_acc {
    static constexpr std::size_t slot = Slot;
};
template <class Node>
struct e_push {
    using node = Node;
};
/// Argument of a pushed node: its value and where its contribution goes.
template <class Value, class Edge>
struct p_arg {};
/// An elementwise op whose adjoint is pushed to its arguments.
template <class Op, class... Args>
struct p_node {};

template <class Node, class Seq = void>
struct push;

/// The partial derivative of Op by its argument I at the argument values x and value y (no
/// function of its own for the arities of the ops: one per op and argument, not per node).
template <class Op, std::size_t I, class S, std::size_t Arity>
CTGRAD_ALWAYS_INLINE constexpr S partial_at(const S (&x)[Arity], S y) {
    if constexpr (Arity == 1) {
        return static_cast<S>(loop_partial<Op>(arg<I>, x[0], y));
    } else if constexpr (Arity == 2) {
        return static_cast<S>(loop_partial<Op>(arg<I>, x[0], x[1], y));
    } else if constexpr (Arity == 3) {
        return static_cast<S>(loop_partial<Op>(arg<I>, x[0], x[1], x[2], y));
    } else {
        return [&]<std::size_t... M>(std::index_sequence<M...>) {
            return static_cast<S>(loop_partial<Op>(arg<I>, x[M]..., y));
        }
        (std::make_index_sequence<Arity>{});
    }
}

/// The contribution of an entry (op Op, value y, argument values x) with adjoint `adj` at one
/// loop position to its argument I, which goes by Edge: adj times the partial, written to a
/// stored adjoint, added to a lane accumulator or pushed further through the inlined argument.
/// Op void: a reduction's contribution to its argument (adj itself; x: the argument's value).
/// One function per argument of a pushed node (the partial and the edge's code in it).
template <class Op, std::size_t I, class Edge, class D, class S, std::size_t Arity, std::size_t L>
constexpr void contribute(const context<S>& cx, std::size_t r, std::size_t c, std::size_t i,
                          std::size_t l, S adj, S y, const S (&x)[Arity], const S* inv,
                          S (*acc)[L]) {
    if constexpr (!std::is_same_v<Edge, e_skip>) {
        S d = adj;
        if constexpr (!std::is_void_v<Op>) d = adj * partial_at<Op, I>(x, y);
        if constexpr (requires { Edge::assign; }) {
            S& dst = cx.ws[cx.arg[Edge::off] +
                           detail::broadcast_index<typename Edge::shape, D>(r, c, i)];
            if constexpr (Edge::assign) {
                dst = d;
            } else {
                dst += d;
            }
        } else if constexpr (requires { Edge::slot; }) {
            acc[Edge::slot][l] += d;
        } else {
            push<typename Edge::node>::template run<D>(cx, r, c, i, l, d, x[I], inv, acc);
        }
    }
}

/// Pushes the adjoint `adj` of an elementwise entry (value y) at one loop position to its
/// arguments: stored adjoints are written, inlined ones pushed further.
template <class Op, class... V, class... E>
struct push<p_node<Op, p_arg<V, E>...>, void>
    : push<p_node<Op, p_arg<V, E>...>, std::index_sequence_for<V...>> {};

template <class Op, class... V, class... E, std::size_t... I>
struct push<p_node<Op, p_arg<V, E>...>, std::index_sequence<I...>> {
    template <class D, class S, std::size_t L>
    static constexpr void run(const context<S>& cx, std::size_t r, std::size_t c, std::size_t i,
                              std::size_t l, S adj, S y, const S* inv, S (*acc)[L]) {
        const S x[] = {val<V>::template at<D>(cx, val<V>::pos, r, c, i, inv)...};
        (contribute<Op, I, E, D>(cx, r, c, i, l, adj, y, x, inv, acc), ...);
    }
};

/// Lane-wise partial sums of the adjoints of scalars that a loop over many elements accumulates
/// (a scalar variable times a tensor), added to their stored adjoints (at workspace offsets
/// Off...) once after the loop.
template <class S, std::size_t Count, std::size_t L>
struct accumulators {
    S v[Count > 0 ? Count : 1][L] = {};
};

template <std::size_t... Off>
struct flush_to {
    static constexpr std::size_t count = sizeof...(Off);

    template <class S, class Acc>
    static constexpr void run(const context<S>& cx, const Acc& acc) {
        if constexpr (count > 0) {
            constexpr std::size_t off[] = {Off...};
            for (std::size_t m = 0; m < count; ++m) cx.ws[cx.arg[off[m]]] += lane_sum(acc.v[m]);
        }
    }
};

/// Zeroes Count elements of the workspace at Off.
template <std::size_t Off, std::size_t Count>
struct zero {};

template <class... Z>
struct zeros;

template <std::size_t... Off, std::size_t... Count>
struct zeros<zero<Off, Count>...> {
    template <class S>
    static constexpr void run(const context<S>& cx) {
        if constexpr (sizeof...(Off) > 0) {
            constexpr std::size_t off[] = {Off...}, count[] = {Count...};
            for (std::size_t z = 0; z < sizeof...(Off); ++z) {
                S* p = cx.ws + cx.arg[off[z]];
                for (std::size_t e = 0; e < count[z]; ++e) p[e] = S(0);
            }
        }
    }
};

// --- the steps ---

/// A step that does nothing (an inlined entry, a variable, ...).
struct no_step {
    template <class S>
    static constexpr void run(const context<S>&) {}
};

/// Forward: the elementwise entry Body over shape D, stored at Out.
template <class D, std::size_t Out, class Body, class Inv>
struct forward_elementwise {
    template <class S>
    static constexpr void run(const context<S>& cx) {
        S* out = cx.ws + cx.arg[Out];
        const auto inv = Inv::template open<D>(cx);
        loop<D, lanes_for<S, D>>(
            [&](std::size_t r, std::size_t c, std::size_t i, std::size_t) CTGRAD_ALWAYS_INLINE {
                out[i] = val<Body>::template at<D>(cx, val<Body>::pos, r, c, i, inv.v);
            });
    }
};

/// Forward: the sum (Mean: the mean) of Arg over shape D, stored at Out.
template <class D, std::size_t Out, bool Mean, class Arg, class Inv>
struct forward_reduce {
    template <class S>
    static constexpr void run(const context<S>& cx) {
        const auto inv = Inv::template open<D>(cx);
        S acc[lanes_for<S, D>] = {};
        loop<D, lanes_for<S, D>>(
            [&](std::size_t r, std::size_t c, std::size_t i, std::size_t l) CTGRAD_ALWAYS_INLINE {
                acc[l] += val<Arg>::template at<D>(cx, val<Arg>::pos, r, c, i, inv.v);
            });
        S s = lane_sum(acc);
        if constexpr (Mean) s /= static_cast<S>(D::count);
        cx.ws[cx.arg[Out]] = s;
    }
};

/// Arguments of a kernel: a source (read-only), the writable memory of a variable, a stored
/// buffer.
template <std::size_t Slot>
struct a_src {};
template <std::size_t Slot>
struct a_mut {};
template <std::size_t Off>
struct a_ws {};

template <class S, std::size_t Slot>
constexpr const S* pointer(const context<S>& cx, a_src<Slot>) {
    return cx.src[cx.arg[Slot]];
}
template <class S, std::size_t Slot>
constexpr S* pointer(const context<S>& cx, a_mut<Slot>) {
    return cx.mut[cx.arg[Slot]];
}
template <class S, std::size_t Off>
constexpr const S* pointer(const context<S>& cx, a_ws<Off>) {
    return cx.ws + cx.arg[Off];
}

/// Forward: the kernel of Op (Saving: keeping numbers for its vjp after its value) with result
/// shape Shape and arguments of shapes ArgShapes at Args, stored at Out.
template <class Op, bool Saving, std::size_t Out, class Shape, class ArgShapes, class... Args>
struct forward_kernel;

template <class Op, bool Saving, std::size_t Out, class Shape, class... ArgShapes, class... Args>
struct forward_kernel<Op, Saving, Out, Shape, detail::type_list<ArgShapes...>, Args...> {
    template <class S>
    static constexpr void run(const context<S>& cx) {
        if constexpr (Saving) {
            Op::template forward_saving<Shape, ArgShapes...>(cx.ws + cx.arg[Out],
                                                             pointer(cx, Args{})...);
        } else {
            Op::template forward<Shape, ArgShapes...>(cx.ws + cx.arg[Out], pointer(cx, Args{})...);
        }
    }
};

/// Backward: the loop rooted at an elementwise entry over shape D whose adjoint is at AdjOff and
/// value Y, pushed through Node; Zeros zeroed first, Flush the scalar adjoints accumulated.
template <class D, class Zeros, std::size_t AdjOff, class Y, class Node, class Inv, class Flush,
          bool Independent>
struct backward_elementwise {
    template <class S>
    static constexpr void run(const context<S>& cx) {
        constexpr std::size_t L = lanes_for<S, D>;
        Zeros::run(cx);
        const S* adj = cx.ws + cx.arg[AdjOff];
        const auto inv = Inv::template open<D>(cx);
        accumulators<S, Flush::count, L> acc;
        loop<D, L, Independent>(
            [&](std::size_t r, std::size_t c, std::size_t i, std::size_t l) CTGRAD_ALWAYS_INLINE {
                push<Node>::template run<D>(cx, r, c, i, l, adj[i],
                                            val<Y>::template at<D>(cx, val<Y>::pos, r, c, i, inv.v),
                                            inv.v, acc.v);
            });
        Flush::run(cx, acc);
    }
};

/// Backward: the loop of a reduction (adjoint at AdjOff) over its argument of shape D, whose value
/// is Arg and whose contribution goes by Edge.
template <class D, class Zeros, std::size_t AdjOff, bool Mean, class Arg, class Edge, class Inv,
          class Flush, bool Independent>
struct backward_reduce {
    template <class S>
    static constexpr void run(const context<S>& cx) {
        constexpr std::size_t L = lanes_for<S, D>;
        Zeros::run(cx);
        S g = cx.ws[cx.arg[AdjOff]];
        if constexpr (Mean) g /= static_cast<S>(D::count);
        const auto inv = Inv::template open<D>(cx);
        accumulators<S, Flush::count, L> acc;
        if constexpr (!std::is_same_v<Edge, e_skip>) {
            loop<D, L, Independent>([&](std::size_t r, std::size_t c, std::size_t i,
                                        std::size_t l) CTGRAD_ALWAYS_INLINE {
                S y = S(0);
                if constexpr (!std::is_same_v<Arg, void>) {
                    y = val<Arg>::template at<D>(cx, val<Arg>::pos, r, c, i, inv.v);
                }
                const S x[] = {y};
                contribute<void, 0, Edge, D>(cx, r, c, i, l, g, y, x, inv.v, acc.v);
            });
        }
        Flush::run(cx, acc);
    }
};

/// One vjp of a kernel: argument I, into Dst (an adjoint buffer, or the variable itself for an
/// in-place update), in Mode; Update: scaled by −lr.
template <std::size_t I, kernels::mode Mode, bool Update, class Dst>
struct vjp_of {};

/// Backward: the vjps of the kernel of Op (result shape Shape, adjoint at AdjOff, value at ValOff
/// or none), whose arguments are at Args.
template <class Op, class Shape, class ArgShapes, std::size_t AdjOff, std::size_t ValOff,
          class ArgList, class... Vjps>
struct backward_kernel;

template <class Op, class Shape, class... ArgShapes, std::size_t AdjOff, std::size_t ValOff,
          class... Args, class... Vjps>
struct backward_kernel<Op, Shape, detail::type_list<ArgShapes...>, AdjOff, ValOff,
                       detail::type_list<Args...>, Vjps...> {
    template <class S, std::size_t I, kernels::mode Mode, bool Update, class Dst>
    static constexpr void one(const context<S>& cx, vjp_of<I, Mode, Update, Dst>) {
        S* val = ValOff == none ? nullptr : cx.ws + cx.arg[ValOff];
        S* dst = const_cast<S*>(pointer(cx, Dst{}));  // an adjoint buffer or a writable variable
        if constexpr (Update) {
            Op::template vjp<I, Mode, Shape, ArgShapes...>(dst, cx.ws + cx.arg[AdjOff], val,
                                                           pointer(cx, Args{})..., -cx.lr);
        } else {
            Op::template vjp<I, Mode, Shape, ArgShapes...>(dst, cx.ws + cx.arg[AdjOff], val,
                                                           pointer(cx, Args{})...);
        }
    }

    /// ∂ of arguments 0 and 1 in one call when the op shares work between them (shares_vjp_pair:
    /// the convolution's unpooled ∂Y), neither an in-place update; then the others.
    template <class S, kernels::mode M0, class D0, kernels::mode M1, class D1, class... Rest>
    static constexpr void pair(const context<S>& cx, vjp_of<0, M0, false, D0>,
                               vjp_of<1, M1, false, D1>, Rest... rest) {
        S* val = ValOff == none ? nullptr : cx.ws + cx.arg[ValOff];
        Op::template vjp_pair<M0, M1, Shape, ArgShapes...>(
            const_cast<S*>(pointer(cx, D0{})), const_cast<S*>(pointer(cx, D1{})),
            cx.ws + cx.arg[AdjOff], val, pointer(cx, Args{})...);
        (one(cx, rest), ...);
    }
    template <class S, class... V>
    static constexpr void pair(const context<S>& cx, V... v) {
        (one(cx, v), ...);
    }

    template <class S>
    static constexpr void run(const context<S>& cx) {
        if constexpr (requires { Op::shares_vjp_pair; }) {
            pair(cx, Vjps{}...);
        } else {
            (one(cx, Vjps{}), ...);
        }
    }
};

/// Zeroing before the backward pass and the seed of the root's adjoint.
template <class Zeros, std::size_t RootAdj>
struct seed {
    template <class S>
    static constexpr void run(const context<S>& cx) {
        Zeros::run(cx);
        cx.ws[cx.arg[RootAdj]] = S(1);
    }
};

/// p −= lr·∂/∂p for a differentiated variable (writable memory in variable slot Slot) of Count
/// elements whose adjoint is at AdjOff.
template <std::size_t Slot, std::size_t AdjOff, std::size_t Count>
struct update_step {
    template <class S>
    static constexpr void run(const context<S>& cx) {
        S* p = cx.mut[cx.arg[Slot]];
        const S* g = cx.ws + cx.arg[AdjOff];
        for (std::size_t e = 0; e < Count; ++e) p[e] -= cx.lr * g[e];
    }
};

// --- a step's numbers out of its type ---

// The descriptions above are built with the numbers of one entry of one schedule in them
// (workspace offsets, source slots: v_ws<Off, ...>, a_src<Slot>, ...). Compiled as they are,
// every layer of a network would be a function of its own that differs from the others only in
// these constants: a 128-layer network's 388 steps, compiled one by one (half of g++'s time).
// `lift` moves the numbers into an array (`nums`) and leaves in the type, in their place, their
// positions in it; the steps read them at run time through `context::arg`. Steps that do the
// same work on other buffers then have the same type, hence one function: the layers of a
// network share their forward loop, their backward loop and their kernel calls, in every
// schedule. What stays in the type is what shapes the code: ops, shapes, lanes, which
// arguments are stored, inlined, accumulated or skipped.

/// The numbers of a step, in the order `lift` meets them.
template <std::size_t... A>
struct nums {};

template <class Acc, std::size_t X>
struct append;

template <std::size_t... A, std::size_t X>
struct append<nums<A...>, X> {
    using type = nums<A..., X>;
    static constexpr std::size_t at = sizeof...(A);
};

template <class Acc, std::size_t... X>
struct append_all;

template <std::size_t... A, std::size_t... X>
struct append_all<nums<A...>, X...> {
    using type = nums<A..., X...>;
    static constexpr std::size_t at = sizeof...(A);
};

/// T with its numbers replaced by their positions in `acc` (Acc followed by T's numbers). Types
/// that hold no numbers (ops, shapes, literals, invariant and accumulator slots) are left as
/// they are.
template <class T, class Acc>
struct lift {
    using type = T;
    using acc = Acc;
};

/// The lifted types of T..., in order (`types`, a type_list), and the numbers after them
/// (`acc`). One class per element, which hands on the numbers so far (Acc) and the types lifted
/// so far (Done) to its base: the steps of a network lift thousands of argument lists, and
/// concatenating the types on the way back (a concat class per element) cost clang++ as much as
/// the lifting. (A member alias template here instead of apply_list cost g++ ~40 MB on the
/// 128-layer network: one template declaration per list.)
template <class Acc, class Done, class... T>
struct lift_each;

template <class Acc, class... D>
struct lift_each<Acc, detail::type_list<D...>> {
    using types = detail::type_list<D...>;
    using acc = Acc;
};

template <class Acc, class... D, class T, class... R>
struct lift_each<Acc, detail::type_list<D...>, T, R...>
    : lift_each<typename lift<T, Acc>::acc, detail::type_list<D..., typename lift<T, Acc>::type>,
                R...> {};

template <class Acc, class... T>
using lift_all = lift_each<Acc, detail::type_list<>, T...>;

/// F<Prefix..., X...> for the types X... of a type_list.
template <template <class...> class F, class List, class... Prefix>
struct apply_list;

template <template <class...> class F, class... X, class... Prefix>
struct apply_list<F, detail::type_list<X...>, Prefix...> {
    using type = F<Prefix..., X...>;
};

template <std::size_t Slot, class Shape, class Acc>
struct lift<v_src<Slot, Shape>, Acc> {
    using type = v_src<append<Acc, Slot>::at, Shape>;
    using acc = typename append<Acc, Slot>::type;
};

template <std::size_t Off, class Shape, class Acc>
struct lift<v_ws<Off, Shape>, Acc> {
    using type = v_ws<append<Acc, Off>::at, Shape>;
    using acc = typename append<Acc, Off>::type;
};

template <class Op, class... A, class Acc>
struct lift<v_op<Op, A...>, Acc> {
    using l = lift_all<Acc, A...>;
    using type = typename apply_list<v_op, typename l::types, Op>::type;
    using acc = typename l::acc;
};

template <std::size_t Off, class Shape, class Op, class List>
struct v_store_of;

template <std::size_t Off, class Shape, class Op, class... A>
struct v_store_of<Off, Shape, Op, detail::type_list<A...>> {
    using type = v_store<Off, Shape, Op, A...>;
};

template <std::size_t Off, class Shape, class Op, class... A, class Acc>
struct lift<v_store<Off, Shape, Op, A...>, Acc> {
    using o = append<Acc, Off>;
    using l = lift_all<typename o::type, A...>;
    using type = typename v_store_of<o::at, Shape, Op, typename l::types>::type;
    using acc = typename l::acc;
};

template <class... V, class Acc>
struct lift<invs<V...>, Acc> {
    using l = lift_all<Acc, V...>;
    using type = typename apply_list<invs, typename l::types>::type;
    using acc = typename l::acc;
};

template <bool Assign, std::size_t Off, class Shape, class Acc>
struct lift<e_write<Assign, Off, Shape>, Acc> {
    using type = e_write<Assign, append<Acc, Off>::at, Shape>;
    using acc = typename append<Acc, Off>::type;
};

template <class Node, class Acc>
struct lift<e_push<Node>, Acc> {
    using l = lift<Node, Acc>;
    using type = e_push<typename l::type>;
    using acc = typename l::acc;
};

template <class Value, class Edge, class Acc>
struct lift<p_arg<Value, Edge>, Acc> {
    using l = lift_all<Acc, Value, Edge>;
    using type = typename apply_list<p_arg, typename l::types>::type;
    using acc = typename l::acc;
};

template <class Op, class... Args, class Acc>
struct lift<p_node<Op, Args...>, Acc> {
    using l = lift_all<Acc, Args...>;
    using type = typename apply_list<p_node, typename l::types, Op>::type;
    using acc = typename l::acc;
};

template <class... X, class Acc>
struct lift<detail::type_list<X...>, Acc> {
    using l = lift_all<Acc, X...>;
    using type = typename l::types;
    using acc = typename l::acc;
};

template <std::size_t... Off, class Acc>
struct lift<flush_to<Off...>, Acc> {
    template <std::size_t... M>
    static flush_to<append_all<Acc, Off...>::at + M...> positions(std::index_sequence<M...>);
    using type = decltype(positions(std::make_index_sequence<sizeof...(Off)>{}));
    using acc = typename append_all<Acc, Off...>::type;
};

template <std::size_t... Off, std::size_t... Count, class Acc>
struct lift<zeros<zero<Off, Count>...>, Acc> {
    static constexpr std::size_t counts[] = {Count..., 0};
    template <std::size_t... M>
    static zeros<zero<append_all<Acc, Off...>::at + M, counts[M]>...> positions(
        std::index_sequence<M...>);
    using type = decltype(positions(std::make_index_sequence<sizeof...(Off)>{}));
    using acc = typename append_all<Acc, Off...>::type;
};

template <std::size_t Slot, class Acc>
struct lift<a_src<Slot>, Acc> {
    using type = a_src<append<Acc, Slot>::at>;
    using acc = typename append<Acc, Slot>::type;
};

template <std::size_t Slot, class Acc>
struct lift<a_mut<Slot>, Acc> {
    using type = a_mut<append<Acc, Slot>::at>;
    using acc = typename append<Acc, Slot>::type;
};

template <std::size_t Off, class Acc>
struct lift<a_ws<Off>, Acc> {
    using type = a_ws<append<Acc, Off>::at>;
    using acc = typename append<Acc, Off>::type;
};

template <class D, std::size_t Out, class Body, class Inv, class Acc>
struct lift<forward_elementwise<D, Out, Body, Inv>, Acc> {
    using o = append<Acc, Out>;
    using l = lift_all<typename o::type, Body, Inv>;
    using type = forward_elementwise<D, o::at, detail::at_t<typename l::types, 0>,
                                     detail::at_t<typename l::types, 1>>;
    using acc = typename l::acc;
};

template <class D, std::size_t Out, bool Mean, class Arg, class Inv, class Acc>
struct lift<forward_reduce<D, Out, Mean, Arg, Inv>, Acc> {
    using o = append<Acc, Out>;
    using l = lift_all<typename o::type, Arg, Inv>;
    using type = forward_reduce<D, o::at, Mean, detail::at_t<typename l::types, 0>,
                                detail::at_t<typename l::types, 1>>;
    using acc = typename l::acc;
};

template <class Op, bool Saving, std::size_t Out, class Shape, class ArgShapes, class List>
struct forward_kernel_with;

template <class Op, bool Saving, std::size_t Out, class Shape, class ArgShapes, class... Args>
struct forward_kernel_with<Op, Saving, Out, Shape, ArgShapes, detail::type_list<Args...>> {
    using type = forward_kernel<Op, Saving, Out, Shape, ArgShapes, Args...>;
};

template <class Op, bool Saving, std::size_t Out, class Shape, class ArgShapes, class... Args,
          class Acc>
struct lift<forward_kernel<Op, Saving, Out, Shape, ArgShapes, Args...>, Acc> {
    using o = append<Acc, Out>;
    using l = lift_all<typename o::type, Args...>;
    using type =
        typename forward_kernel_with<Op, Saving, o::at, Shape, ArgShapes, typename l::types>::type;
    using acc = typename l::acc;
};

template <class D, class Zeros, std::size_t AdjOff, class Y, class Node, class Inv, class Flush,
          bool Independent, class Acc>
struct lift<backward_elementwise<D, Zeros, AdjOff, Y, Node, Inv, Flush, Independent>, Acc> {
    using z = lift<Zeros, Acc>;
    using o = append<typename z::acc, AdjOff>;
    using l = lift_all<typename o::type, Y, Node, Inv, Flush>;
    using type =
        backward_elementwise<D, typename z::type, o::at, detail::at_t<typename l::types, 0>,
                             detail::at_t<typename l::types, 1>, detail::at_t<typename l::types, 2>,
                             detail::at_t<typename l::types, 3>, Independent>;
    using acc = typename l::acc;
};

template <class D, class Zeros, std::size_t AdjOff, bool Mean, class Arg, class Edge, class Inv,
          class Flush, bool Independent, class Acc>
struct lift<backward_reduce<D, Zeros, AdjOff, Mean, Arg, Edge, Inv, Flush, Independent>, Acc> {
    using z = lift<Zeros, Acc>;
    using o = append<typename z::acc, AdjOff>;
    using l = lift_all<typename o::type, Arg, Edge, Inv, Flush>;
    using type =
        backward_reduce<D, typename z::type, o::at, Mean, detail::at_t<typename l::types, 0>,
                        detail::at_t<typename l::types, 1>, detail::at_t<typename l::types, 2>,
                        detail::at_t<typename l::types, 3>, Independent>;
    using acc = typename l::acc;
};

template <std::size_t I, kernels::mode Mode, bool Update, class Dst, class Acc>
struct lift<vjp_of<I, Mode, Update, Dst>, Acc> {
    using l = lift<Dst, Acc>;
    using type = vjp_of<I, Mode, Update, typename l::type>;
    using acc = typename l::acc;
};

template <class Op, class Shape, class ArgShapes, std::size_t AdjOff, std::size_t ValOff,
          class ArgList, class VjpList>
struct backward_kernel_with;

template <class Op, class Shape, class ArgShapes, std::size_t AdjOff, std::size_t ValOff,
          class ArgList, class... Vjps>
struct backward_kernel_with<Op, Shape, ArgShapes, AdjOff, ValOff, ArgList,
                            detail::type_list<Vjps...>> {
    using type = backward_kernel<Op, Shape, ArgShapes, AdjOff, ValOff, ArgList, Vjps...>;
};

/// (A kernel's value offset may be none: no value stored; it stays none.)
template <class Acc, std::size_t Off>
struct append_unless_none : append<Acc, Off> {};

template <class Acc>
struct append_unless_none<Acc, none> {
    using type = Acc;
    static constexpr std::size_t at = none;
};

template <class Op, class Shape, class ArgShapes, std::size_t AdjOff, std::size_t ValOff,
          class ArgList, class... Vjps, class Acc>
struct lift<backward_kernel<Op, Shape, ArgShapes, AdjOff, ValOff, ArgList, Vjps...>, Acc> {
    using a = append<Acc, AdjOff>;
    using v = append_unless_none<typename a::type, ValOff>;
    using args = lift<ArgList, typename v::type>;
    using l = lift_all<typename args::acc, Vjps...>;
    using type = typename backward_kernel_with<Op, Shape, ArgShapes, a::at, v::at,
                                               typename args::type, typename l::types>::type;
    using acc = typename l::acc;
};

template <class Zeros, std::size_t RootAdj, class Acc>
struct lift<seed<Zeros, RootAdj>, Acc> {
    using z = lift<Zeros, Acc>;
    using type = seed<typename z::type, append<typename z::acc, RootAdj>::at>;
    using acc = typename append<typename z::acc, RootAdj>::type;
};

template <std::size_t Slot, std::size_t AdjOff, std::size_t Count, class Acc>
struct lift<update_step<Slot, AdjOff, Count>, Acc> {
    using type = update_step<append_all<Acc, Slot, AdjOff>::at,
                             append_all<Acc, Slot, AdjOff>::at + 1, Count>;
    using acc = typename append_all<Acc, Slot, AdjOff>::type;
};

template <std::size_t... A>
constexpr std::array<std::size_t, sizeof...(A) + 1> values_of(nums<A...>) {
    return {A..., 0};
}

/// Step (or value description) T with its numbers taken out: `type` runs with
/// `context::arg` = `values.data()`.
template <class T>
struct lifted {
    using l = lift<T, nums<>>;
    using type = typename l::type;
    static constexpr auto values = values_of(typename l::acc{});
    static constexpr std::size_t size = values.size() - 1;
};

// --- from a schedule to the steps (type computations only: no function is named after the plan
// here) ---

/// The source slots of a plan: variable v (in Plan::variables order) is slot v; the run-time
/// constants follow, in plan order.
template <class Plan>
struct sources {
    static constexpr std::size_t variables = Plan::variables::size;

    struct table {
        std::array<std::size_t, Plan::size> slot{};
        std::size_t count = 0;
    };

    static constexpr table slots = [] {
        table r{};
        constexpr std::size_t N = Plan::size;
        std::array<bool, N> runtime_constant{};
        ctgrad::detail::static_for_chunks<N>([&]<std::size_t... J>(std::index_sequence<J...>) {
            const bool c[] = {(is_constant_v<typename Plan::template expr<J>> &&
                               !is_exact_constant_v<typename Plan::template expr<J>>)...};
            [[maybe_unused]] std::size_t k = 0;
            for (const std::size_t j : {J...}) runtime_constant[j] = c[k++];
        });
        for (std::size_t j = 0; j < N; ++j) r.slot[j] = none;
        for (std::size_t v = 0; v < variables; ++v) r.slot[Plan::variable_entry[v]] = v;
        r.count = variables;
        for (std::size_t j = 0; j < N; ++j) {
            if (runtime_constant[j]) r.slot[j] = r.count++;
        }
        return r;
    }();

    static constexpr std::size_t count = slots.count;
};

/// Where the value of entry J is read from when it is not recomputed.
// The per-entry descriptions below are classes with no static data members (a static member
// is a variable named after the schedule, one per entry: names quadratic in a network's depth,
// bench/README.md "Compile time that scales"); their numbers are template arguments.
template <class Sched, std::size_t J>
struct leaf_desc {
    using E = typename Sched::plan::template expr<J>;
    using Sh = detail::shape_of_t<E>;
    using type =
        std::conditional_t<is_variable_v<E> || (is_constant_v<E> && !is_exact_constant_v<E>),
                           v_src<sources<typename Sched::plan>::slots.slot[J], Sh>,
                           std::conditional_t<is_exact_constant_v<E>, v_lit<E>,
                                              v_ws<workspace<Sched>::offsets.val_off[J], Sh>>>;
};

/// The invariants of the forward loop of entry L (Forward) or of the backward loop rooted at L
/// (loop_facts' row for it): a type, with no member named after the schedule.
template <class Sched, std::size_t L, bool Forward,
          class Seq =
              std::make_index_sequence<loop_facts<Sched>::invariants.count[loop_row(L, Forward)]>>
struct loop_of;

template <class Sched, std::size_t L, bool Forward, std::size_t... M>
struct loop_of<Sched, L, Forward, std::index_sequence<M...>> {
    using type = invs<typename leaf_desc<
        Sched, loop_facts<Sched>::invariants
                   .entry[loop_facts<Sched>::invariants.start[loop_row(L, Forward)] + M]>::type...>;
};

/// The invariant slot of entry J in loop (L, Forward), or none.
template <class Sched>
constexpr std::size_t invariant_slot(std::size_t l, bool forward, std::size_t j) {
    return list_slot(loop_facts<Sched>::invariants, loop_row(l, forward), j);
}

template <class Sched, std::size_t J, std::size_t L, bool Forward, int Mode>
struct value_desc_of;

/// The value of entry J at a position of loop (L, Forward): recomputed when inlined (mode 0),
/// computed and stored by this loop (mode 1, forward only), an invariant of the loop (2), read
/// (3).
template <class Sched, std::size_t J, std::size_t L, bool Forward,
          int Mode = Sched::t.val_inline[J]                         ? 0
                     : (stored_by_consumer(Sched::t, J) && Forward) ? 1
                     : invariant_slot<Sched>(L, Forward, J) != none ? 2
                                                                    : 3>
struct value_desc {
    using type = typename value_desc_of<Sched, J, L, Forward, Mode>::type;
};

/// Elementwise entry J computed from its arguments at a position of loop (L, Forward): a v_op,
/// or, when Stored, a v_store that also writes it to its buffer (only the one asked for is
/// formed: most entries are only ever computed).
template <class Sched, std::size_t J, std::size_t L, bool Forward, bool Stored, class Seq>
struct args_desc;

template <class Sched, std::size_t J, std::size_t L, bool Forward, std::size_t... I>
struct args_desc<Sched, J, L, Forward, false, std::index_sequence<I...>> {
    using type = v_op<typename Sched::plan::template expr<J>::op,
                      typename value_desc<Sched, Sched::t.child[J][I], L, Forward>::type...>;
};

template <class Sched, std::size_t J, std::size_t L, bool Forward, std::size_t... I>
struct args_desc<Sched, J, L, Forward, true, std::index_sequence<I...>> {
    using E = typename Sched::plan::template expr<J>;
    using type =
        v_store<workspace<Sched>::offsets.val_off[J], detail::shape_of_t<E>, typename E::op,
                typename value_desc<Sched, Sched::t.child[J][I], L, Forward>::type...>;
};

template <class Sched, std::size_t J, std::size_t L, bool Forward, bool Stored = false>
using args_of = typename args_desc<Sched, J, L, Forward, Stored,
                                   std::make_index_sequence<Sched::t.arity[J]>>::type;

template <class Sched, std::size_t J, std::size_t L, bool Forward>
struct value_desc_of<Sched, J, L, Forward, 0> {
    using type = args_of<Sched, J, L, Forward>;
};

template <class Sched, std::size_t J, std::size_t L, bool Forward>
struct value_desc_of<Sched, J, L, Forward, 1> {
    using type = args_of<Sched, J, L, Forward, true>;
};

template <class Sched, std::size_t J, std::size_t L, bool Forward>
struct value_desc_of<Sched, J, L, Forward, 2> {
    using type = v_inv<invariant_slot<Sched>(L, Forward, J)>;
};

template <class Sched, std::size_t J, std::size_t L, bool Forward>
struct value_desc_of<Sched, J, L, Forward, 3> {
    using type = typename leaf_desc<Sched, J>::type;
};

/// The adjoints of scalars that the loop rooted at K accumulates in lane-wise locals: the
/// accumulator slot of entry j (or none), and the flush of the slots at the end of the loop.
template <class Sched>
constexpr std::size_t target_slot(std::size_t k, std::size_t j) {
    return list_slot(loop_facts<Sched>::targets.slots, k, j);
}

template <class Sched, std::size_t K,
          class Seq = std::make_index_sequence<loop_facts<Sched>::targets.slots.count[K]>>
struct flush_of;

template <class Sched, std::size_t K, std::size_t... M>
struct flush_of<Sched, K, std::index_sequence<M...>> {
    using type =
        flush_to<workspace<Sched>::offsets
                     .adj_off[loop_facts<Sched>::targets.slots
                                  .entry[loop_facts<Sched>::targets.slots.start[K] + M]]...>;
};

template <class Sched, std::size_t L, std::size_t K>
struct push_desc;

/// Where the contribution of entry K to its argument I goes, in the loop rooted at L.
template <class Sched, std::size_t L, std::size_t K, std::size_t I, edge E = Sched::t.edges[K][I],
          std::size_t C = Sched::t.child[K][I], std::size_t Slot = target_slot<Sched>(L, C)>
struct edge_desc {
    using type =
        std::conditional_t<Slot != none, e_acc<Slot>,
                           e_write<E == edge::assign, workspace<Sched>::offsets.adj_off[C],
                                   detail::shape_of_t<typename Sched::plan::template expr<C>>>>;
};

template <class Sched, std::size_t L, std::size_t K, std::size_t I, std::size_t C, std::size_t Slot>
struct edge_desc<Sched, L, K, I, edge::skip, C, Slot> {
    using type = e_skip;
};

template <class Sched, std::size_t L, std::size_t K, std::size_t I, std::size_t C, std::size_t Slot>
struct edge_desc<Sched, L, K, I, edge::inline_push, C, Slot> {
    using type = e_push<typename push_desc<Sched, L, C>::type>;
};

template <class Sched, std::size_t L, std::size_t K, class Seq>
struct push_args;

template <class Sched, std::size_t L, std::size_t K, std::size_t... I>
struct push_args<Sched, L, K, std::index_sequence<I...>> {
    using type = p_node<typename Sched::plan::template expr<K>::op,
                        p_arg<typename value_desc<Sched, Sched::t.child[K][I], L, false>::type,
                              typename edge_desc<Sched, L, K, I>::type>...>;
};

/// Pushing the adjoint of elementwise entry K through its arguments, in the loop rooted at L.
template <class Sched, std::size_t L, std::size_t K>
struct push_desc {
    using type = typename push_args<Sched, L, K, std::make_index_sequence<Sched::t.arity[K]>>::type;
};

/// The adjoints zeroed before loop root K (K = N: when the backward pass starts).
template <class Sched, std::size_t K,
          class Seq = std::make_index_sequence<Sched::zeros.start[K + 1] - Sched::zeros.start[K]>>
struct zeros_desc;

template <class Sched, std::size_t K, std::size_t... Z>
struct zeros_desc<Sched, K, std::index_sequence<Z...>> {
    using type =
        zeros<zero<workspace<Sched>::offsets.adj_off[Sched::zeros.entry[Sched::zeros.start[K] + Z]],
                   Sched::t.count[Sched::zeros.entry[Sched::zeros.start[K] + Z]]>...>;
};

/// Argument I of kernel entry J as a pointer: a source, the writable memory of a variable (an op
/// that updates state in its forward pass: batch_norm's running estimates), a stored buffer.
/// Whether the op Op updates its argument I in its forward pass (named after the op only).
template <class Op, std::size_t I>
constexpr bool op_writes_state() {
    if constexpr (requires { Op::template writes_state<I>; }) {
        return Op::template writes_state<I>;
    } else {
        return false;
    }
}

template <class Sched, std::size_t J, std::size_t I, bool Forward,
          std::size_t C = Sched::t.child[J][I]>
struct kernel_arg {
    using P = typename Sched::plan;
    using type = std::conditional_t<
        is_variable_v<typename P::template expr<C>>,
        std::conditional_t<Forward && op_writes_state<typename P::template expr<J>::op, I>(),
                           a_mut<sources<P>::slots.slot[C]>, a_src<sources<P>::slots.slot[C]>>,
        a_ws<workspace<Sched>::offsets.val_off[C]>>;
};

template <class Sched, std::size_t J, bool Forward, class Seq>
struct kernel_args;

template <class Sched, std::size_t J, bool Forward, std::size_t... I>
struct kernel_args<Sched, J, Forward, std::index_sequence<I...>> {
    using P = typename Sched::plan;
    using shapes =
        detail::type_list<detail::shape_of_t<typename P::template expr<Sched::t.child[J][I]>>...>;
    using args = detail::type_list<typename kernel_arg<Sched, J, I, Forward>::type...>;
};

template <class Sched, std::size_t J, bool Forward>
using kernel_args_of = kernel_args<Sched, J, Forward, std::make_index_sequence<Sched::t.arity[J]>>;

template <class Sched, std::size_t J, class Args>
struct forward_kernel_of;

template <class Sched, std::size_t J, class... Args>
struct forward_kernel_of<Sched, J, detail::type_list<Args...>> {
    using E = typename Sched::plan::template expr<J>;
    using type =
        forward_kernel<typename E::op,
                       (Sched::t.active[J] && plan_extents<typename Sched::plan>::saved[J] > 0),
                       workspace<Sched>::offsets.val_off[J], detail::shape_of_t<E>,
                       typename kernel_args_of<Sched, J, true>::shapes, Args...>;
};

/// What the forward step of entry J is: nothing (0), an elementwise loop (1), a reduction (2), a
/// kernel (3).
/// (A function of the schedule's table and the entry's index, not a template per entry.)
template <class T>
constexpr int forward_kind(const T& t, std::size_t j) {
    if (!t.mat_val[j] || stored_by_consumer(t, j)) {
        return 0;
    } else if (t.kinds[j] == kind::elementwise) {
        return 1;
    } else if (t.kinds[j] == kind::reduce) {
        return 2;
    } else {
        return 3;
    }
}

template <class Sched, std::size_t J, int Kind = forward_kind(Sched::t, J)>
struct forward_step {
    using type = no_step;
};

template <class Sched, std::size_t J>
struct forward_step<Sched, J, 1> {
    using D = detail::shape_of_t<typename Sched::plan::template expr<J>>;
    using type =
        forward_elementwise<D, workspace<Sched>::offsets.val_off[J], args_of<Sched, J, J, true>,
                            typename loop_of<Sched, J, true>::type>;
};

template <class Sched, std::size_t J>
struct forward_step<Sched, J, 2> {
    static constexpr std::size_t c0 = Sched::t.child[J][0];
    using D = detail::shape_of_t<typename Sched::plan::template expr<c0>>;
    using type = forward_reduce<
        D, workspace<Sched>::offsets.val_off[J], Sched::plan::template expr<J>::op::mean,
        typename value_desc<Sched, c0, J, true>::type, typename loop_of<Sched, J, true>::type>;
};

template <class Sched, std::size_t J>
struct forward_step<Sched, J, 3> {
    using type =
        typename forward_kernel_of<Sched, J, typename kernel_args_of<Sched, J, true>::args>::type;
};

/// What the backward step rooted at K is: nothing (0), an elementwise loop (1), a reduction (2),
/// kernel vjps (3).
template <class T>
constexpr int backward_kind(const T& t, std::size_t k) {
    if (!is_loop_root(t, k)) {
        return 0;
    } else if (t.kinds[k] == kind::elementwise) {
        return 1;
    } else if (t.kinds[k] == kind::reduce) {
        return 2;
    } else {
        return 3;
    }
}

template <class Sched, std::size_t K, int Kind = backward_kind(Sched::t, K)>
struct backward_step {
    using type = no_step;
};

template <class Sched, std::size_t K>
struct backward_step<Sched, K, 1> {
    using D = detail::shape_of_t<typename Sched::plan::template expr<K>>;
    using type = backward_elementwise<
        D, typename zeros_desc<Sched, K>::type, workspace<Sched>::offsets.adj_off[K],
        typename value_desc<Sched, K, K, false>::type, typename push_desc<Sched, K, K>::type,
        typename loop_of<Sched, K, false>::type, typename flush_of<Sched, K>::type,
        loop_facts<Sched>::targets.independent[K]>;
};

template <class Sched, std::size_t K>
struct backward_step<Sched, K, 2> {
    static constexpr std::size_t c0 = Sched::t.child[K][0];
    static constexpr edge e = Sched::t.edges[K][0];
    using D = detail::shape_of_t<typename Sched::plan::template expr<c0>>;
    using type = backward_reduce<
        D, typename zeros_desc<Sched, K>::type, workspace<Sched>::offsets.adj_off[K],
        Sched::plan::template expr<K>::op::mean,
        std::conditional_t<e == edge::inline_push, typename value_desc<Sched, c0, K, false>::type,
                           void>,
        typename edge_desc<Sched, K, K, 0>::type, typename loop_of<Sched, K, false>::type,
        typename flush_of<Sched, K>::type, loop_facts<Sched>::targets.independent[K]>;
};

/// The vjp of argument I of kernel entry K.
template <class Sched, std::size_t K, std::size_t I, edge E = Sched::t.edges[K][I],
          std::size_t C = Sched::t.child[K][I]>
struct vjp_desc {
    using type = vjp_of<I, E == edge::assign ? kernels::mode::assign : kernels::mode::accumulate,
                        false, a_ws<workspace<Sched>::offsets.adj_off[C]>>;
};

template <class Sched, std::size_t K, std::size_t I, std::size_t C>
struct vjp_desc<Sched, K, I, edge::update, C> {
    using type = vjp_of<I, kernels::mode::accumulate, true,
                        a_mut<sources<typename Sched::plan>::slots.slot[C]>>;
};

/// The arguments of kernel entry k that take a vjp (those not skipped), in order, then their
/// number at [A].
template <std::size_t N, std::size_t A>
constexpr std::array<std::size_t, A + 1> kept_args(const tables<N, A>& t, std::size_t k) {
    std::array<std::size_t, A + 1> r{};
    std::size_t n = 0;
    for (std::size_t i = 0; i < t.arity[k]; ++i) {
        if (t.edges[k][i] != edge::skip) r[n++] = i;
    }
    r[A] = n;
    return r;
}

template <class Sched, std::size_t K,
          class Seq = std::make_index_sequence<kept_args(Sched::t, K)[Sched::A]>>
struct kept_of;

template <class Sched, std::size_t K, std::size_t... M>
struct kept_of<Sched, K, std::index_sequence<M...>> {
    using type = std::index_sequence<kept_args(Sched::t, K)[M]...>;
};

template <class Sched, std::size_t K, class Kept = typename kept_of<Sched, K>::type>
struct kernel_vjps;

/// The backward kernel step of entry K with the vjps of its kept arguments.
template <class Sched, std::size_t K, std::size_t... Kept>
struct kernel_vjps<Sched, K, std::index_sequence<Kept...>> {
    using E = typename Sched::plan::template expr<K>;
    using args = kernel_args_of<Sched, K, false>;
    using type = backward_kernel<typename E::op, detail::shape_of_t<E>, typename args::shapes,
                                 workspace<Sched>::offsets.adj_off[K],
                                 Sched::t.mat_val[K] ? workspace<Sched>::offsets.val_off[K] : none,
                                 typename args::args, typename vjp_desc<Sched, K, Kept>::type...>;
};

template <class Sched, std::size_t K>
struct backward_step<Sched, K, 3> {
    using type = typename kernel_vjps<Sched, K>::type;
};

/// The in-place update of variable entry J in an SGD step (not updated by its consumer's vjp).
template <class Sched, std::size_t J,
          bool Updated = Sched::update&& Sched::t.kinds[J] == kind::variable&& Sched::t.active[J] &&
                         !Sched::t.fused[J]>
struct update_desc {
    using type = no_step;
};

template <class Sched, std::size_t J>
struct update_desc<Sched, J, true> {
    using type = update_step<sources<typename Sched::plan>::slots.slot[J],
                             workspace<Sched>::offsets.adj_off[J], Sched::t.count[J]>;
};

/// The steps of a sweep in the order they run: forward (entry J), backward (loop root N - 1 - J),
/// updates (entry J).
template <class Sched, std::size_t J>
using forward_step_of = typename forward_step<Sched, J>::type;
template <class Sched, std::size_t J>
using backward_step_of = typename backward_step<Sched, Sched::N - 1 - J>::type;
template <class Sched, std::size_t J>
using update_step_of = typename update_desc<Sched, J>::type;

template <class S>
using step_function = void (*)(const context<S>&);

/// What a step table keeps of one step: its function, its numbers (`lifted<Step>::values`) and
/// how many; `run` is null for no_step.
template <class S>
struct step_entry {
    step_function<S> run = nullptr;
    const std::size_t* values = nullptr;
    std::size_t size = 0;
};

/// The entry of step type Step (one class per step type, named after the step, not the plan).
template <class Step, class S>
struct step_entry_of {
    static constexpr step_entry<S> value{&lifted<Step>::type::template run<S>,
                                         lifted<Step>::values.data(), lifted<Step>::size};
};

template <class S>
struct step_entry_of<no_step, S> {
    static constexpr step_entry<S> value{};
};

/// The functions of the steps Step<Sched, 0>, ..., Step<Sched, N - 1> that do something, in order:
/// a constant array, so that running them is one loop (see run_steps). Each step type is
/// named once (in `entries`); the tables below are loops over those entries.
template <class Sched, template <class, std::size_t> class Step, class S>
struct step_table {
    static constexpr std::size_t N = Sched::N;

    template <std::size_t... J>
    static constexpr std::array<step_entry<S>, N + 1> entries_of(std::index_sequence<J...>) {
        return {step_entry_of<Step<Sched, J>, S>::value..., step_entry<S>{}};
    }
    static constexpr std::array<step_entry<S>, N + 1> entries =
        entries_of(std::make_index_sequence<N>{});

    static constexpr std::size_t count = [] {
        std::size_t n = 0;
        for (std::size_t j = 0; j < N; ++j) n += entries[j].run != nullptr ? 1 : 0;
        return n;
    }();

    static constexpr std::array<step_function<S>, count + 1> steps = [] {
        std::array<step_function<S>, count + 1> f{};
        std::size_t n = 0;
        for (std::size_t j = 0; j < N; ++j) {
            if (entries[j].run != nullptr) f[n++] = entries[j].run;
        }
        return f;
    }();

    /// The numbers of every step (lifted<...>::values), one after the other, and where the
    /// numbers of step k start.
    static constexpr std::size_t total = [] {
        std::size_t n = 0;
        for (std::size_t j = 0; j < N; ++j) n += entries[j].run != nullptr ? entries[j].size : 0;
        return n;
    }();

    struct numbers {
        std::array<std::size_t, total + 1> value{};
        std::array<std::size_t, count + 1> start{};
    };

    static constexpr numbers args = [] {
        numbers r{};
        std::size_t n = 0, k = 0;
        for (std::size_t j = 0; j < N; ++j) {
            if (entries[j].run == nullptr) continue;
            r.start[k++] = n;
            for (std::size_t m = 0; m < entries[j].size; ++m) r.value[n++] = entries[j].values[m];
        }
        return r;
    }();
};

/// Runs `count` steps in order (a loop over pointers to the steps' functions): step k's function
/// with its numbers at value + start[k]. Named after the scalar only, the tables are arguments:
/// no function per table of every program. Not forced inline: clang++ -O0 (the sanitizer build)
/// then compiles the loop once per scalar type, not once per sweep of every program (with its
/// ASan and UBSan checks, half of a gradient_of); g++ -O2 still inlines it where it pays.
template <class S>
constexpr void run_steps(context<S>& cx, const step_function<S>* steps, const std::size_t* value,
                         const std::size_t* start, std::size_t count) {
    for (std::size_t k = 0; k < count; ++k) {
        cx.arg = value + start[k];
        steps[k](cx);
    }
}

/// The seed of the backward sweep (zeroing, the root's adjoint set to 1) and the numbers it reads.
template <class Sched>
struct seed_of {
    using step = lifted<seed<typename zeros_desc<Sched, Sched::N>::type,
                             workspace<Sched>::offsets.adj_off[Sched::root]>>;
    using type = typename step::type;
    static constexpr auto numbers = step::values;
};

/// Where the root's value is read and the numbers it reads.
template <class Sched>
struct root_of {
    using leaf = lifted<typename leaf_desc<Sched, Sched::root>::type>;
    using type = typename leaf::type;
    static constexpr auto numbers = leaf::values;
};

// --- binding the call's memory ---

/// Fills the source (and, if writable, the mutable pointer) of a variable bound to x.
template <class S, class X>
CTGRAD_ALWAYS_INLINE constexpr void bind_value(X& x, std::size_t slot, S* numbers, const S** src,
                                               S** mut) {
    if constexpr (requires { x.data(); }) {
        src[slot] = x.data();
        if constexpr (!std::is_const_v<std::remove_pointer_t<decltype(x.data())>>) {
            mut[slot] = x.data();
        }
    } else {
        numbers[slot] = static_cast<S>(x);
        src[slot] = numbers + slot;
    }
}

/// Fills the source of the variable whose binding holds `held` (a tensor, a view, a number, or a
/// std::reference_wrapper to one: what binding<Name, V>::get() reads). Named after the scalar and
/// the held type, not the binding: bindings of different names to the same type share it.
template <class S, class V>
constexpr void bind_source(const V& held, std::size_t slot, S* numbers, const S** src, S** mut) {
    if (slot == none) return;
    if constexpr (requires { held.get(); }) {
        bind_value<S>(held.get(), slot, numbers, src, mut);
    } else {
        bind_value<S>(held, slot, numbers, src, mut);
    }
}

/// Element K (of type T) of a hana::basic_tuple, read as its storage base class without a
/// function per element (hana::at_c<K> is two functions per element, named after the whole
/// tuple). Elements are non-empty (hana stores an empty one as a base, which this does not
/// compile for): the gradients' tensors and numbers, the constants' numbers.
template <std::size_t K, class T>
using tuple_slot = boost::hana::detail::ebo<boost::hana::detail::bti<K>, T>;

/// Fills the sources of every binding of a call (slot[k]: the variable slot of binding k, or
/// none), each read as its base of the set's storage (binding_slot<k, B>: a cast, no function
/// per binding). Named after the scalar and the binding set, not the program: programs called
/// with the same bindings share it (no hana::unpack and lambda per program). A braced list, not a fold:
/// clang++ limits a fold's nesting to 256 operands, and a 128-layer network binds 260.
template <class S, class... B, std::size_t... K>
CTGRAD_ALWAYS_INLINE constexpr void bind_sources(const detail::binding_set<B...>& set,
                                                 std::index_sequence<K...>, const std::size_t* slot,
                                                 S* numbers, const S** src, S** mut) {
    const int done[] = {
        (bind_source<S>(static_cast<const detail::binding_slot<K, B>&>(set.items).bound.held,
                        slot[K], numbers, src, mut),
         0)...,
        0};
    static_cast<void>(done);
}

/// Stores constant K of an expression in its source slot to[K] (none: a constant no step reads).
template <class S, class T>
CTGRAD_ALWAYS_INLINE constexpr void read_constant(const T& x, std::size_t to, S* numbers,
                                                  const S** src) {
    if (to != none) {
        numbers[to] = static_cast<S>(x);
        src[to] = numbers + to;
    }
}

/// The run-time constants of an expression (its node's flat basic_tuple<T...>), each stored in
/// its source slot to[K] (a table of the plan): no copy of all of them and no loop picking the
/// used ones. Named after the scalar and the constants' types (programs share it), no function
/// per constant.
template <class S, class... T, std::size_t... K>
CTGRAD_ALWAYS_INLINE constexpr void read_constants(const boost::hana::basic_tuple<T...>& c,
                                                   std::index_sequence<K...>, const std::size_t* to,
                                                   S* numbers, const S** src) {
    const int done[] = {
        (read_constant(static_cast<const tuple_slot<K, T>&>(c).data_, to[K], numbers, src), 0)...,
        0};
    static_cast<void>(done);
}

template <class B>
inline constexpr bool binding_has_data = requires(const B& b) {
    b.get().data();
};

template <class B>
inline constexpr bool binding_writable = [] {
    if constexpr (binding_has_data<B>) {
        return !std::is_const_v<
            std::remove_pointer_t<decltype(std::declval<const B&>().get().data())>>;
    } else {
        return false;
    }
}();

/// Whether each binding of a set gives writable memory / memory at all (then false): named after
/// the set, shared by the schedules of every program called with it.
template <class Set>
struct binding_facts;

template <class... B>
struct binding_facts<detail::binding_set<B...>> {
    static constexpr std::array<bool, sizeof...(B) + 1> writable{binding_writable<B>..., false};
    static constexpr std::array<bool, sizeof...(B) + 1> has_data{binding_has_data<B>..., false};
};

/// Which arguments of the op of E it writes in its forward pass (batch_norm's running estimates).
template <class E, std::size_t A>
constexpr std::array<bool, A> writes_state_of() {
    std::array<bool, A> w{};
    if constexpr (is_node_v<E>) {
        if constexpr (requires { E::op::template writes_state<0>; }) {
            [&]<std::size_t... I>(std::index_sequence<I...>) {
                ((w[I] = E::op::template writes_state<I>), ...);
            }
            (std::make_index_sequence<E::arity>{});
        }
    }
    return w;
}

/// What a variable's binding must allow: nothing, writing (an SGD step updates it), writing
/// state (an op's forward pass updates it).
enum class needs : unsigned char { read, update, state };

/// The source slots of a plan's sweeps (at least one).
template <class P>
inline constexpr std::size_t slots_of = sources<P>::count > 0 ? sources<P>::count : 1;

/// The variable slot of each of B bindings (or none), from the binding of each of V variables.
template <std::size_t B, std::size_t V>
constexpr std::array<std::size_t, B + 1> slots_of_bindings(
    const std::array<std::size_t, V + 1>& binding_of) {
    std::array<std::size_t, B + 1> s{};
    for (auto& e : s) e = none;
    for (std::size_t v = 0; v < V; ++v) s[binding_of[v]] = v;
    return s;
}

/// The binding of each variable of Vars (its position in Set) and the variable slot of each
/// binding (or none). Named after the variables and the set, not the schedule: a program's
/// value, gradient and step share it (no lambda per schedule).
template <class Vars, class Set>
struct binding_map;

template <class... Var, class Set>
struct binding_map<detail::type_list<Var...>, Set> {
    static constexpr std::array<std::size_t, sizeof...(Var) + 1> binding_of{
        Set::find(Var::name.view())..., none};
    static constexpr std::array<std::size_t, Set::size + 1> slot_of_binding =
        slots_of_bindings<Set::size, sizeof...(Var)>(binding_of);
};

/// Where the run-time constants of a plan's root go: to[K], the source slot of the root's
/// constant K (none when no step reads it); and, for the rare constant read by two entries,
/// the pairs (slot, first slot of the same constant) copied after. Named after the plan: shared
/// by its schedules.
template <class P>
struct constant_slots {
    static constexpr std::size_t V = P::variables::size;
    static constexpr std::size_t slots = slots_of<P>;
    struct table {
        std::array<std::size_t, P::constant_count + 1> to{};
        std::array<std::size_t, slots> copy_to{}, copy_from{};
        std::size_t count = 0, copies = 0;
    };
    static constexpr table make() {
        table r{};
        for (auto& e : r.to) e = none;
        for (std::size_t j = 0; j < P::size; ++j) {
            const std::size_t s = sources<P>::slots.slot[j];
            if (s != none && s >= V) {
                const std::size_t slot = V + r.count++;
                std::size_t& to = r.to[P::constant_slot[j]];
                if (to == none) {
                    to = slot;
                } else {
                    r.copy_to[r.copies] = slot;
                    r.copy_from[r.copies++] = to;
                }
            }
        }
        return r;
    }
    static constexpr table value = make();
};

/// What each variable slot of a schedule must allow, and whether any must allow more than
/// reading (else the bindings are not checked). Named after the schedule.
template <class Sched>
struct needs_of {
    using P = typename Sched::plan;
    static constexpr std::size_t N = Sched::N;
    static constexpr std::size_t V = P::variables::size;
    struct table {
        std::array<needs, V + 1> of{};
        bool any = false;
    };
    static constexpr table make() {
        constexpr const auto& t = Sched::t;
        table n{};
        std::array<bool, N> state{};
        ctgrad::detail::static_for_chunks<N>([&]<std::size_t... J>(std::index_sequence<J...>) {
            const std::array<bool, P::max_arity> w[] = {
                writes_state_of<typename P::template expr<J>, P::max_arity>()...};
            [[maybe_unused]] std::size_t k = 0;
            for (const std::size_t j : {J...}) {
                for (std::size_t i = 0; i < t.arity[j]; ++i) {
                    if (w[k][i] && t.mat_val[j]) state[t.child[j][i]] = true;
                }
                ++k;
            }
        });
        for (std::size_t v = 0; v < V; ++v) {
            const std::size_t j = P::variable_entry[v];
            n.of[v] = state[j]                       ? needs::state
                      : Sched::update && t.active[j] ? needs::update
                                                     : needs::read;
            n.any = n.any || n.of[v] != needs::read;
        }
        return n;
    }
    static constexpr table value = make();
};

/// The steps of one sweep of a schedule: pointers into its constant step table (see run_steps)
/// and, for the backward sweep, the seed run first. A constant named after the schedule, not a
/// function: the sweeps are run by sweep_data's functions, named after the scalar and the number
/// of slots only (no forward/backward/root_value function per schedule).
template <class S>
struct sweep_steps {
    const step_function<S>* steps;
    const std::size_t* value;
    const std::size_t* start;
    std::size_t count;
    step_function<S> seed = nullptr;
    const std::size_t* seed_args = nullptr;
};

template <class T, class S>
inline constexpr sweep_steps<S> steps_of_table{T::steps.data(), T::args.value.data(),
                                               T::args.start.data(), T::count};

/// The forward sweep of Sched.
template <class Sched>
inline constexpr sweep_steps<typename Sched::scalar> forward_sweep =
    steps_of_table<step_table<Sched, forward_step_of, typename Sched::scalar>,
                   typename Sched::scalar>;

/// The backward sweep of Sched: the seed (zeroing, the root's adjoint set to 1), then the steps.
template <class Sched, class S = typename Sched::scalar,
          class T = step_table<Sched, backward_step_of, typename Sched::scalar>>
inline constexpr sweep_steps<S> backward_sweep{T::steps.data(),
                                               T::args.value.data(),
                                               T::args.start.data(),
                                               T::count,
                                               &seed_of<Sched>::type::template run<S>,
                                               seed_of<Sched>::numbers.data()};

/// p −= lr·∂/∂p for every differentiated variable not updated in place by a kernel.
template <class Sched>
inline constexpr sweep_steps<typename Sched::scalar> update_sweep =
    steps_of_table<step_table<Sched, update_step_of, typename Sched::scalar>,
                   typename Sched::scalar>;

/// Where the value of a schedule's root (a scalar) is read: by val<R> with the numbers `args`.
/// Named after the scalar and the lifted read R only, which programs share.
template <class S, class R>
struct root_read {
    const std::size_t* args;
};

template <class Sched>
inline constexpr root_read<typename Sched::scalar, typename root_of<Sched>::type> root_value_at{
    root_of<Sched>::numbers.data()};

/// Where the stored elements of a schedule's root (a tensor) are: src[at] (a variable) or ws + at.
struct root_place {
    bool in_src;
    std::size_t at;
};

template <class Sched, class P = typename Sched::plan>
inline constexpr root_place root_data_at{is_variable_v<typename P::template expr<Sched::root>>,
                                         is_variable_v<typename P::template expr<Sched::root>>
                                             ? sources<P>::slots.slot[Sched::root]
                                             : workspace<Sched>::offsets.val_off[Sched::root]};

/// The memory of one call of a schedule's sweeps (the run-time numbers, the sources' and
/// writable variables' pointers, the context) and the functions that run the sweeps (their steps
/// and the root's place are arguments, constants of the schedule: forward_sweep, backward_sweep,
/// update_sweep, root_value_at, root_data_at). Named after the scalar and the number of slots, not the schedule:
/// programs share its functions; `engine` binds the call's memory.
template <class S, std::size_t Slots>
struct sweep_data {
    std::array<S, Slots> numbers{};
    std::array<const S*, Slots> src{};
    std::array<S*, Slots> mut{};
    context<S> cx;

    constexpr sweep_data(S* ws, S lr) : cx{ws, src.data(), mut.data(), lr} {}
    sweep_data(const sweep_data&) = delete;
    sweep_data& operator=(const sweep_data&) = delete;

    /// Runs a sweep (forward_sweep<Sched>, backward_sweep<Sched>, update_sweep<Sched>).
    /// (Not forced inline: one function per scalar and number of slots at -O0, see run_steps.)
    constexpr void sweep(const sweep_steps<S>& s) {
        if (s.seed != nullptr) {
            cx.arg = s.seed_args;
            s.seed(cx);
        }
        run_steps(cx, s.steps, s.value, s.start, s.count);
    }

    /// The value of the root (a scalar): root_value_at<Sched>.
    template <class R>
    CTGRAD_ALWAYS_INLINE constexpr S root_value(const root_read<S, R>& root) const {
        context<S> at_root = cx;
        at_root.arg = root.args;
        return val<R>::template at<shape<>>(at_root, val<R>::pos, 0, 0, 0,
                                            static_cast<const S*>(nullptr));
    }

    /// The stored elements of the root (a tensor): root_data_at<Sched>.
    CTGRAD_ALWAYS_INLINE constexpr const S* root_data(const root_place& root) const {
        return root.in_src ? src[root.at] : cx.ws + root.at;
    }
};

/// The generated sweeps of one schedule for one call: binds the call's memory (bound variables,
/// run-time constants of the expression Root) into the sweep_data it is, whose members run the
/// sweeps (`run.sweep(forward_sweep<Sched>)`, `run.root_value(root_value_at<Sched>)`). The one class
/// named after the plan, the expression and the bindings (its constructor).
template <class Sched, class Root, class Set>
struct engine : sweep_data<typename Sched::scalar, slots_of<typename Sched::plan>> {
    using P = typename Sched::plan;
    using S = typename Sched::scalar;
    static constexpr std::size_t slots = slots_of<P>;
    using base = sweep_data<S, slots>;
    static constexpr std::size_t V = P::variables::size;
    using base::mut;
    using base::numbers;
    using base::src;

    using bindings = binding_map<typename P::variables, Set>;
    using facts = binding_facts<Set>;

    /// The first variable slot whose binding does not allow what the sweep needs (or none).
    static constexpr std::size_t unwritable() {
        for (std::size_t v = 0; v < V; ++v) {
            if (needs_of<Sched>::value.of[v] != needs::read &&
                !facts::writable[bindings::binding_of[v]]) {
                return v;
            }
        }
        return none;
    }

    static constexpr bool check_bindings() {
        if constexpr (!needs_of<Sched>::value.any) {
            return true;
        } else if constexpr (constexpr std::size_t u = unwritable(); u != none) {
            constexpr needs n = needs_of<Sched>::value.of[u];
            constexpr bool scalar = !facts::has_data[bindings::binding_of[u]];
            static_assert(n != needs::state,
                          "ctgrad::batch_norm (training mode) updates its running mean and "
                          "variance during the forward pass: bind them writable, with std::ref "
                          "(`running_mean = std::ref(m)`) or from an nn::state pack");
            static_assert(n != needs::update || !scalar,
                          "ctgrad::program::sgd_step: scalar variables cannot be "
                          "updated in place; differentiate tensors only");
            static_assert(n != needs::update || scalar,
                          "ctgrad::program::sgd_step: bind every parameter it updates with "
                          "std::ref (`W = std::ref(w)`) so that it can be changed in place");
            return false;
        } else {
            return true;
        }
    }

    constexpr engine(const Root& root, const Set& set, S* ws, S lr = S(0)) : base{ws, lr} {
        [[maybe_unused]] constexpr bool checked = check_bindings();  // no call at run time
        // (The bindings by a function named after the binding set, not the program; the
        // constants by one named after their types, straight into their slots: no lambda, no
        // function per constant, no copy of the constants no step reads.)
        bind_sources<S>(set, std::make_index_sequence<Set::size>{},
                        bindings::slot_of_binding.data(), numbers.data(), src.data(), mut.data());
        using cs = constant_slots<P>;
        if constexpr (cs::value.count > 0) {
            if constexpr (is_constant_v<Root>) {
                read_constant(root.value, cs::value.to[0], numbers.data(), src.data());
            } else {
                read_constants(root.constants, std::make_index_sequence<P::constant_count>{},
                               cs::value.to.data(), numbers.data(), src.data());
            }
            if constexpr (cs::value.copies > 0) {
                for (std::size_t c = 0; c < cs::value.copies; ++c) {
                    numbers[cs::value.copy_to[c]] = numbers[cs::value.copy_from[c]];
                    src[cs::value.copy_to[c]] = numbers.data() + cs::value.copy_to[c];
                }
            }
        }
    }

    engine(const engine&) = delete;
    engine& operator=(const engine&) = delete;
};

// --- results ---

/// The type a gradient of variable V takes: a tensor of the sweep's element type, or a number.
template <class V, class S>
struct gradient_type {
    using type = S;
};

template <fixed_string Name, class T, std::size_t... D, class S>
struct gradient_type<variable<Name, tensor<T, D...>>, S> {
    using type = tensor<S, D...>;
};

template <class Wrt, class... V>
struct wanted_mask {
    static constexpr std::array<bool, sizeof...(V)> value{wanted_c<Wrt, V>::value...};
};

template <class Wrt, class List>
struct reported_of;

template <class Wrt, class... V>
struct reported_of<Wrt, detail::type_list<V...>> {
    using type = detail::filter_t<detail::type_list<V...>, wanted_mask<Wrt, V...>>;
};

/// The variables a gradient reports: those of the plan that are differentiated.
template <class Plan, class Wrt>
struct reported {
    using type = typename reported_of<Wrt, typename Plan::variables>::type;
};

}  // namespace tensor_ad

/// Diagnostic type: instantiated when a gradient is asked for a variable it does not hold.
template <char... Name>
struct gradient_has_no_entry_for_variable;

namespace detail {
template <class Variables, fixed_string Name, class Kind>
constexpr void check_reported() {
    if constexpr (!in_list<Variables, variable<Name, Kind>>) {
        static_assert(in_list<Variables, variable<Name, Kind>>,
                      "ctgrad: this gradient has no entry for the variable: it is not a variable "
                      "of the expression, or not listed in wrt(...) (the variable is named in "
                      "'gradient_has_no_entry_for_variable<...>' below)");
        static_cast<void>(sizeof(spelled<Name, gradient_has_no_entry_for_variable>));
    }
}
}  // namespace detail

/// The result of `gradient` of a tensor expression: `g.value` (the scalar value) and `g[W]`,
/// a tensor of W's shape (a number for a scalar variable). Owns its tensors.
template <class S, class Variables, class Grads>
struct tensor_gradient_result;

template <class S, class... V, class... G>
struct tensor_gradient_result<S, detail::type_list<V...>, detail::type_list<G...>> {
    using scalar_type = S;
    using variables = detail::type_list<V...>;

    S value{};
    boost::hana::basic_tuple<G...> grads{};

    template <fixed_string Name, class Kind>
    constexpr const auto& operator[](variable<Name, Kind>) const {
        if constexpr (detail::in_list<variables, variable<Name, Kind>>) {
            return boost::hana::at_c<detail::index_of_v<variables, variable<Name, Kind>>>(grads);
        } else {
            detail::check_reported<variables, Name, Kind>();  // only when it fails (names)
            return value;
        }
    }

    static constexpr std::size_t size() noexcept { return sizeof...(V); }
};

namespace tensor_ad {

template <class Sched, class V>
constexpr std::size_t entry_of() {
    using P = typename Sched::plan;
    return P::variable_entry[detail::index_of_v<typename P::variables, V>];
}

/// The names of the variables V..., then an empty name.
template <class... V>
constexpr std::array<std::string_view, sizeof...(V) + 1> names_of(detail::type_list<V...>) {
    return {std::string_view(V::name.view())..., std::string_view{}};
}

/// The position of `name` among the first n of `names`, searched from `hint` on (lists in the
/// same order cost one comparison each), or none.
template <std::size_t M>
constexpr std::size_t find_name(const std::array<std::string_view, M>& names, std::size_t n,
                                std::string_view name, std::size_t hint) {
    for (std::size_t k = 0; k < n; ++k) {
        const std::size_t at = (hint + k) % n;
        if (names[at] == name) return at;
    }
    return none;
}

/// The workspace offsets of the gradients of the variables of List (a type_list), in its order
/// (none for a variable the schedule does not report): one table for a whole parameter pack, so
/// that reading every parameter's gradient instantiates nothing per parameter.
template <class Sched, class List>
constexpr auto gradient_offsets() {
    using P = typename Sched::plan;
    constexpr auto plan_names = names_of(typename P::variables{});
    constexpr auto reported_names = names_of(typename reported<P, typename Sched::wrt>::type{});
    constexpr auto wanted_names = names_of(List{});
    constexpr std::size_t n = wanted_names.size() - 1;
    std::array<std::size_t, n + 1> off{};
    std::size_t hint_p = 0, hint_r = 0;
    for (std::size_t k = 0; k < n; ++k) {
        off[k] = none;
        const std::size_t r =
            find_name(reported_names, reported_names.size() - 1, wanted_names[k], hint_r);
        if (r == none) continue;
        hint_r = r + 1;
        const std::size_t v = find_name(plan_names, plan_names.size() - 1, wanted_names[k], hint_p);
        hint_p = v + 1;
        off[k] = workspace<Sched>::offsets.adj_off[P::variable_entry[v]];
    }
    off[n] = 0;
    return off;
}

/// Copies a variable's adjoint (at `from`) into its gradient g. Named after the scalar and the
/// gradient's type only (the offset is an argument): one function per gradient type, not one per
/// variable of every program.
template <class S, class G>
constexpr void copy_gradient(const S* from, G& g) {
    if constexpr (requires { g.data(); }) {
        for (std::size_t e = 0; e < g.size(); ++e) g.data()[e] = from[e];
    } else {
        g = from[0];
    }
}

/// The result of a gradient over the variables of Vars (a type_list), elements of type S: a type
/// computed without a function (the gradient and the value are not named after a lambda).
template <class S, class Vars>
struct gradient_result;

template <class S, class... V>
struct gradient_result<S, detail::type_list<V...>> {
    using type = tensor_gradient_result<S, detail::type_list<V...>,
                                        detail::type_list<typename gradient_type<V, S>::type...>>;
};

/// Copies the adjoints at ws + off[k] into the gradients g (k = 0, 1, ...). Named after the
/// gradients' types only (the offsets are an argument): shared by programs with the same
/// variables. (A braced list, not a fold: a fold's nesting is limited to 256 operands in clang++.)
template <class S, class... G, std::size_t... K>
constexpr void copy_gradients(const S* ws, const std::size_t* off,
                              boost::hana::basic_tuple<G...>& g, std::index_sequence<K...>) {
    const int done[] = {(copy_gradient(ws + off[K], static_cast<tuple_slot<K, G>&>(g).data_), 0)...,
                        0};
    static_cast<void>(done);
}

/// The workspace offsets of the gradients of List, in its order (see gradient_offsets).
template <class Sched, class List>
inline constexpr auto gradient_offsets_v = gradient_offsets<Sched, List>();

template <class Sched, class E, class Set>
constexpr auto gradient_of(const E& f, const Set& set) {
    using S = typename Sched::scalar;
    using P = typename Sched::plan;
    using Vars = typename reported<P, typename Sched::wrt>::type;
    using R = typename gradient_result<S, Vars>::type;
    buffer<S> ws(workspace<Sched>::elements);
    engine<Sched, E, Set> run{f, set, ws.data()};
    run.sweep(forward_sweep<Sched>);
    run.sweep(backward_sweep<Sched>);
    R result{};
    result.value = run.root_value(root_value_at<Sched>);
    copy_gradients(ws.data(), gradient_offsets_v<Sched, Vars>.data(), result.grads,
                   std::make_index_sequence<R::size()>{});
    return result;
}

/// A tensor of elements S and shape Shape (a type, not a function's result).
template <class S, class Shape, class = std::make_index_sequence<Shape::rank>>
struct tensor_for;

template <class S, class Shape, std::size_t... D>
struct tensor_for<S, Shape, std::index_sequence<D...>> {
    using type = tensor<S, Shape::dims[D]...>;
};

template <class Sched, class E, class Set>
constexpr auto value_of(const E& f, const Set& set) {
    using S = typename Sched::scalar;
    using Shape = detail::shape_of_t<std::remove_cvref_t<E>>;
    buffer<S> ws(workspace<Sched>::elements);
    engine<Sched, E, Set> run{f, set, ws.data()};
    run.sweep(forward_sweep<Sched>);
    if constexpr (Shape::rank == 0) {
        return run.root_value(root_value_at<Sched>);
    } else {
        typename tensor_for<S, Shape>::type out{};
        const S* src = run.root_data(root_data_at<Sched>);
        for (std::size_t e = 0; e < Shape::count; ++e) out.data()[e] = src[e];
        return out;
    }
}

template <class Plan, class Wrt, bool Backward>
using schedule_for = schedule<Plan, keyed_wrt_t<Wrt>, element_t<Plan>, Backward>;

}  // namespace tensor_ad
}  // namespace ctgrad
