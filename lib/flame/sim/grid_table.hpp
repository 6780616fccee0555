#pragma once
// GridTable: one measured latency/power grid of the simulated board, read from a FlexiBO
// `tx2_sampled_output_*.csv` (data/jetson-public/flexibo-tx2). It is the simulator's ground truth:
// plain table lookup, no model, no formula shared with the estimator (docs/simulator.md).
//
// The grid is a full factorial over online cores × CPU kHz × GPU Hz × EMC Hz with one measurement per
// point. Its measurement noise is estimated from the scatter between neighbouring points along the CPU
// axis (noise_from_neighbours below).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "flame/clocks/clock_grid.hpp"

namespace flame::sim {

struct GridError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// One operating point in sysfs units (CPU kHz, GPU and EMC Hz) plus the online grid cores.
struct SimClocks {
  int cores = 0;
  std::uint64_t cpu_khz = 0;
  std::uint64_t gpu_hz = 0;
  std::uint64_t emc_hz = 0;
  bool operator==(const SimClocks&) const = default;
};
std::string to_string(const SimClocks& c);

// The levels a simulated board offers per domain (ascending), in sysfs units.
struct ClockLevels {
  std::vector<int> cores;
  std::vector<std::uint64_t> cpu_khz, gpu_hz, emc_hz;
};
// The levels as the clock grid a model is profiled and searched on (cores are not a knob there).
ClockGrid clock_grid(const ClockLevels& levels);
// A combination of that grid (clocks in sysfs units) with `cores` online, as the simulator runs it.
SimClocks sim_clocks(const Clocks& c, int cores);

struct GridIndex {
  std::size_t cores = 0, cpu = 0, gpu = 0, emc = 0;
  bool operator==(const GridIndex&) const = default;
};

struct GridPoint {
  double latency_s = 0;  // one inference
  double power_mw = 0;   // FlexiBO power_consumption (taken as board power in mW)
};

// Relative measurement noise of one quantity, from the grid itself.
struct NoiseEstimate {
  double sigma = 0;           // standard deviation of ln(value), robust (1.4826 × MAD)
  double sigma_plain = 0;     // plain standard deviation of the same residuals (for the docs)
  std::size_t residuals = 0;  // how many neighbour triples went in
};

class GridTable {
 public:
  // Parses the FlexiBO CSV format; throws GridError naming source:line on any problem (missing
  // column, bad number, a configuration twice, a hole in the factorial design).
  static GridTable parse_csv(std::string_view text, const std::string& source);
  static GridTable load_csv(const std::filesystem::path& file);

  const std::string& name() const { return name_; }  // "inceptionv3-200" (model_name-width)
  const std::string& model_name() const { return model_; }
  const std::string& input_size() const { return size_; }
  const std::string& source() const { return source_; }

  // Levels, ascending.
  const std::vector<int>& cores() const { return cores_; }
  const std::vector<std::uint64_t>& cpu_khz() const { return cpu_; }
  const std::vector<std::uint64_t>& gpu_hz() const { return gpu_; }
  const std::vector<std::uint64_t>& emc_hz() const { return emc_; }
  ClockLevels levels() const { return {cores_, cpu_, gpu_, emc_}; }
  std::size_t size() const { return points_.size(); }

  const GridPoint& at(const GridIndex& i) const;
  SimClocks clocks(const GridIndex& i) const;
  // The exact grid point of an operating point, if every value is a grid level.
  std::optional<GridIndex> find(const SimClocks& c) const;
  // The grid point a board state maps to: per domain the highest level not above the value (the
  // lowest level if the value is below all of them); cores likewise.
  GridIndex snap(const SimClocks& c) const;

  // Fastest point overall, and fastest with a given number of cores.
  GridIndex fastest() const;
  GridIndex fastest(int cores) const;

  const NoiseEstimate& latency_noise() const { return latency_noise_; }
  const NoiseEstimate& power_noise() const { return power_noise_; }

 private:
  std::size_t flat(const GridIndex& i) const;
  void estimate_noise();

  std::string name_, model_, size_, source_;
  std::vector<int> cores_;
  std::vector<std::uint64_t> cpu_, gpu_, emc_;
  std::vector<GridPoint> points_;
  NoiseEstimate latency_noise_, power_noise_;
};

// The noise estimator, exposed for tests. For every line of the grid along the CPU axis (fixed cores,
// GPU, EMC) and every interior point i, the residual of ln(y_i) against the straight line through its
// two neighbours in (ln f, ln y):
//   r_i = [ln y_i - (w ln y_{i-1} + (1 - w) ln y_{i+1})] / sqrt(1 + w² + (1 - w)²),
//   w = (ln f_{i+1} - ln f_i) / (ln f_{i+1} - ln f_{i-1}).
// With independent noise of standard deviation σ on each ln y, r_i has standard deviation σ (that is
// what the denominator normalises), and a smooth power law y ∝ f^a leaves no residual at all. The
// estimate is 1.4826 × the median absolute deviation of all r_i, robust against the few kinks where the
// bottleneck moves between CPU and GPU. `values[line][i]` must be positive, `freqs` ascending.
NoiseEstimate noise_from_neighbours(const std::vector<std::vector<double>>& lines,
                                    const std::vector<double>& freqs);

// Index of the highest level <= value, or 0 when value is below every level.
std::size_t snap_down(const std::vector<std::uint64_t>& levels, std::uint64_t value);

}  // namespace flame::sim
