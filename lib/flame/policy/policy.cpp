#include "flame/policy/policy.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace flame::policy {
namespace {
// A budget the queue has already used up is planned as this (the search then runs at the fastest
// clocks, flagged infeasible): the search needs a positive target.
constexpr double kMinBudgetMs = 1e-3;

// Domains whose clock the board does not tell (the actuator offers 0): a model cannot predict
// there, and a plan would carry an absurd latency.
std::string unknown_clocks(const ClockGrid& g) {
  std::vector<std::string> out;
  const auto unknown = [](const std::vector<double>& axis) { return axis.empty() || !(axis.front() > 0); };
  if (unknown(g.cpu_khz)) out.emplace_back("CPU");
  if (unknown(g.gpu_hz)) out.emplace_back("GPU");
  if (unknown(g.emc_hz)) out.emplace_back("EMC");
  return fmt::format("{}", fmt::join(out, ", "));
}

}  // namespace

const char* to_string(IdlePolicy p) {
  switch (p) {
    case IdlePolicy::Restore:
      return "restore";
    case IdlePolicy::Lowest:
      return "lowest";
    case IdlePolicy::Max:
      return "max";
  }
  return "?";
}

std::optional<Clocks> idle_clocks(IdlePolicy p, const ClockGrid& g) {
  switch (p) {
    case IdlePolicy::Restore:
      return std::nullopt;
    case IdlePolicy::Lowest:
      return Clocks{g.cpu_khz.front(), g.cpu_cores.empty() ? 0 : g.cpu_cores.back(), g.gpu_hz.front(),
                    g.emc_hz.front()};
    case IdlePolicy::Max:
      return g.max();
  }
  return std::nullopt;
}

Policy::Policy(Options options, Actuator& actuator, calibrate::CalibratorOptions calibration, Planner planner)
    : o_(options),
      actuator_(actuator),
      planner_(std::move(planner)),
      calibrator_(calibration),
      applied_(actuator.current()) {}

void Policy::set_models(ModelSet models, std::map<std::string, std::string> refused) {
  models_ = std::move(models);
  refused_ = std::move(refused);
  decisions_.clear();
  std::vector<std::string> served;
  for (const auto& [name, m] : models_) served.push_back(calibrate::Calibrator::model_id(name, m.digest));
  for (const auto& k : calibrator_.retain(served))
    spdlog::info("calibration bucket {} dropped: its model is no longer served", k);
}

BeginResult Policy::refuse(int64_t id, std::string why) {
  ++counters_.errors;
  BeginResult r;
  r.id = id;
  r.error = std::move(why);
  return r;
}

BeginResult Policy::begin(uint64_t client, const BeginRequest& r, TimeMs now) {
  if (!enabled_) return refuse(r.id, "disabled");
  auto it = models_.find(r.model);
  if (it == models_.end()) {
    if (auto no = refused_.find(r.model); no != refused_.end())
      return refuse(r.id, fmt::format("model \"{}\" is not served: {}", r.model, no->second));
    return refuse(r.id, fmt::format("unknown model \"{}\"", r.model));
  }
  const model::LatencyModel& model = *it->second.model;
  model::Workload w;
  if (model.needs_workload()) {
    if (!r.ctx || !r.phase)
      return refuse(r.id, fmt::format("model \"{}\" needs \"ctx\" and \"phase\"", r.model));
    w.ctx = *r.ctx;
    w.phase = *r.phase;
  } else if (r.ctx || r.phase) {
    // Accepting them would let an SLM app believe its context length is planned for.
    return refuse(r.id, fmt::format("model \"{}\" ({}) does not use \"ctx\" or \"phase\": leave them out",
                                    r.model, model.kind()));
  }
  if (const auto unknown = unknown_clocks(actuator_.grid()); !unknown.empty())
    return refuse(
        r.id,
        fmt::format("cannot plan: the board does not tell its {} clock (see status: degraded)", unknown));
  if (arbiter_.count(client) >= o_.max_requests_per_client)
    return refuse(r.id, "too many active requests on this connection");
  const std::string key =
      calibrate::Calibrator::key(calibrate::Calibrator::model_id(r.model, it->second.digest), w.phase, w.ctx);
  const double factor = o_.recalibrate ? calibrator_.factor(key) : 1.0;
  const double margin_pct =
      std::max(o_.safety_margin_pct, it->second.derived && !confirmed(key) ? o_.derived_margin_pct : 0.0);
  const double divisor = o_.recalibrate ? calibrator_.divisor(key, margin_pct) : 1.0 + margin_pct / 100.0;
  // Other apps' inferences ahead on the accelerator delay this one: plan for what they leave. A
  // renewed begin (the app announced the request on arrival, now it starts) keeps its place.
  const Hold* renewed = arbiter_.find(client, r.id);
  const TimeMs arrived = renewed ? renewed->arrived : now;
  const double queued = o_.queue_aware ? arbiter_.queued_ms(client, r.id, arrived, now) : 0.0;
  const double budget = std::max(r.deadline_ms - queued, kMinBudgetMs);
  const double target = budget / divisor;
  Decision d;
  try {
    const ClockGrid& grid = actuator_.grid();
    const DecisionKey memo_key{&model, w.ctx, w.phase, target};
    if (auto hit = decisions_.find(memo_key, grid)) {
      d = *hit;
    } else {
      d = planner_(model, w, grid, target);
      decisions_.put(memo_key, d);
    }
  } catch (const std::exception& e) {
    return refuse(r.id, fmt::format("cannot plan for \"{}\": {}", r.model, e.what()));
  }
  Hold h;
  h.client = client;
  h.id = r.id;
  h.clocks = d.clocks;
  h.expires = now + o_.expiry_ms;
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
    record_fault("begin", e.what());
    return refuse(r.id, fmt::format("cannot set clocks: {}", e.what()));
  }
  ++counters_.begins;
  if (!d.feasible) ++counters_.infeasible;
  BeginResult out;
  out.id = r.id;
  out.clocks = d.clocks;
  out.applied = applied_;
  out.predicted_ms = h.predicted_ms;
  out.feasible = d.feasible;
  out.queued_ms = queued;
  out.margin_pct = (divisor / factor - 1.0) * 100.0;
  out.calibration = factor;
  return out;
}

bool Policy::confirmed(const std::string& key) const {
  const auto& states = calibrator_.states();
  const auto it = states.find(key);
  return o_.recalibrate && it != states.end() &&
         it->second.samples >= calibrator_.options().min_noise_samples;
}

EndResult Policy::end(uint64_t client, const EndRequest& r, TimeMs now) {
  EndResult out;
  out.id = r.id;
  auto h = arbiter_.remove(client, r.id);
  if (!h) {
    ++counters_.errors;
    out.error = fmt::format("no active request with id {}", r.id);
    return out;
  }
  bool updated = false;
  // A latency under a microsecond measured no inference (an empty scope, a clock mistake): it
  // would make the relative error unbounded, so it neither counts nor recalibrates.
  const bool measured = r.latency_ms && *r.latency_ms >= kMinMeasuredMs;
  if (measured) {
    const double m = *r.latency_ms;
    if (m <= h->deadline_ms)
      ++counters_.deadline_met;
    else
      ++counters_.deadline_missed;
    outcomes_.record(h->model, h->deadline_ms, h->predicted_ms, m);
    // Run faster than its own choice (arbitrated), the measurement does not test the prediction.
    if (o_.recalibrate && !h->arbitrated) updated = calibrator_.observe(h->calibration_key, h->model_ms, m);
  }
  ++counters_.ends;
  guarded("release", [&] { reapply(now); });
  out.applied = applied_;
  if (measured) out.calibration = EndResult::Calibration{calibrator_.factor(h->calibration_key), updated};
  return out;
}

void Policy::disconnect(uint64_t client, TimeMs now) {
  if (!arbiter_.remove_client(client).empty()) guarded("release", [&] { reapply(now); });
}

std::optional<TimeMs> Policy::next_wake() const {
  auto t = arbiter_.next_expiry();
  if (idle_at_ && (!t || *idle_at_ < *t)) t = idle_at_;
  return t;
}

void Policy::advance(TimeMs now) {
  const auto gone = arbiter_.expire(now);
  counters_.expired += gone.size();
  for (const auto& h : gone) spdlog::info("request {} of client {} ({}) expired", h.id, h.client, h.model);
  if (!gone.empty()) guarded("expiry", [&] { reapply(now); });
  if (idle_at_ && now >= *idle_at_ && arbiter_.holds().empty()) guarded("idle", [&] { apply_idle(); });
}

void Policy::release_all(bool restore_baseline) {
  for (const auto& h : std::vector<Hold>(arbiter_.holds())) arbiter_.remove(h.client, h.id);
  idle_at_.reset();
  if (restore_baseline) return guarded("restore", [&] { restore(); });
  guarded("idle", [&] { apply_idle(); });
}

void Policy::guarded(const char* what, const std::function<void()>& write) {
  try {
    write();
  } catch (const std::exception& e) {
    record_fault(what, e.what());
    applied_ = actuator_.current();
  }
}

void Policy::record_fault(const char* what, const std::string& message) {
  ++counters_.hardware_faults;
  hardware_fault_ = fmt::format("{}: {}", what, message);
  spdlog::error("clock write refused on {}: {}", what, message);
}

void Policy::restore() {
  if (holding_) {
    actuator_.restore();
    ++counters_.clock_changes;
    hardware_fault_.clear();
  }
  holding_ = false;
  applied_ = actuator_.current();
}

void Policy::set(const Clocks& target) {
  if (holding_ && target == target_) return;  // skip writes when nothing changes
  applied_ = actuator_.apply(target);
  target_ = target;
  holding_ = true;
  ++counters_.clock_changes;
  hardware_fault_.clear();
}

void Policy::set_enabled(bool enabled) {
  if (enabled == enabled_) return;
  enabled_ = enabled;
  spdlog::info("governor {}", enabled ? "enabled" : "disabled: holds released, baseline restored");
  if (!enabled) release_all(/*restore_baseline=*/true);
}

void Policy::reapply_now(TimeMs now) {
  decisions_.clear();
  if (!holding_) return;
  guarded("reload", [&] {
    // Back to the baseline first: a domain the actuator no longer controls must not stay pinned.
    restore();
    if (arbiter_.holds().empty()) {
      idle_at_.reset();
      if (o_.idle != IdlePolicy::Restore) apply_idle();
      return;
    }
    reapply(now);
  });
}

void Policy::reapply(TimeMs now) {
  const std::optional<Clocks> target = arbiter_.combined();
  if (!target) {
    // Keep the clocks for a short while: the next request usually follows (hysteresis).
    if (o_.idle_delay_ms <= 0 || !holding_) return apply_idle();
    if (!idle_at_) idle_at_ = now + o_.idle_delay_ms;
    return;
  }
  idle_at_.reset();
  arbiter_.mark_arbitrated(*target);
  set(*target);
}

void Policy::apply_idle() {
  idle_at_.reset();
  const std::optional<Clocks> target = idle_clocks(o_.idle, actuator_.grid());
  if (target)
    set(*target);
  else
    restore();
}

Status Policy::status(TimeMs /*now: the summary holds no times*/) const {
  Status s;
  s.active_requests = arbiter_.holds().size();
  s.applied = applied_;
  s.holding = holding_;
  s.enabled = enabled_;
  for (const auto& [name, m] : models_)
    s.models[name] = {m.model->kind(), m.model->needs_workload(), m.board, m.digest, m.derived, ""};
  for (const auto& [name, why] : refused_) s.models[name] = {"", false, "", "", false, why};
  s.calibration = calibrator_.states();
  s.counters = counters();
  s.outcomes = outcomes_.by_model();
  s.hardware_fault = hardware_fault_;
  return s;
}

RequestPage Policy::requests(TimeMs now, const std::function<bool(uint64_t)>& visible,
                             std::optional<RequestKey> after, size_t limit) const {
  // Pointers first, copies only for the page: the cost of a small page of many holds is one pass.
  std::vector<const Hold*> picked;
  RequestPage page;
  for (const auto& h : arbiter_.holds()) {
    if (!visible(h.client)) continue;
    ++page.total;
    if (!after || *after < RequestKey{h.client, h.id}) picked.push_back(&h);
  }
  auto key = [](const Hold* h) { return RequestKey{h->client, h->id}; };
  auto by_key = [&](const Hold* a, const Hold* b) { return key(a) < key(b); };
  const size_t n = std::min(limit, picked.size());
  std::partial_sort(picked.begin(), picked.begin() + static_cast<std::ptrdiff_t>(n), picked.end(), by_key);
  for (size_t i = 0; i < n; ++i) {
    const Hold& h = *picked[i];
    page.requests.push_back(
        {h.client, h.id, h.model, h.deadline_ms, h.predicted_ms, h.feasible, h.clocks, h.expires - now});
  }
  if (n < picked.size() && n > 0) page.next = key(picked[n - 1]);
  return page;
}

Counters Policy::counters() const {
  Counters c = counters_;
  c.memo_hits = decisions_.hits();
  c.memo_misses = decisions_.misses();
  return c;
}

}  // namespace flame::policy
