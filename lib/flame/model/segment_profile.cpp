#include "flame/model/segment_profile.hpp"

namespace flame::model {

double SegmentProfile::total_cpu_ns() const {
  double s = 0;
  for (const auto& seg : segments) s += seg.cpu_ns;
  return s;
}

double SegmentProfile::total_gpu_ns() const {
  double s = 0;
  for (const auto& seg : segments) s += seg.gpu_ns;
  return s;
}

int SegmentProfile::total_kernels() const {
  int n = 0;
  for (const auto& seg : segments) n += seg.n_kernels;
  return n;
}

}  // namespace flame::model
