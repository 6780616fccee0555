// `flame trace summarize TRACE [--json]`: the segment profile a PyTorch profiler trace implies.
#include <iostream>
#include <memory>
#include <string>

#include "command.hpp"
#include "flame/trace/trace_profile.hpp"
#include "flame/trace/trace_report.hpp"

namespace {

struct SummarizeOptions {
  std::string trace;
  bool json = false;
};

flame::cli::Registrar reg([](CLI::App& root) {
  auto* trace = root.add_subcommand("trace", "Inspect PyTorch profiler (Kineto) Chrome traces");
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
});

}  // namespace
