// Trace ingestion speed: read + gunzip + ondemand parse + segment profile, on the largest real
// trace and on a ~2 MB gzipped trace built here from it (iterations replicated, shifted in time).
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "flame/trace/trace_events.hpp"
#include "flame/trace/trace_profile.hpp"
#include "flame/trace/trace_source.hpp"

namespace fs = std::filesystem;

namespace {

// The largest gzipped H200 trace of the repository (tests/data/h200-coupling and data/h200-coupling).
fs::path largest_real_trace() {
  const fs::path src(FLAME_SOURCE_DIR);
  fs::path best;
  std::uintmax_t best_size = 0;
  for (const fs::path& dir :
       {src / "tests/data/h200-coupling/traces", src / "tests/data/h200-coupling/run2/traces",
        src / "data/h200-coupling/traces"}) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      if (e.path().extension() == ".gz" && e.file_size() > best_size) {
        best = e.path();
        best_size = e.file_size();
      }
    }
  }
  if (best.empty()) throw std::runtime_error("no trace found under " + src.string());
  return best;
}

// `copies` back-to-back repetitions of the trace's events: times shifted past the previous copy,
// correlation ids and iteration numbers renumbered, so the result is a valid longer profile.
std::string replicated_trace(const nlohmann::json& trace, int copies) {
  const auto& events = trace["traceEvents"];
  double lo = 1e300, hi = -1e300;
  int iters = 0;
  for (const auto& e : events) {
    if (!e.contains("ts") || !e["ts"].is_number()) continue;
    const double ts = e["ts"].get<double>();
    lo = std::min(lo, ts);
    hi = std::max(hi, ts + (e.contains("dur") ? e["dur"].get<double>() : 0.0));
    if (e.value("cat", "") == "user_annotation" && e.value("name", "").starts_with("iter")) ++iters;
  }
  const double shift = hi - lo + 1000.0;
  nlohmann::json out = trace;
  out["traceEvents"] = nlohmann::json::array();
  for (int c = 0; c < copies; ++c) {
    for (auto e : events) {
      if (e.contains("ts") && e["ts"].is_number()) e["ts"] = e["ts"].get<double>() + c * shift;
      if (e.contains("args") && e["args"].contains("correlation")) {
        e["args"]["correlation"] = e["args"]["correlation"].get<std::int64_t>() + c * 100000000LL;
      }
      if (e.contains("id") && e["id"].is_number_integer())
        e["id"] = e["id"].get<std::int64_t>() + c * 100000000LL;
      const std::string name = e.value("name", "");
      if (e.value("cat", "") == "user_annotation" && name.starts_with("iter")) {
        e["name"] = "iter" + std::to_string(c * iters + std::stoi(name.substr(4)));
      }
      out["traceEvents"].push_back(std::move(e));
    }
  }
  return out.dump(1);
}

struct Synthetic {
  fs::path path;
  std::size_t gz_bytes = 0;
  std::size_t json_bytes = 0;
  int iterations = 0;
};

// Built once per process: the smallest replication of the largest trace that reaches 2 MB gzipped.
const Synthetic& synthetic_2mb() {
  static const Synthetic s = [] {
    const auto trace = nlohmann::json::parse(flame::trace::read_trace_text(largest_real_trace()));
    Synthetic r;
    r.path = fs::temp_directory_path() / "flame-bench-trace-2mb.json.gz";
    for (int copies = 1; copies < 64; ++copies) {
      const std::string json = replicated_trace(trace, copies);
      const std::string gz = flame::trace::gzip(json);
      if (gz.size() < 1'900'000) continue;
      std::ofstream(r.path, std::ios::binary).write(gz.data(), static_cast<std::streamsize>(gz.size()));
      r.gz_bytes = gz.size();
      r.json_bytes = json.size();
      break;
    }
    r.iterations = flame::trace::summarize_trace_file(r.path).iterations();
    return r;
  }();
  return s;
}

void label(benchmark::State& state, const fs::path& p, std::size_t json_bytes, int iterations) {
  state.SetLabel(p.filename().string() + ": " + std::to_string(fs::file_size(p) / 1024) + " KiB gz, " +
                 std::to_string(json_bytes / 1024) + " KiB JSON, " + std::to_string(iterations) +
                 " iterations");
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * json_bytes));
}

void BM_TraceSummarize_LargestReal(benchmark::State& state) {
  const fs::path p = largest_real_trace();
  int iters = 0;
  for (auto _ : state) {
    const auto s = flame::trace::summarize_trace_file(p);
    iters = s.iterations();
    benchmark::DoNotOptimize(s.total_gpu_ns);
  }
  label(state, p, flame::trace::read_trace_text(p).size(), iters);
}

void BM_TraceSummarize_Synthetic2MB(benchmark::State& state) {
  const Synthetic& syn = synthetic_2mb();
  for (auto _ : state) {
    const auto s = flame::trace::summarize_trace_file(syn.path);
    benchmark::DoNotOptimize(s.total_gpu_ns);
  }
  label(state, syn.path, syn.json_bytes, syn.iterations);
}

// The two stages separately: decompression, then the ondemand parse (no profile building).
void BM_TraceGunzip_Synthetic2MB(benchmark::State& state) {
  const Synthetic& syn = synthetic_2mb();
  std::ifstream in(syn.path, std::ios::binary);
  const std::string gz{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  for (auto _ : state) benchmark::DoNotOptimize(flame::trace::gunzip(gz, "bench").size());
  label(state, syn.path, syn.json_bytes, syn.iterations);
}

void BM_TraceParseEvents_Synthetic2MB(benchmark::State& state) {
  const Synthetic& syn = synthetic_2mb();
  const std::string json = flame::trace::read_trace_text(syn.path);
  for (auto _ : state) {
    state.PauseTiming();
    std::string copy = json;  // parse_trace_events consumes its buffer
    state.ResumeTiming();
    benchmark::DoNotOptimize(flame::trace::parse_trace_events(std::move(copy), "bench").gpu_ops.size());
  }
  label(state, syn.path, syn.json_bytes, syn.iterations);
}

}  // namespace

BENCHMARK(BM_TraceSummarize_LargestReal)
    ->Unit(benchmark::kMillisecond)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);
BENCHMARK(BM_TraceSummarize_Synthetic2MB)
    ->Unit(benchmark::kMillisecond)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);
BENCHMARK(BM_TraceGunzip_Synthetic2MB)
    ->Unit(benchmark::kMillisecond)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);
BENCHMARK(BM_TraceParseEvents_Synthetic2MB)
    ->Unit(benchmark::kMillisecond)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);
