// The convolution fused with relu and 2 × 2 max pooling on shapes chosen for the fused forward
// kernel (conv_kernels::forward_pool2: the pooling done in the convolution's registers with
// AVX-512, forward then pool2 with AVX2 and SSE2) at the edges of its chunks of pooled columns
// (16 floats with AVX-512): a pooled row of exactly one chunk, of one chunk and one column, of
// half a chunk (one y vector per row) and just over half, blocks of channels with a remainder,
// odd rows and columns dropped, no relu, batches of 1 to 3 (the last image's pooled row stored
// in pieces, never past the result). Against plain loops (support/conv_reference.hpp): value, ∂X
// and ∂K (through the saved positions), exactly on integers, on every instruction set
// (test/meson.build); and the value-only forward against the saving one.
#define BOOST_TEST_MODULE tensor_conv_reference_fwdpool
#include <boost/test/unit_test.hpp>

#include "support/conv_reference.hpp"

namespace {

/// The value-only forward (op::forward: no positions saved) equals the saving one's value.
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

BOOST_AUTO_TEST_CASE(chunk_edges) {
    conv_reference::check<2, 2, 33, 7, 2, 0, true, 2>(21);    // 32 × 32 → 16 × 16: one chunk
    conv_reference::check<3, 1, 35, 5, 3, 1, true, 2>(22);    // 35 × 35 → 17 × 17: chunk + 1
    conv_reference::check<2, 3, 18, 13, 3, 0, false, 2>(23);  // 16 → 8: half a chunk, no relu
    conv_reference::check<2, 2, 20, 6, 3, 1, true, 2>(24);    // 20 → 10: just over half
    conv_reference::check<1, 1, 9, 3, 5, 2, true, 2>(25);     // 9 → 4, one image
}

BOOST_AUTO_TEST_CASE(value_only) {
    same_value<3, 1, 35, 5, 3, 1, true>(26);
    same_value<2, 3, 18, 13, 3, 0, false>(27);
    same_value<2, 1, 28, 6, 5, 2, true>(28);  // LeNet's conv1 block
}
