#include "flame/fit/error_stats.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace flame::fit {

double ape_pct(double predicted, double measured) {
  return measured != 0 ? std::abs(predicted - measured) / std::abs(measured) * 100.0 : 0.0;
}

ErrorStats summarize_ape(const std::vector<double>& v) {
  ErrorStats s;
  s.n = static_cast<int>(v.size());
  if (v.empty()) return s;
  std::vector<double> sorted = v;
  std::sort(sorted.begin(), sorted.end());
  s.mean_ape_pct = std::accumulate(sorted.begin(), sorted.end(), 0.0) / sorted.size();
  s.max_ape_pct = sorted.back();
  // Nearest-rank percentile: the smallest value with at least 95 % of the samples at or below it.
  const size_t rank = static_cast<size_t>(std::ceil(0.95 * sorted.size()));
  s.p95_ape_pct = sorted[std::max<size_t>(rank, 1) - 1];
  return s;
}

nlohmann::json stats_json(const ErrorStats& s) {
  return {{"mean_ape_pct", s.mean_ape_pct},
          {"p95_ape_pct", s.p95_ape_pct},
          {"max_ape_pct", s.max_ape_pct},
          {"n", s.n}};
}

}  // namespace flame::fit
