#pragma once
// The live layer-level boards (docs/simulator.md, "Live layer-level boards"): a fake sysfs tree
// profile, where the simulator reads and refreshes it, the clock levels it offers, and the physical
// parameters the kernel-by-kernel replay runs with. `layer-tx2` keeps the TX2 parameter set of the
// layer-driven grids; `layer-orin` is a Jetson Orin Nano 8GB (Super, JetPack 6). Every parameter is
// tagged [V] (public specification) or [I] (assumption) in docs/simulator.md; changing one needs a
// citation, its own commit, and every result re-run.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "flame/model/coupling_dataset.hpp"
#include "flame/sim/detail/thermal.hpp"
#include "flame/sim/layer_board.hpp"
#include "flame/sim/profiles.hpp"

namespace flame::sim {

struct LayerBoardSpec {
  std::string name;    // "layer-tx2", "layer-orin"
  Profile profile;     // the fake tree `flame sim tree` writes for it
  BoardLayout layout;  // what the simulator reads and refreshes in that tree
  ClockLevels levels;  // what it runs (requests snap down to these)
  LayerBoardParams params;
  ThermalOptions thermal;  // the lumped thermal model's defaults for this board (ambient: the caller's)
};

LayerBoardParams tx2_params();
LayerBoardParams orin_nano_params();
ClockLevels orin_nano_levels();

std::optional<LayerBoardSpec> layer_board(const std::string& name);
std::string layer_board_names();  // "layer-tx2 | layer-orin"

// The dataset the boards replay by default: data/h200-coupling/run2/coupling.json (per-call MACs).
std::string default_layer_data();

// The configurations of an SLM that differ only in context length (context_series) share one host
// profile: the per-segment median of their reference host spans. The H200 runs of different
// contexts differ in host span by up to 70 % with no trend in the context (run-to-run host load,
// docs/context-model.md); a board's host launches the same kernels at every context, so its truth
// should differ between contexts only in what the context changes (docs/simulator.md).
model::CouplingDataset with_shared_slm_host(const model::CouplingDataset& d);

// One LayerTruth per requested configuration tag (all of the dataset's when `tags` is empty), with the
// dataset's host noise (host_noise), SLM host spans shared (with_shared_slm_host). Throws naming the dataset
// and the tag for an unknown tag.
std::vector<std::shared_ptr<const ModelTruth>> layer_truths(const model::CouplingDataset& d,
                                                            const LayerBoardSpec& b,
                                                            const std::vector<std::string>& tags);

}  // namespace flame::sim
