#pragma once
// Device curves of an SLM's segments across context lengths (docs/context-model.md, "One model
// file per SLM"). For basis function k of the phase (context_basis.hpp) a device curve c_k, and at
// context length ctx
//                       t_gpu(f_gpu, f_emc, ctx) = sum_k phi_k(ctx) * c_k(f_gpu, f_emc).
// The constant term is a full GpuCurve (memory part tabulated per EMC level, work / f_gpu). The
// terms that grow with the context have memory / f_emc + work / f_gpu: two numbers each, so that a
// sparse (clocks x context) plan determines them; they are stored as GpuCurves too (the table then
// holds memory / f_emc at each level, which the 1/f_emc interpolation reproduces exactly).
// Every coefficient is fitted non-negative: time never falls as the context or a clock grows.
#include <span>
#include <vector>

#include "flame/clocks/clocks.hpp"
#include "flame/model/context_basis.hpp"
#include "flame/model/detail/segment_curves.hpp"

namespace flame::model {

struct ContextGpuCurve {
  std::vector<GpuCurve> terms;  // one per basis function, over the same EMC levels
  // The device curve at one context length.
  GpuCurve at(ContextPhase phase, double ctx) const;
};

struct ContextCurveSample {
  Clocks clocks;
  double ctx = 0;
  double ns = 0;
};

// emc_levels are the board's EMC points. With a single GPU clock among the samples the
// compute/memory split is unknown and every term is taken as GPU-clock scaling (as fit_gpu_curve).
ContextGpuCurve fit_context_gpu_curve(ContextPhase phase, std::span<const ContextCurveSample> samples,
                                      std::span<const double> emc_levels);

}  // namespace flame::model
