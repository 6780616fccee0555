#pragma once
// Absolute percentage error summaries used by every validation report.
#include <nlohmann/json.hpp>
#include <vector>

namespace flame::fit {

struct ErrorStats {
  double mean_ape_pct = 0;
  double p95_ape_pct = 0;
  double max_ape_pct = 0;
  int n = 0;
};

double ape_pct(double predicted, double measured);
ErrorStats summarize_ape(const std::vector<double>& ape_pct_values);
// The JSON shape every validation report uses: {mean_ape_pct, p95_ape_pct, max_ape_pct, n}.
nlohmann::json stats_json(const ErrorStats& s);

}  // namespace flame::fit
