#pragma once
// FLAME's layer-wise model of a small language model, both phases and every context length in one
// model (docs/context-model.md, "One model file per SLM"). Per phase: each segment's host curve
// (independent of the context length: the host launches the same kernels, only their sizes change)
// and its device curve across contexts (context_curves.hpp), and the timeline costs. At a request's
// phase and context the phase becomes an ordinary LayerwiseModel, aggregated through the
// launch-queue timeline with its bubbles; the busy power form is shared by both phases (it is the
// board's). Served contexts: 1 up to kContextExtrapolation times the largest profiled one; beyond
// that a request is refused rather than planned on a curve stretched too far.
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "flame/model/context_basis.hpp"
#include "flame/model/detail/context_curves.hpp"
#include "flame/model/latency_model.hpp"
#include "flame/model/layerwise_model.hpp"

namespace flame::model {

inline constexpr int kContextExtrapolation = 2;

struct SlmPhase {
  ContextPhase phase = ContextPhase::Decode;
  std::vector<std::string> names;
  std::vector<CpuCurve> cpu;
  std::vector<ContextGpuCurve> gpu;
  TimelineCosts costs;
  std::vector<int> contexts;  // profiled, ascending
  int max_context() const { return contexts.empty() ? 0 : kContextExtrapolation * contexts.back(); }
};

class SlmModel {
 public:
  SlmModel() = default;
  // Throws std::invalid_argument on an inconsistent phase (curve counts, EMC levels, terms,
  // negative or non-finite coefficients, no contexts) or a phase given twice.
  SlmModel(std::vector<SlmPhase> phases, std::optional<BusyPowerModel> power);
  // Copies and moves take the phases and power; the cache starts empty.
  SlmModel(const SlmModel& other);
  SlmModel(SlmModel&& other) noexcept;
  SlmModel& operator=(const SlmModel& other);
  SlmModel& operator=(SlmModel&& other) noexcept;
  ~SlmModel() = default;

  const std::vector<SlmPhase>& phases() const { return phases_; }
  const std::optional<BusyPowerModel>& power() const { return power_; }
  const SlmPhase* phase(ContextPhase p) const;

  // The phase at one context length as a layer-wise model (with the power model). Throws
  // std::out_of_range naming the served range when the phase is not in the model or ctx is
  // outside 1..max_context(). Kept in a small cache: a chat asks for neighbouring contexts.
  std::shared_ptr<const LayerwiseModel> at(ContextPhase p, int ctx) const;
  Estimate estimate(const Clocks& clocks, ContextPhase p, int ctx) const;

 private:
  std::vector<SlmPhase> phases_;
  std::optional<BusyPowerModel> power_;
  mutable std::mutex cache_mutex_;
  mutable std::map<std::pair<ContextPhase, int>, std::shared_ptr<const LayerwiseModel>> cache_;
};

// One profiled run of one phase at one context length and clock combination.
struct SlmPoint {
  ContextPhase phase = ContextPhase::Decode;
  int ctx = 0;
  ProfiledPoint point;
};

// Fits every phase present in `points`: host curves from all of that phase's runs, device curves
// across contexts by NNLS (fit_context_gpu_curve), timeline costs as fit_layerwise does. The power
// model is fitted from every run of both phases when every run has a power sample. `names` per
// phase (may be empty). Throws std::invalid_argument when a phase's runs do not share one segment
// structure or a phase has fewer profiled contexts than its basis functions.
SlmModel fit_slm(std::span<const SlmPoint> points, std::span<const double> emc_levels,
                 const std::map<ContextPhase, std::vector<std::string>>& names = {});

// What flamed serves: every request names its phase and context length.
class SlmLatencyModel : public LatencyModel {
 public:
  explicit SlmLatencyModel(SlmModel m) : m_(std::move(m)) {}
  Estimate estimate(const Clocks& clocks, const Workload& w) const override;
  bool needs_workload() const override { return true; }
  std::string kind() const override { return "slm"; }
  const SlmModel& slm() const { return m_; }

 private:
  SlmModel m_;
};

}  // namespace flame::model
