#include "flame/trace/trace_report.hpp"

#include <fmt/format.h>

#include <cmath>

namespace flame::trace {
namespace {

nlohmann::ordered_json ns_number(double ns) {
  if (std::nearbyint(ns) == ns && std::fabs(ns) < 9e18) return static_cast<std::int64_t>(ns);
  return ns;
}

const char* kind_name(model::SegmentKind k) {
  return k == model::SegmentKind::Call ? "call" : "glue";
}

}  // namespace

nlohmann::ordered_json trace_summary_json(const TraceSummary& s) {
  nlohmann::ordered_json segments = nlohmann::ordered_json::array();
  const auto& segs = s.profile.segments;
  for (std::size_t i = 0; i < segs.size(); ++i) {
    segments.push_back({{"index", i},
                        {"kind", kind_name(segs[i].kind)},
                        {"name", segs[i].name},
                        {"type", segs[i].type},
                        {"cpu_ns", ns_number(segs[i].cpu_ns)},
                        {"gpu_ns", ns_number(segs[i].gpu_ns)},
                        {"n_kernels", segs[i].n_kernels}});
  }
  return {{"trace", s.source},
          {"iteration_marker", to_string(s.marker)},
          {"iterations", s.iterations()},
          {"segments", std::move(segments)},
          {"total_gpu_ns", ns_number(s.total_gpu_ns)},
          {"total_cpu_ns", ns_number(s.total_cpu_ns)},
          {"kernels_total", s.gpu_ops_total},
          {"kernels_unattributed", s.kernels_unattributed},
          {"kernels_outside_iterations", s.kernels_outside_iterations}};
}

std::string trace_summary_table(const TraceSummary& s) {
  std::string out;
  const auto& segs = s.profile.segments;
  std::size_t name_w = 6;
  for (const auto& seg : segs) name_w = std::max(name_w, seg.name.size());
  name_w = std::min<std::size_t>(name_w, 48);

  out += fmt::format("trace {}: {} iteration(s) by {} ranges, {} segments; per-segment values are medians\n",
                     s.source, s.iterations(), to_string(s.marker), segs.size());
  out += fmt::format("{:>5}  {:<4}  {:<{}}  {:>11}  {:>11}  {:>7}\n", "index", "kind", "name", name_w,
                     "CPU us", "GPU us", "kernels");
  for (std::size_t i = 0; i < segs.size(); ++i) {
    std::string name = segs[i].name;
    if (name.size() > name_w) name = "..." + name.substr(name.size() - name_w + 3);
    out += fmt::format("{:>5}  {:<4}  {:<{}}  {:>11.3f}  {:>11.3f}  {:>7}\n", i, kind_name(segs[i].kind),
                       name, name_w, segs[i].cpu_ns / 1e3, segs[i].gpu_ns / 1e3, segs[i].n_kernels);
  }
  out += fmt::format("total per iteration (median over {}): CPU {:.3f} us, GPU {:.3f} us\n", s.iterations(),
                     s.total_cpu_ns / 1e3, s.total_gpu_ns / 1e3);
  out +=
      fmt::format("GPU ops: {} in trace, {} unattributed (no launch found), {} launched outside iterations\n",
                  s.gpu_ops_total, s.kernels_unattributed, s.kernels_outside_iterations);
  return out;
}

}  // namespace flame::trace
