// The trace reader on the real H200 traces, checked against the reference attribution that
// profile_coupling.py stored in coupling.json for the same configuration.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "flame/trace/trace_profile.hpp"

namespace fs = std::filesystem;

namespace {

// The reference attribution ships with the product (data/); the raw traces are test data.
const fs::path kReference = fs::path(FLAME_SOURCE_DIR) / "data" / "h200-coupling";
const fs::path kTraces = fs::path(FLAME_SOURCE_DIR) / "tests" / "data" / "h200-coupling";

nlohmann::json load_json(const fs::path& p) {
  std::ifstream in(p);
  REQUIRE(in);
  return nlohmann::json::parse(in);
}

}  // namespace

TEST_CASE("trace: every real H200 trace reproduces the reference per-segment attribution", "[trace][real]") {
  int traces = 0;
  for (const char* run : {"", "run2"}) {
    const auto coupling = load_json(kReference / run / "coupling.json");
    std::map<std::string, nlohmann::json> by_trace;
    for (const auto& r : coupling["results"]) by_trace[r["trace"].get<std::string>()] = r;

    for (const auto& entry : fs::directory_iterator(kTraces / run / "traces")) {
      const std::string rel = "traces/" + entry.path().filename().string();
      INFO(entry.path().string());
      const flame::trace::TraceSummary s = flame::trace::summarize_trace_file(entry.path());
      ++traces;
      CHECK(s.iterations() == 3);
      CHECK(s.marker == flame::trace::IterationMarker::IterAnnotation);
      CHECK(s.kernels_outside_iterations == 0);
      CHECK(s.total_cpu_ns > s.total_gpu_ns);  // under the profiler every H200 config is host-bound

      const auto it = by_trace.find(rel);
      REQUIRE(it != by_trace.end());
      const auto& ref = it->second;
      CHECK(s.profile.tag == ref["tag"].get<std::string>());
      CHECK(s.gpu_ops_total == ref["kernels_total"].get<int>());
      CHECK(s.kernels_unattributed == ref["kernels_unattributed"].get<int>());
      const auto& ref_segs = ref["segments"];
      REQUIRE(s.profile.segments.size() == ref_segs.size());
      int kernel_mismatches = 0;
      double worst_gpu_diff_ns = 0;
      for (std::size_t i = 0; i < ref_segs.size(); ++i) {
        const auto& mine = s.profile.segments[i];
        const auto& theirs = ref_segs[i];
        const bool is_call = theirs["kind"] == "call";
        CHECK((mine.kind == flame::model::SegmentKind::Call) == is_call);
        if (is_call) CHECK(mine.name == theirs["name"].get<std::string>());
        if (mine.n_kernels != theirs["n_kernels"].get<int>()) ++kernel_mismatches;
        worst_gpu_diff_ns =
            std::max(worst_gpu_diff_ns, std::abs(mine.gpu_ns - theirs["gpu_ns"].get<double>()));
      }
      // Measured: identical kernel counts, and GPU times equal up to the reference's floating-point
      // summation of microsecond durations (< 1e-11 ns); this side sums integer nanoseconds.
      CHECK(kernel_mismatches == 0);
      CHECK(worst_gpu_diff_ns < 1e-3);
    }
  }
  CHECK(traces == 44);
}
