/// @file
/// What the weight-interchange readers and writers share (ctgrad/io/safetensors.hpp,
/// ctgrad/io/numpy.hpp): the error type, the name maps between a pack's parameter names and the
/// names in a file (ctgrad's own, PyTorch's), the policy for tensors a file holds that the packs
/// do not, and the matching of a file's tensors to a pack's, which checks everything (names,
/// element types, shapes) before a single element is written.
///
/// A *pack* is anything with `for_each(f)` calling `f(variable, tensor&)` per tensor
/// (nn::parameters, nn::state, optimizer state); several packs are passed together as a tuple of
/// references: `io::load_safetensors("m.safetensors", std::tie(params, state), io::pytorch_names)`.
///
/// Name maps. A name map turns a ctgrad parameter name and its tensor's rank into the name the
/// file uses and whether the file stores that tensor transposed (a matrix whose two axes are
/// swapped; rank 2 only): `mapped_name operator()(std::string_view name, std::size_t rank)`.
/// It may also say which file tensors are known to have no ctgrad counterpart (skipped even when
/// unused tensors are rejected): `bool ignores(std::string_view file_name)`.
///
///  - io::ctgrad_names: the identity ("fc1.W" is "fc1.W", same shape).
///  - io::pytorch_names: PyTorch's state_dict names. `X.W` of rank 2 (nn::dense, [in, out]) is
///    `X.weight` of nn.Linear, stored [out, in]: transposed. `X.W` of any other rank
///    (convolution kernels [O, C, KH, KW]) is `X.weight`, unchanged. `X.b` is `X.bias`;
///    batch normalisation's `X.gamma` / `X.beta` are `X.weight` / `X.bias`, its running
///    estimates keep their names. `*.num_batches_tracked` (BatchNorm's step counter, which
///    ctgrad's momentum form does not use) is ignored. Batch norm's scale and shift are known by
///    their role (the layers list them tagged, io::parameter_role), not by their names: a
///    parameter of yours named "ls.gamma" (timm's LayerScale) stays "ls.gamma".
///  - any callable with the signature above, or with a third argument `io::parameter_role` (then
///    it is told which tensors are batch norm's scale and shift), e.g. a lambda mapping "fc1" to
///    nn.Sequential's "0": `[](std::string_view n, std::size_t r, io::parameter_role k) { auto m
///    = io::pytorch_names(n, r, k); ...; return m; }`.
///
/// Element types. Saving writes each tensor in its own type (float: F32 / '<f4', double: F64 /
/// '<f8'). Loading converts exactly or refuses: a float parameter takes F16, BF16 or F32 data,
/// a double parameter takes any of F16, BF16, F32, F64; F64 data for a float parameter (it would
/// round) and integer or complex data are errors.
#pragma once

#include <algorithm>     // std::sort
#include <bit>           // std::bit_cast, std::endian
#include <cstddef>       // std::size_t
#include <cstdint>       // std::uint16_t, std::uint32_t, std::uint64_t
#include <cstring>       // std::memcpy
#include <filesystem>    // std::filesystem::path
#include <fstream>       // std::ofstream
#include <limits>        // std::numeric_limits
#include <map>           // std::map
#include <stdexcept>     // std::runtime_error
#include <string>        // std::string
#include <string_view>   // std::string_view
#include <system_error>  // std::error_code
#include <tuple>         // std::tuple, std::apply
#include <type_traits>   // std::remove_cvref_t, std::is_same_v
#include <utility>       // std::move
#include <vector>        // std::vector

#include <ctgrad/io/checkpoint.hpp>  // detail::tensor_pack, read_file, replace_atomically, get_le

namespace ctgrad::io {

/// The error of a failed weight load or save. The message names the function, the file, the
/// tensor (when one is concerned) and the problem: "ctgrad::io::load_safetensors: m.safetensors:
/// tensor "fc1.weight" (parameter fc1.W): shape [10, 784] in the file, expected [32, 784]".
class weights_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A parameter's name in a file and whether the file stores it transposed (rank 2 only: the
/// file's [a, b] is the parameter's [b, a]).
struct mapped_name {
    std::string name;
    bool transposed = false;
};

/// The identity name map: files use ctgrad's parameter names and shapes.
struct ctgrad_names_t {
    mapped_name operator()(std::string_view name, std::size_t /*rank*/) const {
        return {std::string(name), false};
    }
};
inline constexpr ctgrad_names_t ctgrad_names{};

/// What a pack's tensor is, beyond its name, for a name map that takes it as a third argument:
/// batch normalisation's scale (`X.gamma` of nn::batch_norm / nn::batch_norm2d) or shift
/// (`X.beta`), or anything else. Known from the variable's role tag in the layer's lists.
enum class parameter_role { other, batch_norm_scale, batch_norm_shift };

/// PyTorch's state_dict names (see the file comment): `fc1.W` [in, out] is `fc1.weight`
/// [out, in]; `fc1.b` is `fc1.bias`; kernels of rank ≠ 2 keep their layout; batch norm's
/// gamma/beta are weight/bias (by their role); `*.num_batches_tracked` is ignored.
struct pytorch_names_t {
    mapped_name operator()(std::string_view name, std::size_t rank, parameter_role role) const {
        const auto swap_suffix = [&](std::string_view from, std::string_view to) {
            return std::string(name.substr(0, name.size() - from.size())) + std::string(to);
        };
        if (role == parameter_role::batch_norm_scale && name.ends_with(".gamma")) {
            return {swap_suffix(".gamma", ".weight"), false};
        }
        if (role == parameter_role::batch_norm_shift && name.ends_with(".beta")) {
            return {swap_suffix(".beta", ".bias"), false};
        }
        if (name.ends_with(".W")) return {swap_suffix(".W", ".weight"), rank == 2};
        if (name.ends_with(".b")) return {swap_suffix(".b", ".bias"), false};
        return {std::string(name), false};
    }
    /// Without the role (a name map of yours that calls this form): `.gamma` / `.beta` are taken
    /// to be batch norm's, as before parameter_role existed. Prefer the three-argument form.
    mapped_name operator()(std::string_view name, std::size_t rank) const {
        const parameter_role role = name.ends_with(".gamma")  ? parameter_role::batch_norm_scale
                                    : name.ends_with(".beta") ? parameter_role::batch_norm_shift
                                                              : parameter_role::other;
        return (*this)(name, rank, role);
    }
    bool ignores(std::string_view file_name) const {
        return file_name.ends_with(".num_batches_tracked");
    }
};
inline constexpr pytorch_names_t pytorch_names{};

/// A name map: `m(name, rank)` or `m(name, rank, role)` gives the file's name (see the file
/// comment).
template <class M>
concept name_map = requires(const M& m, std::string_view n, std::size_t r) {
    { m(n, r) } -> std::convertible_to<mapped_name>;
}
|| requires(const M& m, std::string_view n, std::size_t r, parameter_role k) {
    { m(n, r, k) } -> std::convertible_to<mapped_name>;
};

/// What a load does with tensors in the file that no parameter maps to (and the name map does
/// not ignore): reject the file (the default, as PyTorch's load_state_dict(strict=True)), or
/// ignore them.
enum class unused_tensors { reject, ignore };

namespace detail {

/// One pack tensor, as a load or save sees it.
struct weight_slot {
    std::string name;                      ///< ctgrad's name, "fc1.W"
    mapped_name file;                      ///< the file's name and layout
    std::vector<std::uint64_t> dims;       ///< the tensor's shape
    std::vector<std::uint64_t> file_dims;  ///< its shape in the file (dims, or reversed)
    bool is_double = false;
    void* data = nullptr;  ///< null for a save
    const void* cdata = nullptr;
    std::size_t count = 0;
};

template <class T>
struct is_pack_tuple : std::false_type {};
template <class... P>
struct is_pack_tuple<std::tuple<P&...>>
    : std::bool_constant<(tensor_pack<std::remove_const_t<P>> && ...)> {};

/// One pack, or a tuple of references to packs (std::tie(params, state)).
template <class P>
concept packs = tensor_pack<std::remove_cvref_t<P>> || is_pack_tuple<std::remove_cvref_t<P>>::value;

template <class P, class F>
void for_each_tensor(P&& p, F&& f) {
    if constexpr (is_pack_tuple<std::remove_cvref_t<P>>::value) {
        std::apply([&](auto&... each) { (each.for_each(f), ...); }, p);
    } else {
        p.for_each(f);
    }
}

/// The role of a pack's variable V (from its role tag).
template <class V>
constexpr parameter_role role_of() {
    if constexpr (ctgrad::detail::has_tag_v<V, nn::detail::batch_norm_scale_tag>) {
        return parameter_role::batch_norm_scale;
    } else if constexpr (ctgrad::detail::has_tag_v<V, nn::detail::batch_norm_shift_tag>) {
        return parameter_role::batch_norm_shift;
    } else {
        return parameter_role::other;
    }
}

/// names(name, rank, role) when the map takes the role, else names(name, rank).
template <class M>
mapped_name map_name(const M& names, std::string_view name, std::size_t rank, parameter_role role) {
    if constexpr (requires { names(name, rank, role); }) {
        return names(name, rank, role);
    } else {
        return names(name, rank);
    }
}

/// The slots of the packs' tensors, in order, with their file names; throws when two parameters
/// map to one file name or a map transposes a tensor that is not a matrix.
template <class P, class M>
std::vector<weight_slot> slots_of(std::string_view fn, const std::filesystem::path& file, P&& p,
                                  const M& names) {
    std::vector<weight_slot> slots;
    for_each_tensor(p, [&](auto v, auto& t) {
        using Tn = std::remove_cvref_t<decltype(t)>;
        using T = typename Tn::value_type;
        static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                      "ctgrad::io: weight files hold float and double tensors only");
        weight_slot s;
        s.name = std::string(decltype(v)::name.view());
        s.file = map_name(names, std::string_view(s.name), Tn::rank, role_of<decltype(v)>());
        s.dims.assign(Tn::shape.begin(), Tn::shape.end());
        s.file_dims = s.dims;
        if (s.file.transposed) {
            if (Tn::rank != 2) {
                throw weights_error("ctgrad::io::" + std::string(fn) + ": " + file.string() +
                                    ": the name map transposes parameter " + s.name +
                                    ", which is not a matrix");
            }
            std::swap(s.file_dims[0], s.file_dims[1]);
        }
        s.is_double = std::is_same_v<T, double>;
        if constexpr (!std::is_const_v<std::remove_reference_t<decltype(t)>>) s.data = t.data();
        s.cdata = t.data();
        s.count = t.size();
        slots.push_back(std::move(s));
    });
    std::map<std::string_view, std::string_view> seen;
    for (const auto& s : slots) {
        const auto [it, fresh] = seen.emplace(s.file.name, s.name);
        if (!fresh) {
            throw weights_error("ctgrad::io::" + std::string(fn) + ": " + file.string() +
                                ": parameters " + std::string(it->second) + " and " + s.name +
                                " both map to the file name \"" + s.file.name + "\"");
        }
    }
    return slots;
}

/// Element types a file may hold.
enum class elem { f16, bf16, f32, f64, other };

inline std::size_t elem_bytes(elem e) {
    switch (e) {
    case elem::f16:
    case elem::bf16:
        return 2;
    case elem::f32:
        return 4;
    case elem::f64:
        return 8;
    default:
        return 0;
    }
}

/// A tensor as a file holds it, after the file's structure is validated: `data` points at
/// exactly product(dims) elements of `type` (bytes in the given order; `fortran`: column-major).
struct file_tensor {
    std::string name;
    std::string dtype;  ///< as the file spells it ("F32", "<f4"), for messages
    elem type = elem::other;
    bool big_endian = false;
    bool fortran = false;
    std::vector<std::uint64_t> dims;
    const unsigned char* data = nullptr;
};

inline std::string shape_string(const std::vector<std::uint64_t>& d) {
    return dims_string(d.data(), d.size());
}

/// float from IEEE binary16 bits (exact).
inline float half_to_float(std::uint16_t h) {
    const std::uint32_t sign = static_cast<std::uint32_t>(h >> 15) << 31;
    const std::uint32_t exp = (h >> 10) & 0x1f;
    const std::uint32_t mant = h & 0x3ff;
    if (exp == 0) {
        const float m = static_cast<float>(mant) * 0x1p-24f;  // subnormal or zero: exact
        return sign != 0 ? -m : m;
    }
    if (exp == 31) return std::bit_cast<float>(sign | 0x7f800000u | (mant << 13));  // inf, NaN
    return std::bit_cast<float>(sign | ((exp - 15 + 127) << 23) | (mant << 13));
}

/// Reads element i of a validated file tensor as T.
template <class T>
T read_elem(const file_tensor& f, std::size_t i) {
    const std::size_t n = elem_bytes(f.type);
    const unsigned char* p = f.data + i * n;
    std::uint64_t bits = 0;
    for (std::size_t k = 0; k < n; ++k) {
        const std::size_t at = f.big_endian ? k : n - 1 - k;
        bits = (bits << 8) | p[at];
    }
    switch (f.type) {
    case elem::f16:
        return static_cast<T>(half_to_float(static_cast<std::uint16_t>(bits)));
    case elem::bf16:
        return static_cast<T>(std::bit_cast<float>(static_cast<std::uint32_t>(bits << 16)));
    case elem::f32:
        return static_cast<T>(std::bit_cast<float>(static_cast<std::uint32_t>(bits)));
    default:
        return static_cast<T>(std::bit_cast<double>(bits));
    }
}

/// Writes the slot's tensor from the file tensor (validated: same count, convertible type),
/// undoing the file's transposition and column-major order.
template <class T>
void decode_slot(const file_tensor& f, const weight_slot& s) {
    T* out = static_cast<T*>(s.data);
    const std::size_t rank = s.dims.size();
    if (!s.file.transposed && (!f.fortran || rank < 2)) {
        constexpr elem same = sizeof(T) == 4 ? elem::f32 : elem::f64;
        if (f.type == same && !f.big_endian && std::endian::native == std::endian::little) {
            if (s.count != 0) std::memcpy(out, f.data, s.count * sizeof(T));  // the common case
        } else {
            for (std::size_t i = 0; i < s.count; ++i) out[i] = read_elem<T>(f, i);
        }
        return;
    }
    // strides of the file's axes (in elements), then per axis of the parameter
    std::vector<std::uint64_t> fstride(rank, 1);
    if (f.fortran) {
        for (std::size_t k = 1; k < rank; ++k) fstride[k] = fstride[k - 1] * f.dims[k - 1];
    } else {
        for (std::size_t k = rank - 1; k-- > 0;) fstride[k] = fstride[k + 1] * f.dims[k + 1];
    }
    std::vector<std::uint64_t> stride(rank);
    for (std::size_t k = 0; k < rank; ++k) {
        stride[k] = fstride[s.file.transposed ? rank - 1 - k : k];
    }
    std::vector<std::uint64_t> idx(rank, 0);
    std::uint64_t src = 0;
    for (std::size_t i = 0; i < s.count; ++i) {
        out[i] = read_elem<T>(f, static_cast<std::size_t>(src));
        for (std::size_t k = rank; k-- > 0;) {  // odometer over the parameter's indices
            src += stride[k];
            if (++idx[k] < s.dims[k]) break;
            src -= stride[k] * idx[k];
            idx[k] = 0;
        }
    }
}

/// Checks that the file's tensor f can be decoded into the slot s: a loadable element type, no
/// narrowing (f64 into float), the file's shape; otherwise calls `fail` (which throws) with
/// `lead` (who, followed by ": ", or empty), the problem, and `receiver` ("the parameter", "the
/// tensor") or `expected` ("expected", "the tensor is") naming the receiving side.
template <class Fail>
void check_slot(const Fail& fail, const std::string& lead, std::string_view receiver,
                std::string_view expected, const file_tensor& f, const weight_slot& s) {
    if (f.type == elem::other) {
        fail(lead + "element type " + f.dtype + " cannot be loaded (F16, BF16, F32, F64 can)");
    }
    if (f.type == elem::f64 && !s.is_double) {
        fail(lead + "element type " + f.dtype + " in the file, " + std::string(receiver) +
             " is float (narrowing refused)");
    }
    if (f.dims != s.file_dims) {
        std::string expect = shape_string(s.file_dims);
        if (s.file.transposed) {
            expect += " (" + s.name + " " + shape_string(s.dims) + ", transposed)";
        }
        fail(lead + "shape " + shape_string(f.dims) + " in the file, " + std::string(expected) +
             " " + expect);
    }
}

/// Decodes the file's tensor f into the slot s (checked by check_slot: cannot fail).
inline void decode_into(const file_tensor& f, const weight_slot& s) {
    if (s.is_double) {
        decode_slot<double>(f, s);
    } else {
        decode_slot<float>(f, s);
    }
}

/// Matches the file's tensors to the slots, checks every name, element type and shape (and the
/// unused tensors), then decodes: a throw leaves every pack as it was.
template <class M>
void match_and_decode(std::string_view fn, const std::filesystem::path& file,
                      const std::vector<weight_slot>& slots,
                      const std::vector<file_tensor>& tensors, const M& names,
                      unused_tensors unused) {
    const auto fail = [&](const std::string& what) {
        throw weights_error("ctgrad::io::" + std::string(fn) + ": " + file.string() + ": " + what);
    };
    std::map<std::string_view, const file_tensor*> by_name;
    for (const auto& t : tensors) by_name.emplace(t.name, &t);  // names are unique (parsers)
    std::vector<const file_tensor*> src;
    std::map<std::string_view, bool> used;
    for (const auto& s : slots) {
        const std::string who = "tensor \"" + s.file.name + "\" (parameter " + s.name + ")";
        const auto it = by_name.find(s.file.name);
        if (it == by_name.end()) fail(who + ": missing from the file");
        const file_tensor& f = *it->second;
        check_slot(fail, who + ": ", "the parameter", "expected", f, s);
        src.push_back(&f);
        used[f.name] = true;
    }
    if (unused == unused_tensors::reject) {
        for (const auto& t : tensors) {
            if (used.count(t.name) != 0) continue;
            if constexpr (requires { names.ignores(std::string_view(t.name)); }) {
                if (names.ignores(std::string_view(t.name))) continue;
            }
            fail("tensor \"" + t.name +
                 "\" is in the file but no parameter maps to it (pass "
                 "io::unused_tensors::ignore to skip such tensors)");
        }
    }
    // Validated: decoding cannot fail from here on.
    for (std::size_t k = 0; k < slots.size(); ++k) decode_into(*src[k], slots[k]);
}

/// The slot's elements in the file's layout (transposed if the map says so), little-endian.
inline void append_slot_le(std::vector<unsigned char>& out, const weight_slot& s) {
    const std::size_t n = s.is_double ? 8 : 4;
    const auto put = [&](std::size_t i) {
        std::uint64_t bits =
            s.is_double ? std::bit_cast<std::uint64_t>(static_cast<const double*>(s.cdata)[i])
                        : std::bit_cast<std::uint32_t>(static_cast<const float*>(s.cdata)[i]);
        for (std::size_t k = 0; k < n; ++k) {
            out.push_back(static_cast<unsigned char>(bits & 0xff));
            bits >>= 8;
        }
    };
    if (!s.file.transposed) {
        for (std::size_t i = 0; i < s.count; ++i) put(i);
    } else {
        const auto rows = static_cast<std::size_t>(s.dims[0]);
        const auto cols = static_cast<std::size_t>(s.dims[1]);
        for (std::size_t c = 0; c < cols; ++c) {
            for (std::size_t r = 0; r < rows; ++r) put(r * cols + c);
        }
    }
}

/// Reads a whole file, or throws weights_error naming the function, the file and the problem.
inline std::vector<unsigned char> read_weights_file(std::string_view fn,
                                                    const std::filesystem::path& file) {
    return read_file(file, [&](const std::string& problem) {
        throw weights_error("ctgrad::io::" + std::string(fn) + ": " + file.string() + ": " +
                            problem);
    });
}

/// Writes `bytes` to `file` atomically (checkpoint.hpp's replace_atomically): the file is either
/// the previous one or the complete new one; failures throw weights_error naming the function.
inline void write_file_atomically(std::string_view fn, const std::filesystem::path& file,
                                  const std::vector<unsigned char>& bytes) {
    const auto fail = [&](const std::string& what) {
        throw weights_error("ctgrad::io::" + std::string(fn) + ": " + file.string() + ": " + what);
    };
    replace_atomically(
        file,
        [&](const std::filesystem::path& tmp) {
            std::ofstream out(tmp, std::ios::binary | std::ios::out | std::ios::trunc);
            if (!out) fail("cannot create the temporary file " + tmp.string());
            out.write(reinterpret_cast<const char*>(bytes.data()),
                      static_cast<std::streamsize>(bytes.size()));
            out.flush();
            if (!out) fail("writing the temporary file failed");
            out.close();
            if (out.fail()) fail("closing the temporary file failed");
        },
        fail);
}

/// product(dims) * elem_size, or false on overflow of 64 bits.
inline bool byte_size(const std::vector<std::uint64_t>& dims, std::uint64_t elem_size,
                      std::uint64_t& out) {
    std::uint64_t n = elem_size;
    for (std::uint64_t d : dims) {
        if (d != 0 && n > std::numeric_limits<std::uint64_t>::max() / d) return false;
        n *= d;
    }
    out = n;
    return true;
}

}  // namespace detail
}  // namespace ctgrad::io
