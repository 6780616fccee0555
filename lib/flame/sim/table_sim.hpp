#pragma once
// TableSimulator: the simulated board (docs/simulator.md). It is the ground truth the real flamed is
// measured against, and it shares no code or formula with the estimator:
//   - it reads the clocks flamed (or anyone) wrote into the fake sysfs tree: cpufreq scaling_min/max
//     (and the governor), devfreq min/max, the EMC rate and its lock, cpuN/online;
//   - a changed clock takes effect only after its actuation delay (default 1 / 5 / 8 ms for CPU / GPU /
//     EMC); an inference progresses at the speed of the clocks in effect, piece by piece;
//   - latency and power of an inference at the clocks in effect come from the board's truth per model
//     (model_truth.hpp): a measured grid by table lookup times log-normal noise estimated from the grid
//     (the table-driven TX2), or a live kernel-by-kernel replay of H200 segments (layer-tx2, layer-orin);
//   - an optional power cap throttles the clocks in effect (GPU first, then CPU, then EMC);
//   - a lumped thermal model follows the board's power over time, and optional thermal throttling
//     caps the CPU and GPU clocks above a trip temperature (with hysteresis);
//   - it refreshes cur_freq/scaling_cur_freq, the VDD_IN power reading and the die thermal zones.
// Time is virtual (milliseconds), supplied by the caller; results are deterministic for a seed.
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "flame/sim/detail/thermal.hpp"
#include "flame/sim/detail/thermal_throttle.hpp"
#include "flame/sim/fake_tree.hpp"
#include "flame/sim/grid_table.hpp"
#include "flame/sim/model_truth.hpp"
#include "flame/sim/profiles.hpp"
#include "flame/sim/rng.hpp"

namespace flame::sim {

struct SimOptions {
  std::uint64_t seed = 1;
  double noise_scale = 1.0;  // multiplies the truth's sigmas; 0 = no noise
  double cpu_delay_ms = 1.0;
  double gpu_delay_ms = 5.0;
  double emc_delay_ms = 8.0;
  std::optional<double> power_cap_w;        // board power limit; unset = none
  ThermalOptions thermal;                   // the board's temperature (always followed)
  std::optional<ThrottleOptions> throttle;  // thermal throttling; unset = none
  bool update_tree = true;                  // refresh cur_freq, power and temperature readings in the tree
};

// What the simulator reads from the tree: the clocks the board is asked to run under load.
struct TreeState {
  SimClocks requested;             // grid-snapped
  SimClocks raw;                   // as read (before snapping to the grid)
  std::vector<std::string> notes;  // off-grid values, unreadable files
};

// Called at fixed instants of virtual time while an inference runs, so that a governor that reacts to
// load (a stock cpufreq/devfreq governor) can rewrite the tree mid-inference; the simulator observes the
// tree right after each call (the usual actuation delays apply).
struct Ticker {
  double first_ms = 0;           // first periodic instant (> the inference's start to matter)
  double period_ms = 0;          // 0 = no periodic instants
  std::vector<double> instants;  // further instants, ascending (e.g. other requests' arrivals)
  std::function<void(double t_ms)> at;
};

struct InferenceResult {
  std::string model;
  double start_ms = 0;
  double latency_ms = 0;
  double energy_j = 0;
  double avg_power_w = 0;
  SimClocks requested;             // in the tree when the inference started
  SimClocks effective;             // in effect when it started (after delays and the cap)
  SimClocks effective_end;         // in effect when it finished
  int pieces = 1;                  // clock changes during the inference + 1
  bool throttled = false;          // the power cap or the thermal throttle lowered the clocks at some point
  bool thermal_throttled = false;  // the thermal throttle did
  double temperature_c = 0;        // die temperature when it finished
  double latency_noise = 1;        // factors drawn for this inference (layer boards: the host factor)
  double power_noise = 1;
};

// What a simulator needs of a board besides its truths: where its tree is read and refreshed, and the
// levels it runs (requests snap down to them).
struct SimBoard {
  BoardLayout layout;
  ClockLevels levels;
};

class TableSimulator {
 public:
  // The table-driven TX2: `tables` by name (GridTable::name()); all must share the TX2 grid levels.
  TableSimulator(std::string tree_root, const std::vector<GridTable>& tables, SimOptions options = {});
  // Any board: one truth per model, by name (ModelTruth::name()).
  TableSimulator(std::string tree_root, SimBoard board, std::vector<std::shared_ptr<const ModelTruth>> truths,
                 SimOptions options = {});

  // Reads the tree at virtual time now_ms (non-decreasing across calls): a domain whose requested
  // value changed since the last observation gets it after its delay. Returns what was read.
  TreeState observe(double now_ms);
  // One inference of `model` starting at start_ms (observes the tree first).
  InferenceResult run(const std::string& model, double start_ms);
  // The same, calling `ticker.at` at every tick instant before the inference finishes.
  InferenceResult run(const std::string& model, double start_ms, const Ticker& ticker);

  // The clocks in effect at time t (after delays, before the power cap).
  SimClocks effective(double t_ms) const;
  // The same after the thermal throttle and the power cap, for a model (the cap depends on the
  // model's power).
  SimClocks capped(const SimClocks& c, const ModelTruth& truth, bool* throttled = nullptr) const;
  // The thermal throttle's ceiling while it is engaged (cores and EMC untouched), else nothing.
  std::optional<SimClocks> thermal_cap() const;
  double temperature_c() const { return thermal_.celsius(); }
  double max_temperature_c() const { return max_temperature_c_; }
  std::size_t throttle_engagements() const { return throttle_ ? throttle_->engagements() : 0; }

  // The measured grid of a model (table-driven boards only; throws otherwise).
  const GridTable& table(const std::string& model) const;
  const ModelTruth& truth(const std::string& model) const;
  std::vector<std::string> models() const;
  const ClockLevels& levels() const { return levels_; }
  const SimOptions& options() const { return options_; }
  const BoardLayout& layout() const { return layout_; }
  double now_ms() const { return now_; }

 private:
  struct Change {
    double at_ms;
    std::uint64_t value;
  };
  struct Domain {
    std::uint64_t current = 0;  // in effect before the first pending change
    std::deque<Change> pending;
    double delay_ms = 0;
    std::uint64_t last_requested() const { return pending.empty() ? current : pending.back().value; }
    std::uint64_t at(double t) const;
    void settle(double t);  // fold changes that took effect by t into `current`
  };

  TreeState read_tree() const;
  void refresh_tree(double t_ms, const std::optional<InferenceResult>& last);
  // Advances the temperature to t_ms at constant power, polling the throttle at multiples of its
  // period on the way; returns true when the throttle changed state.
  bool heat(double t_ms, double power_w);
  double next_poll(double t_ms) const;  // the first poll instant after t_ms (infinity without throttle)

  std::string root_;
  FakeTree tree_;  // not owned: only used to write refreshed attributes
  BoardLayout layout_;
  ClockLevels levels_;
  std::map<std::string, std::shared_ptr<const ModelTruth>> truths_;
  std::map<std::string, const GridTable*> tables_;  // the grid truths' tables
  SimOptions options_;
  Rng rng_;
  Domain cores_, cpu_, gpu_, emc_;
  Thermal thermal_;
  std::optional<ThermalThrottle> throttle_;
  double thermal_ms_ = 0;  // the temperature is known up to here
  double max_temperature_c_ = 0;
  bool started_ = false;
  double now_ = 0;
};

// The table-driven TX2: its layout and the grids' levels; one GridTruth per grid.
SimBoard tx2_board(const std::vector<GridTable>& tables);
std::vector<std::shared_ptr<const ModelTruth>> grid_truths(const std::vector<GridTable>& tables);

// Loads every FlexiBO grid CSV (tx2_sampled_output_*.csv) in a directory.
std::vector<GridTable> load_tx2_tables(const std::string& dir);
// The shipped TX2 grids: data/jetson-public/flexibo-tx2 found by flame::io::find_data (io/data_path.hpp).
std::string tx2_grid_dir();

}  // namespace flame::sim
