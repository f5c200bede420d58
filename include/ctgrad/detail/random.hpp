/// @file
/// The seeded random numbers of nn/ (parameter initialization, batch order, augmentation)
/// without <random>: std::mt19937_64 (its algorithm is fixed by the standard, so this engine
/// gives the same numbers) and libstdc++'s uniform and normal distributions of double (the
/// same numbers as std::uniform_real_distribution<double> and
/// std::normal_distribution<double> of libstdc++, now with every standard library). <random>
/// costs ~1 s of parse alone (0.9 s g++ 12, 1.1 s clang++ 14, AMD EPYC), most of what a user
/// of ctgrad.hpp paid for the nn/ headers; test/nn/random_test.cpp checks all three against
/// <random>.
#pragma once

#include <cmath>    // std::sqrt, std::log
#include <cstddef>  // std::size_t
#include <cstdint>  // std::uint64_t

namespace ctgrad::detail {

/// The 64-bit Mersenne Twister, std::mt19937_64's parameters and seeding: a uniform random bit
/// generator (std::shuffle and the <random> distributions take it too).
class mt19937_64 {
public:
    using result_type = std::uint64_t;
    static constexpr result_type default_seed = 5489u;

    explicit mt19937_64(result_type seed = default_seed) noexcept { this->seed(seed); }

    void seed(result_type s) noexcept {
        x_[0] = s;
        for (std::size_t i = 1; i < n; ++i) {
            x_[i] = 6364136223846793005u * (x_[i - 1] ^ (x_[i - 1] >> 62)) + i;
        }
        p_ = n;
    }

    static constexpr result_type min() noexcept { return 0; }
    static constexpr result_type max() noexcept { return ~result_type{0}; }

    result_type operator()() noexcept {
        if (p_ >= n) twist();
        result_type z = x_[p_++];
        z ^= (z >> 29) & 0x5555555555555555u;
        z ^= (z << 17) & 0x71d67fffeda60000u;
        z ^= (z << 37) & 0xfff7eee000000000u;
        z ^= z >> 43;
        return z;
    }

    void discard(unsigned long long z) noexcept {
        for (; z != 0; --z) (*this)();
    }

private:
    static constexpr std::size_t n = 312, m = 156;
    static constexpr result_type upper = ~result_type{0} << 31, lower = ~upper;
    static constexpr result_type a = 0xb5026f5aa96619e9u;

    static result_type mix(result_type hi, result_type lo, result_type far) noexcept {
        const result_type y = (hi & upper) | (lo & lower);
        return far ^ (y >> 1) ^ ((y & 1u) != 0 ? a : 0u);
    }

    void twist() noexcept {
        for (std::size_t k = 0; k < n - m; ++k) x_[k] = mix(x_[k], x_[k + 1], x_[k + m]);
        for (std::size_t k = n - m; k < n - 1; ++k) {
            x_[k] = mix(x_[k], x_[k + 1], x_[k + m - n]);
        }
        x_[n - 1] = mix(x_[n - 1], x_[0], x_[m - 1]);
        p_ = 0;
    }

    result_type x_[n];
    std::size_t p_;
};

/// A double in [0, 1) from one 64-bit draw: std::generate_canonical<double, 53> of libstdc++
/// for a 64-bit engine (the draw rounded to double, over 2^64; 1 becomes the largest double
/// below 1).
inline double canonical(mt19937_64& gen) noexcept {
    const double r = static_cast<double>(gen()) / 18446744073709551616.0;
    return r >= 1.0 ? 0x1.fffffffffffffp-1 : r;
}

/// U(a, b): std::uniform_real_distribution<double>(a, b) of libstdc++.
struct uniform_real {
    double a, b;
    double operator()(mt19937_64& gen) const noexcept { return (canonical(gen) * (b - a)) + a; }
};

/// N(mean, stddev²): std::normal_distribution<double> of libstdc++ (Marsaglia's polar method,
/// the second number of each pair kept for the next call).
class normal {
public:
    normal(double mean, double stddev) noexcept : mean_(mean), stddev_(stddev) {}

    double operator()(mt19937_64& gen) noexcept {
        double ret;
        if (saved_available_) {
            saved_available_ = false;
            ret = saved_;
        } else {
            double x, y, r2;
            do {
                x = 2.0 * canonical(gen) - 1.0;
                y = 2.0 * canonical(gen) - 1.0;
                r2 = x * x + y * y;
            } while (r2 > 1.0 || r2 == 0.0);
            const double mult = std::sqrt(-2 * std::log(r2) / r2);
            saved_ = x * mult;
            saved_available_ = true;
            ret = y * mult;
        }
        return ret * stddev_ + mean_;
    }

private:
    double mean_, stddev_, saved_ = 0.0;
    bool saved_available_ = false;
};

}  // namespace ctgrad::detail
