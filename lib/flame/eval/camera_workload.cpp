#include "flame/eval/camera_workload.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "flame/sim/rng.hpp"

namespace flame::eval {

double fastest_median_ms(const sim::ModelTruth& truth, const sim::SimClocks& top, double noise_scale) {
  sim::Rng rng(1);
  std::vector<double> l;
  for (int i = 0; i < 101; ++i) {
    sim::TruthDraw d;
    d.z_latency = rng.normal();
    d.z_power = rng.normal();
    d.scale = noise_scale;
    l.push_back(truth.sample(top, d).latency_ms);
  }
  std::nth_element(l.begin(), l.begin() + 50, l.end());
  return l[50];
}

CameraClass camera_class(const std::string& name) {
  if (name == "tight") return {name, 1.5};
  if (name == "loose") return {name, 2.5};
  throw std::invalid_argument("camera class '" + name + "': tight (1.5 x) or loose (2.5 x)");
}

sim::Workload camera_workload(const sim::ModelTruth& truth, const sim::SimClocks& top, double noise_scale,
                              const CameraClass& cls, std::uint64_t seed, int frames) {
  const double deadline_ms =
      std::round(cls.factor * fastest_median_ms(truth, top, noise_scale) * 1000) / 1000;
  sim::CameraSpec s;
  s.seed = seed;
  s.fps = 1000.0 / deadline_ms;
  s.frames = frames;
  s.infer_every = 1;
  s.jitter_ms = 0.5;
  s.model = truth.name();
  sim::Workload w = sim::generate_camera(s, "camera-" + cls.name + "-" + truth.name());
  return w;
}

}  // namespace flame::eval
