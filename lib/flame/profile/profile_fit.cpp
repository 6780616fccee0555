#include "flame/profile/profile_fit.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <stdexcept>

#include "flame/model/model_file.hpp"

namespace flame::profile {
namespace {

struct Sample {
  std::size_t step;
  model::ProfiledPoint point;
  const std::vector<std::string>* names;
};

std::vector<Sample> samples(const JournalHeader& h, std::span<const StepRecord> steps, std::size_t index) {
  if (steps.empty()) throw std::runtime_error("no profiled combinations to fit");
  std::vector<Sample> out;
  for (const auto& s : steps) {
    if (index >= s.workloads.size())
      throw std::runtime_error(fmt::format("step {} has no result for workload {}", s.step, index));
    const auto& w = s.workloads[index];
    // The clocks the hardware reported: what the command actually ran at. The power is the rails'
    // mean over the whole command (every workload of the step); a reading of 0 counts as none.
    std::optional<double> power_w;
    if (s.power_mw && *s.power_mw > 0) power_w = *s.power_mw / 1e3;
    out.push_back({s.step, {s.observed, w.trace_run.run, power_w}, &w.trace_run.names});
  }
  std::sort(out.begin(), out.end(), [](const Sample& a, const Sample& b) { return a.step < b.step; });
  const auto& first = out.front();
  for (const auto& s : out) {
    if (s.point.run.cpu_ns.size() != first.point.run.cpu_ns.size())
      throw std::runtime_error(
          fmt::format("{}: the trace of step {} has {} segments, the one of step {} has {}: the command must "
                      "run the same "
                      "model (same layers, same call order) at every combination",
                      workload_name(h.model, index < h.contexts.size() ? h.contexts[index] : 0), s.step,
                      s.point.run.cpu_ns.size(), first.step, first.point.run.cpu_ns.size()));
    for (std::size_t i = 0; i < s.names->size() && i < first.names->size(); ++i)
      if ((*s.names)[i] != (*first.names)[i])
        throw std::runtime_error(
            fmt::format("segment {} is '{}' in the trace of step {} and '{}' in step {}: the command must "
                        "run the same model at "
                        "every combination",
                        i, (*s.names)[i], s.step, (*first.names)[i], first.step));
  }
  return out;
}

std::vector<model::ProfiledPoint> points_of(const std::vector<Sample>& s, std::size_t skip) {
  std::vector<model::ProfiledPoint> p;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (i != skip) p.push_back(s[i].point);
  return p;
}

}  // namespace

std::string workload_name(const std::string& model, int ctx) {
  return ctx > 0 ? fmt::format("{}-ctx{}", model, ctx) : model;
}

WorkloadFit fit_workload(const JournalHeader& h, std::span<const StepRecord> steps, std::size_t index) {
  const auto s = samples(h, steps, index);
  WorkloadFit f;
  f.ctx = index < h.contexts.size() ? h.contexts[index] : 0;
  f.name = workload_name(h.model, f.ctx);
  f.points = s.size();
  f.model = fit_layerwise(points_of(s, s.size()), h.grid.emc_hz, *s.front().names);
  std::vector<Clocks> clocks;
  for (const auto& x : s) clocks.push_back(x.point.clocks);
  f.host_memory_term = model::host_memory_term_identifiable(clocks);
  std::vector<double> in, cv, power_in, power_cv;
  for (const auto& x : s) {
    const Estimate e = f.model.estimate(x.point.clocks);
    in.push_back(fit::ape_pct(e.latency_ms * 1e6, x.point.run.e2e_median_ns));
    if (f.model.power()) power_in.push_back(fit::ape_pct(e.power_w, *x.point.power_w));
  }
  f.in_sample = fit::summarize_ape(in);
  f.power_in_sample = fit::summarize_ape(power_in);
  // Leave-one-out needs at least two combinations left to fit the two clock domains from.
  if (s.size() >= 3) {
    for (std::size_t i = 0; i < s.size(); ++i) {
      const model::LayerwiseModel m = fit_layerwise(points_of(s, i), h.grid.emc_hz);
      const Estimate e = m.estimate(s[i].point.clocks);
      HeldBack b{s[i].step, s[i].point.clocks, s[i].point.run.e2e_median_ns, e.latency_ms * 1e6};
      cv.push_back(fit::ape_pct(b.predicted_ns, b.measured_ns));
      if (f.model.power() && m.power()) power_cv.push_back(fit::ape_pct(e.power_w, *s[i].point.power_w));
      f.held_back.push_back(b);
    }
  }
  f.cross_validated = fit::summarize_ape(cv);
  f.power_cross_validated = fit::summarize_ape(power_cv);
  return f;
}

std::string model_file_text(const WorkloadFit& f, const JournalHeader& h, const std::string& board) {
  const std::string cv =
      f.cross_validated.n > 0
          ? fmt::format("leave-one-out error on held-back combinations: mean {:.2f} %, max {:.2f} % (n = {})",
                        f.cross_validated.mean_ape_pct, f.cross_validated.max_ape_pct, f.cross_validated.n)
          : std::string("too few combinations for a cross-validated error");
  const std::string provenance = fmt::format(
      "Layer-wise model of '{}' fitted by `flame profile` from {} of {} clock combinations (budget {}, seed "
      "{}); "
      "{}; in-sample mean {:.2f} %. Command: {}",
      f.name, f.points, h.grid.cpu_khz.size() * h.grid.gpu_hz.size() * h.grid.emc_hz.size(), h.budget, h.seed,
      cv, f.in_sample.mean_ape_pct, fmt::join(h.command, " "));
  const std::string power =
      !f.model.power() ? std::string(" No power model: not every combination has a rail power sample.")
      : f.power_cross_validated.n > 0
          ? fmt::format(" Power: leave-one-out error mean {:.2f} %, max {:.2f} %; in-sample mean {:.2f} %.",
                        f.power_cross_validated.mean_ape_pct, f.power_cross_validated.max_ape_pct,
                        f.power_in_sample.mean_ape_pct)
          : fmt::format(" Power: in-sample mean error {:.2f} %.", f.power_in_sample.mean_ape_pct);
  const std::string host =
      f.host_memory_term ? std::string()
                         : std::string(
                               " Host curves without the EMC term: the profiled clocks cannot separate it "
                               "(fewer than two CPU or EMC clocks, or varied together).");
  std::string text = layerwise_to_yaml(f.model, f.name, board, provenance + power + host);
  model::parse_model_file(text, f.name);  // never hand out a file the daemon could not load
  return text;
}

}  // namespace flame::profile
