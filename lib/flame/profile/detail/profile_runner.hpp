#pragma once
// The profiling loop of `flame profile`: for each combination of the plan not yet in the journal,
// pin the clocks, wait until the hardware reports them, run the user's command with the
// combination and a trace path in its environment while sampling board power, ingest the trace
// (or, with --e2e, the latency lines it prints: latency_lines.hpp), and record the step. The clocks are
// restored on every way out: done, a failing command, a missing or broken trace, a clock that does not
// settle, or a stop request (SIGINT). Hardware, process spawning and time come in through
// profile_hardware.hpp.
#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "flame/profile/detail/profile_hardware.hpp"
#include "flame/profile/detail/profile_journal.hpp"
#include "flame/trace/trace_profile.hpp"

namespace flame::profile {

struct ProfileError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// A stop request ended the run; what finished is in the journal.
struct ProfileInterrupted : ProfileError {
  using ProfileError::ProfileError;
};

struct RunnerOptions {
  std::filesystem::path trace_dir;  // where the command is told to write its traces
  double settle_timeout_s = 5;      // the read-back must agree within this long after the write
  double settle_poll_s = 0.02;
  double settle_tolerance = 0.01;  // relative difference accepted between pinned and reported clocks
  // A rail sample this close to iterations shorter than the sampling period stands for them
  // (rail_window.hpp): two periods of ChildProcessRunner's default tick.
  double rail_tolerance_s = 0.02;
};

struct ProfileProgress {
  std::size_t done = 0;              // combinations finished, including those of earlier (resumed) runs
  std::size_t total = 0;             // of the plan
  double elapsed_s = 0;              // of this invocation
  double mean_step_s = 0;            // mean wall time per combination (settle + command) over the journal
  double eta_s = 0;                  // mean_step_s x combinations left
  double exhaustive_s = 0;           // mean_step_s x every combination of the grid
  const StepRecord* last = nullptr;  // the step just finished
};

// Environment variables the command sees (docs/profiling.md).
inline constexpr const char* kEnvTrace = "FLAME_PROFILE_TRACE";
inline constexpr const char* kEnvContexts = "FLAME_PROFILE_CTX";
inline constexpr const char* kEnvCpu = "FLAME_PROFILE_CPU_KHZ";
inline constexpr const char* kEnvGpu = "FLAME_PROFILE_GPU_HZ";
inline constexpr const char* kEnvEmc = "FLAME_PROFILE_EMC_HZ";
inline constexpr const char* kEnvStep = "FLAME_PROFILE_STEP";
inline constexpr const char* kEnvSteps = "FLAME_PROFILE_STEPS";
inline constexpr const char* kEnvModel = "FLAME_PROFILE_MODEL";
inline constexpr const char* kEnvPhase = "FLAME_PROFILE_PHASE";
inline constexpr const char* kCtxPlaceholder = "{ctx}";
inline constexpr const char* kPhasePlaceholder = "{phase}";  // replaced in the command's arguments

class ProfileRunner {
 public:
  struct Io {
    ClockControl& clocks;
    PowerMeter* power;  // may be null: no rails
    CommandRunner& command;
    Clock& clock;
  };
  using TraceLoader = std::function<trace::TraceSummary(const std::filesystem::path&)>;
  using StepSink = std::function<void(const StepRecord&)>;
  using ProgressSink = std::function<void(const ProfileProgress&)>;

  ProfileRunner(JournalHeader run, std::size_t exhaustive_steps, RunnerOptions options, Io io,
                TraceLoader load, StepSink record, ProgressSink progress);

  // Runs every step of the plan not in `done`, in plan order. `stop` may be set from a signal
  // handler. Throws ProfileError / ProfileInterrupted (after restoring the clocks).
  void run(const std::vector<StepRecord>& done, const std::atomic<bool>& stop);

  // The trace path of a step as the command is told (with {ctx} when there are contexts), and the
  // file it is expected at for one context (0: none).
  std::string trace_pattern(std::size_t step) const;
  std::filesystem::path trace_path(std::size_t step, int ctx) const;

 private:
  StepRecord run_step(std::size_t step, const std::atomic<bool>& stop);
  // --e2e: the step's latencies from the command's output (throws ProfileError naming the line), and
  // the wall-clock window of the recorded inferences (nullopt: unknown, the whole command counts).
  std::optional<trace::WallWindow> read_latency_lines(StepRecord& r, const std::string& where,
                                                      const std::string& output,
                                                      const std::vector<std::int64_t>& arrival,
                                                      std::int64_t command_start_ns) const;
  Clocks settle(const Clocks& pinned, double t0);

  JournalHeader run_;
  std::size_t exhaustive_steps_;
  RunnerOptions opt_;
  Io io_;
  TraceLoader load_;
  StepSink record_;
  ProgressSink progress_;
};

}  // namespace flame::profile
