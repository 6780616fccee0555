#pragma once
// The simulated board a governor comparison runs on (docs/evaluation.md): which fake sysfs tree it
// is, what the simulator reads there, the clock levels it runs, and one truth per model. Two kinds:
// the table-driven TX2 (the measured FlexiBO grids) and the live layer-level boards (a replay of real
// H200 segments at the clocks in effect, docs/simulator.md).
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "flame/eval/detail/governor.hpp"
#include "flame/sim/layer_boards.hpp"
#include "flame/sim/model_truth.hpp"
#include "flame/sim/profiles.hpp"
#include "flame/sim/request_truth.hpp"
#include "flame/sim/table_sim.hpp"

namespace flame::eval {

struct EvalBoard {
  std::string name;  // "tx2", "layer-tx2", "layer-orin"
  sim::Profile profile = sim::Profile::Tx2Jp4;
  sim::SimBoard board;
  // The board's own thermal model (the run's ambient applies); none: the run's thermal options.
  std::optional<sim::ThermalOptions> thermal;
  int cores = 4;  // online cores the tree keeps (the levels governors choose among)
  std::vector<std::shared_ptr<const sim::ModelTruth>> truths;
  double ztt_power_scale_w = 4;  // zTT's power input scale: about the board's busy power
  // Which truth runs a request (SLM requests on a layer board: by context, docs/simulator.md).
  sim::RequestTruths requests;

  const sim::ModelTruth& truth(const std::string& model) const;  // by truth name; throws naming it
  // The truth's name for a request, and for a request as a governor sees it (requests.truth_name).
  std::string truth_name(const sim::Request& q) const { return requests.truth_name(q); }
  std::string truth_name(const Decision& d) const { return requests.truth_name(d.model, d.ctx, d.phase); }
  BoardLevels levels() const;
  // A simulator on a fresh tree of this board (the caller owns the tree).
  sim::TableSimulator simulator(const std::string& root, sim::SimOptions o) const;
};

// The table-driven TX2 of the FlexiBO grids.
EvalBoard tx2_eval_board(const std::vector<sim::GridTable>& tables);
// A live layer-level board running `tags` of a coupling dataset (all of them when empty), resolving
// requests to them by `requests`.
EvalBoard layer_eval_board(const sim::LayerBoardSpec& spec, const model::CouplingDataset& data,
                           const std::vector<std::string>& tags, sim::RequestTruths requests = {});

}  // namespace flame::eval
