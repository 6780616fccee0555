#include "flame/eval/detail/dqn.hpp"

#include <cmath>
#include <stdexcept>

namespace flame::eval {

Mlp::Mlp(int inputs, const std::vector<int>& hidden, int outputs, double init_sd, sim::Rng& rng) {
  std::vector<int> sizes{inputs};
  sizes.insert(sizes.end(), hidden.begin(), hidden.end());
  sizes.push_back(outputs);
  for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
    if (sizes[l] < 1 || sizes[l + 1] < 1) throw std::invalid_argument("mlp: layer sizes must be >= 1");
    Eigen::MatrixXd w(sizes[l + 1], sizes[l]);
    for (Eigen::Index i = 0; i < w.size(); ++i) w.data()[i] = init_sd * rng.normal();
    w_.push_back(w);
    b_.push_back(Eigen::VectorXd::Zero(sizes[l + 1]));
    mw_.push_back(Eigen::MatrixXd::Zero(w.rows(), w.cols()));
    vw_.push_back(Eigen::MatrixXd::Zero(w.rows(), w.cols()));
    mb_.push_back(Eigen::VectorXd::Zero(sizes[l + 1]));
    vb_.push_back(Eigen::VectorXd::Zero(sizes[l + 1]));
  }
}

Eigen::VectorXd Mlp::forward(const Eigen::VectorXd& x) const {
  Eigen::VectorXd h = x;
  for (std::size_t l = 0; l < w_.size(); ++l) {
    h = w_[l] * h + b_[l];
    if (l + 1 < w_.size()) h = h.cwiseMax(0.0);
  }
  return h;
}

double Mlp::train(const std::vector<Eigen::VectorXd>& x, const std::vector<int>& a,
                  const std::vector<double>& y, double lr) {
  const std::size_t n = x.size(), L = w_.size();
  if (n == 0 || a.size() != n || y.size() != n) throw std::invalid_argument("mlp: bad batch");
  std::vector<Eigen::MatrixXd> gw(L);
  std::vector<Eigen::VectorXd> gb(L);
  for (std::size_t l = 0; l < L; ++l) {
    gw[l] = Eigen::MatrixXd::Zero(w_[l].rows(), w_[l].cols());
    gb[l] = Eigen::VectorXd::Zero(b_[l].size());
  }
  double sse = 0;
  std::vector<Eigen::VectorXd> act(L + 1);
  for (std::size_t i = 0; i < n; ++i) {
    act[0] = x[i];
    for (std::size_t l = 0; l < L; ++l) {
      act[l + 1] = w_[l] * act[l] + b_[l];
      if (l + 1 < L) act[l + 1] = act[l + 1].cwiseMax(0.0);
    }
    // Keras fits the full output vector with the other actions' targets equal to the prediction, so
    // only the taken action carries an error.
    Eigen::VectorXd delta = Eigen::VectorXd::Zero(act[L].size());
    const double e = act[L](a[i]) - y[i];
    sse += e * e;
    delta(a[i]) = e / static_cast<double>(n);
    for (std::size_t l = L; l-- > 0;) {
      gw[l] += delta * act[l].transpose();
      gb[l] += delta;
      if (l > 0)
        delta = (w_[l].transpose() * delta).cwiseProduct((act[l].array() > 0).cast<double>().matrix());
    }
  }
  // Adam (Kingma & Ba; Keras defaults beta1 0.9, beta2 0.999, epsilon 1e-7).
  ++step_;
  const double b1 = 0.9, b2 = 0.999, eps = 1e-7;
  const double c1 = 1 - std::pow(b1, static_cast<double>(step_)),
               c2 = 1 - std::pow(b2, static_cast<double>(step_));
  for (std::size_t l = 0; l < L; ++l) {
    mw_[l] = b1 * mw_[l] + (1 - b1) * gw[l];
    vw_[l] = b2 * vw_[l] + (1 - b2) * gw[l].cwiseProduct(gw[l]);
    w_[l] -= lr * ((mw_[l] / c1).array() / ((vw_[l] / c2).array().sqrt() + eps)).matrix();
    mb_[l] = b1 * mb_[l] + (1 - b1) * gb[l];
    vb_[l] = b2 * vb_[l] + (1 - b2) * gb[l].cwiseProduct(gb[l]);
    b_[l] -= lr * ((mb_[l] / c1).array() / ((vb_[l] / c2).array().sqrt() + eps)).matrix();
  }
  return sse / static_cast<double>(n);
}

Dqn::Dqn(DqnOptions o) : o_(std::move(o)), rng_(o_.seed), epsilon_(o_.epsilon_start) {
  if (o_.actions < 1 || o_.inputs < 1) throw std::invalid_argument("dqn: inputs and actions must be >= 1");
  if (o_.batch < 1 || o_.replay < o_.batch) throw std::invalid_argument("dqn: need replay >= batch >= 1");
  model_ = Mlp(o_.inputs, o_.hidden, o_.actions, o_.init_sd, rng_);
  target_ = model_;
}

int Dqn::act(const Eigen::VectorXd& state, bool explore) {
  if (explore && rng_.uniform() <= epsilon_) return static_cast<int>(rng_.integer(0, o_.actions - 1));
  const Eigen::VectorXd qv = model_.forward(state);
  Eigen::Index best = 0;
  qv.maxCoeff(&best);
  return static_cast<int>(best);
}

void Dqn::remember(Transition t) {
  if (t.state.size() != o_.inputs || (t.next.size() != 0 && t.next.size() != o_.inputs))
    throw std::invalid_argument("dqn: state size");
  if (t.action < 0 || t.action >= o_.actions) throw std::invalid_argument("dqn: action out of range");
  memory_.push_back(std::move(t));
  while (memory_.size() > o_.replay) memory_.pop_front();
}

bool Dqn::train() {
  if (memory_.size() < std::max(o_.train_start, o_.batch)) return false;
  epsilon_ = std::max(o_.epsilon_min, epsilon_ * o_.epsilon_decay);
  // A uniform sample without replacement (random.sample): partial Fisher-Yates over indices.
  std::vector<std::size_t> idx(memory_.size());
  for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  std::vector<Eigen::VectorXd> xs;
  std::vector<int> as;
  std::vector<double> ys;
  for (std::size_t k = 0; k < o_.batch; ++k) {
    const auto j =
        static_cast<std::size_t>(rng_.integer(static_cast<long>(k), static_cast<long>(idx.size() - 1)));
    std::swap(idx[k], idx[j]);
    const Transition& t = memory_[idx[k]];
    double y = t.reward;
    if (!t.done) y += o_.gamma * target_.forward(t.next).maxCoeff();
    xs.push_back(t.state);
    as.push_back(t.action);
    ys.push_back(y);
  }
  loss_ = model_.train(xs, as, ys, o_.learning_rate);
  ++steps_;
  if (o_.target_sync > 0 && steps_ % o_.target_sync == 0) target_ = model_;
  return true;
}

}  // namespace flame::eval
