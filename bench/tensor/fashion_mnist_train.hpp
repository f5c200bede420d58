/// @file The Fashion-MNIST training set in memory, read once per process, shared by the epoch
/// benchmarks (fashion_epoch.hpp: the MLP; fashion_cnn_epoch.hpp: the LeNet-style CNN). Read
/// from $CTGRAD_FASHION_MNIST_DIR if set, else Debian's dataset-fashion-mnist directory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <ctgrad/io/idx.hpp>

namespace fashion_mnist_train {

inline constexpr std::size_t train_n = 60000, pixels = 784, classes = 10;

/// The training set: images [60000, 784] in [0, 1], one-hot labels [60000, 10], labels [60000].
struct dataset {
    std::vector<float> images;
    std::vector<float> one_hot;
    std::vector<std::uint8_t> labels;
};

/// $CTGRAD_FASHION_MNIST_DIR if set, else Debian's dataset-fashion-mnist directory.
inline std::filesystem::path data_dir() {
    const char* dir = std::getenv("CTGRAD_FASHION_MNIST_DIR");
    return dir != nullptr && *dir != '\0'
               ? std::filesystem::path(dir)
               : std::filesystem::path("/usr/share/datasets/fashion-mnist");
}

namespace detail {

struct loaded {
    std::unique_ptr<dataset> data;
    std::string error;
};

inline loaded load() {
    loaded out;
    const std::filesystem::path dir = data_dir();
    const std::filesystem::path images = ctgrad::io::find_idx(dir, "train-images-idx3-ubyte");
    const std::filesystem::path labels = ctgrad::io::find_idx(dir, "train-labels-idx1-ubyte");
    if (images.empty() || labels.empty()) {
        out.error = "Fashion-MNIST not found in " + dir.string() +
                    ": dataset-fashion-mnist not installed (Debian: apt-get install "
                    "dataset-fashion-mnist)";
        return out;
    }
    try {
        auto d = std::make_unique<dataset>();
        d->images = ctgrad::io::read_idx_images(images).pixels;
        d->labels = ctgrad::io::read_idx_labels(labels);
        if (d->images.size() != train_n * pixels || d->labels.size() != train_n) {
            out.error = "unexpected Fashion-MNIST training set size in " + dir.string();
            return out;
        }
        d->one_hot = ctgrad::io::one_hot<classes>(d->labels);
        out.data = std::move(d);
    } catch (const std::exception& e) {
        out.error = e.what();
    }
    return out;
}

}  // namespace detail

/// The training set, read once per process; nullptr if it cannot be read, with the reason in
/// `error`.
inline const dataset* training_set(std::string& error) {
    static const detail::loaded cache = detail::load();
    error = cache.error;
    return cache.data.get();
}

}  // namespace fashion_mnist_train
