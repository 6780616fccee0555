#include "flame/eval/flame_governor.hpp"

#include <stdexcept>

#include "flame/search/greedy_search.hpp"

namespace flame::eval {

FlameGovernor::FlameGovernor(std::map<std::string, grid::GridModel> models, FlameOptions o)
    : models_(std::move(models)), o_(o), calibrator_(o.calibrator) {
  if (models_.empty()) throw std::invalid_argument("flamed governor: no models");
  for (const auto& [n, m] : models_)
    if (m.series.empty()) throw std::invalid_argument("flamed governor: model " + n + " has no series");
}

void FlameGovernor::reset(const BoardLevels& board) {
  Governor::reset(board);
  // What flamed offers on this board: the tree's clock tables, cores as they are (not actuated).
  grid_ = ClockGrid{};
  for (auto c : board.cpu_khz) grid_.cpu_khz.push_back(static_cast<double>(c));
  grid_.cpu_cores = {board.cores};
  for (auto g : board.gpu_hz) grid_.gpu_hz.push_back(static_cast<double>(g));
  for (auto e : board.emc_hz) grid_.emc_hz.push_back(static_cast<double>(e));
  calibrator_.clear();
  model_ms_.clear();
  infeasible_ = evaluations_ = 0;
}

Target FlameGovernor::decide(const Decision& d) {
  const auto it = models_.find(d.model);
  if (it == models_.end()) throw std::invalid_argument("flamed governor: no model for " + d.model);
  const grid::SeriesModel& m = it->second.series.front();
  const std::string key = Calibrator::key(d.model);
  const double factor = o_.recalibrate ? calibrator_.factor(key) : 1.0;
  // As daemon/governor.cpp: a late request still asks (for the fastest clocks).
  const double budget = std::max(d.budget_ms, 0.1);
  const double target = budget / (1.0 + o_.safety_margin_pct / 100.0) / factor;
  const Predictor predict = [&](const Clocks& c) { return m.estimate(c); };
  const SearchResult r =
      o_.exhaustive ? exhaustive_search(grid_, predict, target) : greedy_search(grid_, predict, target);
  if (!r.feasible) ++infeasible_;
  evaluations_ += static_cast<std::size_t>(r.evaluations);
  model_ms_[d.index] = r.estimate.latency_ms;
  return {board_.cores, static_cast<std::uint64_t>(r.clocks.cpu_khz),
          static_cast<std::uint64_t>(r.clocks.gpu_hz), static_cast<std::uint64_t>(r.clocks.emc_hz)};
}

void FlameGovernor::observe(const Outcome& o) {
  const auto it = model_ms_.find(o.index);
  if (it == model_ms_.end()) return;
  if (o_.recalibrate) calibrator_.observe(Calibrator::key(o.model), it->second, o.latency_ms);
  model_ms_.erase(it);
}

std::optional<Governor::IdleAction> FlameGovernor::idle(double finish_ms) {
  return IdleAction{finish_ms + o_.idle_delay_ms, std::nullopt};
}

}  // namespace flame::eval
