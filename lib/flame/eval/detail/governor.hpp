#pragma once
// The governor interface of the evaluation (docs/evaluation.md): a policy that chooses the clocks of
// the simulated board per request. All governors see the same workload, board and seeds; the loop in
// eval_run.hpp writes what they choose into the board's sysfs tree and the table-driven simulator
// runs the inference at whatever is in effect (actuation delays, noise, power cap).
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "flame/sim/grid_table.hpp"

namespace flame::eval {

// The clocks a governor asks for. A zero in a domain leaves it to the stock mechanism (for EMC:
// unlocked, i.e. BPMP DVFS, which the simulator runs at its ceiling under load).
using Target = sim::SimClocks;

// What the simulated board offers (the grid levels at the online core count) and the board's state
// the governors may know without measuring: clock tables are public, latency and power are not.
struct BoardLevels {
  int cores = 4;
  std::vector<std::uint64_t> cpu_khz, gpu_hz, emc_hz;  // ascending
  Target max() const { return {cores, cpu_khz.back(), gpu_hz.back(), emc_hz.back()}; }
  Target min() const { return {cores, cpu_khz.front(), gpu_hz.front(), emc_hz.front()}; }
};

// One request as the governor sees it when it starts.
struct Decision {
  std::size_t index = 0;
  std::string model;
  double now_ms = 0;         // start of the inference (virtual time)
  double arrival_ms = 0;     // arrival of the request
  double deadline_ms = 0;    // relative to the arrival
  double budget_ms = 0;      // what is left of the deadline at the start (may be <= 0 when late)
  double temperature_c = 0;  // the die thermal zones
  // Ground truth for the oracle only: the thermal throttle's ceiling in effect now (a real board
  // shows it only as cur_freq below the request).
  std::optional<sim::SimClocks> thermal_cap;
  // An SLM request's context length and phase, as the app sends them to flamed (0 / "" for DNNs).
  int ctx = 0;
  std::string phase;
};

// What happened, reported after the inference (what an application reports to flamed, plus the
// board's power telemetry and temperature).
struct Outcome {
  std::size_t index = 0;
  std::string model;
  double start_ms = 0;
  double latency_ms = 0;   // service time
  double response_ms = 0;  // finish - arrival
  double deadline_ms = 0;
  double budget_ms = 0;
  bool met = false;
  double energy_j = 0;
  double avg_power_w = 0;
  sim::SimClocks effective;  // clocks in effect at the start
  double temperature_c = 0;  // after the inference
};

class Governor {
 public:
  virtual ~Governor() = default;
  virtual std::string name() const = 0;
  // Before a run on a fresh board.
  virtual void reset(const BoardLevels& board) { board_ = board; }
  // The clocks to set before request `d` runs.
  virtual Target decide(const Decision& d) = 0;
  virtual void observe(const Outcome&) {}

  // Governors that apps tell about a request as soon as it arrives (flamed: the app's `begin` on
  // arrival, renewed when the inference starts) get arrive() for every request that arrives while
  // another inference runs; it returns the clocks to set at once, or nothing to keep them.
  virtual bool wants_arrivals() const { return false; }
  virtual std::optional<Target> arrive(const Decision& /*d*/) { return std::nullopt; }

  // Load-driven governors (the stock ones) re-evaluate every tick_ms() of virtual time, busy or idle;
  // 0 = only at request boundaries. tick() returns new clocks, or nothing to keep the current ones.
  virtual double tick_ms() const { return 0; }
  virtual std::optional<Target> tick(double /*now_ms*/, bool /*busy*/) { return std::nullopt; }

  // After a request finishes and nothing else is running: clocks to set at a later instant if the
  // board is still idle then (flamed's idle policy); nothing = keep the clocks.
  struct IdleAction {
    double at_ms = 0;
    std::optional<Target> clocks;  // nothing = restore the board's baseline
  };
  virtual std::optional<IdleAction> idle(double /*finish_ms*/) { return std::nullopt; }

 protected:
  BoardLevels board_;
};

// Index of a level in an ascending table (exact match, else the highest not above; 0 below all).
std::size_t level_index(const std::vector<std::uint64_t>& levels, std::uint64_t value);

}  // namespace flame::eval
