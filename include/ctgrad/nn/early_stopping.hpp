/// @file
/// Early stopping (notes 002: stop when the error on held-out data stops improving, before the
/// network overfits the training set): feed it one validation metric per epoch; it says whether
/// this epoch is the best so far (save a checkpoint then) and whether to stop.
///
///     nn::early_stopping stop({.patience = 3, .mode = nn::early_stopping::minimize});
///     for (int epoch = 1; ...; ++epoch) {
///         ...train...
///         const auto verdict = stop.update(validation_loss);
///         if (verdict.best) io::save("best.ckpt", params);
///         if (verdict.stop) break;
///     }
///     io::load("best.ckpt", params);  // the parameters of the best epoch
#pragma once

#include <cmath>      // std::isnan
#include <cstddef>    // std::size_t
#include <limits>     // std::numeric_limits
#include <stdexcept>  // std::invalid_argument

namespace ctgrad::nn {

/// The settings of early_stopping.
struct early_stopping_options {
    enum direction { minimize, maximize };
    /// Epochs without improvement after which to stop (0: at the first non-improvement).
    std::size_t patience = 5;
    /// A loss is minimized, an accuracy maximized.
    direction mode = minimize;
    /// An improvement must beat the best value by more than this (absolute, >= 0).
    double min_delta = 0.0;
};

/// Tracks the best value of a metric and the epochs since it last improved.
class early_stopping {
public:
    using options = early_stopping_options;
    static constexpr options::direction minimize = options::minimize;
    static constexpr options::direction maximize = options::maximize;

    explicit early_stopping(options o = {}) : options_(o) {
        if (!(o.min_delta >= 0.0)) {
            throw std::invalid_argument("ctgrad::nn::early_stopping: min_delta must be >= 0");
        }
    }

    struct verdict {
        bool best;  ///< this value is the best so far
        bool stop;  ///< no improvement for more than `patience` epochs: stop training
    };

    /// Records the metric of one epoch. A NaN never improves (a diverged run stops after
    /// `patience` more epochs, with the best checkpoint intact).
    verdict update(double value) {
        ++epochs_;
        const double d = options_.min_delta;
        const bool improved = !std::isnan(value) &&
                              (std::isnan(best_) ||
                               (options_.mode == minimize ? value < best_ - d : value > best_ + d));
        if (improved) {
            best_ = value;
            best_epoch_ = epochs_;
            since_ = 0;
        } else {
            ++since_;
        }
        return {improved, since_ > options_.patience};
    }

    /// The best value so far (NaN before the first non-NaN value).
    double best() const noexcept { return best_; }
    /// The epoch (1-based) of the best value; 0 before it.
    std::size_t best_epoch() const noexcept { return best_epoch_; }
    /// Epochs since the best one.
    std::size_t epochs_since_best() const noexcept { return since_; }

    const options& settings() const noexcept { return options_; }

private:
    options options_;
    double best_ = std::numeric_limits<double>::quiet_NaN();
    std::size_t best_epoch_ = 0, since_ = 0, epochs_ = 0;
};

}  // namespace ctgrad::nn
