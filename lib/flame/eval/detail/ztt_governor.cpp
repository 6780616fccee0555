#include "flame/eval/detail/ztt_governor.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

namespace flame::eval {
namespace {

// zTT's GPU action indices {3, 7, 11} point into the TX2's 13-step GPU table (agent.py): 420.75,
// 828.75 and 1236.75 MHz of its 1300.5 MHz top; its CPU actions are indices {3, 7, 11} of the TX2's
// 12-step CPU table. Other boards get the same positions relative to their own tables (on the TX2
// they are exactly zTT's).
constexpr double kZttGpuShare[3] = {420750000.0 / 1300500000.0, 828750000.0 / 1300500000.0,
                                    1236750000.0 / 1300500000.0};
constexpr double kZttCpuPosition[3] = {3.0 / 11.0, 7.0 / 11.0, 11.0 / 11.0};

std::size_t nearest(const std::vector<std::uint64_t>& levels, double v) {
  std::size_t best = 0;
  for (std::size_t i = 1; i < levels.size(); ++i)
    if (std::abs(static_cast<double>(levels[i]) - v) < std::abs(static_cast<double>(levels[best]) - v))
      best = i;
  return best;
}

}  // namespace

ZttGovernor::ZttGovernor(std::map<std::string, double> fastest_ms, const ZttOptions& o,
                         sim::RequestTruths truths)
    : fastest_(std::move(fastest_ms)), o_(o), truths_(std::move(truths)), dqn_(o.dqn) {
  if (o_.dqn.inputs != 7 || o_.dqn.actions != 9) throw std::invalid_argument("ztt: 7 inputs and 9 actions");
  for (const auto& [m, f] : fastest_)
    if (!(f > 0)) throw std::invalid_argument("ztt: fastest latency of " + m + " must be > 0");
}

void ZttGovernor::reset(const BoardLevels& board) {
  Governor::reset(board);
  cpu_idx_.clear();
  gpu_idx_.clear();
  const double cpu_top = static_cast<double>(board.cpu_khz.size() - 1);
  for (double x : kZttCpuPosition) cpu_idx_.push_back(static_cast<std::size_t>(std::lround(x * cpu_top)));
  for (double s : kZttGpuShare)
    gpu_idx_.push_back(nearest(board.gpu_hz, s * static_cast<double>(board.gpu_hz.back())));
  // A new episode on a fresh board (the network and its memory persist: that is the training).
  action_ = 8;
  last_state_.reset();
  last_power_w_ = 0;
  last_perf_ = 1;
  temperature_ = 25;
  reward_sum_ = 0;
  rewards_ = 0;
}

Target ZttGovernor::action_clocks(int a) const {
  const auto i = static_cast<std::size_t>(a / 3), j = static_cast<std::size_t>(a % 3);
  return {board_.cores, board_.cpu_khz[cpu_idx_[i]], board_.gpu_hz[gpu_idx_[j]], 0};
}

Eigen::VectorXd ZttGovernor::state(const Decision& d) const {
  const std::string truth = truths_.truth_name(d.model, d.ctx, d.phase);
  const auto it = fastest_.find(truth);
  if (it == fastest_.end()) throw std::invalid_argument("ztt: no fastest latency for " + truth);
  const Target c = action_clocks(action_);
  Eigen::VectorXd s(7);
  s << static_cast<double>(level_index(board_.cpu_khz, c.cpu_khz)) /
           static_cast<double>(std::max<std::size_t>(board_.cpu_khz.size() - 1, 1)),
      static_cast<double>(level_index(board_.gpu_hz, c.gpu_hz)) /
          static_cast<double>(std::max<std::size_t>(board_.gpu_hz.size() - 1, 1)),
      last_power_w_ / o_.power_scale_w, std::max(0.0, d.budget_ms) / it->second / 3.0,
      d.temperature_c / o_.target_temp_c, d.temperature_c / o_.target_temp_c, last_perf_ / 2.0;
  return s;
}

double ZttGovernor::reward(const Outcome& o) const {
  const double u = o.met ? 1.0 : std::min(1.0, o.deadline_ms / o.response_ms);
  double v1 = 0.2 * std::tanh(o_.target_temp_c - o.temperature_c);
  if (o.temperature_c >= o_.target_temp_c) v1 = -2;
  // 100 mW units of a TX2 (zTT's board): other boards' power is scaled into the TX2's range.
  const double p = std::max(o.avg_power_w * 10.0 * 4.0 / o_.power_scale_w, 1e-3);
  return u + v1 + o_.beta / p;
}

Target ZttGovernor::decide(const Decision& d) {
  const Eigen::VectorXd s = state(d);
  sim::Rng& rng = dqn_.rng();
  const int ci = action_ / 3, gj = action_ % 3;
  if (o_.safety_override && training_ && d.temperature_c >= o_.target_temp_c) {
    // Too hot: random clocks no higher than now (agent.py picks lower indices at random).
    action_ = 3 * static_cast<int>(rng.integer(0, ci)) + static_cast<int>(rng.integer(0, gj));
  } else if (o_.safety_override && training_ && o_.target_temp_c - d.temperature_c >= 5 && last_perf_ < 1 &&
             rng.uniform() <= o_.explore_higher_p) {
    action_ = 3 * static_cast<int>(rng.integer(ci, 2)) + static_cast<int>(rng.integer(gj, 2));
  } else {
    action_ = dqn_.act(s, training_);
  }
  last_state_ = s;
  temperature_ = d.temperature_c;
  return action_clocks(action_);
}

void ZttGovernor::observe(const Outcome& o) {
  const double r = reward(o);
  reward_sum_ += r;
  ++rewards_;
  last_power_w_ = o.avg_power_w;
  last_perf_ = std::min(2.0, o.deadline_ms / std::max(o.response_ms, 1e-6));
  if (!training_ || !last_state_) return;
  Transition t{*last_state_, action_, r, Eigen::VectorXd(), true};
  const int copies = (r < 0 || r > 1) ? 3 : 1;  // agent.py stores highlighted samples twice more
  for (int k = 0; k < copies; ++k) dqn_.remember(t);
  dqn_.train();
}

ZttTraining train_ztt(ZttGovernor& g, const sim::Workload& w, const EvalBoard& board,
                      const ZttTrainOptions& o) {
  if (o.max_episodes < 1 || o.window < 2)
    throw std::invalid_argument("ztt training: episodes >= 1, window >= 2");
  const auto t0 = std::chrono::steady_clock::now();
  ZttTraining out;
  g.set_training(true);
  for (int e = 0; e < o.max_episodes; ++e) {
    RunOptions ro = o.run;
    ro.sim.seed = o.seed * 1000 + 101 + static_cast<std::uint64_t>(e);
    const RunResult r = run_governor(w, board, g, ro);
    EpisodeStats s;
    s.episode = e + 1;
    s.mean_reward = g.rewards() ? g.reward_sum() / static_cast<double>(g.rewards()) : 0;
    s.met_pct = r.summary.met_pct;
    s.energy_per_inference_j = r.summary.energy_per_inference_j;
    s.epsilon = g.dqn().epsilon();
    s.loss = g.dqn().last_loss();
    out.curve.push_back(s);
    out.episodes = e + 1;
    if (out.episodes >= std::max(o.min_episodes, o.window) && g.dqn().epsilon() <= 0.01) {
      double lo = 1e300, hi = -1e300, sum = 0;
      for (int k = out.episodes - o.window; k < out.episodes; ++k) {
        const double v = out.curve[static_cast<std::size_t>(k)].mean_reward;
        lo = std::min(lo, v);
        hi = std::max(hi, v);
        sum += v;
      }
      if ((hi - lo) <= o.tolerance * std::abs(sum / o.window)) {
        out.converged = true;
        break;
      }
    }
  }
  g.set_training(false);
  out.steps = g.dqn().steps();
  out.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace flame::eval
