#include "flame/model/baselines.hpp"

#include <algorithm>

namespace flame::model::baseline {

double scaled_e2e(double e2e_ref_ns, double cpu_ratio) {
  return e2e_ref_ns * cpu_ratio;
}

double max_of_sums(std::span<const double> cpu_ns, std::span<const double> gpu_ns, double cpu_ratio) {
  double c = 0, g = 0;
  for (double x : cpu_ns) c += x * cpu_ratio;
  for (double x : gpu_ns) g += x;
  return std::max(c, g);
}

double sum_of_max(std::span<const double> cpu_ns, std::span<const double> gpu_ns, double cpu_ratio) {
  double s = 0;
  const size_t n = std::min(cpu_ns.size(), gpu_ns.size());
  for (size_t i = 0; i < n; ++i) s += std::max(cpu_ns[i] * cpu_ratio, gpu_ns[i]);
  return s;
}

}  // namespace flame::model::baseline
