/// @file
/// Neural-network building blocks: layers and composition, parameter packs, initializers.
#pragma once

#include <ctgrad/nn/layers.hpp>
#include <ctgrad/nn/parameters.hpp>
