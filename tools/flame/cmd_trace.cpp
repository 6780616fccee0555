// `flame trace summarize TRACE [--json]`: the segment profile a PyTorch profiler trace implies.
// `flame trace trtexec TIMES.json [--metric M]`: trtexec's per-query times as latency lines, one per
// line, for `flame profile --e2e` (lib/flame/profile/trtexec_times.hpp; wrapper clients/trtexec).
#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "command.hpp"
#include "flame/profile/trtexec_times.hpp"
#include "flame/trace/trace_profile.hpp"
#include "flame/trace/trace_report.hpp"

namespace {

struct TrtexecOptions {
  std::string file;
  std::string metric = "latency";
};

void trtexec(const TrtexecOptions& o) {
  namespace fp = flame::profile;
  fp::TrtexecMetric metric{};
  try {
    metric = fp::trtexec_metric(o.metric);
  } catch (const std::invalid_argument& e) {
    std::cerr << "flame trace trtexec: --metric " << e.what() << "\n";
    throw flame::cli::Exit{2};
  }
  std::ifstream f(o.file, std::ios::binary);
  if (!f) {
    std::cerr << fmt::format("flame trace trtexec: cannot read {}\n", o.file);
    throw flame::cli::Exit{1};
  }
  std::ostringstream text;
  text << f.rdbuf();
  try {
    for (double ms : fp::parse_trtexec_times(text.str(), metric, o.file))
      std::cout << fmt::format("{}\n", ms);
  } catch (const fp::TrtexecTimesError& e) {
    std::cerr << "flame trace trtexec: " << e.what() << "\n";
    throw flame::cli::Exit{1};
  }
}

struct SummarizeOptions {
  std::string trace;
  bool json = false;
};

flame::cli::Registrar reg([](CLI::App& root) {
  auto* trace = root.add_subcommand(
      "trace", "Inspect PyTorch profiler (Kineto) Chrome traces; trtexec's per-query times as latency lines");
  trace->require_subcommand(1);
  auto opts = std::make_shared<SummarizeOptions>();
  auto* sum = trace->add_subcommand(
      "summarize", "Per-segment CPU/GPU time and kernel counts (medians over iterations) of a trace");
  sum->add_option("TRACE", opts->trace, "Chrome-trace .json or .json.gz from torch.profiler")->required();
  sum->add_flag("--json", opts->json, "Print JSON instead of a table");
  sum->callback([opts] {
    const flame::trace::TraceSummary s = flame::trace::summarize_trace_file(opts->trace);
    if (opts->json) {
      std::cout << flame::trace::trace_summary_json(s).dump(2) << "\n";
    } else {
      std::cout << flame::trace::trace_summary_table(s);
    }
  });
  auto t = std::make_shared<TrtexecOptions>();
  auto* trt = trace->add_subcommand(
      "trtexec",
      "Print the per-query times of trtexec --exportTimes=FILE, one per line (flame profile --e2e)");
  trt->add_option("TIMES", t->file, "The JSON file trtexec --exportTimes= wrote")->required();
  trt->add_option("--metric", t->metric,
                  "latency (H2D + GPU compute + D2H), compute (GPU compute time) or end-to-end")
      ->capture_default_str();
  trt->callback([t] { trtexec(*t); });
});

}  // namespace
