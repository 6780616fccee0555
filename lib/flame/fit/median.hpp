#pragma once
// The median of a sample (the mean of the two middle values for an even count; 0 when empty): the
// robust summary the readers, fits and validations use for repeated measurements.
#include <algorithm>
#include <vector>

namespace flame::fit {

inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace flame::fit
