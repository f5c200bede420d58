/// @file
/// Neural-network building blocks: layers and composition, parameter packs, initializers,
/// optimizers, mini-batches.
#pragma once

#include <ctgrad/nn/augment.hpp>
#include <ctgrad/nn/conv.hpp>
#include <ctgrad/nn/data.hpp>
#include <ctgrad/nn/early_stopping.hpp>
#include <ctgrad/nn/layers.hpp>
#include <ctgrad/nn/optim.hpp>
#include <ctgrad/nn/parameters.hpp>
