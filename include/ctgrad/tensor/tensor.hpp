/// @file
/// Static-shape tensors: `tensor<T, Dims...>` (owning, value semantics, aligned, constexpr) and
/// `tensor_view<T, Dims...>` (non-owning, for data that lives elsewhere, such as a data set
/// bound without a copy). Row-major; the shape is part of the type.
#pragma once

#include <array>        // std::array
#include <concepts>     // std::integral
#include <cstddef>      // std::size_t
#include <stdexcept>    // std::out_of_range, std::length_error
#include <string>       // std::string, std::to_string
#include <type_traits>  // std::is_floating_point_v, std::remove_const_t
#include <utility>      // std::index_sequence

namespace ctgrad {

namespace detail {

/// The widest vector register ctgrad aligns for (AVX-512: 64 bytes). A tensor whose elements
/// take less than that is aligned like its element type, so small tensors stay small.
inline constexpr std::size_t vector_bytes = 64;

template <class T, std::size_t Count>
inline constexpr std::size_t tensor_alignment = Count * sizeof(T) >= vector_bytes ? vector_bytes
                                                                                  : alignof(T);

template <std::size_t... Dims>
inline constexpr std::size_t element_count = (std::size_t{1} * ... * Dims);

/// Row-major strides: the distance in elements between neighbours along each dimension.
template <std::size_t... Dims>
constexpr std::array<std::size_t, sizeof...(Dims)> row_major_strides() {
    std::array<std::size_t, sizeof...(Dims)> extent{Dims...};
    std::array<std::size_t, sizeof...(Dims)> stride{};
    std::size_t s = 1;
    for (std::size_t d = sizeof...(Dims); d-- > 0;) {
        stride[d] = s;
        s *= extent[d];
    }
    return stride;
}

/// "[2, 3]": a shape as users write it in messages.
template <std::size_t... Dims>
std::string shape_string() {
    std::string s = "[";
    std::size_t d = 0;
    ((s += (d++ ? ", " : "") + std::to_string(Dims)), ...);
    return s + "]";
}

/// The shape-dependent part shared by tensor and tensor_view: extents, strides, offsets.
template <std::size_t... Dims>
struct shape_info {
    static_assert(((Dims > 0) && ...), "ctgrad: every dimension of a tensor must be at least 1");

    static constexpr std::size_t rank = sizeof...(Dims);
    static constexpr std::array<std::size_t, rank> shape{Dims...};
    static constexpr std::size_t count = element_count<Dims...>;
    static constexpr std::array<std::size_t, rank> strides = row_major_strides<Dims...>();

    /// Row-major offset of (i...), unchecked.
    template <class... I>
    static constexpr std::size_t offset(I... i) noexcept {
        std::size_t o = 0;
        std::size_t d = 0;
        ((o += static_cast<std::size_t>(i) * strides[d++]), ...);
        return o;
    }

    /// Row-major offset of (i...); throws std::out_of_range naming the index, the dimension and
    /// the shape when one is out of range (or negative).
    template <class... I>
    static constexpr std::size_t checked_offset(const char* who, I... i) {
        std::size_t d = 0;
        (
            [&](auto index) {
                bool negative = false;
                if constexpr (std::is_signed_v<decltype(index)>) negative = index < 0;
                if (negative || static_cast<std::size_t>(index) >= shape[d]) {
                    throw std::out_of_range(std::string("ctgrad::") + who + ": index " +
                                            std::to_string(index) +
                                            " is out of range for dimension " + std::to_string(d) +
                                            " of a tensor of shape " + shape_string<Dims...>());
                }
                ++d;
            }(i),
            ...);
        return offset(i...);
    }
};

}  // namespace detail

/// Indices of a rank-N tensor: exactly N integers.
template <std::size_t Rank, class... I>
concept tensor_indices = sizeof...(I) == Rank && (std::integral<I> && ...);

/// An owning tensor of shape `Dims...` (rank 0 to any): `tensor<float, 32, 100>` is a 32 x 100
/// row-major matrix. An aggregate with value semantics: `tensor<double, 2, 3> a{}` is all zeros,
/// `tensor<double, 2, 3> a{{1, 2, 3, 4, 5, 6}}` lists the elements row by row, copies copy the
/// elements, and everything is usable in constant expressions. The elements live inside the
/// object (aligned to 64 bytes once they take that much), so a big tensor belongs on the heap
/// (`std::make_unique<tensor<...>>()`) or is used through a `tensor_view`.
template <class T, std::size_t... Dims>
struct tensor {
    static_assert(std::is_floating_point_v<T>,
                  "ctgrad::tensor: the element type must be float, double or long double");
    using info = detail::shape_info<Dims...>;
    using value_type = T;

    static constexpr std::size_t rank = info::rank;
    static constexpr std::array<std::size_t, rank> shape = info::shape;

    /// The elements, row-major. Public so that the tensor is an aggregate (like std::array).
    alignas(detail::tensor_alignment<T, info::count>) std::array<T, info::count> elems{};

    /// The number of elements.
    static constexpr std::size_t size() noexcept { return info::count; }

    constexpr T* data() noexcept { return elems.data(); }
    constexpr const T* data() const noexcept { return elems.data(); }
    constexpr T* begin() noexcept { return elems.data(); }
    constexpr T* end() noexcept { return elems.data() + info::count; }
    constexpr const T* begin() const noexcept { return elems.data(); }
    constexpr const T* end() const noexcept { return elems.data() + info::count; }

    /// Element (i, j, ...): one index per dimension, unchecked.
    template <class... I>
        requires tensor_indices<rank, I...>
    constexpr T& operator()(I... i) noexcept { return elems[info::offset(i...)]; }
    template <class... I>
        requires tensor_indices<rank, I...>
    constexpr const T& operator()(I... i) const noexcept { return elems[info::offset(i...)]; }

    /// Element (i, j, ...), checked: std::out_of_range names the index and the shape.
    template <class... I>
        requires tensor_indices<rank, I...>
    constexpr T& at(I... i) { return elems[info::checked_offset("tensor::at", i...)]; }
    template <class... I>
        requires tensor_indices<rank, I...>
    constexpr const T& at(I... i) const { return elems[info::checked_offset("tensor::at", i...)]; }

    /// A tensor with every element equal to v.
    static constexpr tensor filled(T v) noexcept {
        tensor t;
        for (auto& e : t.elems) e = v;
        return t;
    }

    friend constexpr bool operator==(const tensor&, const tensor&) = default;
};

/// A non-owning tensor of shape `Dims...` over memory that lives elsewhere: binding a
/// 60000 x 784 data set through a view copies nothing. `T` may be const (`tensor_view<const
/// float, 64, 784>`). Copying a view copies the pointer. The memory must hold size() elements,
/// row-major, for as long as the view is used.
template <class T, std::size_t... Dims>
class tensor_view {
    static_assert(std::is_floating_point_v<std::remove_const_t<T>>,
                  "ctgrad::tensor_view: the element type must be float, double or long double "
                  "(possibly const)");

public:
    using info = detail::shape_info<Dims...>;
    using value_type = std::remove_const_t<T>;
    static constexpr std::size_t rank = info::rank;
    static constexpr std::array<std::size_t, rank> shape = info::shape;

    /// A view of the size() elements starting at p.
    constexpr explicit tensor_view(T* p) noexcept : p_(p) {}

    /// A view of a whole tensor of the same shape.
    template <class U>
        requires std::is_same_v<std::remove_const_t<T>, U>
    constexpr tensor_view(tensor<U, Dims...>& t) noexcept : p_(t.data()) {}
    template <class U>
        requires(std::is_same_v<T, const U>)
    constexpr tensor_view(const tensor<U, Dims...>& t) noexcept : p_(t.data()) {}

    /// A const view of a mutable one.
    template <class U>
        requires(std::is_same_v<T, const U>)
    constexpr tensor_view(tensor_view<U, Dims...> v) noexcept : p_(v.data()) {}

    static constexpr std::size_t size() noexcept { return info::count; }
    constexpr T* data() const noexcept { return p_; }
    constexpr T* begin() const noexcept { return p_; }
    constexpr T* end() const noexcept { return p_ + info::count; }

    template <class... I>
        requires tensor_indices<rank, I...>
    constexpr T& operator()(I... i) const noexcept { return p_[info::offset(i...)]; }

    template <class... I>
        requires tensor_indices<rank, I...>
    constexpr T& at(I... i) const { return p_[info::checked_offset("tensor_view::at", i...)]; }

    /// Rows [first, first + Count) of a tensor of rank 1 or more, as a view of shape
    /// [Count, Dims[1], ...]: a mini-batch of a data set. Throws std::out_of_range when the
    /// rows do not all exist.
    template <std::size_t Count>
    constexpr auto rows(std::size_t first) const {
        static_assert(rank >= 1, "ctgrad::tensor_view::rows: a rank-0 tensor has no rows");
        static_assert(Count >= 1, "ctgrad::tensor_view::rows: take at least one row");
        if (first > shape[0] || Count > shape[0] - first) {
            throw std::out_of_range("ctgrad::tensor_view::rows: rows [" + std::to_string(first) +
                                    ", " + std::to_string(first + Count) +
                                    ") are out of range for a tensor of shape " +
                                    detail::shape_string<Dims...>());
        }
        return rows_impl<Count>(first, std::make_index_sequence<rank - 1>{});
    }

    /// Copies the viewed elements into an owning tensor.
    constexpr tensor<value_type, Dims...> to_tensor() const {
        tensor<value_type, Dims...> t;
        for (std::size_t i = 0; i < info::count; ++i) t.elems[i] = p_[i];
        return t;
    }

private:
    template <std::size_t Count, std::size_t... R>
    constexpr auto rows_impl(std::size_t first, std::index_sequence<R...>) const {
        return tensor_view<T, Count, shape[R + 1]...>(p_ + first * info::strides[0]);
    }

    T* p_;
};

/// A view of `Dims...` over a contiguous container (std::vector, std::array, std::span, ...)
/// whose size must be exactly the product of the dims; throws std::length_error naming both
/// sizes otherwise: `auto images = ctgrad::view<60000, 784>(pixels);`.
template <std::size_t... Dims, class Container>
    requires requires(Container& c) {
        c.data();
        c.size();
    }
constexpr auto view(Container& c) {
    using T = std::remove_pointer_t<decltype(c.data())>;
    if (static_cast<std::size_t>(c.size()) != detail::element_count<Dims...>) {
        throw std::length_error("ctgrad::view: a tensor of shape " +
                                detail::shape_string<Dims...>() + " needs " +
                                std::to_string(detail::element_count<Dims...>) +
                                " elements, the container holds " + std::to_string(c.size()));
    }
    return tensor_view<T, Dims...>(c.data());
}

/// A view of `Dims...` over memory starting at p (which must hold the product of the dims).
template <std::size_t... Dims, class T>
constexpr tensor_view<T, Dims...> view(T* p) noexcept {
    return tensor_view<T, Dims...>(p);
}

}  // namespace ctgrad
