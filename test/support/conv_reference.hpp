// The harness of test/tensor/conv_reference_test.cpp and conv_reference_pool_test.cpp (two
// TUs: each instantiates the convolution kernels of its shapes three times, one per
// instruction set, and one TU of all six shapes came near the 60 s compile budget under clang
// with ASan): conv_reference::check<N, C, H, O, K, P, Relu, Pool>(seed) runs the conv op's
// value, ∂X and ∂K, assigning and accumulating, against plain loops written from the
// definitions, exactly on integer-valued inputs.
#pragma once

#include <boost/test/unit_test.hpp>

#include <cstddef>
#include <random>
#include <string>
#include <vector>

#include <ctgrad/ctgrad.hpp>

namespace conv_reference {

using std::size_t;

template <size_t N, size_t C, size_t H, size_t O, size_t K, size_t P, bool Relu, size_t Pool>
struct conv_case {
    static constexpr size_t OH = H + 2 * P - K + 1, YH = Pool ? OH / Pool : OH;
    using op = ctgrad::ops::conv2d_op<1, P, Relu, Pool>;
    using XS = ctgrad::shape<N, C, H, H>;
    using KS = ctgrad::shape<O, C, K, K>;
    using BS = ctgrad::shape<O>;
    using YS = ctgrad::shape<N, O, YH, YH>;

    std::vector<float> x = std::vector<float>(XS::count), k = std::vector<float>(KS::count),
                       b = std::vector<float>(O), dy = std::vector<float>(YS::count);
    // the pre-activation z [N, O, OH, OH], and the plain loops' results
    std::vector<float> z = std::vector<float>(N * O * OH * OH), y = std::vector<float>(YS::count),
                       dz = std::vector<float>(N * O * OH * OH), dx = std::vector<float>(XS::count),
                       dk = std::vector<float>(KS::count);

    float xat(size_t n, size_t c, long i, long j) const {
        if (i < 0 || j < 0 || i >= long(H) || j >= long(H)) return 0.0f;
        return x[((n * C + c) * H + size_t(i)) * H + size_t(j)];
    }

    explicit conv_case(unsigned seed) {
        std::mt19937 gen(seed);
        auto draw = [&](int lo, int hi) {
            return float(std::uniform_int_distribution<int>(lo, hi)(gen));
        };
        for (float& e : x) e = draw(-3, 3);
        for (float& e : k) e = draw(-2, 2);
        for (float& e : b) e = draw(-2, 2);
        for (float& e : dy) e = draw(-3, 3);
        // z = b + K ⋆ x (cross-correlation, zero padding P)
        for (size_t n = 0; n < N; ++n)
            for (size_t o = 0; o < O; ++o)
                for (size_t i = 0; i < OH; ++i)
                    for (size_t j = 0; j < OH; ++j) {
                        float s = b[o];
                        for (size_t c = 0; c < C; ++c)
                            for (size_t u = 0; u < K; ++u)
                                for (size_t v = 0; v < K; ++v)
                                    s += xat(n, c, long(i + u) - long(P), long(j + v) - long(P)) *
                                         k[((o * C + c) * K + u) * K + v];
                        z[((n * O + o) * OH + i) * OH + j] = s;
                    }
        // y and ∂z: relu (relu'(0) = 0), pooling (first maximum keeps the gradient)
        for (size_t n = 0; n < N; ++n)
            for (size_t o = 0; o < O; ++o)
                for (size_t i = 0; i < YH; ++i)
                    for (size_t j = 0; j < YH; ++j) {
                        const size_t w = Pool ? Pool : 1;
                        size_t bi = i * w, bj = j * w;
                        for (size_t u = 0; u < w; ++u)
                            for (size_t v = 0; v < w; ++v) {
                                const size_t zi = i * w + u, zj = j * w + v;
                                if (z[((n * O + o) * OH + zi) * OH + zj] >
                                    z[((n * O + o) * OH + bi) * OH + bj]) {
                                    bi = zi, bj = zj;
                                }
                            }
                        const float m = z[((n * O + o) * OH + bi) * OH + bj];
                        const size_t q = ((n * O + o) * YH + i) * YH + j;
                        y[q] = Relu && m <= 0.0f ? 0.0f : m;
                        if (!Relu || m > 0.0f) dz[((n * O + o) * OH + bi) * OH + bj] = dy[q];
                    }
        // ∂K[o, c, u, v] = Σ ∂z[n, o, i, j]·x[n, c, i + u − P, j + v − P]; ∂X by the same sum
        for (size_t n = 0; n < N; ++n)
            for (size_t o = 0; o < O; ++o)
                for (size_t i = 0; i < OH; ++i)
                    for (size_t j = 0; j < OH; ++j) {
                        const float g = dz[((n * O + o) * OH + i) * OH + j];
                        for (size_t c = 0; c < C; ++c)
                            for (size_t u = 0; u < K; ++u)
                                for (size_t v = 0; v < K; ++v) {
                                    const long xi = long(i + u) - long(P),
                                               xj = long(j + v) - long(P);
                                    dk[((o * C + c) * K + u) * K + v] += g * xat(n, c, xi, xj);
                                    if (xi >= 0 && xj >= 0 && xi < long(H) && xj < long(H)) {
                                        dx[((n * C + c) * H + size_t(xi)) * H + size_t(xj)] +=
                                            g * k[((o * C + c) * K + u) * K + v];
                                    }
                                }
                    }
    }
};

inline int differ(const std::vector<float>& got, const std::vector<float>& want,
                  const std::string& what) {
    int bad = 0;
    for (size_t e = 0; e < want.size(); ++e) {
        if (!(got[e] == want[e]) && bad++ < 3) {
            BOOST_TEST_MESSAGE(what << "[" << e << "] = " << got[e] << ", expected " << want[e]);
        }
    }
    return bad;
}

template <size_t N, size_t C, size_t H, size_t O, size_t K, size_t P, bool Relu, size_t Pool>
void check(unsigned seed) {
    using cc = conv_case<N, C, H, O, K, P, Relu, Pool>;
    using op = typename cc::op;
    using XS = typename cc::XS;
    using KS = typename cc::KS;
    using BS = typename cc::BS;
    using YS = typename cc::YS;
    const cc ref(seed);
    const std::string name = "N" + std::to_string(N) + " C" + std::to_string(C) + " H" +
                             std::to_string(H) + " O" + std::to_string(O) + " K" +
                             std::to_string(K) + " P" + std::to_string(P) + (Relu ? " relu" : "") +
                             (Pool ? " pool" : "") + " (" +
                             ctgrad::kernels::isa_name(ctgrad::kernels::active_isa()) + ")";
    std::vector<float> out(YS::count + op::template saved<XS, KS, BS>, -7.0f);
    op::template forward_saving<YS, XS, KS, BS>(out.data(), ref.x.data(), ref.k.data(),
                                                ref.b.data());
    BOOST_TEST(
        differ(std::vector<float>(out.begin(), out.begin() + YS::count), ref.y, name + " y") == 0,
        name + ": value");
    // assign, then accumulate onto ones: 1 + the same gradient
    std::vector<float> dx(XS::count, 123.0f), dk(KS::count, 123.0f);
    op::template vjp<0, ctgrad::kernels::mode::assign, YS, XS, KS, BS>(
        dx.data(), ref.dy.data(), out.data(), ref.x.data(), ref.k.data(), ref.b.data());
    op::template vjp<1, ctgrad::kernels::mode::assign, YS, XS, KS, BS>(
        dk.data(), ref.dy.data(), out.data(), ref.x.data(), ref.k.data(), ref.b.data());
    BOOST_TEST(differ(dx, ref.dx, name + " dX") == 0, name + ": dX");
    BOOST_TEST(differ(dk, ref.dk, name + " dK") == 0, name + ": dK");
    std::vector<float> dx1(XS::count, 1.0f), dk1(KS::count, 1.0f), want_x = ref.dx, want_k = ref.dk;
    for (float& e : want_x) e += 1.0f;
    for (float& e : want_k) e += 1.0f;
    op::template vjp<0, ctgrad::kernels::mode::accumulate, YS, XS, KS, BS>(
        dx1.data(), ref.dy.data(), out.data(), ref.x.data(), ref.k.data(), ref.b.data());
    op::template vjp<1, ctgrad::kernels::mode::accumulate, YS, XS, KS, BS>(
        dk1.data(), ref.dy.data(), out.data(), ref.x.data(), ref.k.data(), ref.b.data());
    BOOST_TEST(differ(dx1, want_x, name + " dX +=") == 0, name + ": dX accumulate");
    BOOST_TEST(differ(dk1, want_k, name + " dK +=") == 0, name + ": dK accumulate");
    // both in one call (vjp_pair: the engine's call when a sweep needs both; one pass over the
    // batch for the channels-last ∂X and ∂K behind the pooling), assigning and accumulating
    std::vector<float> px(XS::count, 123.0f), pk(KS::count, 123.0f);
    op::template vjp_pair<ctgrad::kernels::mode::assign, ctgrad::kernels::mode::assign, YS, XS, KS,
                          BS>(px.data(), pk.data(), ref.dy.data(), out.data(), ref.x.data(),
                              ref.k.data(), ref.b.data());
    BOOST_TEST(differ(px, ref.dx, name + " pair dX") == 0, name + ": pair dX");
    BOOST_TEST(differ(pk, ref.dk, name + " pair dK") == 0, name + ": pair dK");
    std::vector<float> px1(XS::count, 1.0f), pk1(KS::count, 1.0f);
    op::template vjp_pair<ctgrad::kernels::mode::accumulate, ctgrad::kernels::mode::accumulate, YS,
                          XS, KS, BS>(px1.data(), pk1.data(), ref.dy.data(), out.data(),
                                      ref.x.data(), ref.k.data(), ref.b.data());
    BOOST_TEST(differ(px1, want_x, name + " pair dX +=") == 0, name + ": pair dX accumulate");
    BOOST_TEST(differ(pk1, want_k, name + " pair dK +=") == 0, name + ": pair dK accumulate");
}

}  // namespace conv_reference
