#pragma once
// Per-query times from trtexec's `--exportTimes=FILE` (TensorRT's benchmarking tool), turned into
// the latency lines `flame profile --e2e` reads (latency_lines.hpp). The file is what trtexec's
// exportJSONTrace writes (TensorRT samples/common/sampleReporting.cpp): a JSON array with one object
// per query, warm-up queries included, each with the query's timestamps (startEnqMs, endEnqMs,
// startH2dMs, endH2dMs, startComputeMs, endComputeMs, startD2hMs, endD2hMs) and intervals in ms:
// "h2dMs", "computeMs" (trtexec's "GPU Compute Time"), "d2hMs", "latencyMs" (H2D + compute + D2H,
// its "Latency": one query alone) and "endToEndMs" (from H2D start to D2H end, including the wait
// for the query before it). The performance summary trtexec prints has only statistics (min, mean,
// median, percentiles), not one value per query, so it cannot be parsed into latency lines.
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace flame::profile {

struct TrtexecTimesError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class TrtexecMetric {
  Latency,   // latencyMs
  Compute,   // computeMs
  EndToEnd,  // endToEndMs
};

// "latency", "compute", "end-to-end"; throws std::invalid_argument naming the choices.
TrtexecMetric trtexec_metric(std::string_view name);
const char* trtexec_key(TrtexecMetric m);

// One value per query, in the file's order. Throws TrtexecTimesError naming `source` and the query
// (0-based index) when the text is not such an array or a query lacks the metric.
std::vector<double> parse_trtexec_times(std::string_view json_text, TrtexecMetric metric,
                                        const std::string& source);

}  // namespace flame::profile
