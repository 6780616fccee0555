#include "governor.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cmath>

namespace flamed {
namespace {
// A budget the queue has already used up is planned as this (the search then runs at the fastest
// clocks, flagged infeasible): the search needs a positive target.
constexpr double kMinBudgetMs = 1e-3;
}  // namespace

nlohmann::json clocks_json(const flame::Clocks& c) {
  return {{"cpu_khz", c.cpu_khz}, {"cpu_cores", c.cpu_cores}, {"gpu_hz", c.gpu_hz}, {"emc_hz", c.emc_hz}};
}

Governor::Governor(GovernorOptions options, ClockActuator& actuator, Planner planner,
                   flame::Calibrator& calibrator)
    : o_(options),
      actuator_(actuator),
      planner_(std::move(planner)),
      calibrator_(calibrator),
      applied_(actuator.current()) {}

void Governor::set_models(ModelSet models) {
  models_ = std::move(models);
  decisions_.clear();
}

nlohmann::json Governor::begin(uint64_t client, const Begin& r, SteadyTime now) {
  if (!enabled_) {
    ++counters_.errors;
    return error_reply(r.id, "disabled");
  }
  auto it = models_.find(r.model);
  if (it == models_.end()) {
    ++counters_.errors;
    return error_reply(r.id, fmt::format("unknown model \"{}\"", r.model));
  }
  const flame::LatencyModel& model = *it->second;
  flame::Workload w;
  if (model.needs_workload()) {
    if (!r.ctx || !r.phase) {
      ++counters_.errors;
      return error_reply(r.id, fmt::format("model \"{}\" needs \"ctx\" and \"phase\"", r.model));
    }
    w.ctx = *r.ctx;
    w.phase = *r.phase;
  }
  if (arbiter_.count(client) >= o_.max_requests_per_client) {
    ++counters_.errors;
    return error_reply(r.id, "too many active requests on this connection");
  }
  const std::string key = flame::Calibrator::key(r.model, w.phase, w.ctx);
  const double factor = o_.recalibrate ? calibrator_.factor(key) : 1.0;
  const double divisor =
      o_.recalibrate ? calibrator_.divisor(key, o_.safety_margin_pct) : 1.0 + o_.safety_margin_pct / 100.0;
  // Other apps' inferences ahead on the accelerator delay this one: plan for what they leave. A
  // renewed begin (the app announced the request on arrival, now it starts) keeps its place.
  const Hold* renewed = arbiter_.find(client, r.id);
  const SteadyTime arrived = renewed ? renewed->arrived : now;
  const double queued = o_.queue_aware ? arbiter_.queued_ms(client, r.id, arrived, now) : 0.0;
  const double budget = std::max(r.deadline_ms - queued, kMinBudgetMs);
  const double target = budget / divisor;
  Decision d;
  try {
    const flame::ClockGrid& grid = actuator_.grid();
    const DecisionKey memo_key{&model, w.ctx, w.phase, target};
    if (auto hit = decisions_.find(memo_key, grid)) {
      d = *hit;
    } else {
      d = planner_(model, w, grid, target);
      decisions_.put(memo_key, d);
    }
  } catch (const std::exception& e) {
    ++counters_.errors;
    return error_reply(r.id, fmt::format("cannot plan for \"{}\": {}", r.model, e.what()));
  }
  Hold h;
  h.client = client;
  h.id = r.id;
  h.clocks = d.clocks;
  h.expires = now + std::chrono::microseconds(static_cast<int64_t>(o_.expiry_ms * 1000));
  h.began = now;
  h.arrived = arrived;
  h.model = r.model;
  h.calibration_key = key;
  h.model_ms = d.model_ms;
  h.predicted_ms = d.model_ms * factor;
  h.deadline_ms = r.deadline_ms;
  h.feasible = d.feasible;
  const auto previous = arbiter_.remove(client, r.id);
  arbiter_.add(h);
  try {
    reapply(now);
  } catch (const std::exception& e) {
    // The board refused: forget this request so the state matches the hardware.
    arbiter_.remove(client, r.id);
    if (previous) arbiter_.add(*previous);
    ++counters_.errors;
    return error_reply(r.id, fmt::format("cannot set clocks: {}", e.what()));
  }
  ++counters_.begins;
  if (!d.feasible) ++counters_.infeasible;
  return {{"id", r.id},
          {"ok", true},
          {"clocks", clocks_json(d.clocks)},
          {"applied", clocks_json(applied_)},
          {"predicted_ms", h.predicted_ms},
          {"feasible", d.feasible},
          {"queued_ms", queued},
          {"margin_pct", (divisor / factor - 1.0) * 100.0},
          {"calibration", factor}};
}

nlohmann::json Governor::end(uint64_t client, const End& r, SteadyTime now) {
  auto h = arbiter_.remove(client, r.id);
  if (!h) {
    ++counters_.errors;
    return error_reply(r.id, fmt::format("no active request with id {}", r.id));
  }
  bool updated = false;
  if (r.latency_ms) {
    const double m = *r.latency_ms;
    if (m <= h->deadline_ms)
      ++counters_.deadline_met;
    else
      ++counters_.deadline_missed;
    counters_.abs_error_pct_sum += std::abs(m - h->predicted_ms) / m * 100.0;
    // Run faster than its own choice (arbitrated), the measurement does not test the prediction.
    if (o_.recalibrate && !h->arbitrated) updated = calibrator_.observe(h->calibration_key, h->model_ms, m);
  }
  ++counters_.ends;
  reapply(now);
  nlohmann::json out = {{"id", r.id}, {"ok", true}, {"applied", clocks_json(applied_)}};
  if (r.latency_ms)
    out["calibration"] = {{"factor", calibrator_.factor(h->calibration_key)}, {"updated", updated}};
  return out;
}

void Governor::disconnect(uint64_t client, SteadyTime now) {
  if (!arbiter_.remove_client(client).empty()) reapply(now);
}

std::optional<SteadyTime> Governor::next_expiry() const {
  auto t = arbiter_.next_expiry();
  if (idle_at_ && (!t || *idle_at_ < *t)) t = idle_at_;
  return t;
}

void Governor::expire(SteadyTime now) {
  const auto gone = arbiter_.expire(now);
  counters_.expired += gone.size();
  for (const auto& h : gone) spdlog::info("request {} of client {} ({}) expired", h.id, h.client, h.model);
  if (!gone.empty()) reapply(now);
  if (idle_at_ && now >= *idle_at_ && arbiter_.holds().empty()) apply_idle();
}

void Governor::release_all(bool restore_baseline) {
  for (const auto& h : std::vector<Hold>(arbiter_.holds())) arbiter_.remove(h.client, h.id);
  idle_at_.reset();
  if (restore_baseline) {
    if (holding_) {
      actuator_.restore();
      ++counters_.clock_changes;
    }
    holding_ = false;
    applied_ = actuator_.current();
    return;
  }
  apply_idle();
}

void Governor::set_enabled(bool enabled) {
  if (enabled == enabled_) return;
  enabled_ = enabled;
  spdlog::info("governor {}", enabled ? "enabled" : "disabled: holds released, baseline restored");
  if (!enabled) release_all(/*restore_baseline=*/true);
}

void Governor::reapply(SteadyTime now) {
  const std::optional<flame::Clocks> target = arbiter_.combined();
  if (!target) {
    // Keep the clocks for a short while: the next request usually follows (hysteresis).
    if (o_.idle_delay_ms <= 0 || !holding_) return apply_idle();
    if (!idle_at_) idle_at_ = now + std::chrono::microseconds(static_cast<int64_t>(o_.idle_delay_ms * 1000));
    return;
  }
  idle_at_.reset();
  arbiter_.mark_arbitrated(*target);
  if (holding_ && *target == target_) return;  // skip writes when nothing changes
  applied_ = actuator_.apply(*target);
  target_ = *target;
  holding_ = true;
  ++counters_.clock_changes;
}

void Governor::apply_idle() {
  idle_at_.reset();
  std::optional<flame::Clocks> target;
  {
    switch (o_.idle) {
      case IdlePolicy::Restore:
        if (holding_) {
          actuator_.restore();
          ++counters_.clock_changes;
        }
        holding_ = false;
        applied_ = actuator_.current();
        return;
      case IdlePolicy::Lowest: {
        const auto& g = actuator_.grid();
        target = flame::Clocks{g.cpu_khz.front(), g.cpu_cores.empty() ? 0 : g.cpu_cores.back(),
                               g.gpu_hz.front(), g.emc_hz.front()};
        break;
      }
      case IdlePolicy::Max:
        target = actuator_.grid().max();
        break;
    }
  }
  if (holding_ && *target == target_) return;
  applied_ = actuator_.apply(*target);
  target_ = *target;
  holding_ = true;
  ++counters_.clock_changes;
}

nlohmann::json Governor::status(SteadyTime now) const {
  nlohmann::json active = nlohmann::json::array();
  for (const auto& h : arbiter_.holds()) {
    const auto left = std::chrono::duration<double, std::milli>(h.expires - now).count();
    active.push_back({{"client", h.client},
                      {"id", h.id},
                      {"model", h.model},
                      {"deadline_ms", h.deadline_ms},
                      {"predicted_ms", h.predicted_ms},
                      {"feasible", h.feasible},
                      {"clocks", clocks_json(h.clocks)},
                      {"expires_in_ms", left}});
  }
  nlohmann::json models = nlohmann::json::object();
  for (const auto& [name, m] : models_)
    models[name] = {{"kind", m->kind()}, {"needs_workload", m->needs_workload()}};
  return {{"ok", true},
          {"active", active},
          {"applied", clocks_json(applied_)},
          {"holding", holding_},
          {"enabled", enabled_},
          {"models", models},
          {"calibration", calibrator_.to_json()["buckets"]},
          {"counters",
           {{"begins", counters_.begins},
            {"ends", counters_.ends},
            {"errors", counters_.errors},
            {"expired", counters_.expired},
            {"infeasible", counters_.infeasible},
            {"deadline_met", counters_.deadline_met},
            {"deadline_missed", counters_.deadline_missed},
            {"clock_changes", counters_.clock_changes},
            {"decision_cache_hits", decisions_.hits()},
            {"decision_cache_misses", decisions_.misses()}}}};
}

}  // namespace flamed
