#pragma once
// The configurations of one SLM that differ only in context length, per phase: the input of
// context fitting. Every configuration of a series must launch the same segments (same kinds,
// module names and layer types), since the fit is per segment.
#include <string>
#include <vector>

#include "flame/model/context_basis.hpp"
#include "flame/model/coupling_dataset.hpp"

namespace flame::context {

struct ContextSeries {
  std::string model;
  model::ContextPhase phase = model::ContextPhase::Decode;
  std::vector<const model::CouplingConfig*> configs;  // into the dataset, sorted by context length

  std::vector<int> contexts() const;
};

// Groups the configurations that have a phase (config.mode) by model and phase, in order of first
// appearance. Configurations without a mode (CNNs) are skipped. Throws std::runtime_error naming
// the configuration when a mode is not decode/prefill, the context length is missing or repeated,
// or the segment structure differs within a series.
std::vector<ContextSeries> context_series(const model::CouplingDataset& dataset);

// Throws std::runtime_error naming both tags and the first differing segment unless the two
// profiles have the same segment kinds, names and types.
void check_same_structure(const model::SegmentProfile& reference, const model::SegmentProfile& other);

}  // namespace flame::context
