#include "flame/profile/detail/trace_run.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "flame/fit/median.hpp"

namespace flame::profile {
TraceRun trace_run(const trace::TraceSummary& s) {
  if (s.profile.segments.empty() || s.per_iteration.empty())
    throw std::runtime_error(fmt::format("{}: the trace has no iterations or segments", s.source));
  TraceRun out;
  out.iterations = s.iterations();
  out.window = iterations_wall_window(s);
  for (const auto& seg : s.profile.segments) {
    out.names.push_back(seg.name);
    out.traits.push_back(model::traits_of(seg));
    out.run.cpu_ns.push_back(seg.cpu_ns);
    out.run.gpu_ns.push_back(seg.gpu_ns);
  }
  std::vector<double> e2e, drain;
  for (const auto& it : s.per_iteration) {
    e2e.push_back(static_cast<double>(it.end_to_end_ns));
    drain.push_back(static_cast<double>(it.drain_ns));
  }
  out.run.e2e_median_ns = fit::median(e2e);
  out.run.sync_ns = fit::median(drain);
  if (!(out.run.e2e_median_ns > 0))
    throw std::runtime_error(fmt::format("{}: the iterations have no duration", s.source));
  return out;
}

}  // namespace flame::profile
