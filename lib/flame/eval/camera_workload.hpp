#pragma once
// The camera workloads of the live layer-level boards (docs/workloads.md, "Camera streams on the live
// layer boards"): one configuration, each frame inferred and due before the next one arrives, with the
// deadline a stated multiple of the board's fastest-clock median latency.
#include <cstdint>
#include <string>

#include "flame/sim/model_truth.hpp"
#include "flame/sim/workload.hpp"

namespace flame::eval {

// The median latency at `top` over 101 replays with the board's noise (`noise_scale`), seed 1.
double fastest_median_ms(const sim::ModelTruth& truth, const sim::SimClocks& top, double noise_scale);

struct CameraClass {
  std::string name;  // "tight" (1.5 x) or "loose" (2.5 x)
  double factor = 1.5;
};
// "tight" or "loose"; throws std::invalid_argument otherwise.
CameraClass camera_class(const std::string& name);

// 300 frames, period = deadline = factor x the fastest median, jitter 0.5 ms, seeded.
sim::Workload camera_workload(const sim::ModelTruth& truth, const sim::SimClocks& top, double noise_scale,
                              const CameraClass& cls, std::uint64_t seed, int frames = 300);

}  // namespace flame::eval
