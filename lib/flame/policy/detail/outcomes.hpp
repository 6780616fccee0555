#pragma once
// What ended requests came to, counted per model for flamed's metrics (docs/config.md, "Metrics"):
// deadlines met and missed, latency over deadline and the prediction's relative error as
// Prometheus-style histograms. Pure counting: the values come in as parameters.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace flame::policy {

// Counts per bucket with fixed upper bounds, plus one bucket above the last bound (+Inf).
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double value);  // NaN is not observed (it has no bucket and would poison the sum)
  const std::vector<double>& bounds() const { return bounds_; }
  // Observations <= bounds()[i]; i == bounds().size() is the +Inf bucket (= count()).
  uint64_t cumulative(size_t i) const;
  uint64_t count() const { return count_; }
  double sum() const { return sum_; }

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative; the last is above every bound
  uint64_t count_ = 0;
  double sum_ = 0;
};

// measured latency / deadline: 1 is the deadline; the bounds around it tell near misses from
// far ones and the slack of met deadlines.
inline const std::vector<double> kLatencyDeadlineBounds{0.25, 0.5, 0.75, 0.9, 1, 1.1, 1.5, 2};
// |measured - predicted| / measured: the safety margin (5 % by default) sits among these.
inline const std::vector<double> kPredictionErrorBounds{0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1};

struct Outcomes {
  uint64_t met = 0, missed = 0;
  Histogram latency_deadline{kLatencyDeadlineBounds};
  Histogram prediction_error{kPredictionErrorBounds};
};

// Every model a label would make each of its series a new time series in Prometheus: the first
// kMaxModelLabels models to end with a latency keep their name, later ones share kOtherModel.
inline constexpr size_t kMaxModelLabels = 32;
inline constexpr const char* kOtherModel = "other";

class OutcomeCounter {
 public:
  // An end with a measured latency (ms, > 0) of a request on `model` with its deadline and prediction.
  void record(const std::string& model, double deadline_ms, double predicted_ms, double latency_ms);
  // By label: a model name or kOtherModel.
  const std::map<std::string, Outcomes>& by_model() const { return by_model_; }

 private:
  std::map<std::string, Outcomes> by_model_;
};

}  // namespace flame::policy
