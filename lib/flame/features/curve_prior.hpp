#pragma once
// Frequency curves of segments that were profiled at one clock combination only, from their layers'
// features (docs/feature-model.md, "Curves from one profiled point"). A model profiled in full gives,
// per segment, the *shape* of its curves: which share of its time at the reference clocks is fixed,
// scales with the CPU clock or with the EMC clock (host), and scales with the GPU clock or sits in the
// memory part at each EMC level (device). A prior learns shape from features over the segments of
// several fully profiled models; a new model's segment then gets the shape its features predict,
// scaled by the time measured for it at the reference clocks. The mapping is k-nearest-neighbour
// regression in a standardised feature space (log MACs, log bytes moved, arithmetic intensity,
// kernels, whether features are known), neighbours weighted by inverse distance and by how much
// time they carry: it pools many segments of many models, never one model's copy.
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "flame/clocks/clocks.hpp"
#include "flame/model/layerwise_model.hpp"
#include "flame/model/segment_profile.hpp"

namespace flame::features {

// A segment's curves as shares of its time at the reference clocks.
struct CurveShape {
  double host_fixed = 0, host_work = 1, host_memory = 0;  // sum to 1
  double device_work = 1;                                 // the GPU-clock share
  std::vector<double> device_memory;                      // per EMC level; the top level's is 1 - device_work
};

// The shape of one fitted segment at the reference clocks `ref` (top CPU, GPU and EMC clocks).
// Segments that take no time at `ref` on a side get that side's default shape.
CurveShape shape_of(const model::CpuCurve& cpu, const model::GpuCurve& gpu, const Clocks& ref);

struct ShapeSample {
  model::Segment segment;  // its kind, type, kernels and features
  CurveShape shape;
  double weight = 1;  // its time at the reference clocks, ns
};

struct PriorOptions {
  int neighbours = 64;
};

class CurvePrior {
 public:
  // Throws std::invalid_argument without samples or when their EMC level counts differ.
  CurvePrior(std::vector<ShapeSample> samples, std::vector<double> emc_levels, PriorOptions options = {});
  CurveShape predict(const model::Segment& s) const;
  const std::vector<double>& emc_levels() const { return emc_; }
  std::size_t samples() const { return samples_.size(); }

 private:
  std::vector<ShapeSample> samples_;
  std::vector<std::vector<double>> x_;  // standardised features per sample
  std::vector<double> mean_, scale_;
  std::vector<double> emc_;
  PriorOptions o_;
  std::vector<double> features(const model::Segment& s) const;  // raw
};

// The shapes of a fully profiled model's segments, for a prior (segments: its profile's structure,
// in the model's segment order).
std::vector<ShapeSample> shape_samples(const model::LayerwiseModel& m,
                                       std::span<const model::Segment> segments, const Clocks& ref);

// A layer-wise model from one profiled run at the reference clocks `ref`: every segment's curves
// are the prior's shape for its features scaled by its measured host span and device time; the
// timeline costs are that run's calibration.
model::LayerwiseModel derive_layerwise(const model::ProfiledRun& run,
                                       std::span<const model::Segment> segments, const Clocks& ref,
                                       const CurvePrior& prior, std::vector<std::string> names = {});

}  // namespace flame::features
