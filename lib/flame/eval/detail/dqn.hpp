#pragma once
// A small deep Q-network as zTT uses it (ztt-21/zTT Jetson_tx2/agent.py): a dense ReLU network
// (7 → 6 → 6 → 9 by default, weights drawn from N(0, 0.05) like Keras' 'normal' initialiser),
// mean-squared-error loss on the taken action's Q value, Adam, experience replay (a bounded FIFO
// sampled uniformly), a target network, and ε-greedy actions with ε decayed per training step.
// Deterministic for a seed (sim::Rng, no <random> distributions).
#include <Eigen/Dense>
#include <cstdint>
#include <deque>
#include <vector>

#include "flame/sim/rng.hpp"

namespace flame::eval {

struct DqnOptions {
  int inputs = 7;
  std::vector<int> hidden = {6, 6};
  int actions = 9;
  double learning_rate = 0.05;  // Adam
  double gamma = 0.99;
  double epsilon_start = 1.0;
  double epsilon_decay = 0.95;  // per training step
  double epsilon_min = 0.0;
  std::size_t replay = 500;
  std::size_t batch = 64;
  std::size_t train_start = 200;  // samples in the replay memory before training starts
  int target_sync = 1;            // training steps between target-network copies
  double init_sd = 0.05;
  std::uint64_t seed = 1;
};

struct Transition {
  Eigen::VectorXd state;
  int action = 0;
  double reward = 0;
  Eigen::VectorXd next;
  bool done = true;
};

// A plain multi-layer perceptron (ReLU hidden layers, linear output) with Adam.
class Mlp {
 public:
  Mlp() = default;
  Mlp(int inputs, const std::vector<int>& hidden, int outputs, double init_sd, sim::Rng& rng);
  Eigen::VectorXd forward(const Eigen::VectorXd& x) const;
  // One Adam step on 0.5·mean((out[a_i] − y_i)²) over the batch (the loss Keras' mse minimises up to a
  // constant factor); returns the batch's mean squared error.
  double train(const std::vector<Eigen::VectorXd>& x, const std::vector<int>& a, const std::vector<double>& y,
               double lr);

 private:
  std::vector<Eigen::MatrixXd> w_;
  std::vector<Eigen::VectorXd> b_;
  std::vector<Eigen::MatrixXd> mw_, vw_;  // Adam moments
  std::vector<Eigen::VectorXd> mb_, vb_;
  long step_ = 0;
};

class Dqn {
 public:
  explicit Dqn(DqnOptions o = {});
  // ε-greedy (explore = false: greedy, for evaluation).
  int act(const Eigen::VectorXd& state, bool explore = true);
  Eigen::VectorXd q(const Eigen::VectorXd& state) const { return model_.forward(state); }
  void remember(Transition t);
  // One training step if the memory holds at least train_start samples; returns whether it trained.
  bool train();
  double epsilon() const { return epsilon_; }
  double last_loss() const { return loss_; }
  long steps() const { return steps_; }
  std::size_t memory() const { return memory_.size(); }
  sim::Rng& rng() { return rng_; }

 private:
  DqnOptions o_;
  sim::Rng rng_;
  Mlp model_, target_;
  std::deque<Transition> memory_;
  double epsilon_;
  double loss_ = 0;
  long steps_ = 0;
};

}  // namespace flame::eval
