#include "flame/eval/flame_governor.hpp"

#include <algorithm>
#include <stdexcept>

#include "flame/search/greedy_search.hpp"
#include "flame/search/queued_work.hpp"

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
  held_.clear();
  infeasible_ = evaluations_ = 0;
}

Target FlameGovernor::plan(std::size_t index, const std::string& model, double budget_ms, double now_ms,
                           double arrived_ms) {
  const auto it = models_.find(model);
  if (it == models_.end()) throw std::invalid_argument("flamed governor: no model for " + model);
  const grid::SeriesModel& m = it->second.series.front();
  const std::string key = Calibrator::key(model);
  const double factor = o_.recalibrate ? calibrator_.factor(key) : 1.0;
  const double divisor =
      o_.recalibrate ? calibrator_.divisor(key, o_.safety_margin_pct) : 1.0 + o_.safety_margin_pct / 100.0;
  // As daemon/governor.cpp: the work ahead (first come, first served) comes off the budget, and a
  // late request still asks (for the fastest clocks).
  std::vector<QueuedRequest> ahead;
  if (o_.queue_aware)
    for (const auto& [i, h] : held_)
      if (i != index && h.arrived_ms <= arrived_ms) ahead.push_back({h.predicted_ms, now_ms - h.began_ms});
  const double budget = std::max(budget_ms - queued_work_ms(ahead), 0.1);
  const double target = budget / divisor;
  const Predictor predict = [&](const Clocks& c) { return m.estimate(c); };
  const SearchResult r =
      o_.exhaustive ? exhaustive_search(grid_, predict, target) : greedy_search(grid_, predict, target);
  if (!r.feasible) ++infeasible_;
  evaluations_ += static_cast<std::size_t>(r.evaluations);
  Held& h = held_[index];
  h.clocks = {board_.cores, static_cast<std::uint64_t>(r.clocks.cpu_khz),
              static_cast<std::uint64_t>(r.clocks.gpu_hz), static_cast<std::uint64_t>(r.clocks.emc_hz)};
  h.arrived_ms = arrived_ms;
  h.began_ms = now_ms;
  h.model_ms = r.estimate.latency_ms;
  h.predicted_ms = r.estimate.latency_ms * factor;
  return combined();
}

Target FlameGovernor::combined() {
  Target t{board_.cores, 0, 0, 0};
  for (const auto& [i, h] : held_) {
    t.cpu_khz = std::max(t.cpu_khz, h.clocks.cpu_khz);
    t.gpu_hz = std::max(t.gpu_hz, h.clocks.gpu_hz);
    t.emc_hz = std::max(t.emc_hz, h.clocks.emc_hz);
  }
  for (auto& [i, h] : held_)
    if (!(h.clocks == t)) h.arbitrated = true;
  return t;
}

Target FlameGovernor::decide(const Decision& d) {
  const auto it = held_.find(d.index);  // announced on arrival: it keeps its place in the queue
  return plan(d.index, d.model, d.budget_ms, d.now_ms, it != held_.end() ? it->second.arrived_ms : d.now_ms);
}

std::optional<Target> FlameGovernor::arrive(const Decision& d) {
  return plan(d.index, d.model, d.budget_ms, d.now_ms, d.now_ms);
}

void FlameGovernor::observe(const Outcome& o) {
  const auto it = held_.find(o.index);
  if (it == held_.end()) return;
  if (o_.recalibrate && !it->second.arbitrated)
    calibrator_.observe(Calibrator::key(o.model), it->second.model_ms, o.latency_ms);
  held_.erase(it);
}

std::optional<Governor::IdleAction> FlameGovernor::idle(double finish_ms) {
  return IdleAction{finish_ms + o_.idle_delay_ms, std::nullopt};
}

}  // namespace flame::eval
