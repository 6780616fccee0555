#pragma once
// flamed's policy, in-process: the same library code the daemon runs per request (daemon/governor.cpp
// and daemon/planner.cpp) — the deadline shrunk by the safety margin and divided by the model's
// calibration factor, FLAME's decoupled greedy search (lib/flame/search) on the fitted grid model, the
// EWMA recalibration (lib/flame/calibrate) on every reported latency, and the idle policy (restore the
// baseline once the board has been idle for idle_delay_ms). The socket, the board layer's writes and
// the daemon's lifecycle are not in the loop here; tools/demo.sh and tests/integration/sim_flamed.sh
// run the real flamed on the same simulated board.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "flame/calibrate/calibrator.hpp"
#include "flame/eval/governor.hpp"
#include "flame/grid/grid_model.hpp"
#include "flame/model/clock_grid.hpp"

namespace flame::eval {

struct FlameOptions {
  double safety_margin_pct = 5;  // flamed's default (docs/config.md)
  bool recalibrate = true;
  double idle_delay_ms = 200;  // flamed's default idle hysteresis; then idle_policy: restore
  CalibratorOptions calibrator;
  bool exhaustive = false;  // diagnosis only: the exhaustive search instead of the daemon's greedy one
  // As an app driving flamed does (`flame sim run`): announce each request on arrival, renew it at
  // its start; flamed holds every announced request and runs the per-domain maximum.
  bool announce = true;
  bool queue_aware = true;  // flamed's queue_aware: budget = deadline - predicted work ahead
};

class FlameGovernor : public Governor {
 public:
  FlameGovernor(std::map<std::string, grid::GridModel> models, FlameOptions o = {});
  std::string name() const override { return "flamed"; }
  void reset(const BoardLevels& board) override;
  Target decide(const Decision& d) override;
  void observe(const Outcome& o) override;
  bool wants_arrivals() const override { return o_.announce; }
  std::optional<Target> arrive(const Decision& d) override;
  std::optional<IdleAction> idle(double finish_ms) override;

  const Calibrator& calibrator() const { return calibrator_; }
  std::size_t infeasible() const { return infeasible_; }
  std::size_t evaluations() const { return evaluations_; }

 private:
  std::map<std::string, grid::GridModel> models_;
  FlameOptions o_;
  ClockGrid grid_;
  Calibrator calibrator_;
  // A request flamed holds (daemon/arbiter.hpp's Hold): its choice, when it joined the queue and
  // started, its predictions, and whether another hold raised its clocks (then no recalibration).
  struct Held {
    Target clocks;
    double arrived_ms = 0, began_ms = 0;
    double model_ms = 0, predicted_ms = 0;
    bool arbitrated = false;
  };
  Target plan(std::size_t index, const std::string& model, double budget_ms, double now_ms,
              double arrived_ms);
  Target combined();  // per-domain maximum of the holds; marks the ones it raises

  std::map<std::size_t, Held> held_;
  std::size_t infeasible_ = 0, evaluations_ = 0;
};

}  // namespace flame::eval
