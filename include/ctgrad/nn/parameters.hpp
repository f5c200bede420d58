/// @file
/// The parameter tensors of a network: `nn::parameters<parameters_t<decltype(net)>>` holds
/// one tensor per parameter variable (on the heap, allocated once), binds them all to a call
/// of program::gradient, initializes them (Xavier/Glorot, He) from a seeded generator, and
/// takes plain SGD steps. (Optimizers with state are in nn/optim.hpp.)
#pragma once

#include <array>        // std::array
#include <cmath>        // std::sqrt
#include <cstddef>      // std::size_t
#include <cstdint>      // std::uint64_t
#include <type_traits>  // std::remove_cvref_t
#include <utility>      // std::as_const, std::index_sequence, std::exchange

#include <boost/hana/at.hpp>
#include <boost/hana/basic_tuple.hpp>
#include <boost/hana/unpack.hpp>

#include <ctgrad/core/var.hpp>
#include <ctgrad/detail/fixed_string.hpp>
#include <ctgrad/detail/random.hpp>
#include <ctgrad/detail/ref.hpp>
#include <ctgrad/detail/type_list.hpp>
#include <ctgrad/nn/layers.hpp>
#include <ctgrad/tensor/program.hpp>
#include <ctgrad/tensor/tensor.hpp>

namespace ctgrad::detail {
/// The sole owner of a heap object (what std::unique_ptr did here, without <memory>'s ~0.9 s of
/// parse, AMD EPYC): null only after a move.
template <class T>
class owned {
public:
    explicit owned(T* p) noexcept : p_(p) {}
    owned(const owned&) = delete;
    owned& operator=(const owned&) = delete;
    owned(owned&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
    owned& operator=(owned&& o) noexcept {
        if (this != &o) {
            delete p_;
            p_ = std::exchange(o.p_, nullptr);
        }
        return *this;
    }
    ~owned() { delete p_; }

    T& operator*() const noexcept { return *p_; }

private:
    T* p_;
};

/// The element type of tensor types T... when they have one (void otherwise, and for none): a
/// loop over an array, not a fold (a network has hundreds of parameters; clang limits a fold).
template <class... T>
struct one_element_type {
    using type = void;
};

template <class T0, class... T>
struct one_element_type<T0, T...> {
    static constexpr bool same = [] {
        const bool each[] = {std::is_same_v<typename T0::value_type, typename T::value_type>...,
                             true};
        for (const bool b : each) {
            if (!b) return false;
        }
        return true;
    }();
    using type = std::conditional_t<same, typename T0::value_type, void>;
};
}  // namespace ctgrad::detail

namespace ctgrad::nn {

template <class List, bool Writable = false>
class parameters;

/// The state of a network (batch normalisation's running estimates): a pack like parameters,
/// not trained by optimizers, whose tensors are bound writable (std::ref) because a training
/// forward pass updates them. Each tensor starts at its layer's initial value (running_var 1,
/// running_mean 0). `nn::state_of<decltype(net)> state; prog.gradient(params, state, X = x)`.
template <class List>
using state = parameters<List, true>;

namespace detail {
/// The value a vector parameter or state tensor starts at: 1 for a variable listed with the
/// role tag starts_at_one_tag (batch normalisation's scale "*.gamma" and running variance
/// "*.running_var", as the layers list them), 0 for everything else (biases, shifts, running
/// means, and a variable of yours whatever its name). Known by the type, not the name.
template <class V>
constexpr double initial_value() {
    return ctgrad::detail::has_tag_v<V, starts_at_one_tag> ? 1.0 : 0.0;
}
}  // namespace detail

/// Diagnostic type: instantiated when a parameter pack is asked for a variable it does not
/// hold.
template <char... Name>
struct not_a_parameter_of_this_pack;

/// One tensor per variable V... (each of tensor kind), stored together on the heap. Writable
/// packs (nn::state) bind their tensors with std::ref and start at their initial values;
/// parameter packs start at zero (see init:: for their initialization).
template <class... V, bool Writable>
class parameters<ctgrad::detail::type_list<V...>, Writable> {
public:
    /// The variables without their role tags (ctgrad::tagged_variable): what `pack[v]` looks up.
    using variables = ctgrad::detail::type_list<ctgrad::detail::untagged_t<V>...>;
    using storage = boost::hana::basic_tuple<typename V::kind...>;
    /// The variables, as `gradient(..., wrt(...))` and `program(loss, wrt(...))` take them.
    using wrt_type = wrt_t<ctgrad::detail::untagged_t<V>...>;
    static constexpr bool binding_bundle = true;

    parameters() : p_(new storage()) {
        if constexpr (Writable) reset();
    }
    parameters(const parameters& o) : p_(new storage(*o.p_)) {}
    parameters& operator=(const parameters& o) {
        *p_ = *o.p_;
        return *this;
    }
    parameters(parameters&&) noexcept = default;
    parameters& operator=(parameters&&) noexcept = default;

    static constexpr wrt_type wrt() noexcept { return {}; }
    static constexpr std::size_t size() noexcept { return sizeof...(V); }
    /// Number of scalar parameters.
    static constexpr std::size_t count() noexcept {
        constexpr std::array<std::size_t, sizeof...(V) + 1> sizes{V::kind::size()..., 0};
        std::size_t n = 0;
        for (const std::size_t s : sizes) n += s;
        return n;
    }

    /// The element type of the tensors when they all have one (float or double), void
    /// otherwise (or for an empty pack).
    using element_type = typename ctgrad::detail::one_element_type<typename V::kind...>::type;

    /// The number of elements of each tensor, in order (then 0).
    static constexpr std::array<std::size_t, sizeof...(V) + 1> sizes{V::kind::size()..., 0};

    /// The memory of each tensor, in order (then null): one table, for loops over every
    /// parameter that need not know which one each is (nn::sgd_step, init::initialize), so that
    /// a network of any depth costs one loop, not a function per parameter. Needs one element
    /// type (element_type not void).
    std::array<element_type*, sizeof...(V) + 1> data() {
        static_assert(!std::is_void_v<element_type>,
                      "ctgrad::nn::parameters::data: the tensors have different element types");
        return boost::hana::unpack(*p_, [](auto&... t) {
            return std::array<element_type*, sizeof...(V) + 1>{t.data()..., nullptr};
        });
    }

    /// The tensor of parameter v: `params[fc1.W]`.
    template <fixed_string Name, class Kind>
    auto& operator[](variable<Name, Kind>) {
        return boost::hana::at_c<index<Name, Kind>()>(*p_);
    }
    template <fixed_string Name, class Kind>
    const auto& operator[](variable<Name, Kind>) const {
        return boost::hana::at_c<index<Name, Kind>()>(*p_);
    }

    /// Calls f with one binding per parameter (`V = tensor`; `V = std::ref(tensor)` for a
    /// writable pack), then any further arguments:
    /// `params.bind([&](const auto&... b) { return prog.gradient(b..., X = x); })`.
    template <class F>
    decltype(auto) bind(F&& f) const {
        // one pack expansion over the tensors (hana::at_c<I> would be a function per parameter
        // named after the whole pack)
        return boost::hana::unpack(*p_, [&](auto&... t) -> decltype(auto) {
            if constexpr (Writable) {
                return f((V{} = std::ref(t))...);
            } else {
                return f((V{} = t)...);
            }
        });
    }

    /// Sets every tensor to its initial value (see detail::initial_value): 1 for running
    /// variances and batch-norm scales, 0 otherwise.
    void reset() {
        for_each([](auto v, auto& t) {
            using T = typename std::remove_cvref_t<decltype(t)>::value_type;
            const T x = static_cast<T>(detail::initial_value<decltype(v)>());
            for (auto& e : t) e = x;
        });
    }

    /// Calls f(variable, tensor&) for every parameter, in order (the variable as listed, with
    /// its role tag if it has one: see ctgrad::detail::is_dropout_counter). One pack expansion over the
    /// tensors (no function per parameter named after the whole pack: such names would grow
    /// quadratically with a network's depth; f is instantiated per parameter, so give it a
    /// short name, as nn::sgd_step and init::initialize do).
    template <class F>
    void for_each(F&& f) {
        visit(*p_, f);
    }
    template <class F>
    void for_each(F&& f) const {
        visit(std::as_const(*p_), f);
    }

private:
    template <fixed_string Name, class Kind>
    static constexpr std::size_t index() {
        constexpr bool has = ctgrad::detail::in_list<variables, variable<Name, Kind>>;
        if constexpr (!has) {
            static_assert(has,
                          "ctgrad::nn::parameters: this pack has no such parameter (the variable "
                          "is named in 'not_a_parameter_of_this_pack<...>' below)");
            static_cast<void>(sizeof(ctgrad::detail::spelled<Name, not_a_parameter_of_this_pack>));
            return 0;
        } else {
            return ctgrad::detail::index_of_v<variables, variable<Name, Kind>>;
        }
    }

    template <class Storage, class F>
    static void visit(Storage& s, F& f) {
        boost::hana::unpack(s, [&](auto&... t) {
            // a braced list, not a fold: evaluated in order, and no operand limit (clang's 256)
            const int done[] = {0, (f(V{}, t), 0)...};
            static_cast<void>(done);
        });
    }

    ctgrad::detail::owned<storage> p_;
};

/// The parameter pack of a network: `nn::parameters_of<decltype(net)> params;`.
template <class Net>
using parameters_of = parameters<parameters_t<Net>>;

/// The state pack of a network (empty for networks without batch normalisation):
/// `nn::state_of<decltype(net)> state;`.
template <class Net>
using state_of = state<state_t<Net>>;

namespace init {

/// The two numbers that scale an initialization: inputs and outputs of a weight matrix
/// [In, Out] (a vector counts as [1, n]); for a convolution kernel [O, C, KH, KW] (rank 3 or
/// more), as PyTorch: fan_in = C·KH·KW (the numbers one output sums), fan_out = O·KH·KW.
template <class Tensor>
constexpr std::size_t fan_in = Tensor::rank == 2   ? Tensor::shape[0]
                               : Tensor::rank >= 3 ? Tensor::size() / Tensor::shape[0]
                                                   : 1;
template <class Tensor>
constexpr std::size_t fan_out = Tensor::rank == 0   ? 1
                                : Tensor::rank >= 3 ? Tensor::size() / Tensor::shape[1]
                                                    : Tensor::shape[Tensor::rank - 1];

enum class scheme {
    xavier_uniform,  ///< U(−a, a), a = √(6/(in + out)) (Glorot & Bengio 2010): tanh, sigmoid
    xavier_normal,   ///< N(0, 2/(in + out))
    he_uniform,      ///< U(−a, a), a = √(6/in) (He et al. 2015): ReLU
    he_normal,       ///< N(0, 2/in)
};

namespace detail {
/// Fills one tensor of n numbers: a matrix or kernel (Matrix) by scheme s with fans in and out,
/// anything else with `initial`. Named after the element type only.
template <class T>
void fill(T* d, std::size_t n, bool matrix, double in, double out, double initial, scheme s,
          ctgrad::detail::mt19937_64& gen) {
    if (!matrix) {
        for (std::size_t e = 0; e < n; ++e) d[e] = static_cast<T>(initial);
        return;
    }
    const bool uniform = s == scheme::xavier_uniform || s == scheme::he_uniform;
    const bool he = s == scheme::he_uniform || s == scheme::he_normal;
    const double var = he ? 2.0 / in : 2.0 / (in + out);
    if (uniform) {
        const double a = std::sqrt(3.0 * var);
        ctgrad::detail::uniform_real dist{-a, a};
        for (std::size_t e = 0; e < n; ++e) d[e] = static_cast<T>(dist(gen));
    } else {
        ctgrad::detail::normal dist(0.0, std::sqrt(var));
        for (std::size_t e = 0; e < n; ++e) d[e] = static_cast<T>(dist(gen));
    }
}

/// What initialize does per parameter: a class named after nothing of the network, so that its
/// per-parameter instantiations have short names.
struct initializer {
    scheme s;
    ctgrad::detail::mt19937_64* gen;

    template <class V, class Tn>
    void operator()(V, Tn& t) const {
        fill(t.data(), t.size(), Tn::rank >= 2, static_cast<double>(fan_in<Tn>),
             static_cast<double>(fan_out<Tn>), nn::detail::initial_value<V>(), s, *gen);
    }
};

/// What initialize needs of every parameter of List, as tables (a tensor of rank ≥ 2 is a
/// matrix or kernel; its fans; the value of anything else). Evaluated into a local constant, so
/// that no variable is named after the list.
template <std::size_t N>
struct init_table {
    std::array<bool, N + 1> matrix{};
    std::array<double, N + 1> in{}, out{}, initial{};
};

template <class... V>
constexpr init_table<sizeof...(V)> init_table_of(ctgrad::detail::type_list<V...>) {
    return {{(V::kind::rank >= 2)..., false},
            {static_cast<double>(fan_in<typename V::kind>)..., 0.0},
            {static_cast<double>(fan_out<typename V::kind>)..., 0.0},
            {nn::detail::initial_value<V>()..., 0.0}};
}
}  // namespace detail

/// Initializes every matrix parameter by `s` and sets every vector to its initial value (biases
/// and shifts 0, batch-norm scales 1; see detail::initial_value), from a 64-bit Mersenne
/// Twister seeded with `seed` (ctgrad::detail::mt19937_64, std::mt19937_64's numbers, through
/// libstdc++'s uniform and normal distributions: the same seed gives the same parameters with
/// every standard library, and as std::mt19937_64 with libstdc++ did before).
template <class List>
void initialize(parameters<List>& p, scheme s, std::uint64_t seed) {
    ctgrad::detail::mt19937_64 gen(seed);
    if constexpr (!std::is_void_v<typename parameters<List>::element_type>) {
        // one loop over tables: no function per parameter (a network's depth of them)
        constexpr auto table = detail::init_table_of(List{});
        constexpr auto sizes = parameters<List>::sizes;
        const auto d = p.data();
        for (std::size_t i = 0; i < parameters<List>::size(); ++i) {
            detail::fill(d[i], sizes[i], table.matrix[i], table.in[i], table.out[i],
                         table.initial[i], s, gen);
        }
    } else {
        p.for_each(detail::initializer{s, &gen});
    }
}

template <class List>
void xavier(parameters<List>& p, std::uint64_t seed) {
    initialize(p, scheme::xavier_uniform, seed);
}

template <class List>
void he(parameters<List>& p, std::uint64_t seed) {
    initialize(p, scheme::he_normal, seed);
}

}  // namespace init

namespace detail {
/// p ← p − step·g over n numbers. Named after the element type only.
template <class T>
void sgd_update(T* p, const T* g, std::size_t n, T step) {
    for (std::size_t i = 0; i < n; ++i) p[i] -= step * g[i];
}

/// What sgd_step does per parameter, from gradients at `ws + offsets[i]` (the i-th parameter of
/// the pack): a class named after the element type only.
template <class T>
struct sgd_visitor {
    const T* ws;
    const std::size_t* offsets;
    T step;
    std::size_t i = 0;

    template <class V, class Tn>
    void operator()(V, Tn& t) {
        sgd_update(t.data(), ws + offsets[i++], t.size(), step);
    }
};

/// Whether G (a program's gradient_view) lays out the gradients of every variable of List in one
/// workspace: then sgd_step reads them through one table of offsets.
template <class List, class G>
constexpr bool offsets_for_all() {
    if constexpr (requires { G::template offsets_of<List>; }) {
        for (const std::size_t o : G::template offsets_of<List>) {
            if (o == tensor_ad::none) return false;
        }
        return true;
    } else {
        return false;
    }
}

/// Whether sgd_step reads G's gradients through its table of offsets and updates the pack
/// through its own tables (one element type, the gradient's).
template <class List, class G>
constexpr bool offsets_by_table() {
    if constexpr (offsets_for_all<List, G>()) {
        return std::is_same_v<typename parameters<List>::element_type, typename G::scalar_type>;
    } else {
        return false;
    }
}
}  // namespace detail

/// One step of plain gradient descent: p ← p − lr·∇p for every parameter, from a gradient
/// that holds all of them (program::gradient's view, or gradient's result). One fused loop
/// per tensor; no allocation.
template <class List, class G, class S>
void sgd_step(parameters<List>& p, const G& g, S lr) {
    if constexpr (detail::offsets_by_table<List, G>()) {
        // one loop over tables: no function per parameter (a network's depth of them)
        using T = typename G::scalar_type;
        // local constants: no variable named after the list in the object
        constexpr auto offsets = G::template offsets_of<List>;
        constexpr auto sizes = parameters<List>::sizes;
        const auto d = p.data();
        for (std::size_t i = 0; i < parameters<List>::size(); ++i) {
            detail::sgd_update(d[i], g.data() + offsets[i], sizes[i], static_cast<T>(lr));
        }
    } else if constexpr (detail::offsets_for_all<List, G>()) {
        using T = typename G::scalar_type;
        p.for_each(detail::sgd_visitor<T>{g.data(), G::template offsets_of<List>.data(),
                                          static_cast<T>(lr)});
    } else {
        // a gradient result that owns its tensors, or a view that lacks a parameter (g[v] then
        // names the variable in its error)
        p.for_each([&](auto v, auto& t) {
            using T = typename std::remove_cvref_t<decltype(t)>::value_type;
            const auto d = g[v];
            if constexpr (requires { d.data(); }) {  // else g[v] has reported a missing variable
                detail::sgd_update(t.data(), d.data(), t.size(), static_cast<T>(lr));
            }
        });
    }
}

}  // namespace ctgrad::nn
