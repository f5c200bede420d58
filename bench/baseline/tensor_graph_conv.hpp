/// @file Convolution and max-pooling nodes for the tensor-graph baseline (tensor_graph.hpp),
/// written as that file's matmul: the baseline's shapes are run-time values, ctgrad's kernels
/// have compile-time sizes, so a program registers each convolution and pooling geometry it
/// uses once, and the nodes run ctgrad's kernels through the registered function pointers:
///
///     tg::register_conv2d<float, 64, 1, 28, 28, 6, 5, 1, 2>();  // N, C, H, W, O, K, S, P
///     tg::register_max_pool2d<float, 64, 6, 28, 28, 2>();        // N, C, H, W, Window
///
/// Images are the baseline's rank-2 tensors [N, C·H·W] (row-major, so [N, C, H, W] as ctgrad and
/// PyTorch lay them out; flattening is then no op at all, as a view in PyTorch), a kernel is
/// [O, C·K·K], a bias [O]. A convolution node computes, per image, col = im2col(x_n) and
/// y_n = K·col + b with ctgrad's patch and GEMM kernels (the same calls as
/// ctgrad::ops::conv2d_op); its closure computes dK += dY_n·colᵀ (colᵀ built as rows) and
/// dX_n += col2im(Kᵀ·dY_n), db += row sums; a stride-1 convolution with a kernel at most 8 wide
/// runs ctgrad's direct kernels instead (tensor/conv_kernels.hpp), the ones ctgrad's op runs
/// for its shape (∂X channels-last where geometry::dx_channels_last, ∂K on flat or shifted
/// copies of the image where dk_flat / dk_shifted, or channels-last), each only for inputs that
/// require a gradient. The col scratch lives in the registry entry
/// (allocated once at registration). A max-pooling node keeps its argmax positions in
/// node::saved (as ctgrad does in its workspace) and its closure scatters. An unregistered
/// geometry throws std::invalid_argument naming it.
#pragma once

#include <cstddef>    // std::size_t
#include <cstdint>    // std::uintptr_t
#include <deque>      // std::deque
#include <stdexcept>  // std::invalid_argument
#include <string>     // std::string
#include <vector>     // std::vector

#include <ctgrad/tensor/conv.hpp>
#include <ctgrad/tensor/conv_kernels.hpp>
#include <ctgrad/tensor/matmul.hpp>

#include "tensor_graph.hpp"

namespace ctgrad_baseline::tg {

/// The sizes of one registered convolution.
struct conv_geometry {
    std::size_t n, c, h, w, o, k, s, p;
    friend bool operator==(const conv_geometry&, const conv_geometry&) = default;
};

template <class T>
struct conv_kernels {
    conv_geometry g;
    std::size_t out_cols;  ///< O·OH·OW
    void (*forward)(const T* x, const T* k, const T* b, T* y, T* col);
    void (*grad_x)(const T* dy, const T* k, T* dx, T* col);  ///< dX += col2im(Kᵀ·dY)
    void (*grad_k)(const T* x, const T* dy, T* dk, T* col);  ///< dK += Σ_n dY_n·col_nᵀ
    std::vector<T> scratch;                                  ///< one image's col
};

/// The sizes of one registered max pooling (window = stride).
struct pool_geometry {
    std::size_t n, c, h, w, win;
    friend bool operator==(const pool_geometry&, const pool_geometry&) = default;
};

template <class T>
struct pool_kernels {
    pool_geometry g;
    std::size_t out_cols;                                  ///< C·OH·OW
    void (*forward)(const T* x, T* y, T* where);           ///< where: argmax in each plane
    void (*backward)(const T* dy, const T* where, T* dx);  ///< dX += scatter(dY)
};

namespace detail {
template <class T>
inline std::deque<conv_kernels<T>> conv_registry;
template <class T>
inline std::deque<pool_kernels<T>> pool_registry;
}  // namespace detail

/// Registers ctgrad's kernels for conv2d<S, P> of images [N, C, H, W] with kernels [O, C, K, K]
/// and a bias [O].
template <class T, std::size_t N, std::size_t C, std::size_t H, std::size_t W, std::size_t O,
          std::size_t K, std::size_t S, std::size_t P>
void register_conv2d() {
    constexpr conv_geometry g{N, C, H, W, O, K, S, P};
    for (const auto& e : detail::conv_registry<T>) {
        if (e.g == g) return;
    }
    using op = ctgrad::ops::conv2d_op<S, P>;
    using d = typename op::template dims<ctgrad::shape<N, C, H, W>, ctgrad::shape<O, C, K, K>>;
    constexpr std::size_t R = d::R, Q = d::Q, img = C * H * W;
    namespace kn = ctgrad::kernels;
    namespace cd = ctgrad::conv_detail;
    using L = typename op::template layout<ctgrad::shape<N, C, H, W>, ctgrad::shape<O, C, K, K>>;
    if constexpr (L::direct) {
        // stride 1 and a narrow kernel: ctgrad's direct kernels, as ctgrad's op runs them
        // (tensor/conv_kernels.hpp), with the same padded layouts; the scratch holds one
        // image's y or padded ∂Y, one padded image and the partial sums of ∂K
        using geo = typename L::geo;
        namespace ck = ctgrad::conv_kernels;
        detail::conv_registry<T>.push_back(conv_kernels<T>{
            g, O * Q,
            [](const T* x, const T* k, const T* b, T* y, T* scratch) {
                T* yb = scratch;
                T* xp = scratch + L::dy;
                for (std::size_t e = 0; e < geo::xp_size; ++e) xp[e] = T(0);
                for (std::size_t n = 0; n < N; ++n) {
                    op::template pad_direct<d, geo>(x + n * img, xp);
                    ck::forward<geo, T, C, O, K, K>(xp, k, yb);
                    T* yn = y + n * O * Q;
                    for (std::size_t o = 0; o < O; ++o) {
                        for (std::size_t i = 0; i < d::OH; ++i) {
                            for (std::size_t j = 0; j < d::OW; ++j) {
                                yn[(o * d::OH + i) * d::OW + j] =
                                    yb[(o * d::OH + i) * geo::OWs + j] + b[o];
                            }
                        }
                    }
                }
            },
            [](const T* dy, const T* k, T* dx, T* scratch) {
                if constexpr (L::dx_cl) {
                    // channels-last (geometry::dx_channels_last: conv2 of LeNet), as ctgrad's op:
                    // the kernel as [C, KH, KW, Os], ∂Y of each image in the padded
                    // channels-last layout (its padding and lanes O .. Os stay 0)
                    using gc = ck::padded_dyc<geo>;
                    T* kc = scratch + L::dy + geo::xp_size;
                    T* dyc = kc + geo::dkc_size;
                    dyc += (64 - reinterpret_cast<std::uintptr_t>(dyc) % 64) % 64 / sizeof(T);
                    for (std::size_t e = 0; e < geo::dkc_size; ++e) kc[e] = T(0);
                    for (std::size_t e = 0; e < geo::dycp_size; ++e) dyc[e] = T(0);
                    for (std::size_t o = 0; o < O; ++o) {
                        for (std::size_t r = 0; r < R; ++r) kc[r * geo::Os + o] = k[o * R + r];
                    }
                    for (std::size_t n = 0; n < N; ++n) {
                        op::template unfold<d, T, gc, true>(dy + n * O * Q, nullptr, nullptr, dyc);
                        ck::grad_image_cl<geo, T, true, C, H, W, K, K, P>(dyc, kc, dx + n * img);
                    }
                } else {
                    T* dyp = scratch;
                    for (std::size_t e = 0; e < geo::dyp_size; ++e) dyp[e] = T(0);
                    for (std::size_t n = 0; n < N; ++n) {
                        op::template unfold<d, T, geo>(dy + n * O * Q, nullptr, nullptr, dyp);
                        ck::grad_image<geo, T, true, C, H, W, O, K, K, P>(dyp, k, dx + n * img);
                    }
                }
            },
            [](const T* x, const T* dy, T* dk, T* scratch) {
                T* dyp = scratch;
                T* xp = scratch + L::dy;
                T* acc = xp + geo::xp_size;
                if constexpr (!geo::dk_channels_last && (geo::dk_flat || geo::dk_shifted)) {
                    // the flat copies or the shifted ones (conv1 of LeNet), as ctgrad's op
                    // chooses them (geometry::dk_flat, dk_shifted, flat_dk_active)
                    bool flat = false;
                    if constexpr (geo::dk_flat) {
                        flat = !geo::dk_flat_or_shifted || ck::flat_dk_active<T>();
                    }
                    constexpr std::size_t sums = ck::partial_sums<O * R>;
                    T* xf = acc + sums;  // (xf or xs: on a 64-byte boundary)
                    xf += (64 - reinterpret_cast<std::uintptr_t>(xf) % 64) % 64 / sizeof(T);
                    for (std::size_t e = 0; e < L::kacc; ++e) acc[e] = T(0);
                    if (flat) {
                        if constexpr (geo::dk_flat) {
                            // ∂Y flat ([O, Qs]; what lies between its rows stays 0 from here)
                            for (std::size_t e = 0; e < geo::dyf_size; ++e) dyp[e] = T(0);
                            for (std::size_t n = 0; n < N; ++n) {
                                op::template unfold<d, T, ck::flat_dy<geo>>(dy + n * O * Q, nullptr,
                                                                            nullptr, dyp);
                                ck::grad_kernel_flat<geo, T, C, H, W, O, K, K, P>(x + n * img, dyp,
                                                                                  xf, acc);
                            }
                        }
                    } else if constexpr (geo::dk_shifted || geo::dk_flat_or_shifted) {
                        // ∂Y dense ([O, OH, OWs]; its zero columns stay 0 from here)
                        using gd = ck::dense_dy<geo>;
                        for (std::size_t e = 0; e < geo::dyp_size; ++e) dyp[e] = T(0);
                        for (std::size_t n = 0; n < N; ++n) {
                            op::template unfold<d, T, gd>(dy + n * O * Q, nullptr, nullptr, dyp);
                            ck::grad_kernel_shifted<gd, T, C, H, W, O, K, K, P>(x + n * img, dyp,
                                                                                xf, acc);
                        }
                    }
                    for (std::size_t e = 0; e < O * R; ++e) {
                        T sum = T(0);
                        for (std::size_t l = 0; l < ck::lanes; ++l) sum += acc[e * ck::lanes + l];
                        dk[e] += sum;
                    }
                    return;
                }
                for (std::size_t e = 0; e < geo::dyp_size; ++e) dyp[e] = T(0);
                for (std::size_t e = 0; e < geo::xp_size; ++e) xp[e] = T(0);
                for (std::size_t e = 0; e < L::kacc; ++e) acc[e] = T(0);
                for (std::size_t n = 0; n < N; ++n) {
                    op::template pad_direct<d, geo>(x + n * img, xp);
                    if constexpr (geo::dk_channels_last) {  // dK [C, KH, KW, Os], dY [OH, OW, Os]
                        T* dyc = acc + geo::dkc_size;
                        op::template unfold<d, T, geo, true>(dy + n * O * Q, nullptr, nullptr, dyc);
                        ck::grad_kernel_cl<geo, T, C, O, K, K>(xp, dyc, acc);
                    } else {
                        op::template unfold<d, T, geo>(dy + n * O * Q, nullptr, nullptr, dyp);
                        ck::grad_kernel<geo, T, C, O, K, K>(xp, dyp, acc);
                    }
                }
                if constexpr (geo::dk_channels_last) {
                    for (std::size_t o = 0; o < O; ++o) {
                        for (std::size_t r = 0; r < R; ++r) dk[o * R + r] += acc[r * geo::Os + o];
                    }
                } else {
                    constexpr std::size_t lanes = ck::lanes;
                    for (std::size_t e = 0; e < O * R; ++e) {
                        T s = T(0);
                        for (std::size_t l = 0; l < lanes; ++l) s += acc[e * lanes + l];
                        dk[e] += s;
                    }
                }
            },
            std::vector<T>(L::dy + geo::xp_size + L::kacc)});
        return;
    }
    // the scratch: one image's col, then (with padding) one padded image, as ctgrad's `saved`
    detail::conv_registry<T>.push_back(conv_kernels<T>{
        g, O * Q,
        [](const T* x, const T* k, const T* b, T* y, T* col) {
            T* xp = col + R * Q;
            op::template clear_padded<d>(xp);
            for (std::size_t n = 0; n < N; ++n) {
                op::template patches<d, false>(x, n, col, xp);
                T* yn = y + n * O * Q;
                for (std::size_t o = 0; o < O; ++o) {
                    for (std::size_t q = 0; q < Q; ++q) yn[o * Q + q] = b[o];
                }
                kn::matmul<O, R, Q, kn::mode::accumulate>(k, col, yn);
            }
        },
        [](const T* dy, const T* k, T* dx, T* col) {
            for (std::size_t n = 0; n < N; ++n) {
                kn::matmul_tn<R, O, Q>(k, dy + n * O * Q, col);
                cd::col2im_add<C, H, W, K, K, S, P, d::OH, d::OW>(col, dx + n * img);
            }
        },
        [](const T* x, const T* dy, T* dk, T* col) {
            T* xp = col + R * Q;
            op::template clear_padded<d>(xp);
            for (std::size_t n = 0; n < N; ++n) {
                op::template patches<d, true>(x, n, col, xp);
                kn::matmul<O, Q, R, kn::mode::accumulate>(dy + n * O * Q, col, dk);
            }
        },
        std::vector<T>(R * Q + d::padded)});
}

/// Registers ctgrad's max-pooling kernels for windows Win × Win (stride Win) on [N, C, H, W].
template <class T, std::size_t N, std::size_t C, std::size_t H, std::size_t W, std::size_t Win>
void register_max_pool2d() {
    constexpr pool_geometry g{N, C, H, W, Win};
    for (const auto& e : detail::pool_registry<T>) {
        if (e.g == g) return;
    }
    using X = ctgrad::shape<N, C, H, W>;
    using Y = typename ctgrad::ops::max_pool2d_op<Win, Win>::template result<X>;
    detail::pool_registry<T>.push_back(pool_kernels<T>{
        g, Y::count / N,
        [](const T* x, T* y, T* where) {
            // ctgrad's loop (ops::max_pool2d_op::pool), with the positions written to
            // node::saved rather than after the values
            constexpr std::size_t OH = H / Win, OW = W / Win;
            for (std::size_t pl = 0; pl < N * C; ++pl) {
                const T* xp = x + pl * H * W;
                for (std::size_t i = 0; i < OH; ++i) {
                    for (std::size_t j = 0; j < OW; ++j) {
                        T m = xp[(Win * i) * W + Win * j];
                        T at = T(0);
                        for (std::size_t u = 0; u < Win; ++u) {
                            for (std::size_t v = 0; v < Win; ++v) {
                                const T e = xp[(Win * i + u) * W + Win * j + v];
                                at = e > m ? static_cast<T>(u * Win + v) : at;
                                m = e > m ? e : m;
                            }
                        }
                        y[(pl * OH + i) * OW + j] = m;
                        where[(pl * OH + i) * OW + j] = at;
                    }
                }
            }
        },
        [](const T* dy, const T* where, T* dx) {
            // accumulates (the baseline's gradients are sums), so a scatter after the zeroing
            // backward() does
            constexpr std::size_t OH = H / Win, OW = W / Win;
            for (std::size_t pl = 0; pl < N * C; ++pl) {
                T* dp = dx + pl * H * W;
                for (std::size_t q = 0; q < OH * OW; ++q) {
                    const auto k = static_cast<std::size_t>(where[pl * OH * OW + q]);
                    const std::size_t i = q / OW, j = q % OW;
                    dp[(Win * i + k / Win) * W + Win * j + k % Win] += dy[pl * OH * OW + q];
                }
            }
        }});
}

namespace detail {
template <class T>
conv_kernels<T>& find_conv(const conv_geometry& g) {
    for (auto& e : conv_registry<T>) {
        if (e.g == g) return e;
    }
    throw std::invalid_argument(
        "tg::conv2d: geometry N=" + std::to_string(g.n) + " C=" + std::to_string(g.c) +
        " H=" + std::to_string(g.h) + " W=" + std::to_string(g.w) + " O=" + std::to_string(g.o) +
        " K=" + std::to_string(g.k) + " is not registered (tg::register_conv2d)");
}
template <class T>
pool_kernels<T>& find_pool(const pool_geometry& g) {
    for (auto& e : pool_registry<T>) {
        if (e.g == g) return e;
    }
    throw std::invalid_argument(
        "tg::max_pool2d: geometry not registered (tg::register_max_pool2d)");
}

}  // namespace detail

/// conv2d<S, P>(x [N, C·H·W], k [O, C·K·K]) + b [O] per output channel: [N, O·OH·OW]. The
/// geometry names the image and kernel sizes (the baseline's rank-2 shapes do not carry them).
///
/// The node's three inputs are x, k and b (the bias added in the same pass as the product, as
/// ctgrad does).
template <class T>
tensor<T> conv2d(const tensor<T>& x, const tensor<T>& k, const tensor<T>& b,
                 const conv_geometry& g) {
    conv_kernels<T>& e = detail::find_conv<T>(g);
    if (x.rows() != g.n || x.cols() != g.c * g.h * g.w || k.rows() != g.o ||
        k.cols() != g.c * g.k * g.k || b.size() != g.o) {
        throw std::invalid_argument("tg::conv2d: shapes " + to_string(x.dims()) + ", " +
                                    to_string(k.dims()) + ", " + to_string(b.dims()) +
                                    " do not match the geometry");
    }
    std::vector<T> out(g.n * e.out_cols);
    e.forward(x.values().data(), k.values().data(), b.values().data(), out.data(),
              e.scratch.data());
    auto n = std::make_shared<node<T>>(shape{2, g.n, e.out_cols}, std::move(out));
    if (x.requires_grad() || k.requires_grad() || b.requires_grad()) {
        n->inputs[0] = x.node_ptr();
        n->inputs[1] = k.node_ptr();
        n->inputs[2] = b.node_ptr();
        n->arity = 3;
        n->requires_grad = true;
        // &e is stable: a deque never moves its entries
        n->backward = [c = &e](node<T>& self) {
            node<T>& xn = *self.inputs[0];
            node<T>& kn = *self.inputs[1];
            node<T>& bn = *self.inputs[2];
            const conv_geometry& geo = c->g;
            const T* dy = self.grad.data();
            if (kn.requires_grad) c->grad_k(xn.value.data(), dy, kn.grad.data(), c->scratch.data());
            if (xn.requires_grad) c->grad_x(dy, kn.value.data(), xn.grad.data(), c->scratch.data());
            if (bn.requires_grad) {
                const std::size_t q = c->out_cols / geo.o;
                T* db = bn.grad.data();
                for (std::size_t i = 0; i < geo.n; ++i) {
                    for (std::size_t o = 0; o < geo.o; ++o) {
                        const T* r = dy + (i * geo.o + o) * q;
                        T s = T(0);
                        for (std::size_t j = 0; j < q; ++j) s += r[j];
                        db[o] += s;
                    }
                }
            }
        };
    }
    return tensor<T>(std::move(n));
}

/// Max pooling (window = stride) of x [N, C·H·W] seen as [N, C, H, W]: [N, C·OH·OW].
template <class T>
tensor<T> max_pool2d(const tensor<T>& x, const pool_geometry& g) {
    pool_kernels<T>& e = detail::find_pool<T>(g);
    if (x.rows() != g.n || x.cols() != g.c * g.h * g.w) {
        throw std::invalid_argument("tg::max_pool2d: shape " + to_string(x.dims()) +
                                    " does not match the geometry");
    }
    std::vector<T> out(g.n * e.out_cols);
    std::vector<T> where(g.n * e.out_cols);
    e.forward(x.values().data(), out.data(), where.data());
    auto n = std::make_shared<node<T>>(shape{2, g.n, e.out_cols}, std::move(out));
    if (x.requires_grad()) {
        n->saved = std::move(where);
        n->inputs[0] = x.node_ptr();
        n->arity = 1;
        n->requires_grad = true;
        n->backward = [k = &e](node<T>& self) {
            k->backward(self.grad.data(), self.saved.data(), detail::in0(self).grad.data());
        };
    }
    return tensor<T>(std::move(n));
}

}  // namespace ctgrad_baseline::tg
