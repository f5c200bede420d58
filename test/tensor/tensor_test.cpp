// tensor<T, Dims...> and tensor_view: layout, constexpr use, alignment, checked access, views
// over containers and mini-batch row views.
#define BOOST_TEST_MODULE tensor_tensor
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <ctgrad/tensor/tensor.hpp>

using ctgrad::tensor;
using ctgrad::tensor_view;

// --- compile time: shape, layout, value semantics ---

static_assert(tensor<float, 2, 3>::rank == 2);
static_assert(tensor<float, 2, 3>::size() == 6);
static_assert(tensor<float, 2, 3>::shape[0] == 2 && tensor<float, 2, 3>::shape[1] == 3);
static_assert(tensor<double>::rank == 0 && tensor<double>::size() == 1);
static_assert(tensor<float, 4, 5, 6>::info::strides[0] == 30);
static_assert(tensor<float, 4, 5, 6>::info::strides[1] == 6);
static_assert(tensor<float, 4, 5, 6>::info::strides[2] == 1);
static_assert(std::is_aggregate_v<tensor<float, 2, 3>>);
static_assert(std::is_trivially_copyable_v<tensor<float, 2, 3>>);

constexpr tensor<double, 2, 3> m{{1, 2, 3, 4, 5, 6}};
static_assert(m(0, 0) == 1 && m(0, 2) == 3 && m(1, 0) == 4 && m(1, 2) == 6);  // row-major
static_assert(m.at(1, 1) == 5);
static_assert(tensor<double, 2, 3>{} == tensor<double, 2, 3>::filled(0.0));
static_assert(tensor<double, 2, 3>::filled(2.5)(1, 2) == 2.5);

constexpr tensor<double, 2, 2> doubled(tensor<double, 2, 2> t) {
    for (auto& e : t) e *= 2;
    return t;
}
static_assert(doubled({{1, 2, 3, 4}}) == tensor<double, 2, 2>{{2, 4, 6, 8}});

constexpr double rank0() {
    tensor<double> s{{7}};
    s() += 1;
    return s();
}
static_assert(rank0() == 8);

// Alignment: 64 bytes once the elements take that much, the element's own otherwise.
static_assert(alignof(tensor<float, 16>) == 64);
static_assert(alignof(tensor<float, 32, 100>) == 64);
static_assert(alignof(tensor<float, 3>) == alignof(float));
static_assert(sizeof(tensor<float, 3>) == 3 * sizeof(float));

// Index count and type are checked by a concept.
template <class T, class... I>
concept indexable = requires(T t, I... i) {
    t(i...);
};
static_assert(indexable<tensor<float, 2, 3>, int, int>);
static_assert(!indexable<tensor<float, 2, 3>, int>);
static_assert(!indexable<tensor<float, 2, 3>, int, int, int>);
static_assert(!indexable<tensor<float, 2, 3>, double, int>);

// A const view can be made from a mutable one, not the other way round.
static_assert(std::is_convertible_v<tensor_view<float, 2, 3>, tensor_view<const float, 2, 3>>);
static_assert(!std::is_convertible_v<tensor_view<const float, 2, 3>, tensor_view<float, 2, 3>>);
static_assert(!std::is_constructible_v<tensor_view<float, 2, 3>, const tensor<float, 2, 3>&>);
static_assert(!std::is_constructible_v<tensor_view<float, 3, 2>, tensor<float, 2, 3>&>);

// --- run time ---

BOOST_AUTO_TEST_CASE(elements_are_row_major_and_aligned) {
    auto t = std::make_unique<tensor<float, 32, 100>>();
    BOOST_TEST(reinterpret_cast<std::uintptr_t>(t->data()) % 64 == 0u);
    for (int i = 0; i < 32; ++i) {
        for (int j = 0; j < 100; ++j) (*t)(i, j) = static_cast<float>(100 * i + j);
    }
    for (std::size_t k = 0; k < t->size(); ++k) BOOST_TEST(t->data()[k] == static_cast<float>(k));
}

BOOST_AUTO_TEST_CASE(copies_are_independent) {
    tensor<double, 2, 2> a{{1, 2, 3, 4}};
    auto b = a;
    b(0, 1) = 20;
    BOOST_TEST(a(0, 1) == 2.0);
    BOOST_TEST(b(0, 1) == 20.0);
    BOOST_TEST((a != b));
}

BOOST_AUTO_TEST_CASE(at_names_the_index_and_the_shape) {
    tensor<float, 2, 3> t{};
    BOOST_CHECK_NO_THROW(t.at(1, 2));
    try {
        t.at(1, 3);
        BOOST_FAIL("at(1, 3) did not throw");
    } catch (const std::out_of_range& e) {
        BOOST_TEST(std::string(e.what()) ==
                   "ctgrad::tensor::at: index 3 is out of range for dimension 1 of a tensor of "
                   "shape [2, 3]");
    }
    BOOST_CHECK_THROW(t.at(-1, 0), std::out_of_range);
    BOOST_CHECK_THROW(t.at(2, 0), std::out_of_range);
}

BOOST_AUTO_TEST_CASE(view_over_a_vector_shares_its_memory) {
    std::vector<float> pixels(6 * 4);
    for (std::size_t k = 0; k < pixels.size(); ++k) pixels[k] = static_cast<float>(k);
    auto images = ctgrad::view<6, 4>(pixels);
    static_assert(std::is_same_v<decltype(images), tensor_view<float, 6, 4>>);
    BOOST_TEST(images.data() == pixels.data());
    BOOST_TEST(images(2, 3) == 11.0f);
    images(0, 0) = -1;
    BOOST_TEST(pixels[0] == -1.0f);

    const std::vector<double> c(3);
    auto cv = ctgrad::view<3>(c);
    static_assert(std::is_same_v<decltype(cv), tensor_view<const double, 3>>);
    BOOST_TEST(cv.data() == c.data());
}

BOOST_AUTO_TEST_CASE(view_of_the_wrong_size_throws_with_both_sizes) {
    std::vector<float> v(10);
    try {
        (void)ctgrad::view<3, 4>(v);
        BOOST_FAIL("view<3, 4> of 10 elements did not throw");
    } catch (const std::length_error& e) {
        BOOST_TEST(std::string(e.what()) ==
                   "ctgrad::view: a tensor of shape [3, 4] needs 12 elements, the container "
                   "holds 10");
    }
}

BOOST_AUTO_TEST_CASE(rows_give_mini_batches_without_copying) {
    std::vector<double> data(10 * 3);
    for (std::size_t k = 0; k < data.size(); ++k) data[k] = static_cast<double>(k);
    const auto all = ctgrad::view<10, 3>(data);
    auto batch = all.rows<4>(4);
    static_assert(std::is_same_v<decltype(batch), tensor_view<double, 4, 3>>);
    BOOST_TEST(batch.data() == data.data() + 12);
    BOOST_TEST(batch(0, 0) == 12.0);
    BOOST_TEST(batch(3, 2) == 23.0);
    BOOST_CHECK_NO_THROW(all.rows<4>(6));  // the last full batch
    BOOST_CHECK_THROW(all.rows<4>(7), std::out_of_range);
    BOOST_CHECK_THROW(all.rows<1>(10), std::out_of_range);
    try {
        (void)all.rows<4>(8);
    } catch (const std::out_of_range& e) {
        BOOST_TEST(std::string(e.what()) ==
                   "ctgrad::tensor_view::rows: rows [8, 12) are out of range for a tensor of "
                   "shape [10, 3]");
    }
}

BOOST_AUTO_TEST_CASE(views_of_tensors_and_back) {
    tensor<float, 2, 3> t{{1, 2, 3, 4, 5, 6}};
    tensor_view<float, 2, 3> v = t;
    v(1, 1) = 50;
    BOOST_TEST(t(1, 1) == 50.0f);
    tensor_view<const float, 2, 3> cv = v;
    BOOST_TEST(cv.at(1, 1) == 50.0f);
    BOOST_CHECK_THROW(cv.at(2, 0), std::out_of_range);
    auto copy = cv.to_tensor();
    static_assert(std::is_same_v<decltype(copy), tensor<float, 2, 3>>);
    BOOST_TEST((copy == t));
}
