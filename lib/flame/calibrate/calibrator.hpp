#pragma once
// Online adaptation: per model (and per SLM phase/context bucket) a correction factor on the
// predicted latency, learned from the latencies applications report. An EWMA of measured /
// predicted, robust to outliers: a ratio far from the current factor is ignored unless several in
// a row agree (then the world changed and the factor jumps to their median).
#include <cmath>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace flame::calibrate {

struct CalibratorOptions {
  double alpha = 0.2;
  double outlier_ratio = 3.0;
  double min_factor = 0.5;
  double max_factor = 3.0;
  int regime_change_run = 5;  // consecutive same-side outliers that force a reset
  // Noise-aware margin: the planning margin is at least noise_z times the measured scatter of
  // measured / predicted (2.33: 99 % one-sided for Gaussian scatter), once min_noise_samples
  // ratios were seen; 0 = the fixed safety margin only.
  double noise_z = 2.33;
  int min_noise_samples = 8;
  // Buckets of models no longer served (re-profiled or removed) kept for when they come back; beyond
  // this many, the least recently observed go.
  size_t max_stale_buckets = 256;
};

struct CalibrationState {
  double factor = 1.0;
  long samples = 0;
  long rejected = 0;
  double last_ratio = 0;
  double variance = 0;          // EWMA of (ratio / factor - 1)^2: the run-to-run scatter
  std::vector<double> pending;  // current run of same-side outliers
  uint64_t seen = 0;            // when it was last observed, in observations of the whole calibrator
  double spread() const { return std::sqrt(variance); }
};

// One bucket as the state file and flamed's `status` show it: factor, samples, rejected,
// last_ratio, spread, seen (when it was last observed).
nlohmann::json to_json(const CalibrationState& s);

class Calibrator {
 public:
  explicit Calibrator(CalibratorOptions options = {});

  // New options (a reload); the learned buckets stay, their factors clamped into the new range.
  void set_options(const CalibratorOptions& options);
  const CalibratorOptions& options() const { return o_; }

  // Key of a model's calibration bucket: SLM contexts share a bucket per power of two. `model` is
  // the model's identity, model_id(name, digest): a re-profiled model starts uncalibrated.
  static std::string key(const std::string& model, const std::string& phase = {}, int ctx = 0);
  static std::string model_id(const std::string& name, const std::string& digest);

  // Keeps the buckets of the served models (their model_id) and at most max_stale_buckets others,
  // the most recently observed; returns the keys dropped.
  std::vector<std::string> retain(const std::vector<std::string>& served_ids);

  double factor(const std::string& key) const;
  // What the deadline is divided by before the search: factor x (1 + margin), the margin being the
  // larger of the fixed safety margin and noise_z x the measured scatter.
  double divisor(const std::string& key, double safety_margin_pct) const;
  // model_ms is the uncorrected model prediction for the run that took measured_ms. Returns true
  // when the observation moved the factor (false: ignored as an outlier or invalid).
  bool observe(const std::string& key, double model_ms, double measured_ms);

  const std::map<std::string, CalibrationState>& states() const { return states_; }
  void clear() { states_.clear(); }

  // The buckets, and under "set_aside" those a load could not use, so a save never loses them.
  nlohmann::json to_json() const;
  // Replaces the state bucket by bucket: a bucket that is malformed or does not fit the options
  // (a factor outside [min_factor, max_factor]) is set aside, kept as it was, and named in the
  // result; the others load. Set-aside buckets are tried again by the next load. Throws
  // std::runtime_error, changing nothing, only when the file's shape is wrong.
  std::vector<std::string> load_json(const nlohmann::json& j);
  const nlohmann::json& set_aside() const { return set_aside_; }

 private:
  CalibratorOptions o_;
  std::map<std::string, CalibrationState> states_;
  nlohmann::json set_aside_ = nlohmann::json::object();
  uint64_t observations_ = 0;
};

}  // namespace flame::calibrate
