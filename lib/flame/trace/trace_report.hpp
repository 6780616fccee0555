#pragma once
// Presentation of a TraceSummary: the JSON document of `flame trace summarize --json` and the
// human table. Pure functions; the CLI only prints them.
#include <nlohmann/json.hpp>
#include <string>

#include "flame/trace/trace_profile.hpp"

namespace flame::trace {

// {"iterations", "segments": [{"index","kind","name","type","cpu_ns","gpu_ns","n_kernels"}...],
//  "total_gpu_ns", "total_cpu_ns", "kernels_unattributed", ...}. Whole nanoseconds are written
// as integers, half nanoseconds (medians of an even count) as decimals.
nlohmann::ordered_json trace_summary_json(const TraceSummary& s);

// One row per segment (index, kind, name, CPU us, GPU us, kernels), then the totals.
std::string trace_summary_table(const TraceSummary& s);

}  // namespace flame::trace
