#include "flame/trace/trace_profile.hpp"

#include <algorithm>
#include <limits>
#include <map>

#include "flame/trace/detail/trace_error.hpp"
#include "flame/trace/trace_source.hpp"

namespace flame::trace {
namespace {

constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();

// Closed ranges sorted by start. Answers "the first range, in start order, that contains t"
// (what a linear scan finds, also when ranges overlap) in O(log n) through the running maximum
// of the ends.
class RangeIndex {
 public:
  RangeIndex(std::vector<std::int64_t> starts, const std::vector<std::int64_t>& ends)
      : starts_(std::move(starts)), max_end_(ends) {
    for (std::size_t i = 1; i < max_end_.size(); ++i) max_end_[i] = std::max(max_end_[i], max_end_[i - 1]);
  }

  struct Hit {
    std::size_t containing = kNone;  // first range with start <= t <= end
    std::size_t next = kNone;        // first range starting after t
  };

  Hit find(std::int64_t t) const {
    const auto p =
        static_cast<std::size_t>(std::upper_bound(starts_.begin(), starts_.end(), t) - starts_.begin());
    const auto j = static_cast<std::size_t>(
        std::lower_bound(max_end_.begin(), max_end_.begin() + static_cast<std::ptrdiff_t>(p), t) -
        max_end_.begin());
    return {j < p ? j : kNone, p < starts_.size() ? p : kNone};
  }

 private:
  std::vector<std::int64_t> starts_;
  std::vector<std::int64_t> max_end_;
};

template <typename T>
double median(std::vector<T> xs) {
  if (xs.empty()) return 0;
  std::sort(xs.begin(), xs.end());
  const std::size_t n = xs.size();
  return n % 2 ? static_cast<double>(xs[n / 2])
               : (static_cast<double>(xs[n / 2 - 1]) + static_cast<double>(xs[n / 2])) / 2;
}

std::string us_text(std::int64_t ns) {
  return std::to_string(ns / 1000) + "." + std::to_string(1000 + std::abs(ns % 1000)).substr(1) + " us";
}

// Iteration ranges, sorted by start, and how they were found.
std::pair<std::vector<HostRange>, IterationMarker> iteration_ranges(const TraceEvents& ev) {
  std::vector<HostRange> ranges;
  IterationMarker marker = IterationMarker::WholeTrace;
  if (!ev.iterations.empty()) {
    ranges = ev.iterations;
    marker = IterationMarker::IterAnnotation;
  } else if (!ev.profiler_steps.empty()) {
    ranges = ev.profiler_steps;
    marker = IterationMarker::ProfilerStep;
  } else {
    if (!ev.has_host_extent) {
      throw TraceError(ev.source,
                       "no host-side events (annotations, cpu_ops or CUDA runtime calls) to delimit "
                       "an iteration");
    }
    ranges.push_back({ev.host_begin_ns, ev.host_end_ns, "whole trace"});
  }
  std::stable_sort(ranges.begin(), ranges.end(),
                   [](const HostRange& a, const HostRange& b) { return a.start_ns < b.start_ns; });
  return {std::move(ranges), marker};
}

RangeIndex index_of(const std::vector<HostRange>& ranges) {
  std::vector<std::int64_t> starts, ends;
  for (const auto& r : ranges) {
    starts.push_back(r.start_ns);
    ends.push_back(r.end_ns);
  }
  return RangeIndex(std::move(starts), ends);
}

// Launch time per correlation id; a repeated id keeps its last launch.
class LaunchTable {
 public:
  explicit LaunchTable(const std::vector<LaunchEvent>& launches) : by_id_(launches) {
    std::stable_sort(by_id_.begin(), by_id_.end(), [](const LaunchEvent& a, const LaunchEvent& b) {
      return a.correlation < b.correlation;
    });
  }

  const LaunchEvent* find(std::int64_t correlation) const {
    auto it = std::upper_bound(by_id_.begin(), by_id_.end(), correlation,
                               [](std::int64_t c, const LaunchEvent& l) { return c < l.correlation; });
    if (it == by_id_.begin() || std::prev(it)->correlation != correlation) return nullptr;
    return &*std::prev(it);
  }

 private:
  std::vector<LaunchEvent> by_id_;
};

// The layer calls of one iteration, in time order, checked to partition it.
struct IterationCalls {
  std::vector<LayerCallRange> calls;
  RangeIndex index{{}, {}};
};

void check_partition(const TraceEvents& ev, const HostRange& iter, const std::vector<LayerCallRange>& calls) {
  const auto call_name = [](const LayerCallRange& c) {
    return "u" + std::to_string(c.index) + ":" + c.module;
  };
  for (std::size_t i = 0; i < calls.size(); ++i) {
    const auto& c = calls[i];
    if (c.end_ns > iter.end_ns) {
      throw TraceError(ev.source, "call " + call_name(c) + " ends after its iteration " + iter.name +
                                      " (by " + us_text(c.end_ns - iter.end_ns) + ")");
    }
    if (i == 0) continue;
    const auto& p = calls[i - 1];
    if (c.index == p.index) {
      throw TraceError(ev.source,
                       "call index u" + std::to_string(c.index) + " appears twice in iteration " + iter.name);
    }
    if (c.index < p.index) {
      throw TraceError(ev.source, "calls out of index order in iteration " + iter.name + ": " + call_name(p) +
                                      " starts before " + call_name(c));
    }
    if (c.start_ns < p.end_ns) {
      throw TraceError(ev.source, "calls " + call_name(p) + " and " + call_name(c) +
                                      " overlap in iteration " + iter.name +
                                      " (layer-call ranges must be leaf modules)");
    }
  }
}

}  // namespace

const char* to_string(IterationMarker m) {
  switch (m) {
    case IterationMarker::IterAnnotation:
      return "iter";
    case IterationMarker::ProfilerStep:
      return "ProfilerStep";
    case IterationMarker::WholeTrace:
      return "whole-trace";
  }
  return "?";
}

std::string trace_tag(std::string_view source) {
  std::string name = std::filesystem::path(source).filename().string();
  for (std::string_view ext : {".gz", ".json"}) {
    if (name.size() > ext.size() && name.ends_with(ext)) name.resize(name.size() - ext.size());
  }
  return name;
}

TraceSummary build_trace_summary(const TraceEvents& ev) {
  if (ev.gpu_ops.empty()) {
    throw TraceError(ev.source,
                     "no GPU kernel, memcpy or memset events (profile with "
                     "ProfilerActivity.CUDA to record device activity)");
  }
  auto [iters, marker] = iteration_ranges(ev);
  const RangeIndex iter_index = index_of(iters);
  const std::size_t n_iter = iters.size();

  // Layer calls belong to the first iteration containing their start; with touching ranges
  // (ProfilerStep#N ends where #N+1 begins) a call starting on the boundary belongs to the later one.
  std::vector<IterationCalls> per_iter(n_iter);
  for (const auto& c : ev.calls) {
    std::size_t k = iter_index.find(c.start_ns).containing;
    if (k == kNone) continue;
    while (k + 1 < n_iter && iters[k].end_ns < c.end_ns && iters[k + 1].start_ns <= c.start_ns) ++k;
    per_iter[k].calls.push_back(c);
  }
  int n_calls = 0;
  std::map<int, std::string> module_of;            // call index -> module path, identical in every iteration
  std::map<int, const LayerCallRange*> described;  // call index -> its first call that describes the layer
  for (std::size_t k = 0; k < n_iter; ++k) {
    auto& calls = per_iter[k].calls;
    std::sort(calls.begin(), calls.end(), [](const LayerCallRange& a, const LayerCallRange& b) {
      return std::tie(a.start_ns, a.end_ns, a.index) < std::tie(b.start_ns, b.end_ns, b.index);
    });
    check_partition(ev, iters[k], calls);
    std::vector<std::int64_t> starts, ends;
    for (const auto& c : calls) {
      starts.push_back(c.start_ns);
      ends.push_back(c.end_ns);
      n_calls = std::max(n_calls, c.index + 1);
      if (!c.type.empty() || c.features) described.emplace(c.index, &c);
      auto [it, inserted] = module_of.emplace(c.index, c.module);
      if (!inserted && it->second != c.module) {
        throw TraceError(ev.source, "call index u" + std::to_string(c.index) + " is '" + it->second +
                                        "' in one iteration and '" + c.module + "' in " + iters[k].name);
      }
    }
    per_iter[k].index = RangeIndex(std::move(starts), ends);
  }

  const std::size_t n_seg = 2 * static_cast<std::size_t>(n_calls) + 1;
  std::vector<std::vector<std::int64_t>> cpu(n_iter, std::vector<std::int64_t>(n_seg, 0));
  std::vector<std::vector<std::int64_t>> gpu(n_iter, std::vector<std::int64_t>(n_seg, 0));
  std::vector<std::vector<int>> nk(n_iter, std::vector<int>(n_seg, 0));
  std::vector<std::int64_t> device_end(n_iter);  // end of the last GPU op each iteration launched
  for (std::size_t k = 0; k < n_iter; ++k) device_end[k] = iters[k].start_ns;

  // Host spans: glue before each call, the call, and the glue after the last call.
  for (std::size_t k = 0; k < n_iter; ++k) {
    std::int64_t prev_end = iters[k].start_ns;
    for (const auto& c : per_iter[k].calls) {
      const auto i = static_cast<std::size_t>(c.index);
      cpu[k][2 * i] = c.start_ns - prev_end;
      cpu[k][2 * i + 1] = c.end_ns - c.start_ns;
      prev_end = c.end_ns;
    }
    cpu[k][n_seg - 1] = iters[k].end_ns - prev_end;
  }

  TraceSummary out;
  out.source = ev.source;
  out.marker = marker;
  out.base_time_ns = ev.base_time_ns;
  out.gpu_ops_total = static_cast<int>(ev.gpu_ops.size());

  // Device side: each GPU op goes to the segment whose host span contains its launch.
  const LaunchTable launches(ev.launches);
  for (const auto& op : ev.gpu_ops) {
    const LaunchEvent* launch = launches.find(op.correlation);
    if (launch == nullptr) {
      ++out.kernels_unattributed;
      continue;
    }
    const auto iter_hit = iter_index.find(launch->ts_ns);
    if (iter_hit.containing == kNone) {
      ++out.kernels_outside_iterations;
      continue;
    }
    const std::size_t k = iter_hit.containing;
    const auto& calls = per_iter[k].calls;
    const auto hit = per_iter[k].index.find(launch->ts_ns);
    std::size_t seg = n_seg - 1;  // after the last call: trailing glue
    if (hit.containing != kNone) {
      seg = 2 * static_cast<std::size_t>(calls[hit.containing].index) + 1;
    } else if (hit.next != kNone) {
      seg = 2 * static_cast<std::size_t>(calls[hit.next].index);
    }
    gpu[k][seg] += op.dur_ns;
    nk[k][seg] += 1;
    device_end[k] = std::max(device_end[k], op.ts_ns + op.dur_ns);
  }

  out.per_iteration.resize(n_iter);
  for (std::size_t k = 0; k < n_iter; ++k) {
    auto& t = out.per_iteration[k];
    t.start_ns = iters[k].start_ns;
    t.cpu_ns = iters[k].end_ns - iters[k].start_ns;
    t.drain_ns = std::max<std::int64_t>(0, device_end[k] - iters[k].end_ns);
    t.end_to_end_ns = t.cpu_ns + t.drain_ns;
    for (std::size_t s = 0; s < n_seg; ++s) {
      t.gpu_ns += gpu[k][s];
      t.n_gpu_ops += nk[k][s];
    }
  }

  out.profile.tag = trace_tag(ev.source);
  out.profile.segments.resize(n_seg);
  for (std::size_t s = 0; s < n_seg; ++s) {
    std::vector<std::int64_t> c(n_iter), g(n_iter);
    std::vector<int> n(n_iter);
    for (std::size_t k = 0; k < n_iter; ++k) {
      c[k] = cpu[k][s];
      g[k] = gpu[k][s];
      n[k] = nk[k][s];
    }
    model::Segment& seg = out.profile.segments[s];
    seg.kind = s % 2 ? model::SegmentKind::Call : model::SegmentKind::Glue;
    if (seg.kind == model::SegmentKind::Call) {
      const auto it = module_of.find(static_cast<int>(s / 2));
      if (it != module_of.end()) seg.name = it->second;
      if (const auto d = described.find(static_cast<int>(s / 2)); d != described.end()) {
        seg.type = d->second->type;
        seg.features = d->second->features;
      }
    }
    seg.cpu_ns = median(std::move(c));
    seg.gpu_ns = median(std::move(g));
    seg.n_kernels = static_cast<int>(median(std::move(n)));
  }

  std::vector<std::int64_t> cpu_tot, gpu_tot;
  for (const auto& t : out.per_iteration) {
    cpu_tot.push_back(t.cpu_ns);
    gpu_tot.push_back(t.gpu_ns);
  }
  out.total_cpu_ns = median(std::move(cpu_tot));
  out.total_gpu_ns = median(std::move(gpu_tot));
  return out;
}

std::optional<WallWindow> iterations_wall_window(const TraceSummary& s) {
  if (!s.base_time_ns || s.per_iteration.empty()) return std::nullopt;
  std::int64_t begin = s.per_iteration.front().start_ns, end = begin;
  for (const auto& t : s.per_iteration) {
    begin = std::min(begin, t.start_ns);
    end = std::max(end, t.start_ns + t.end_to_end_ns);
  }
  return WallWindow{*s.base_time_ns + begin, *s.base_time_ns + end};
}

TraceSummary summarize_trace_file(const std::filesystem::path& path) {
  return build_trace_summary(parse_trace_events(read_trace_text(path), path.string()));
}

}  // namespace flame::trace
