#pragma once
// Reader for the coupling dataset format (docs/coupling-format.md): per configuration, a segment
// profile measured once and end-to-end latencies at several emulated CPU slowdowns.
#include <filesystem>
#include <string>
#include <vector>

#include "flame/model/segment_profile.hpp"

namespace flame::model {

struct CouplingSweep {
  double slowdown = 1;
  std::vector<double> e2e_ns;  // every iteration
  double e2e_median_ns = 0;
  std::vector<double> cpu_seg_ns;  // per-segment host spans (medians)
  double sync_ns = 0;              // final synchronize wait (median)

  double total_cpu_ns() const;
  // Steady: the first-half and second-half medians of e2e_ns agree within 5 % (at least 4
  // iterations). Some sweeps drift while they run, which no reference-only model can predict.
  bool steady() const;
};

struct CouplingConfig {
  std::string tag;
  std::string model;
  std::string mode;  // "prefill" / "decode" for SLMs, empty otherwise
  int batch = 0;
  int ctx = 0;
  std::string dtype;
  SegmentProfile profile;             // segments with GPU time and features; cpu_ns from sweeps[0]
  std::vector<CouplingSweep> sweeps;  // sweeps[0] is the reference (slowdown 1)
};

struct CouplingDataset {
  std::string source;
  std::vector<CouplingConfig> configs;
};

// Throws std::runtime_error naming the file and the offending entry on malformed input.
CouplingDataset load_coupling_dataset(const std::filesystem::path& path);
CouplingDataset parse_coupling_dataset(const std::string& text, const std::string& source);

}  // namespace flame::model
