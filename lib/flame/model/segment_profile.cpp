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

namespace flame::model {

Segment segment_at(std::size_t i, std::string name, const SegmentTraits& t) {
  Segment s;
  s.kind = i % 2 ? SegmentKind::Call : SegmentKind::Glue;
  s.name = std::move(name);
  s.type = t.type;
  s.n_kernels = t.n_kernels;
  s.features = t.features;
  return s;
}

}  // namespace flame::model
