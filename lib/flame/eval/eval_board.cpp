#include "flame/eval/eval_board.hpp"

#include <stdexcept>
#include <utility>

namespace flame::eval {

const sim::ModelTruth& EvalBoard::truth(const std::string& model) const {
  for (const auto& t : truths)
    if (t->name() == model) return *t;
  throw std::invalid_argument("eval: the board " + name + " has no model '" + model + "'");
}

BoardLevels EvalBoard::levels() const {
  const auto& l = board.levels;
  bool has = false;
  for (int c : l.cores) has = has || c == cores;
  if (!has)
    throw std::invalid_argument("eval: the board " + name + " has no level with " + std::to_string(cores) +
                                " cores");
  BoardLevels b;
  b.cores = cores;
  b.cpu_khz = l.cpu_khz;
  b.gpu_hz = l.gpu_hz;
  b.emc_hz = l.emc_hz;
  return b;
}

sim::TableSimulator EvalBoard::simulator(const std::string& root, sim::SimOptions o) const {
  if (thermal) {
    const double ambient = o.thermal.ambient_c;
    o.thermal = *thermal;
    o.thermal.ambient_c = ambient;
  }
  return sim::TableSimulator(root, board, truths, o);
}

EvalBoard tx2_eval_board(const std::vector<sim::GridTable>& tables) {
  EvalBoard b;
  b.name = "tx2";
  b.profile = sim::Profile::Tx2Jp4;
  b.board = sim::tx2_board(tables);
  b.cores = 4;
  b.truths = sim::grid_truths(tables);
  return b;
}

EvalBoard layer_eval_board(const sim::LayerBoardSpec& spec, const model::CouplingDataset& data,
                           const std::vector<std::string>& tags, sim::RequestTruths requests) {
  EvalBoard b;
  b.requests = std::move(requests);
  b.name = spec.name;
  b.profile = spec.profile;
  b.board = {spec.layout, spec.levels};
  b.thermal = spec.thermal;
  b.cores = spec.levels.cores.back();
  b.truths = sim::layer_truths(data, spec, tags);
  // zTT scales its power input by about the board's busy power: the truth at the top clocks.
  const sim::SimClocks top{b.cores, spec.levels.cpu_khz.back(), spec.levels.gpu_hz.back(),
                           spec.levels.emc_hz.back()};
  double w = 0;
  for (const auto& t : b.truths) w = std::max(w, t->mean(top).power_w);
  if (w > 0) b.ztt_power_scale_w = w;
  return b;
}

}  // namespace flame::eval
