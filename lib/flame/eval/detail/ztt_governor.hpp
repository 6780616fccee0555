#pragma once
// zTT (Kim et al., MobiSys 2021; ztt-21/zTT Jetson_tx2/agent.py) re-targeted from frame rate and
// temperature to per-request deadlines (docs/evaluation.md "zTT"):
//   state (7): CPU level, GPU level, board power, the budget of the request to decide for (relative to
//     the model's fastest latency; takes the slot of zTT's second power rail, which the grid does not
//     split), CPU and GPU temperature (one lumped thermal model), the last request's performance
//     (deadline / response, zTT's fps / target);
//   actions (9): zTT's 3 × 3 grid of absolute clock pairs, CPU table indices {3, 7, 11} and GPU
//     {3, 7, 11} of the TX2's 13-step GPU table mapped to the nearest of the simulated board's 4 levels;
//     EMC left to its stock behaviour (zTT does not control it);
//   reward: u + v1 + β/P with u = 1 when the deadline is met, else deadline / response; v1 =
//     0.2·tanh(T_target − T), −2 at or above T_target (50 °C); β = 2; P in units of 100 mW;
//   zTT's safety override: at T ≥ T_target random lower clocks; ≥ 5 °C below it and the last request
//     late: random higher clocks with probability 0.3;
//   learning: dqn.hpp with zTT's published hyperparameters; every transition is terminal (zTT's
//     done = 1), samples with r < 0 or r > 1 are stored three times, one training step per request.
// Inputs are scaled to O(1) (zTT feeds raw indices, 100 mW units, °C and fps): the one change made to
// help the small network with its large learning rate.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "flame/eval/detail/dqn.hpp"
#include "flame/eval/detail/eval_run.hpp"
#include "flame/eval/detail/governor.hpp"
#include "flame/sim/request_truth.hpp"

namespace flame::eval {

struct ZttOptions {
  DqnOptions dqn;
  double beta = 2;
  double target_temp_c = 50;
  bool safety_override = true;
  double explore_higher_p = 0.3;
  double power_scale_w = 4;  // the power input's scale (zTT's TX2: 4 W); about the board's busy power
};

class ZttGovernor : public Governor {
 public:
  // fastest_ms: per truth (the model, or an SLM request's configuration: `truths`), the fastest
  // latency the board offers (public: the clock tables at maximum are what `jetson_clocks` gives;
  // used only to scale the budget input).
  ZttGovernor(std::map<std::string, double> fastest_ms, const ZttOptions& o = {},
              sim::RequestTruths truths = {});
  std::string name() const override { return "ztt"; }
  void reset(const BoardLevels& board) override;
  Target decide(const Decision& d) override;
  void observe(const Outcome& o) override;

  void set_training(bool on) { training_ = on; }
  bool training() const { return training_; }
  const Dqn& dqn() const { return dqn_; }
  double reward_sum() const { return reward_sum_; }
  std::size_t rewards() const { return rewards_; }
  // The clocks of action a (0..8) on the current board.
  Target action_clocks(int a) const;
  double reward(const Outcome& o) const;

 private:
  Eigen::VectorXd state(const Decision& d) const;

  std::map<std::string, double> fastest_;
  ZttOptions o_;
  sim::RequestTruths truths_;
  Dqn dqn_;
  bool training_ = true;
  std::vector<std::size_t> cpu_idx_, gpu_idx_;  // board levels of the 3 CPU and 3 GPU choices
  int action_ = 8;
  std::optional<Eigen::VectorXd> last_state_;
  double last_power_w_ = 0, last_perf_ = 1, temperature_ = 25;
  double reward_sum_ = 0;
  std::size_t rewards_ = 0;
};

struct ZttTrainOptions {
  int max_episodes = 60;
  int min_episodes = 10;
  int window = 5;           // episodes the convergence test looks at
  double tolerance = 0.02;  // max − min of the window's mean rewards, relative to their mean
  std::uint64_t seed = 1;   // episode e runs the simulator with seed·1000 + 101 + e (not an eval seed)
  RunOptions run;
};

struct EpisodeStats {
  int episode = 0;
  double mean_reward = 0;
  double met_pct = 0;
  double energy_per_inference_j = 0;
  double epsilon = 0;
  double loss = 0;
};

struct ZttTraining {
  std::vector<EpisodeStats> curve;
  bool converged = false;
  int episodes = 0;
  long steps = 0;
  double wall_s = 0;
};

// Online training in the simulator, one episode = one pass over the workload, until the mean reward
// per episode settles (after ε has decayed) or max_episodes. Leaves the governor in evaluation mode.
ZttTraining train_ztt(ZttGovernor& g, const sim::Workload& w, const EvalBoard& board,
                      const ZttTrainOptions& o);

}  // namespace flame::eval
