#define BOOST_TEST_MODULE tensor_placement
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/nn.hpp>

// The workspace placement (tensor/workspace.hpp, place_range: free intervals in a linked list,
// evaluated in chunks) against a first-fit written the plain way: for each buffer in order of its
// first step, the live buffers (placed, last step not before its first) sorted by offset, and the
// lowest offset where it fits between their aligned ends. Also: buffers alive at the same step do
// not overlap, and the size is the highest end.

namespace nn = ctgrad::nn;
namespace ta = ctgrad::tensor_ad;

namespace {

template <class Sched>
void check_layout() {
    using W = ta::workspace<Sched>;
    constexpr std::size_t N = Sched::N;
    constexpr std::size_t align = Sched::align;
    const auto& bs = W::all;
    const auto& l = W::offsets;
    const auto aligned = [](std::size_t e) { return (e + align - 1) / align * align; };
    const auto placed_at = [&](std::size_t b) { return b < N ? l.val_off[b] : l.adj_off[b - N]; };
    std::vector<std::size_t> offset(2 * N, 0);
    std::vector<std::size_t> done;
    std::size_t total = 0;
    BOOST_TEST(bs.placed == l.buffers);
    for (std::size_t o = 0; o < bs.placed; ++o) {
        const std::size_t b = bs.order[o];
        std::vector<std::pair<std::size_t, std::size_t>> live;
        for (const std::size_t q : done) {
            if (bs.life[q].last >= bs.life[b].first) {
                live.emplace_back(offset[q], aligned(offset[q] + bs.size[q]));
            }
        }
        std::sort(live.begin(), live.end());
        std::size_t at = 0;
        for (const auto& [lo, hi] : live) {
            if (at + bs.size[b] <= lo) break;
            at = std::max(at, hi);
        }
        offset[b] = at;
        total = std::max(total, at + bs.size[b]);
        done.push_back(b);
        BOOST_TEST(placed_at(b) == at, "buffer " << b << " (order " << o << ")");
    }
    BOOST_TEST(l.total == total);
    // no two buffers alive at one step share an element
    for (std::size_t i = 0; i < done.size(); ++i) {
        for (std::size_t k = i + 1; k < done.size(); ++k) {
            const std::size_t a = done[i], b = done[k];
            const bool together =
                bs.life[a].first <= bs.life[b].last && bs.life[b].first <= bs.life[a].last;
            const bool apart = placed_at(a) + bs.size[a] <= placed_at(b) ||
                               placed_at(b) + bs.size[b] <= placed_at(a);
            BOOST_TEST((!together || apart), "buffers " << a << " and " << b);
        }
    }
}

template <class Prog>
void check_program() {
    check_layout<typename Prog::gradient_schedule>();
    check_layout<typename Prog::value_schedule>();
    check_layout<typename Prog::step_schedule>();
}

constexpr std::size_t width = 6, batch = 3;
constexpr auto X = ctgrad::var<"X", ctgrad::tensor<float, batch, width>>;

template <std::size_t L>
using hidden = nn::dense<ctgrad::indexed_name<"h", L>, width, width>;

template <std::size_t... L>
constexpr auto tanh_net(std::index_sequence<L...>) {
    return nn::sequential(nn::sequential(hidden<L>{}, nn::tanh)..., nn::dense<"o", width, 4>{});
}

}  // namespace

BOOST_AUTO_TEST_CASE(deep_tanh_network_is_first_fit) {
    // 40 layers: the backward pass leaves a gap per layer between the gradients (live to the end)
    constexpr auto net = tanh_net(std::make_index_sequence<40>{});
    constexpr auto Y = ctgrad::var<"Y", ctgrad::tensor<float, batch, 4>>;
    const auto loss = ctgrad::softmax_cross_entropy(net(X), Y);
    using p_t = nn::parameters_of<decltype(net)>;
    check_program<decltype(ctgrad::program(loss, p_t{}.wrt()))>();
}

BOOST_AUTO_TEST_CASE(mixed_network_is_first_fit) {
    // widths that differ per layer, a weight read twice (not updated in place), relu, a second
    // loss term
    using a = nn::dense<"a", width, 9>;
    using b = nn::dense<"b", 9, 9>;
    using c = nn::dense<"c", 9, 2>;
    constexpr auto net = nn::sequential(a{}, nn::relu, b{}, nn::tanh, b{}, nn::sigmoid, c{});
    constexpr auto Y = ctgrad::var<"Y", ctgrad::tensor<float, batch, 2>>;
    constexpr auto Z = ctgrad::var<"Z", ctgrad::tensor<float, batch, 9>>;
    const auto loss = ctgrad::mean(ctgrad::square(net(X) - Y)) + ctgrad::sum(b{}(a{}(X)) * Z);
    check_program<decltype(ctgrad::program(loss))>();
    using p_t = nn::parameters_of<decltype(net)>;
    check_program<decltype(ctgrad::program(loss, p_t{}.wrt()))>();
}

BOOST_AUTO_TEST_CASE(aligned_sizes_are_first_fit) {
    // buffers whose sizes are multiples of the alignment (16 floats): gaps they fill exactly
    constexpr std::size_t w = 16;
    constexpr auto X16 = ctgrad::var<"X", ctgrad::tensor<float, 2, w>>;
    constexpr auto Y16 = ctgrad::var<"Y", ctgrad::tensor<float, 2, w>>;
    using d1 = nn::dense<"d1", w, w>;
    using d2 = nn::dense<"d2", w, w>;
    using d3 = nn::dense<"d3", w, w>;
    using d4 = nn::dense<"d4", w, w>;
    constexpr auto net =
        nn::sequential(d1{}, nn::tanh, d2{}, nn::tanh, d3{}, nn::sigmoid, d4{}, nn::tanh);
    const auto loss = ctgrad::mean(ctgrad::square(net(X16) - Y16));
    using p_t = nn::parameters_of<decltype(net)>;
    check_program<decltype(ctgrad::program(loss, p_t{}.wrt()))>();
    check_program<decltype(ctgrad::program(loss))>();
}
