#include "flame/policy/detail/outcomes.hpp"

#include <algorithm>
#include <cmath>

namespace flame::policy {

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1) {}

void Histogram::observe(double value) {
  if (std::isnan(value)) return;
  // Buckets are upper-inclusive (Prometheus `le`): the first bound >= value.
  const auto at = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  ++counts_[size_t(at)];
  ++count_;
  sum_ += value;
}

uint64_t Histogram::cumulative(size_t i) const {
  uint64_t n = 0;
  for (size_t k = 0; k <= i && k < counts_.size(); ++k) n += counts_[k];
  return n;
}

void OutcomeCounter::record(const std::string& model, double deadline_ms, double predicted_ms,
                            double latency_ms) {
  // Labels are never reassigned: a series that changed meaning would break its counters' rates.
  auto it = by_model_.find(model);
  if (it == by_model_.end()) {
    const bool has_other = by_model_.count(kOtherModel) != 0;
    const size_t named = by_model_.size() - (has_other ? 1 : 0);
    it = by_model_.try_emplace(named < kMaxModelLabels ? model : std::string(kOtherModel)).first;
  }
  Outcomes& o = it->second;
  if (latency_ms <= deadline_ms)
    ++o.met;
  else
    ++o.missed;
  o.latency_deadline.observe(latency_ms / deadline_ms);
  o.prediction_error.observe(std::abs(latency_ms - predicted_ms) / latency_ms);
}

}  // namespace flame::policy
