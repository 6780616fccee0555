#pragma once
// The oracles: offline knowledge of the board's truth (every operating point's latency and power)
// and of the actuation delays. Both pick, per request, the operating point of lowest energy whose
// latency meets what is left of the deadline; neither trades one request's energy against a later
// one's queueing.
//   - OracleGovernor (clairvoyant): also knows the noise the simulator will draw for this very
//     inference (it replays the simulator's seeded stream); the fastest point when none meets it.
//   - ExpectationOracle (non-clairvoyant): knows the noise distribution but not the draw; it picks
//     the lowest expected energy among the points that meet the budget with probability >= `p_meet`
//     (the fastest point at that quantile when none does).
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "flame/eval/detail/governor.hpp"
#include "flame/eval/eval_board.hpp"
#include "flame/sim/rng.hpp"
#include "flame/sim/table_sim.hpp"

namespace flame::eval {

// Latency and energy of one inference at `c` when `prev` was in effect before its start (the
// simulator's piecewise progress: each changed domain switches after its delay), for a noise draw.
struct InferenceCost {
  double latency_ms = 0, energy_j = 0;
};
InferenceCost inference_cost(const sim::ModelTruth& truth, const sim::SimOptions& sim, const Target& prev,
                             const Target& c, const sim::TruthDraw& draw);

class OracleGovernor : public Governor {
 public:
  // Same board and simulator options as the run it will take part in.
  OracleGovernor(const EvalBoard& board, const sim::SimOptions& sim);
  std::string name() const override { return "oracle"; }
  void reset(const BoardLevels& board) override;
  Target decide(const Decision& d) override;

 private:
  const EvalBoard& board_def_;
  sim::SimOptions sim_;
  sim::Rng rng_{1};
  Target prev_{};
};

class ExpectationOracle : public Governor {
 public:
  ExpectationOracle(const EvalBoard& board, const sim::SimOptions& sim, double p_meet = 0.99);
  std::string name() const override { return "oracle-nc"; }
  void reset(const BoardLevels& board) override;
  Target decide(const Decision& d) override;

 private:
  const EvalBoard& board_def_;
  sim::SimOptions sim_;
  double z_meet_;  // the standard-normal quantile of p_meet
  Target prev_{};
  // Its draws are fixed (the quantile and the quadrature nodes): each truth's answers are memoised.
  class Memo;
  std::map<std::string, std::shared_ptr<Memo>> memo_;  // by truth name
};

}  // namespace flame::eval
