#include "flame/sim/sim_app.hpp"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

namespace flame::sim {

namespace {

std::uint64_t splitmix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// JSON string body (module paths are plain, but names come from any dataset).
std::string escaped(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += {'\\', c};
    else if (static_cast<unsigned char>(c) < 0x20)
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(static_cast<unsigned char>(c)));
    else
      out += c;
  }
  return out;
}

}  // namespace

std::uint64_t app_seed(std::uint64_t seed, const SimClocks& c) {
  std::uint64_t h = splitmix(seed);
  for (std::uint64_t v : {static_cast<std::uint64_t>(c.cores), c.cpu_khz, c.gpu_hz, c.emc_hz})
    h = splitmix(h ^ v);
  return h;
}

AppRun run_app(TableSimulator& sim, const LayerTruth& truth, const AppOptions& o,
               const std::function<void(double ms)>& wait) {
  if (o.iterations < 1) throw std::invalid_argument("sim app: at least one recorded iteration");
  if (o.warmup < 0 || !(o.warmup_ms >= 0) || !(o.gap_ms >= 0))
    throw std::invalid_argument("sim app: warm-up and gap must be >= 0");
  if (&sim.truth(truth.name()) != &truth)
    throw std::invalid_argument("sim app: the simulator runs another truth");
  AppRun run;
  double t = sim.now_ms();
  run.start_ms = t;
  run.clocks = sim.observe(t).requested;
  int done = 0;
  for (;;) {
    const bool recording = done >= o.warmup && t >= o.warmup_ms;
    InferenceResult r = sim.run(truth.name(), t);
    run.energy_j += r.energy_j;
    const double dur = r.latency_ms;
    if (recording) {
      AppIteration it;
      it.start_ms = t;
      const LayerRun lr = truth.replay(r.effective, r.latency_noise, &it.timeline);
      // One piece: the replay is the inference. Clocks that changed during it: the replay at the starting
      // clocks, stretched to the latency the simulator found (piece-by-piece progress).
      const double k = lr.latency_ns > 0 ? r.latency_ms * 1e6 / lr.latency_ns : 1.0;
      if (k != 1.0) {
        for (auto& h : it.timeline.host) h = {h.start_ns * k, h.end_ns * k};
        for (auto& kn : it.timeline.kernels) {
          kn.launch_ns *= k;
          kn.start_ns *= k;
          kn.end_ns *= k;
        }
      }
      it.result = std::move(r);
      run.recorded.push_back(std::move(it));
    }
    if (wait) wait(dur + o.gap_ms);
    t += dur + o.gap_ms;
    ++done;
    if (static_cast<int>(run.recorded.size()) >= o.iterations) break;
  }
  run.end_ms = t;
  return run;
}

std::string app_trace_json(const LayerTruth& truth, const AppRun& run, const std::string& board,
                           std::optional<std::int64_t> wall_start_ns) {
  const auto& segs = truth.config().profile.segments;
  // Call index of each call segment (u<i>), and its module path (or its type, or "call<i>" when absent).
  std::vector<int> call_index(segs.size(), -1);
  std::vector<std::string> label(segs.size());
  int calls = 0;
  for (std::size_t i = 0; i < segs.size(); ++i) {
    if (segs[i].kind != model::SegmentKind::Call) {
      label[i] = fmt::format("glue{}", i / 2);
      continue;
    }
    call_index[i] = calls;
    label[i] = !segs[i].name.empty()   ? segs[i].name
               : !segs[i].type.empty() ? segs[i].type
                                       : fmt::format("call{}", calls);
    ++calls;
  }
  // The layer's description as the application's profiler hooks write it (docs/trace-format.md).
  std::vector<std::string> layer_args(segs.size());
  for (std::size_t i = 0; i < segs.size(); ++i) {
    if (call_index[i] < 0 || (segs[i].type.empty() && !segs[i].features)) continue;
    std::string a = fmt::format(", \"args\": {{\"flame_type\": \"{}\"", escaped(segs[i].type));
    if (const auto& f = segs[i].features)
      a += fmt::format(
          ", \"flame_macs\": {:.17g}, \"flame_flops\": {:.17g}, \"flame_bytes_in\": {:.17g}, "
          "\"flame_bytes_out\": {:.17g}, \"flame_param_bytes\": {:.17g}",
          f->macs, f->flops, f->bytes_in, f->bytes_out, f->param_bytes);
    layer_args[i] = a + "}";
  }
  const double base_us = 1'000'000.0;  // where the trace's clock starts
  auto us = [&](double ms, double ns) { return fmt::format("{:.3f}", base_us + ms * 1e3 + ns / 1e3); };
  std::string out;
  out += "{\"schemaVersion\": 1,\n";
  if (wall_start_ns) {  // anchor + ts (in ns) = Unix time: run.start_ms is at *wall_start_ns
    const double anchor = static_cast<double>(*wall_start_ns) - run.start_ms * 1e6 - base_us * 1e3;
    out += fmt::format(" \"baseTimeNanoseconds\": {},\n", std::llround(anchor));
  }
  out += " \"flame_simulated\": {";
  out += fmt::format(
      "\"board\": \"{}\", \"config\": \"{}\", \"cores\": {}, \"cpu_khz\": {}, \"gpu_hz\": {}, "
      "\"emc_hz\": {}, \"host_sigma\": {:.6g}",
      escaped(board), escaped(truth.name()), run.clocks.cores, run.clocks.cpu_khz, run.clocks.gpu_hz,
      run.clocks.emc_hz, truth.host_sigma());
  out += "},\n \"traceEvents\": [\n";
  out +=
      "  {\"ph\": \"M\", \"name\": \"process_name\", \"pid\": 1, \"tid\": 0, \"args\": {\"name\": \"flame "
      "sim app\"}}";
  std::uint64_t correlation = 1;
  for (std::size_t k = 0; k < run.recorded.size(); ++k) {
    const AppIteration& it = run.recorded[k];
    const double t0 = it.start_ms;
    // The iteration range is the host's forward pass; the GPU may run past it (the drain a synchronise
    // after the iteration waits for), as in profile_coupling.py's traces (docs/trace-format.md).
    const double host_end_ns = it.timeline.host.empty() ? 0 : it.timeline.host.back().end_ns;
    out += fmt::format(
        ",\n  {{\"ph\": \"X\", \"cat\": \"user_annotation\", \"name\": \"iter{}\", \"pid\": 1, \"tid\": 1, "
        "\"ts\": {}, \"dur\": {:.3f}}}",
        k, us(t0, 0), host_end_ns / 1e3);
    for (std::size_t i = 0; i < it.timeline.host.size() && i < segs.size(); ++i) {
      if (call_index[i] < 0) continue;
      const auto& h = it.timeline.host[i];
      out += fmt::format(
          ",\n  {{\"ph\": \"X\", \"cat\": \"user_annotation\", \"name\": \"u{}:{}\", \"pid\": 1, \"tid\": 1, "
          "\"ts\": {}, \"dur\": {:.3f}{}}}",
          call_index[i], escaped(label[i]), us(t0, h.start_ns), (h.end_ns - h.start_ns) / 1e3, layer_args[i]);
    }
    for (const auto& kn : it.timeline.kernels) {
      out += fmt::format(
          ",\n  {{\"ph\": \"X\", \"cat\": \"cuda_runtime\", \"name\": \"cudaLaunchKernel\", \"pid\": 1, "
          "\"tid\": 1, "
          "\"ts\": {}, \"dur\": 0.000, \"args\": {{\"correlation\": {}}}}}",
          us(t0, kn.launch_ns), correlation);
      out += fmt::format(
          ",\n  {{\"ph\": \"X\", \"cat\": \"kernel\", \"name\": \"{} kernel\", \"pid\": 0, \"tid\": 7, "
          "\"ts\": {}, \"dur\": {:.3f}, \"args\": {{\"correlation\": {}}}}}",
          escaped(label[kn.segment]), us(t0, kn.start_ns), (kn.end_ns - kn.start_ns) / 1e3, correlation);
      ++correlation;
    }
  }
  out += "\n]}\n";
  return out;
}

}  // namespace flame::sim
