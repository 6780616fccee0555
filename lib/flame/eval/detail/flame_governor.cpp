#include "flame/eval/detail/flame_governor.hpp"

#include <stdexcept>

#include "flame/model/grid_model_file.hpp"
#include "flame/sim/replay.hpp"

namespace flame::eval {
namespace {
constexpr uint64_t kClient = 1;  // the policy's queue orders by arrival, not by connection
}

policy::ModelSet grid_models(const std::map<std::string, grid::GridModel>& models) {
  policy::ModelSet out;
  for (const auto& [n, m] : models) {
    if (m.series.empty()) throw std::invalid_argument("flamed governor: model " + n + " has no series");
    out[n] = std::make_shared<model::GridLatencyModel>(m);
  }
  return out;
}

FlameGovernor::FlameGovernor(policy::ModelSet models, FlameOptions o)
    : models_(std::move(models)), o_(std::move(o)) {
  if (models_.empty()) throw std::invalid_argument("flamed governor: no models");
}

void FlameGovernor::reset(const BoardLevels& board) {
  Governor::reset(board);
  ClockGrid& g = board_tables_.grid_;
  g = ClockGrid{};
  for (auto c : board.cpu_khz) g.cpu_khz.push_back(static_cast<double>(c));
  for (auto f : board.gpu_hz) g.gpu_hz.push_back(static_cast<double>(f));
  for (auto e : board.emc_hz) g.emc_hz.push_back(static_cast<double>(e));
  board_tables_.current_ = {};
  policy_ = std::make_unique<policy::Policy>(
      o_.policy, board_tables_, o_.calibrator,
      o_.exhaustive ? policy::exhaustive_planner() : policy::greedy_planner());
  policy_->set_models(models_);
}

Target FlameGovernor::target(const Clocks& c) const {
  return sim::sim_clocks(c, board_.cores);
}

Target FlameGovernor::begin(const Decision& d, double deadline_ms, double now_ms) {
  policy_->advance(now_ms);
  policy::BeginRequest q;
  q.id = static_cast<int64_t>(d.index);
  q.model = d.model;
  q.deadline_ms = sim::sent_deadline_ms(deadline_ms);
  // An SLM request: the app sends its context and phase, which flamed's context model needs (and a
  // model without them refuses).
  if (d.ctx > 0) q.ctx = d.ctx;
  if (!d.phase.empty()) q.phase = d.phase;
  const policy::BeginResult r = policy_->begin(kClient, q, now_ms);
  if (r.error) throw std::invalid_argument("flamed governor: " + *r.error);
  return target(r.applied);
}

Target FlameGovernor::decide(const Decision& d) {
  return begin(d, d.budget_ms, d.now_ms);
}

std::optional<Target> FlameGovernor::arrive(const Decision& d) {
  // Announced at its arrival with its whole deadline, as `flame sim run` does.
  return begin(d, d.deadline_ms, d.arrival_ms);
}

void FlameGovernor::observe(const Outcome& o) {
  const double finish = o.start_ms + o.latency_ms;
  policy_->advance(finish);
  policy::EndRequest e;
  e.id = static_cast<int64_t>(o.index);
  e.latency_ms = sim::reported_latency_ms(o.latency_ms);
  (void)policy_->end(kClient, e, finish);
}

std::optional<Governor::IdleAction> FlameGovernor::idle(double finish_ms) {
  if (policy_->active_requests() > 0) return std::nullopt;
  // The end of the idle delay; without a delay the policy already applied its idle clocks.
  const auto at = policy_->next_wake();
  const auto c = policy::idle_clocks(o_.policy.idle, board_tables_.grid());
  return IdleAction{at ? *at : finish_ms, c ? std::optional<Target>(target(*c)) : std::nullopt};
}

}  // namespace flame::eval
