#pragma once
// The per-request decision logic of flamed, independent of sockets and event loops: begin runs the
// search on the loaded model and applies the arbitrated clocks before answering; end feeds the
// calibrator; expiry and disconnects release holds; with nothing active the idle policy applies.
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "arbiter.hpp"
#include "config.hpp"
#include "decision_cache.hpp"
#include "flame/calibrate/calibrator.hpp"
#include "flame/model/clock_grid.hpp"
#include "flame/model/latency_model.hpp"
#include "protocol.hpp"

namespace flamed {

// The hardware side as the governor sees it (the board layer in production).
class ClockActuator {
 public:
  virtual ~ClockActuator() = default;
  // What the board offers, within configured limits; a reference: the governor reads it per request.
  virtual const flame::ClockGrid& grid() const = 0;
  virtual flame::Clocks apply(
      const flame::Clocks& target) = 0;  // returns what was applied; throws on failure
  virtual void restore() = 0;            // back to the baseline
  virtual flame::Clocks current() const = 0;
};

// Chooses clocks whose model latency is at most target_model_ms (the deadline with the safety
// margin and the calibration factor already folded in), lowest predicted energy first.
using Planner = std::function<Decision(const flame::LatencyModel&, const flame::Workload&,
                                       const flame::ClockGrid&, double target_model_ms)>;

using ModelSet = std::map<std::string, std::shared_ptr<const flame::LatencyModel>>;

struct GovernorOptions {
  double safety_margin_pct = 5;
  double expiry_ms = 10'000;
  IdlePolicy idle = IdlePolicy::Restore;
  size_t max_requests_per_client = 256;
  bool recalibrate = true;
  double idle_delay_ms = 200;  // hysteresis: keep the clocks this long after the last request ends
  bool queue_aware = true;     // plan for the deadline minus the active requests' remaining work
};

class Governor {
 public:
  Governor(GovernorOptions options, ClockActuator& actuator, Planner planner, flame::Calibrator& calibrator);

  void set_models(ModelSet models);  // atomic swap on reload; active holds keep their clocks
  void set_options(const GovernorOptions& options) { o_ = options; }
  const ModelSet& models() const { return models_; }

  nlohmann::json begin(uint64_t client, const Begin& request, SteadyTime now);
  nlohmann::json end(uint64_t client, const End& request, SteadyTime now);
  nlohmann::json status(SteadyTime now) const;

  void disconnect(uint64_t client, SteadyTime now);
  // Releases expired requests and applies the idle policy once the board has been idle long enough.
  void expire(SteadyTime now);
  // When expire() has something to do next: a request's expiry or the end of the idle delay.
  std::optional<SteadyTime> next_expiry() const;

  // Release every hold and leave the board as the idle policy says (restore on shutdown).
  void release_all(bool restore_baseline);

  // Operator switch (D-Bus SetEnabled): disabling releases every hold and restores the baseline;
  // until re-enabled, begin is answered with the error "disabled". Enabling changes no clocks.
  void set_enabled(bool enabled);
  bool enabled() const { return enabled_; }
  size_t active_requests() const { return arbiter_.holds().size(); }

  const flame::Clocks& applied() const { return applied_; }
  bool holding() const { return holding_; }

  struct Counters {
    uint64_t begins = 0, ends = 0, errors = 0, expired = 0, infeasible = 0, deadline_met = 0,
             deadline_missed = 0;
    uint64_t clock_changes = 0;
    double abs_error_pct_sum = 0;  // |measured - predicted| / measured, over ends with a latency
  };
  const Counters& counters() const { return counters_; }
  void count_rejected() { ++counters_.errors; }  // requests refused before they reached the governor
  const flame::Calibrator& calibrator() const { return calibrator_; }

 private:
  void reapply(SteadyTime now);
  void apply_idle();

  GovernorOptions o_;
  ClockActuator& actuator_;
  Planner planner_;
  flame::Calibrator& calibrator_;
  ModelSet models_;
  Arbiter arbiter_;
  flame::Clocks applied_{};
  flame::Clocks target_{};             // last target written (applied_ is what the board accepted)
  bool holding_ = false;               // clocks currently set by us (false: baseline or never touched)
  std::optional<SteadyTime> idle_at_;  // when the idle policy applies, if nothing begins before
  bool enabled_ = true;
  Counters counters_;
  DecisionCache decisions_;
};

nlohmann::json clocks_json(const flame::Clocks& c);

}  // namespace flamed
