#pragma once
// Detects measurements that contradict the rest of a profile (a clock change that did not take
// effect, a disturbed run) so that fits and error reports can leave them out with a stated reason:
//   - repeats: a repeat far from the median of its combination's repeats;
//   - monotonicity: a higher clock in one domain (others equal) that is clearly slower; of the
//     pair, the point the robust fit finds less consistent is blamed;
//   - residuals: a point far from a robust (Cauchy-loss) fit of the latency model to the others.
#include <cstdint>
#include <string>
#include <vector>

#include "flame/grid/dataset.hpp"
#include "flame/grid/latency_model.hpp"

namespace flame::grid {

struct ScreenOptions {
  double repeat_tolerance = 0.15;    // a repeat this far from its median is a glitch
  double monotone_tolerance = 0.05;  // a higher clock may be at most this much slower ...
  double monotone_sigmas = 3;        // ... or this many robust standard deviations of the residuals
  double residual_floor = 0.25;      // |log residual| must exceed this ...
  double residual_sigmas = 5;        // ... and this many robust standard deviations
  uint64_t seed = 1;
};

struct ScreenedPoint {
  size_t point = 0;  // index into the points screened
  std::string reason;
};

struct ScreenedRow {
  size_t row = 0;  // index into Dataset::samples
  std::string reason;
};

struct ScreenResult {
  std::vector<Point> points;  // with repeat glitches removed and medians recomputed
  std::vector<bool> keep;     // per point
  std::vector<ScreenedPoint> excluded;
  std::vector<ScreenedRow> excluded_rows;
};

// Screens the points of one series. `fitted`, when given, is a fit to these points used for the
// residual checks (saves a fit when the caller has one); otherwise a robust fit is made here.
ScreenResult screen_points(const std::vector<Point>& points, const Dataset& d, const ClockReference& ref,
                           const ScreenOptions& options = {}, const CoupledLatency* fitted = nullptr);

}  // namespace flame::grid
