// The flat type-list utilities the plan is built from, at lengths past clang's 256-operand fold
// limit: chunked folds over index sequences, filtering by a mask, unique merge, index lookup.
#define BOOST_TEST_MODULE core_type_list
#include <array>
#include <cstddef>
#include <type_traits>
#include <utility>

#include <boost/test/unit_test.hpp>

#include <ctgrad/detail/type_list.hpp>

namespace detail = ctgrad::detail;

template <std::size_t I>
struct tag {};

template <std::size_t... I>
constexpr detail::type_list<tag<I>...> tags(std::index_sequence<I...>) {
    return {};
}

template <std::size_t N>
using tags_t = decltype(tags(std::make_index_sequence<N>{}));

template <std::size_t N>
constexpr std::array<std::size_t, N> visit_order() {
    std::array<std::size_t, N> seen{};
    std::size_t n = 0;
    detail::static_for_chunks<N>([&]<std::size_t... J>(std::index_sequence<J...>) {
        ((seen[n++] = J), ...);
    });
    return seen;
}

template <std::size_t N>
constexpr bool visits_each_index_once_in_order() {
    constexpr auto seen = visit_order<N>();
    for (std::size_t i = 0; i < N; ++i) {
        if (seen[i] != i) return false;
    }
    return true;
}

static_assert(visits_each_index_once_in_order<0>());
static_assert(visits_each_index_once_in_order<1>());
static_assert(visits_each_index_once_in_order<detail::fold_chunk>());
static_assert(visits_each_index_once_in_order<detail::fold_chunk + 1>());
static_assert(visits_each_index_once_in_order<1000>());

// Keep every third element of a 600-element list.
struct every_third {
    static constexpr auto value = [] {
        std::array<bool, 600> m{};
        for (std::size_t i = 0; i < m.size(); i += 3) m[i] = true;
        return m;
    }();
};
using thirds = detail::filter_t<tags_t<600>, every_third>;
static_assert(thirds::size == 200);
static_assert(std::is_same_v<detail::at_t<thirds, 0>, tag<0>>);
static_assert(std::is_same_v<detail::at_t<thirds, 1>, tag<3>>);
static_assert(std::is_same_v<detail::at_t<thirds, 199>, tag<597>>);

struct none_of_300 {
    static constexpr std::array<bool, 300> value{};
};
static_assert(std::is_same_v<detail::filter_t<tags_t<300>, none_of_300>, detail::type_list<>>);

// Merging two long lists that overlap: tags 0..299 then 150..449 gives 0..449 in order.
template <std::size_t... I>
constexpr detail::type_list<tag<150 + I>...> shifted(std::index_sequence<I...>) {
    return {};
}
using upper = decltype(shifted(std::make_index_sequence<300>{}));
using merged = detail::merge_unique<tags_t<300>, upper>::type;
static_assert(std::is_same_v<merged, tags_t<450>>);
static_assert(std::is_same_v<detail::merge_unique<tags_t<300>, tags_t<300>>::type, tags_t<300>>);
static_assert(std::is_same_v<detail::merge_unique<detail::type_list<>, upper>::type, upper>);

static_assert(detail::index_of_v<tags_t<450>, tag<449>> == 449);
static_assert(detail::list_contains_v<tags_t<450>, tag<0>>);
static_assert(!detail::list_contains_v<tags_t<450>, tag<450>>);

BOOST_AUTO_TEST_CASE(chunked_fold_visits_every_index_in_order_at_run_time) {
    std::array<std::size_t, 777> seen{};
    std::size_t n = 0;
    detail::static_for_chunks<777>([&]<std::size_t... J>(std::index_sequence<J...>) {
        ((seen[n++] = J), ...);
    });
    BOOST_TEST(n == 777u);
    for (std::size_t i = 0; i < seen.size(); ++i) BOOST_TEST(seen[i] == i);
}

BOOST_AUTO_TEST_CASE(filter_keeps_masked_elements_in_order) {
    BOOST_TEST(thirds::size == 200u);
    BOOST_TEST((std::is_same_v<detail::at_t<thirds, 100>, tag<300>>));
}
