#pragma once
// The simulated application (`flame sim app`, docs/simulator.md): one configuration of a coupling
// dataset run on a live layer-level board. It reads the clocks in effect from the board's tree, runs
// warm-up and recorded iterations through the simulator (latency = replay + host noise, power on the
// tree's VDD_IN as the board shows it) and returns a PyTorch-profiler-format (Kineto) trace of the
// recorded iterations: iter<k> ranges, u<i>:<module> ranges around the leaf calls, one launch and one
// kernel per replayed kernel, joined by correlation ids (docs/trace-format.md). Pure apart from the
// tree the simulator reads and refreshes; waiting (pacing in wall-clock time) is the caller's.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "flame/sim/layer_board.hpp"
#include "flame/sim/table_sim.hpp"

namespace flame::sim {

struct AppOptions {
  int warmup = 3;          // unrecorded iterations first (at least)
  double warmup_ms = 300;  // ... and at least this much simulated time (a real application's start-up)
  int iterations = 5;      // recorded iterations
  double gap_ms = 0.05;    // host time between iterations (the loop around the model)
};

struct AppIteration {
  double start_ms = 0;
  InferenceResult result;
  ReplayTimeline timeline;  // stretched to the inference's latency when the clocks changed during it
};

struct AppRun {
  SimClocks clocks;     // what the tree asked for when the application started
  double start_ms = 0;  // simulated time when it started
  std::vector<AppIteration> recorded;
  double energy_j = 0;  // over every iteration, warm-up included
  double end_ms = 0;    // simulated time when the application exits
};

// Runs the application on `sim` (whose truth for `truth.name()` must be `truth`). `wait(ms)` is called
// after every iteration with its simulated duration (the CLI sleeps it; tests pass nothing).
AppRun run_app(TableSimulator& sim, const LayerTruth& truth, const AppOptions& o,
               const std::function<void(double ms)>& wait = {});

// The Kineto trace of the recorded iterations as JSON text. `wall_start_ns`: the Unix time at which
// the run started when it was paced in wall-clock time; the trace then carries the wall-clock anchor
// (`baseTimeNanoseconds`) that places its iterations in real time, as torch >= 2.4 writes it, and
// `flame profile` takes the rail samples of those iterations (docs/profiling.md).
std::string app_trace_json(const LayerTruth& truth, const AppRun& run, const std::string& board,
                           std::optional<std::int64_t> wall_start_ns = std::nullopt);

// The seed of one application run: the user's seed mixed with the clocks it runs at (splitmix64), so
// that runs at different combinations draw independent noise and a rerun at the same ones repeats.
std::uint64_t app_seed(std::uint64_t seed, const SimClocks& c);

}  // namespace flame::sim
