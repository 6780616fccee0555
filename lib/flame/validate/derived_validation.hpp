#pragma once
// Leave-one-model-out validation of models derived from one profiled point (curve_prior.hpp) on a
// live layer board (docs/feature-model.md, "Curves from one profiled point"). Every CNN/ViT
// configuration of a coupling dataset is profiled in full on the board (the layer-wise plan at the
// default budget, in-process replays with host noise) and fitted; then each configuration is
// derived from one replay at the top clocks with a prior learned from the fitted models of every
// *other model* (all configurations of the same architecture are left out, whatever their batch
// or precision), and both models are compared with the noise-free replay over the clock grid.
#include <cstdint>
#include <string>
#include <vector>

#include "flame/fit/error_stats.hpp"
#include "flame/model/coupling_dataset.hpp"
#include "flame/sim/layer_boards.hpp"

namespace flame::validate {

struct DerivedOptions {
  std::size_t budget = 12;  // the full profile's
  std::uint64_t seed = 1;
  double host_noise = 0.02;     // per profiled run (log-normal, 1 sigma)
  std::size_t grid_stride = 3;  // every n-th combination of the grid is compared
  // The SLM configurations (each phase and context a model of its own) are profiled in full too and
  // join every prior; they are not predicted.
  bool slm_in_prior = true;
};

struct DerivedRow {
  std::string tag;
  std::vector<std::string> prior_models;  // the architectures the prior learned from
  std::size_t prior_segments = 0;
  fit::ErrorStats full;     // profiled at `budget` combinations
  fit::ErrorStats derived;  // one combination and the prior
};

std::vector<DerivedRow> validate_derived(const model::CouplingDataset& dataset,
                                         const sim::LayerBoardSpec& board,
                                         const DerivedOptions& options = {});

}  // namespace flame::validate
