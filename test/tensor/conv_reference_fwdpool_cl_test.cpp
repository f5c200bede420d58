// The convolution fused with relu and 2 × 2 max pooling on shapes whose fused forward runs
// channels-last with AVX-512 (conv_kernels::geometry::fwd_channels_last: vectors along the
// output channels, the kernel transposed to [C, KH, KW, Os]; AVX2 and SSE2 run forward then
// pool2 on the same shapes): output channels that fill part of a vector (the bias and kernel
// padded with zeros), two vectors of channels, a pooled row in two blocks of columns (the
// second shorter), odd rows and columns dropped, no relu. Against plain loops
// (support/conv_reference.hpp): value, ∂X and ∂K (through the saved positions), exactly on
// integers, on every instruction set (test/meson.build); and the value-only forward.
#define BOOST_TEST_MODULE tensor_conv_reference_fwdpool_cl
#include <boost/test/unit_test.hpp>

#include "support/conv_reference.hpp"

namespace {

template <size_t C, size_t H, size_t O, size_t K, size_t P>
constexpr bool channels_last =
    ctgrad::conv_kernels::geometry<C, H, H, O, K, K, P>::fwd_channels_last;

/// The value-only forward (op::forward: no positions saved) equals the plain loops' value.
template <size_t N, size_t C, size_t H, size_t O, size_t K, size_t P, bool Relu>
void same_value(unsigned seed) {
    using cc = conv_reference::conv_case<N, C, H, O, K, P, Relu, 2>;
    using op = typename cc::op;
    const cc ref(seed);
    std::vector<float> out(cc::YS::count, -7.0f);
    op::template forward<typename cc::YS, typename cc::XS, typename cc::KS, typename cc::BS>(
        out.data(), ref.x.data(), ref.k.data(), ref.b.data());
    int bad = conv_reference::differ(out, ref.y, "value-only y");
    BOOST_TEST(bad == 0, "value-only forward, H"
                             << H << " O" << O << " ("
                             << ctgrad::kernels::isa_name(ctgrad::kernels::active_isa()) << ")");
}

}  // namespace

BOOST_AUTO_TEST_CASE(channels_last_pooled) {
    static_assert(channels_last<3, 8, 13, 3, 1> && channels_last<2, 17, 16, 3, 0> &&
                  channels_last<2, 10, 20, 3, 0> && channels_last<6, 14, 16, 5, 0>);
    static_assert(!channels_last<1, 28, 6, 5, 2>);            // LeNet's conv1: rows
    conv_reference::check<2, 3, 8, 13, 3, 1, true, 2>(31);    // 8 → 4, 13 of 16 channels
    conv_reference::check<2, 2, 17, 16, 3, 0, true, 2>(32);   // 15 → 7: blocks of 4 and 3
    conv_reference::check<1, 2, 10, 20, 3, 0, false, 2>(33);  // 8 → 4, 20 of 32, no relu
}

BOOST_AUTO_TEST_CASE(value_only) {
    same_value<2, 3, 8, 13, 3, 1, true>(34);
    same_value<2, 6, 14, 16, 5, 0, true>(35);  // LeNet's conv2 block
}
