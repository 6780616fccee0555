#pragma once
// What `flame eval` prints and writes: per-governor metrics, the targets checked against
// them, JSON, a text table, and a Markdown report with SVG plots (docs/evaluation.md).
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "flame/eval/eval_suite.hpp"

namespace flame::eval {

// A governor's run: its requests' summary and what the eval adds to it.
struct GovernorMetrics {
  std::string name;
  // Its requests (energy_j: over the run, inference time only; the JSON calls it energy_total_j).
  sim::Summary summary;
  // Performance per watt: deadline-met inferences per second per watt = met inferences per joule.
  double ppw = 0;
  std::size_t decisions = 0;
  double decisions_per_s = 0;  // decide() calls per second of wall time spent deciding
  double max_temperature_c = 0;
};

GovernorMetrics metrics(const RunResult& r);
// An SLM run's requests by phase ("decode": one per token, "prefill": one per prompt); empty for a
// run without SLM requests.
std::map<std::string, sim::Summary> phase_summaries(const RunResult& r);

// One of the targets of docs/evaluation.md (applicable = the workload's deadlines are in its range).
struct TargetCheck {
  std::string id, description;
  bool applicable = false;
  bool met = false;
  double value = 0, goal = 0;
};
std::vector<TargetCheck> check_targets(const Evaluation& e);

// A summary under the report's names (docs/evaluation.md): requests, met, met_pct, energy_j (per
// inference), energy_total_j and p99_response_over_deadline; a governor's and each phase's.
nlohmann::json report_json(const sim::Summary& s);
nlohmann::json to_json(const GovernorMetrics& m);
nlohmann::json to_json(const Evaluation& e);
std::string text_report(const Evaluation& e);
// Writes DIR/report.md, DIR/eval.json and the SVGs; returns the report's path.
std::filesystem::path write_report(const Evaluation& e, const std::filesystem::path& dir,
                                   const std::string& command_line);

}  // namespace flame::eval
