#pragma once
// Measured latency (and power) at clock combinations, read from the public Jetson datasets
// (docs/validation-grid.md): FlexiBO TX2 grids and objectives, Energyinfra Orin llama.cpp sweeps.
// The format is detected from the header; malformed rows raise CsvError naming file:line.
#include <optional>
#include <string>
#include <vector>

#include "flame/clocks/clocks.hpp"

namespace flame::grid {

enum class DatasetFormat {
  FlexiboGrid,        // tx2_sampled_output_*.csv: CPU x cores x GPU x EMC, latency and power
  FlexiboObjectives,  // it_ec_te_obj.csv: sampled CPU x cores x GPU x EMC, latency (energy unitless)
  EnergyinfraSweep,   // finegrained_*.csv: llama.cpp GPU (x EMC) sweeps, decode TPOT and power
  EnergyinfraCpuGpu,  // real_experiment_*.csv: llama.cpp GPU x CPU, TPOT only
};

const char* to_string(DatasetFormat f);

// One measured row.
struct Sample {
  Clocks clocks;       // unknown domains are 0 (e.g. core count on Energyinfra)
  std::string series;  // workload for multi-workload files (decode TPOT per workload); "" otherwise
  double latency_ms = 0;
  std::optional<double> power_w;
  double cost_ms = 0;  // wall time the measurement took, for the profiling-cost report
  int line = 0;        // source line
};

struct DroppedRow {
  int line = 0;
  std::string reason;
};

struct Dataset {
  std::string path;
  DatasetFormat format = DatasetFormat::FlexiboGrid;
  std::string latency_label;  // what the latency is ("inference_time", "decode tpot_ms")
  std::string power_label;    // empty when the file has no power
  std::vector<Sample> samples;
  std::vector<DroppedRow> dropped;  // rows not usable, with the reason (failed runs, ...)
  size_t skipped = 0;               // rows outside the measured quantity (e.g. 'mixed' phase)
  std::string skipped_reason;

  bool has_power() const { return !power_label.empty(); }
};

Dataset read_dataset(const std::string& path);
Dataset parse_dataset(const std::string& csv_text, const std::string& path);

// All rows measured at one clock combination of one series; repeats are summarised by the median.
struct Point {
  std::string series;
  Clocks clocks;
  std::vector<size_t> rows;  // indices into Dataset::samples
  double latency_ms = 0;
  std::optional<double> power_w;
  double cost_ms = 0;  // summed over the rows
};

// Points in a deterministic order (series, then clocks ascending).
std::vector<Point> group_points(const Dataset& d);

// The distinct series names, in order of first appearance.
std::vector<std::string> series_names(const Dataset& d);

}  // namespace flame::grid
