// The DQN zTT runs on: the network learns, ε decays as published, replay is bounded, and the agent
// solves a trivial contextual bandit (the setting zTT's done = 1 reduces to).
#include <catch2/catch.hpp>

#include "flame/eval/detail/dqn.hpp"
#include "flame/sim/rng.hpp"

using namespace flame::eval;

TEST_CASE("eval dqn: an MLP fits a simple regression per action", "[eval][dqn]") {
  flame::sim::Rng rng(3);
  Mlp m(2, {8}, 2, 0.3, rng);
  std::vector<Eigen::VectorXd> xs;
  std::vector<int> as;
  std::vector<double> ys;
  for (int i = 0; i < 64; ++i) {
    Eigen::VectorXd x(2);
    x << rng.uniform(), rng.uniform();
    xs.push_back(x);
    as.push_back(i % 2);
    ys.push_back(i % 2 == 0 ? x(0) + 0.5 : -x(1));
  }
  double first = 0, last = 0;
  for (int k = 0; k < 600; ++k) {
    const double l = m.train(xs, as, ys, 0.01);
    if (k == 0) first = l;
    last = l;
  }
  CHECK(last < 0.05 * first);
  CHECK(last < 0.01);
}

TEST_CASE("eval dqn: learns a bandit whose best arm depends on the state", "[eval][dqn]") {
  DqnOptions o;
  o.inputs = 2;
  o.hidden = {6, 6};
  o.actions = 3;
  o.learning_rate = 0.01;
  o.train_start = 64;
  o.epsilon_decay = 0.99;
  o.seed = 5;
  Dqn d(o);
  flame::sim::Rng rng(11);
  auto state = [](int ctx) {
    Eigen::VectorXd s(2);
    s << (ctx == 0 ? 1.0 : 0.0), (ctx == 1 ? 1.0 : 0.0);
    return s;
  };
  // Context 0: arm 2 pays 1; context 1: arm 0 pays 1; everything else pays 0.
  auto reward = [](int ctx, int a) { return (ctx == 0 && a == 2) || (ctx == 1 && a == 0) ? 1.0 : 0.0; };
  for (int t = 0; t < 1500; ++t) {
    const int ctx = static_cast<int>(rng.integer(0, 1));
    const int a = d.act(state(ctx));
    d.remember({state(ctx), a, reward(ctx, a), Eigen::VectorXd(), true});
    d.train();
  }
  CHECK(d.epsilon() < 0.01);
  CHECK(d.act(state(0), false) == 2);
  CHECK(d.act(state(1), false) == 0);
  CHECK(d.q(state(0))(2) == Approx(1.0).margin(0.15));
  CHECK(d.memory() <= o.replay);
}

TEST_CASE("eval dqn: no training before train_start, ε decays per step as published", "[eval][dqn]") {
  DqnOptions o;  // zTT's: replay 500, batch 64, train_start 200, ε × 0.95
  Dqn d(o);
  Eigen::VectorXd s = Eigen::VectorXd::Zero(7);
  for (int i = 0; i < 199; ++i) d.remember({s, i % 9, 0.5, Eigen::VectorXd(), true});
  CHECK_FALSE(d.train());
  CHECK(d.epsilon() == 1.0);
  d.remember({s, 0, 0.5, Eigen::VectorXd(), true});
  CHECK(d.train());
  CHECK(d.epsilon() == Approx(0.95));
  for (int i = 0; i < 400; ++i) d.remember({s, 0, 0.5, Eigen::VectorXd(), true});
  CHECK(d.memory() == 500);
  CHECK_THROWS(d.remember({Eigen::VectorXd::Zero(3), 0, 0, Eigen::VectorXd(), true}));
  CHECK_THROWS(d.remember({s, 9, 0, Eigen::VectorXd(), true}));
}
