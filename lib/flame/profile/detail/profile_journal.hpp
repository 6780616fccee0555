#pragma once
// The journal of a `flame profile` run: JSON lines in <work dir>/journal.jsonl. The first line
// describes the run (model name, command, contexts, budget, seed, grid and the plan); every
// finished combination appends one line with the clocks, timings, power and the digested traces.
// A run interrupted at any point resumes from it (`--resume`): finished combinations are not run
// again, and the fit needs only the journal (the traces are kept beside it for inspection).
// Each line is flushed and fsync'ed before the next combination starts; a torn last line (a crash
// while writing it) is dropped on reading. Format: docs/profiling.md.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "flame/clocks/clock_grid.hpp"
#include "flame/profile/detail/rail_window.hpp"
#include "flame/profile/detail/trace_run.hpp"

namespace flame::profile {

inline constexpr const char* kJournalFormat = "flame-profile-journal";
inline constexpr int kJournalVersion = 2;  // 2: per-step SLM workloads replace the context list

// What the command gives per combination: a profiler trace (the layer-wise path) or per-inference
// latency lines on its standard output (`--e2e`, latency_lines.hpp).
enum class ProfileMode { Layerwise, EndToEnd };
std::string_view to_string(ProfileMode m);

// What one step of an SLM's plan runs: a phase at one context length (model/slm_plan.hpp).
struct PlanWorkload {
  std::string phase;  // "decode" / "prefill"
  int ctx = 0;
  bool operator==(const PlanWorkload&) const = default;
};

struct JournalHeader {
  ProfileMode mode = ProfileMode::Layerwise;  // journals without "mode" are layer-wise
  std::size_t warmup = 0;                     // --e2e: latency lines dropped at every combination
  std::string model;
  std::vector<std::string> command;
  std::vector<PlanWorkload> workloads;  // SLMs: one per plan step; empty for other models
  std::size_t budget = 0;
  std::uint64_t seed = 0;
  ClockGrid grid;
  std::vector<Clocks> plan;
};

// What the command ran at one combination: the model, or for an SLM the step's phase and context.
struct WorkloadResult {
  int ctx = 0;        // 0: no context length
  std::string phase;  // SLMs: "decode" / "prefill"; empty otherwise
  std::string trace;  // as given to the command
  TraceRun trace_run;
};

// The latency lines of one combination (--e2e).
struct EndToEndResult {
  std::vector<double> latencies_ms;  // after the warm-up, in the order printed
  std::size_t warmup_dropped = 0;
  double median_ms = 0;  // what the fit uses
};

struct StepRecord {
  std::size_t step = 0;            // index into the plan
  Clocks requested;                // the plan's combination
  Clocks applied;                  // what the controller pinned (after rounding to the tables)
  Clocks observed;                 // what the hardware reported running (cur_freq) before the command started
  double settle_s = 0;             // from the write to the read-back agreeing
  double command_s = 0;            // wall time of the command
  std::optional<double> power_mw;  // mean board power over the samples power_window selects
  int power_samples = 0;
  PowerWindow power_window = PowerWindow::Command;
  std::vector<WorkloadResult> workloads;  // layer-wise: one
  std::optional<EndToEndResult> e2e;      // --e2e
};

struct JournalContents {
  JournalHeader header;
  std::vector<StepRecord> steps;
  std::vector<std::string> notes;  // e.g. a torn last line that was dropped
};

std::string header_line(const JournalHeader& h);
std::string record_line(const StepRecord& r);

// Throws std::runtime_error "<source>:<line>: ..." on a malformed journal.
JournalContents parse_journal(const std::string& text, const std::string& source);

// How the journal's run differs from the one asked for now ("the budget (12 here, 16 now)"); empty
// when it is the same run.
std::string header_mismatch(const JournalHeader& journal, const JournalHeader& now);

// The file side: creating, resuming and appending.
class Journal {
 public:
  // A new journal; throws if one exists (so an earlier run is never overwritten silently).
  static Journal create(const std::filesystem::path& path, const JournalHeader& header);
  // An existing one, for the same run (throws with header_mismatch otherwise, or if there is none).
  static Journal resume(const std::filesystem::path& path, const JournalHeader& header);

  const JournalContents& contents() const { return contents_; }
  const std::filesystem::path& path() const { return path_; }
  // Appends one line, flushed to disk before returning; throws on I/O errors.
  void append(const StepRecord& r);

 private:
  Journal(std::filesystem::path path, JournalContents contents)
      : path_(std::move(path)), contents_(std::move(contents)) {}
  std::filesystem::path path_;
  JournalContents contents_;
};

}  // namespace flame::profile
