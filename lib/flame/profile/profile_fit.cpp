#include "flame/profile/profile_fit.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "flame/model/model_file.hpp"

namespace flame::profile {
namespace {

struct Sample {
  std::size_t step;
  ProfiledPoint point;
  const std::vector<std::string>* names;
};

std::vector<Sample> samples(const JournalHeader& h, std::span<const StepRecord> steps, std::size_t index) {
  if (steps.empty()) throw std::runtime_error("no profiled combinations to fit");
  std::vector<Sample> out;
  for (const auto& s : steps) {
    if (index >= s.workloads.size())
      throw std::runtime_error(fmt::format("step {} has no result for workload {}", s.step, index));
    const auto& w = s.workloads[index];
    // The clocks the hardware reported: what the command actually ran at.
    out.push_back({s.step, {s.observed, w.trace_run.run}, &w.trace_run.names});
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

std::vector<ProfiledPoint> points_of(const std::vector<Sample>& s, std::size_t skip) {
  std::vector<ProfiledPoint> p;
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
  std::vector<double> in, cv;
  for (const auto& x : s)
    in.push_back(ape_pct(f.model.latency_ns(x.point.clocks), x.point.run.e2e_median_ns));
  f.in_sample = summarize_ape(in);
  // Leave-one-out needs at least two combinations left to fit the two clock domains from.
  if (s.size() >= 3) {
    for (std::size_t i = 0; i < s.size(); ++i) {
      const LayerwiseModel m = fit_layerwise(points_of(s, i), h.grid.emc_hz);
      HeldBack b{s[i].step, s[i].point.clocks, s[i].point.run.e2e_median_ns, m.latency_ns(s[i].point.clocks)};
      cv.push_back(ape_pct(b.predicted_ns, b.measured_ns));
      f.held_back.push_back(b);
    }
  }
  f.cross_validated = summarize_ape(cv);
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
  std::string text = layerwise_to_yaml(f.model, f.name, board, provenance);
  parse_model_file(text, f.name);  // never hand out a file the daemon could not load
  return text;
}

}  // namespace flame::profile
