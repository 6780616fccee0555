#pragma once
// ModelTruth: what a simulated board *is* for one model: the latency and power of one inference that
// runs at given clocks, with that inference's noise draw. TableSimulator consults it piece by piece
// (docs/simulator.md); everything else (reading the tree, actuation delays, the power cap, the thermal
// model, the readings it writes back) is the simulator's and is the same for every truth.
// Two kinds: GridTruth (a measured FlexiBO-format grid, table lookup) and LayerTruth (a live
// kernel-by-kernel replay of real H200 segments, layer_board.hpp).
#include <string>

#include "flame/sim/grid_table.hpp"

namespace flame::sim {

// One inference's draws: two standard normals, always drawn in this order, so that the noise stream
// does not depend on the clocks or on the kind of truth. scale multiplies the truth's own sigmas
// (0 = the noise-free value).
struct TruthDraw {
  double z_latency = 0;
  double z_power = 0;
  double scale = 0;
};

struct TruthSample {
  double latency_ms = 0;
  double power_w = 0;
  double latency_noise = 1;  // the multiplicative factors applied (GridTruth), or the host factor (layer)
  double power_noise = 1;
};

class ModelTruth {
 public:
  virtual ~ModelTruth() = default;
  virtual const std::string& name() const = 0;
  // `c` holds board levels (the simulator snaps what it reads before asking).
  virtual TruthSample sample(const SimClocks& c, const TruthDraw& d) const = 0;
  TruthSample mean(const SimClocks& c) const { return sample(c, {}); }
};

// Mean-preserving log-normal factor exp(s z - s^2 / 2).
double lognormal_factor(double sigma, double z);

// A measured grid: the point the clocks snap to, times log-normal factors with the grid's own
// neighbour-scatter sigmas (grid_table.hpp).
class GridTruth final : public ModelTruth {
 public:
  explicit GridTruth(GridTable table) : table_(std::move(table)) {}
  const std::string& name() const override { return table_.name(); }
  TruthSample sample(const SimClocks& c, const TruthDraw& d) const override;
  const GridTable& table() const { return table_; }

 private:
  GridTable table_;
};

}  // namespace flame::sim
