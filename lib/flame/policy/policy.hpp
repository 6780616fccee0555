#pragma once
// flamed's per-request policy (docs/architecture.md): begin plans the request on its model within
// what the queue ahead leaves of its deadline (divided by the calibration factor and the
// noise-aware margin), holds the chosen clocks and runs the board at the per-domain maximum of the
// holds; end feeds the calibrator unless another hold raised the clocks; expiry and disconnects
// release holds; with nothing active the idle policy applies after the idle delay (hysteresis).
//
// The same object serves flamed (daemon/: transport and lifecycle) and `flame eval` (the simulated
// board): time is a parameter of every call, the caller asks next_wake() when to call advance(),
// hardware sits behind Actuator, and results are plain structs (the daemon encodes them).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "flame/calibrate/calibrator.hpp"
#include "flame/clocks/clock_grid.hpp"
#include "flame/model/latency_model.hpp"
#include "flame/policy/actuator.hpp"
#include "flame/policy/detail/arbiter.hpp"
#include "flame/policy/detail/decision_memo.hpp"
#include "flame/policy/detail/outcomes.hpp"
#include "flame/policy/detail/planner.hpp"
#include "flame/policy/model_set.hpp"
#include "flame/policy/time.hpp"

namespace flame::policy {

enum class IdlePolicy { Restore, Lowest, Max };
const char* to_string(IdlePolicy p);
// The clocks an idle board is set to under `p`; nothing = restore the baseline.
std::optional<Clocks> idle_clocks(IdlePolicy p, const ClockGrid& grid);

struct Options {
  double safety_margin_pct = 5;
  // The margin of a model derived from a prior (docs/feature-model.md) until its calibration bucket
  // has seen the calibrator's min_noise_samples latencies: its error over the clocks is not measured.
  double derived_margin_pct = 20;
  double expiry_ms = 10'000;
  IdlePolicy idle = IdlePolicy::Restore;
  size_t max_requests_per_client = 256;
  bool recalibrate = true;
  double idle_delay_ms = 200;  // hysteresis: keep the clocks this long after the last request ends
  bool queue_aware = true;     // plan for the deadline minus the active requests' remaining work
};

struct BeginRequest {
  int64_t id = 0;
  std::string model;
  double deadline_ms = 0;
  std::optional<int> ctx;            // SLM context length
  std::optional<std::string> phase;  // "prefill" or "decode"
};

// Measured latencies below this (1 microsecond) are ignored by `end` (docs/protocol.md).
inline constexpr double kMinMeasuredMs = 1e-3;

struct EndRequest {
  int64_t id = 0;
  std::optional<double> latency_ms;  // measured latency, for recalibration
};

// A refused request changed nothing; `error` says why.
struct BeginResult {
  int64_t id = 0;
  std::optional<std::string> error;
  Clocks clocks;   // the request's own choice
  Clocks applied;  // what the board runs (the per-domain maximum of the holds)
  double predicted_ms = 0;
  bool feasible = false;
  double queued_ms = 0;
  double margin_pct = 0;
  double calibration = 1;  // the factor the prediction carries
};

struct EndResult {
  int64_t id = 0;
  std::optional<std::string> error;
  Clocks applied;
  struct Calibration {
    double factor = 1;
    bool updated = false;
  };
  std::optional<Calibration> calibration;  // when the end reported a latency
};

struct Counters {
  uint64_t begins = 0, ends = 0, errors = 0, expired = 0, infeasible = 0, deadline_met = 0,
           deadline_missed = 0;
  uint64_t clock_changes = 0;
  uint64_t hardware_faults = 0;  // clock writes or restores the board refused
  uint64_t memo_hits = 0, memo_misses = 0;
};

struct ActiveRequest {
  uint64_t client = 0;
  int64_t id = 0;
  std::string model;
  double deadline_ms = 0;
  double predicted_ms = 0;
  bool feasible = true;
  Clocks clocks;
  double expires_in_ms = 0;
};

struct ModelInfo {
  std::string kind;
  bool needs_workload = false;
  std::string board;     // the board its file names
  std::string digest;    // of its file (its calibration buckets carry it)
  bool derived = false;  // from a prior: served with derived_margin_pct until calibrated
  std::string refused;   // why it is not served; "" = served
};

// Where a page of active requests starts: after this (client, id), in (client, id) order.
struct RequestKey {
  uint64_t client = 0;
  int64_t id = 0;
  bool operator==(const RequestKey&) const = default;
  bool operator<(const RequestKey& o) const { return client != o.client ? client < o.client : id < o.id; }
};

// A page of the active requests a caller may see, in (client, id) order (Policy::requests).
struct RequestPage {
  std::vector<ActiveRequest> requests;
  size_t total = 0;                // every visible request, on this page or not
  std::optional<RequestKey> next;  // set when more follow: pass it as `after`
};

// The state as a summary: counts, not per-request lists (those are Policy::requests), so that its
// cost does not grow with the number of held requests.
struct Status {
  size_t active_requests = 0;
  Clocks applied;
  bool holding = false;
  bool enabled = true;
  std::map<std::string, ModelInfo> models;
  std::map<std::string, calibrate::CalibrationState> calibration;
  Counters counters;
  // Ends with a measured latency by model label (at most kMaxModelLabels names, then kOtherModel).
  std::map<std::string, Outcomes> outcomes;
  // The last refused write ("release: gpu: Failed (...)"), until a later write succeeds; "" if none.
  std::string hardware_fault;
};

class Policy {
 public:
  Policy(Options options, Actuator& actuator, calibrate::CalibratorOptions calibration = {},
         Planner planner = greedy_planner());

  // Atomic swap on reload; active holds keep their clocks. `refused`: models not served (name -> why),
  // shown in status and named when a request asks for one. Calibration buckets of models no longer
  // served are kept, bounded (CalibratorOptions::max_stale_buckets).
  void set_models(ModelSet models, std::map<std::string, std::string> refused = {});
  void set_options(const Options& options) { o_ = options; }
  const Options& options() const { return o_; }
  const ModelSet& models() const { return models_; }

  BeginResult begin(uint64_t client, const BeginRequest& request, TimeMs now);
  EndResult end(uint64_t client, const EndRequest& request, TimeMs now);
  Status status(TimeMs now) const;
  // The active requests of the clients `visible` admits, after `after`, at most `limit` of them.
  RequestPage requests(TimeMs now, const std::function<bool(uint64_t client)>& visible,
                       std::optional<RequestKey> after, size_t limit) const;

  void disconnect(uint64_t client, TimeMs now);
  // Releases expired requests and applies the idle policy once the board has been idle long enough.
  void advance(TimeMs now);
  // When advance() has something to do next: a request's expiry or the end of the idle delay.
  std::optional<TimeMs> next_wake() const;

  // Release every hold and leave the board as the idle policy says (restore on shutdown).
  void release_all(bool restore_baseline);

  // Operator switch (D-Bus SetEnabled): disabling releases every hold and restores the baseline;
  // until re-enabled, begin is refused with "disabled". Enabling changes no clocks.
  void set_enabled(bool enabled);
  bool enabled() const { return enabled_; }
  size_t active_requests() const { return arbiter_.holds().size(); }
  size_t active_requests(uint64_t client) const { return arbiter_.count(client); }

  const Clocks& applied() const { return applied_; }
  bool holding() const { return holding_; }
  Counters counters() const;                     // with the decision memo's hits and misses
  void count_rejected() { ++counters_.errors; }  // requests refused before they reached the policy

  calibrate::Calibrator& calibrator() { return calibrator_; }
  const calibrate::Calibrator& calibrator() const { return calibrator_; }
  // After the actuator's grid or limits changed (a reload): later requests plan on the new grid,
  // and the current holds are re-applied within it.
  void reapply_now(TimeMs now);

 private:
  // Whether calibration has confirmed a bucket's model: it saw enough measured latencies to know
  // their scatter (the calibrator's min_noise_samples).
  bool confirmed(const std::string& calibration_key) const;
  void reapply(TimeMs now);
  void apply_idle();
  void restore();             // the baseline, if we hold clocks
  void set(const Clocks& c);  // write c unless it is what we hold
  BeginResult refuse(int64_t id, std::string why);
  // Runs a write outside begin (a release, an expiry, the idle policy, a reload, a restore). A
  // refusal is logged and counted, never thrown: the board layer has already taken the failing domain
  // out of the grid, and flamed keeps serving the others (docs/reliability.md).
  void guarded(const char* what, const std::function<void()>& write);
  void record_fault(const char* what, const std::string& message);

  Options o_;
  Actuator& actuator_;
  Planner planner_;
  calibrate::Calibrator calibrator_;
  ModelSet models_;
  std::map<std::string, std::string> refused_;
  Arbiter arbiter_;
  Clocks applied_{};
  Clocks target_{};                // last target written (applied_ is what the board accepted)
  bool holding_ = false;           // clocks currently set by us (false: baseline or never touched)
  std::optional<TimeMs> idle_at_;  // when the idle policy applies, if nothing begins before
  bool enabled_ = true;
  Counters counters_;
  std::string hardware_fault_;
  OutcomeCounter outcomes_;
  DecisionMemo decisions_;
};

}  // namespace flame::policy
