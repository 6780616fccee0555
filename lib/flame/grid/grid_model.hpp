#pragma once
// A fitted model-level (end-to-end) frequency model: per series (workload) a coupled latency model
// and, where the profile has power, a power model. `kind: grid` in model files.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "flame/clocks/clocks.hpp"
#include "flame/grid/dataset.hpp"
#include "flame/grid/detail/clock_levels.hpp"
#include "flame/grid/detail/glitch_screen.hpp"
#include "flame/grid/latency_model.hpp"
#include "flame/grid/power_model.hpp"

namespace flame::grid {

struct SeriesModel {
  std::string name;  // workload; "" for single-workload profiles
  CoupledLatency latency;
  std::optional<PowerModel> power;
  double residual_sigma = 0;  // robust spread of the fit's relative errors on its samples

  Estimate estimate(const Clocks& c) const;
  // A safety margin for deadlines that covers the model's typical error: 2 sigma, at least the
  // daemon's default 5 %, at most 15 %.
  double suggested_margin() const;
};

struct GridModel {
  ClockLevels levels;  // the clock grid the model was fitted on (levels per domain)
  std::vector<SeriesModel> series;

  // Provenance, written to the model file.
  std::string dataset;
  std::string format;
  size_t budget = 0;
  uint64_t seed = 0;
  size_t profiled = 0;  // clock combinations profiled

  const SeriesModel& find(const std::string& name) const;  // throws std::out_of_range with the known names
};

ClockReference reference_of(const ClockLevels& levels);

struct GridFitOptions {
  size_t budget = 32;  // clock combinations to profile
  uint64_t seed = 1;
  bool screen = true;          // leave glitches in the profiled points out of the fit
  double robust_scale = 0.08;  // Cauchy loss on log latency (single noisy measurements)
  ScreenOptions screen_options;
  // Combinations not to profile: known glitches (a clock change that did not take effect) are
  // re-measured in practice; a validation emulates that by drawing the plan from the rest.
  std::vector<Clocks> avoid;
};

struct ExcludedPoint {
  std::string series;
  Clocks clocks;
  std::string reason;
};

struct GridFit {
  GridModel model;
  std::vector<Clocks> profiled;            // the planned combinations
  std::vector<ExcludedPoint> excluded;     // profiled points the screen left out
  std::vector<std::string> excluded_rows;  // repeats the screen left out
  std::vector<std::string> free_parameters;
  std::vector<std::vector<Point>> fitted_points;  // per series: the profiled points the fit used
};

// Plans `budget` combinations over the dataset's combinations, "profiles" them (takes their rows),
// screens glitches and fits every series. Throws std::invalid_argument when the budget is too small.
GridFit fit_grid_model(const Dataset& d, const GridFitOptions& options);

// Fits one series from given points (no planning); used by fit_grid_model and validation.
SeriesModel fit_series(const std::string& name, const std::vector<Point>& points, const ClockReference& ref,
                       uint64_t seed, double robust_scale,
                       std::vector<std::string>* free_parameters = nullptr);

}  // namespace flame::grid
