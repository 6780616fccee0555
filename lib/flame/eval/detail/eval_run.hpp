#pragma once
// One governor on one workload on a fresh simulated board (docs/evaluation.md). The loop is the replay
// of `flame sim run` with the governor in-process instead of flamed behind its socket: per request
// (in arrival order, one GPU queue) the governor decides, the clocks are written into the board's
// sysfs tree, the table-driven simulator runs the inference at what is in effect, and the governor
// sees the outcome. Load-driven governors also get periodic ticks (busy or idle). Deterministic for
// the simulator seed; the only wall-clock measurement is the governor's decision time.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "flame/eval/detail/governor.hpp"
#include "flame/eval/eval_board.hpp"
#include "flame/sim/replay.hpp"
#include "flame/sim/table_sim.hpp"
#include "flame/sim/workload.hpp"

namespace flame::eval {

struct RunOptions {
  sim::SimOptions sim;    // seed, noise, delays, power cap, temperature and thermal throttling
  std::size_t limit = 0;  // first N requests only (0 = all)
};

struct RunResult {
  std::string governor;
  std::vector<sim::FrameRecord> records;
  std::vector<double> temperature_c;  // after each request
  double max_temperature_c = 0;       // over the whole run (the simulator's thermal model)
  std::size_t throttle_engagements = 0;
  sim::Summary summary;
  std::size_t decisions = 0;  // decide() calls
  std::size_t ticks = 0;      // tick() calls
  double decide_s = 0;        // wall time spent in decide() and tick()
  int tree_writes = 0;        // control files written
};

RunResult run_governor(const sim::Workload& w, const EvalBoard& board, Governor& g, const RunOptions& o);

}  // namespace flame::eval
