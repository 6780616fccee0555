#include "flame/profile/profile_fit.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>

#include "flame/features/curve_prior.hpp"
#include "flame/model/model_file.hpp"
#include "flame/model/slm_model_file.hpp"

namespace flame::profile {
namespace {

struct Sample {
  std::size_t step;
  model::ProfiledPoint point;
  const std::vector<std::string>* names;
  const WorkloadResult* workload;
};

// Every step's result, in step order, each with the clocks the hardware reported (what the command
// actually ran at) and the rails' mean power (a reading of 0 counts as none).
std::vector<Sample> samples(std::span<const StepRecord> steps) {
  if (steps.empty()) throw std::runtime_error("no profiled combinations to fit");
  std::vector<Sample> out;
  for (const auto& s : steps) {
    if (s.workloads.size() != 1)
      throw std::runtime_error(
          fmt::format("step {} has {} traces, expected one", s.step, s.workloads.size()));
    const auto& w = s.workloads.front();
    std::optional<double> power_w;
    if (s.power_mw && *s.power_mw > 0) power_w = *s.power_mw / 1e3;
    out.push_back({s.step, {s.observed, w.trace_run.run, power_w}, &w.trace_run.names, &w});
  }
  std::sort(out.begin(), out.end(), [](const Sample& a, const Sample& b) { return a.step < b.step; });
  return out;
}

// The traces of one model (one phase of an SLM) must share one segment structure.
void check_structure(const std::string& what, std::span<const Sample* const> s) {
  const Sample& first = *s.front();
  for (const Sample* x : s) {
    if (x->point.run.cpu_ns.size() != first.point.run.cpu_ns.size())
      throw std::runtime_error(
          fmt::format("{}: the trace of step {} has {} segments, the one of step {} has {}: the command must "
                      "run the same "
                      "model (same layers, same call order) at every combination",
                      what, x->step, x->point.run.cpu_ns.size(), first.step, first.point.run.cpu_ns.size()));
    for (std::size_t i = 0; i < x->names->size() && i < first.names->size(); ++i)
      if ((*x->names)[i] != (*first.names)[i])
        throw std::runtime_error(fmt::format(
            "{}: segment {} is '{}' in the trace of step {} and '{}' in step {}: the command must "
            "run the same model at every combination",
            what, i, (*x->names)[i], x->step, (*first.names)[i], first.step));
  }
}

// The segments' traits as the first trace gives them (every trace has the same structure); empty when
// its journal predates them.
std::vector<model::SegmentTraits> traits_of(const std::vector<Sample>& s) {
  const auto& t = s.front().workload->trace_run.traits;
  return t.size() == s.front().names->size() ? t : std::vector<model::SegmentTraits>{};
}

std::vector<model::ProfiledPoint> points_of(const std::vector<Sample>& s, std::size_t skip) {
  std::vector<model::ProfiledPoint> p;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (i != skip) p.push_back(s[i].point);
  return p;
}

// In-sample and leave-one-out errors of a model kind: `predict(skip, i)` is step i's estimate by the
// model fitted without step `skip` (skip = none: the full model), or nothing when that fit is not
// possible.
template <typename Predict>
FitQuality quality(const std::vector<Sample>& s, bool power, Predict predict) {
  constexpr std::size_t none = static_cast<std::size_t>(-1);
  FitQuality q;
  q.points = s.size();
  std::vector<double> in, cv, power_in, power_cv;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const Estimate e = *predict(none, i);
    in.push_back(fit::ape_pct(e.latency_ms * 1e6, s[i].point.run.e2e_median_ns));
    if (power) power_in.push_back(fit::ape_pct(e.power_w, *s[i].point.power_w));
  }
  // Leave-one-out needs at least two combinations left to fit the two clock domains from.
  if (s.size() >= 3) {
    for (std::size_t i = 0; i < s.size(); ++i) {
      const std::optional<Estimate> e = predict(i, i);
      if (!e) continue;
      const auto& w = *s[i].workload;
      HeldBack b{s[i].step,          s[i].point.clocks, w.phase, w.ctx, s[i].point.run.e2e_median_ns,
                 e->latency_ms * 1e6};
      cv.push_back(fit::ape_pct(b.predicted_ns, b.measured_ns));
      if (power && e->power_w > 0) power_cv.push_back(fit::ape_pct(e->power_w, *s[i].point.power_w));
      q.held_back.push_back(b);
    }
  }
  q.in_sample = fit::summarize_ape(in);
  q.cross_validated = fit::summarize_ape(cv);
  q.power_in_sample = fit::summarize_ape(power_in);
  q.power_cross_validated = fit::summarize_ape(power_cv);
  return q;
}

std::string quality_text(const std::string& kind, const std::string& name, const FitQuality& q,
                         const JournalHeader& h, bool power) {
  const std::string cv =
      q.cross_validated.n > 0
          ? fmt::format("leave-one-out error on held-back combinations: mean {:.2f} %, max {:.2f} % (n = {})",
                        q.cross_validated.mean_ape_pct, q.cross_validated.max_ape_pct, q.cross_validated.n)
          : std::string("too few combinations for a cross-validated error");
  const std::string text = fmt::format(
      "{} of '{}' fitted by `flame profile` from {} of {} clock combinations (budget {}, seed {}); {}; "
      "in-sample "
      "mean {:.2f} %. Command: {}",
      kind, name, q.points, h.grid.cpu_khz.size() * h.grid.gpu_hz.size() * h.grid.emc_hz.size(), h.budget,
      h.seed, cv, q.in_sample.mean_ape_pct, fmt::join(h.command, " "));
  const std::string p =
      !power ? std::string(" No power model: not every combination has a rail power sample.")
      : q.power_cross_validated.n > 0
          ? fmt::format(" Power: leave-one-out error mean {:.2f} %, max {:.2f} %; in-sample mean {:.2f} %.",
                        q.power_cross_validated.mean_ape_pct, q.power_cross_validated.max_ape_pct,
                        q.power_in_sample.mean_ape_pct)
          : fmt::format(" Power: in-sample mean error {:.2f} %.", q.power_in_sample.mean_ape_pct);
  return text + p;
}

}  // namespace

WorkloadFit fit_workload(const JournalHeader& h, std::span<const StepRecord> steps) {
  const auto s = samples(steps);
  std::vector<const Sample*> all;
  for (const auto& x : s) all.push_back(&x);
  check_structure(h.model, all);
  WorkloadFit f;
  f.name = h.model;
  f.model = fit_layerwise(points_of(s, s.size()), h.grid.emc_hz, *s.front().names);
  std::vector<Clocks> clocks;
  for (const auto& x : s) clocks.push_back(x.point.clocks);
  f.host_memory_term = model::host_memory_term_identifiable(clocks);
  f.extras.traits = traits_of(s);
  const bool power = f.model.power().has_value();
  f.quality = quality(s, power, [&](std::size_t skip, std::size_t i) -> std::optional<Estimate> {
    if (skip >= s.size()) return f.model.estimate(s[i].point.clocks);
    const model::LayerwiseModel m = fit_layerwise(points_of(s, skip), h.grid.emc_hz);
    Estimate e = m.estimate(s[i].point.clocks);
    if (!m.power()) e.power_w = 0;
    return e;
  });
  return f;
}

WorkloadFit derive_workload(const JournalHeader& h, std::span<const StepRecord> steps,
                            const features::PriorDir& prior, const std::string& prior_name) {
  const auto s = samples(steps);
  if (s.size() != 1)
    throw std::runtime_error(
        fmt::format("a derived model comes from one profiled combination, the journal has {}", s.size()));
  if (!prior.prior)
    throw std::runtime_error(fmt::format("the prior {} has no model to learn from", prior_name));
  const Sample& one = s.front();
  const auto traits = traits_of(s);
  std::vector<model::Segment> segments;
  for (std::size_t i = 0; i < one.names->size(); ++i)
    segments.push_back(
        model::segment_at(i, (*one.names)[i], i < traits.size() ? traits[i] : model::SegmentTraits{}));
  model::LayerwiseModel m =
      features::derive_layerwise(one.point.run, segments, one.point.clocks, *prior.prior, *one.names);
  // The board's power: the prior models' busy power forms averaged (power is linear in the weights,
  // so the mean of forms with one reference is a form), driven by this model's own busy shares and
  // scaled to its one rail sample. Forms with another reference (other top clocks) are left out.
  if (one.point.power_w && !prior.power.empty()) {
    const model::BusyPowerModel& first = prior.power.front();
    std::map<model::BusyTerm, double> mean;
    std::size_t n = 0;
    for (const auto& p : prior.power) {
      const auto& a = p.reference();
      const auto& b = first.reference();
      if (a.cpu_khz != b.cpu_khz || a.gpu_hz != b.gpu_hz || a.emc_hz != b.emc_hz || a.cores != b.cores)
        continue;
      ++n;
      for (std::size_t t = 0; t < p.terms().size(); ++t) mean[p.terms()[t]] += p.weights()[t];
    }
    std::vector<model::BusyTerm> terms;
    std::vector<double> weights;
    for (const auto& [t, w] : mean) {
      terms.push_back(t);
      weights.push_back(w / static_cast<double>(n));
    }
    model::BusyPowerModel avg(first.reference(), terms, weights);
    const double scale = *one.point.power_w / avg.power_w(one.point.clocks, m.busy(one.point.clocks));
    for (double& x : weights) x *= scale;
    m = model::LayerwiseModel(m.names(), m.cpu_curves(), m.gpu_curves(), m.costs(),
                              model::BusyPowerModel(first.reference(), std::move(terms), std::move(weights)));
  }
  WorkloadFit f;
  f.name = h.model;
  f.model = std::move(m);
  f.host_memory_term = true;
  f.extras.traits = traits;
  f.extras.derived = model::Derivation{prior_name, prior.models, 1};
  const bool power = f.model.power().has_value();
  f.quality = quality(s, power, [&](std::size_t, std::size_t i) -> std::optional<Estimate> {
    return f.model.estimate(s[i].point.clocks);
  });
  return f;
}

namespace {

// Whether the SLM plan's design still holds without run `skip`: its EMC level is sampled by another
// run of its phase, and its context is still seen at two GPU clocks. A run the design needs is not
// held back: without it the fit would extrapolate by construction, not by the model's error.
bool coverable_without(const std::vector<Sample>& s, std::size_t skip) {
  const auto& held = s[skip];
  bool emc = false;
  std::set<double> gpu;
  for (std::size_t j = 0; j < s.size(); ++j) {
    if (j == skip || s[j].workload->phase != held.workload->phase) continue;
    emc = emc || s[j].point.clocks.emc_hz == held.point.clocks.emc_hz;
    if (s[j].workload->ctx == held.workload->ctx) gpu.insert(s[j].point.clocks.gpu_hz);
  }
  return emc && gpu.size() >= 2;
}

std::vector<model::SlmPoint> slm_points(const std::vector<Sample>& s, std::size_t skip) {
  std::vector<model::SlmPoint> out;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (i != skip)
      out.push_back({*model::parse_context_phase(s[i].workload->phase), s[i].workload->ctx, s[i].point});
  return out;
}

}  // namespace

SlmFit fit_slm_workloads(const JournalHeader& h, std::span<const StepRecord> steps) {
  const auto s = samples(steps);
  std::map<model::ContextPhase, std::vector<const Sample*>> by_phase;
  for (const auto& x : s) {
    const auto phase = model::parse_context_phase(x.workload->phase);
    if (!phase || x.workload->ctx <= 0)
      throw std::runtime_error(fmt::format("step {} has no SLM phase and context length", x.step));
    by_phase[*phase].push_back(&x);
  }
  std::map<model::ContextPhase, std::vector<std::string>> names;
  for (const auto& [phase, xs] : by_phase) {
    check_structure(fmt::format("{} ({})", h.model, model::phase_name(phase)), xs);
    names[phase] = *xs.front()->names;
  }
  SlmFit f;
  f.name = h.model;
  try {
    f.model = model::fit_slm(slm_points(s, s.size()), h.grid.emc_hz, names);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(e.what());
  }
  const bool power = f.model.power().has_value();
  f.quality = quality(s, power, [&](std::size_t skip, std::size_t i) -> std::optional<Estimate> {
    const auto phase = *model::parse_context_phase(s[i].workload->phase);
    const int ctx = s[i].workload->ctx;
    if (skip >= s.size()) return f.model.estimate(s[i].point.clocks, phase, ctx);
    if (!coverable_without(s, skip)) return std::nullopt;
    try {
      const model::SlmModel m = model::fit_slm(slm_points(s, skip), h.grid.emc_hz);
      Estimate e = m.estimate(s[i].point.clocks, phase, ctx);
      if (!m.power()) e.power_w = 0;
      return e;
    } catch (const std::exception&) {
      return std::nullopt;  // without it a phase has too few contexts (or lost its phase): not held back
    }
  });
  return f;
}

std::string slm_model_file_text(const SlmFit& f, const JournalHeader& h, const std::string& board) {
  std::string phases;
  for (const auto& p : f.model.phases())
    phases += fmt::format(" {}: contexts {} (served 1 to {});", model::phase_name(p.phase),
                          fmt::join(p.contexts, ", "), p.max_context());
  const std::string provenance =
      quality_text("SLM model", f.name, f.quality, h, f.model.power().has_value()) + phases;
  std::string text = model::slm_to_yaml(f.model, f.name, board, provenance);
  model::parse_model_file(text, f.name);  // never hand out a file the daemon could not load
  return text;
}

std::string model_file_text(const WorkloadFit& f, const JournalHeader& h, const std::string& board) {
  const std::string host =
      f.host_memory_term ? std::string()
                         : std::string(
                               " Host curves without the EMC term: the profiled clocks cannot separate it "
                               "(fewer than two CPU or EMC clocks, or varied together).");
  std::string provenance;
  if (const auto& d = f.extras.derived) {
    provenance = fmt::format(
        "Layer-wise model of '{}' derived by `flame profile --prior` from one profiled clock combination and "
        "the curve shapes a prior of {} fully profiled models ({}) predicts from its layers' features "
        "(docs/feature-model.md); at that combination: error {:.2f} %{}. Its error elsewhere is not "
        "measured here: flamed serves it with a wider margin until calibration confirms it. Command: {}",
        f.name, d->models.size(), d->prior, f.quality.in_sample.mean_ape_pct,
        f.model.power() ? fmt::format(", power error {:.2f} %", f.quality.power_in_sample.mean_ape_pct)
                        : std::string(", no power model"),
        fmt::join(h.command, " "));
  } else {
    provenance = quality_text("Layer-wise model", f.name, f.quality, h, f.model.power().has_value()) + host;
  }
  std::string text = layerwise_to_yaml(f.model, f.name, board, provenance, f.extras);
  model::parse_model_file(text, f.name);  // never hand out a file the daemon could not load
  return text;
}

}  // namespace flame::profile
