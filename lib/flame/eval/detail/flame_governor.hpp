#pragma once
// flamed in `flame eval`: flame::policy (lib/flame/policy, the code the daemon runs per request)
// driving the simulated board, and spoken to as an application speaks to flamed (`flame sim run`):
// each request is announced on arrival and renewed at its start with the deadline the app sends
// (sim::sent_deadline_ms), its end reports the latency the app reports (sim::reported_latency_ms),
// and time is the simulation's (flamed's simulation_clock). This adapter only translates; every
// decision is the policy's. tests/integration/policy_equivalence.sh checks that the real flamed
// on the simulation clock chooses the same clocks for every request.
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "flame/calibrate/calibrator.hpp"
#include "flame/eval/detail/governor.hpp"
#include "flame/grid/grid_model.hpp"
#include "flame/policy/policy.hpp"

namespace flame::eval {

struct FlameOptions {
  policy::Options policy;  // flamed's defaults (docs/config.md)
  calibrate::CalibratorOptions calibrator;
  bool exhaustive = false;  // diagnosis only: the exhaustive search instead of the daemon's greedy one
  // As an app driving flamed does (`flame sim run`): announce each request on arrival, renew it at
  // its start; flamed holds every announced request and runs the per-domain maximum.
  bool announce = true;
  std::string name = "flamed";  // the report's name ("flamed-grid": the end-to-end grid baseline)
};

// Grid models (the evaluation's own profile) as the policy serves them.
policy::ModelSet grid_models(const std::map<std::string, grid::GridModel>& models);

class FlameGovernor : public Governor {
 public:
  FlameGovernor(policy::ModelSet models, FlameOptions o = {});
  FlameGovernor(const std::map<std::string, grid::GridModel>& models, FlameOptions o = {})
      : FlameGovernor(grid_models(models), std::move(o)) {}
  std::string name() const override { return o_.name; }
  void reset(const BoardLevels& board) override;
  Target decide(const Decision& d) override;
  void observe(const Outcome& o) override;
  bool wants_arrivals() const override { return o_.announce; }
  std::optional<Target> arrive(const Decision& d) override;
  std::optional<IdleAction> idle(double finish_ms) override;

  const calibrate::Calibrator& calibrator() const { return policy_->calibrator(); }
  policy::Status status(double now_ms) const { return policy_->status(now_ms); }

 private:
  // The simulated board as the policy sees it: the tree's clock tables, cores as they are (flamed
  // does not actuate them); the run loop writes what decide/arrive return into the tree.
  class BoardTables : public policy::Actuator {
   public:
    const ClockGrid& grid() const override { return grid_; }
    Clocks apply(const Clocks& target) override { return current_ = target; }
    void restore() override { current_ = {}; }
    Clocks current() const override { return current_; }
    ClockGrid grid_;
    Clocks current_{};
  };
  Target begin(const Decision& d, double deadline_ms, double now_ms);
  Target target(const Clocks& c) const;

  policy::ModelSet models_;
  FlameOptions o_;
  BoardTables board_tables_;
  std::unique_ptr<policy::Policy> policy_;
};

}  // namespace flame::eval
