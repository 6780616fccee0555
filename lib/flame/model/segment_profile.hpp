#pragma once
// One inference split into the ordered segments the host executes: leaf-layer calls and the
// glue between them. Each segment has a host (CPU) side that launches work and a device (GPU)
// side that executes it; the timeline couples the two.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace flame::model {

enum class SegmentKind { Glue, Call };

// Counter-like features of a layer call, used to generalise to unprofiled layers.
struct SegmentFeatures {
  double macs = 0;         // multiply-accumulates (Linear/Conv; 0 where unknown)
  double flops = 0;        // where a profiler reported them
  double bytes_in = 0;     // activations read
  double bytes_out = 0;    // activations written
  double param_bytes = 0;  // weights read
  bool operator==(const SegmentFeatures&) const = default;
};

struct Segment {
  SegmentKind kind = SegmentKind::Glue;
  std::string name;   // module path for calls, empty for glue
  std::string type;   // module class for calls (Conv2d, Linear, ...)
  double cpu_ns = 0;  // host span: dispatch and kernel launches
  double gpu_ns = 0;  // device time of the kernels/memcpys/memsets this span launched
  int n_kernels = 0;
  std::optional<SegmentFeatures> features;
};

// What a segment is, apart from its name and times: kept in profile journals and model files, so
// that models profiled in full can teach the curves of new ones (features/curve_prior.hpp).
struct SegmentTraits {
  std::string type;
  int n_kernels = 0;
  std::optional<SegmentFeatures> features;
  bool operator==(const SegmentTraits&) const = default;
};
inline SegmentTraits traits_of(const Segment& s) {
  return {s.type, s.n_kernels, s.features};
}
// Segment i of a model: glue at even positions, calls at odd ones (docs/trace-format.md).
Segment segment_at(std::size_t i, std::string name, const SegmentTraits& t);

struct SegmentProfile {
  std::string tag;
  std::vector<Segment> segments;
  double sync_ns = 0;  // host time in the final synchronize at the profiled clocks

  double total_cpu_ns() const;
  double total_gpu_ns() const;
  int total_kernels() const;
};

}  // namespace flame::model
