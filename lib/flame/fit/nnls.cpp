#include "flame/fit/nnls.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

namespace flame::fit {
namespace {

// Least squares on the passive set P: G_PP z = h_P. Complete orthogonal decomposition gives the
// minimum-norm solution when passive columns are collinear (a constant feature next to the intercept).
Eigen::VectorXd solve_passive(const Eigen::MatrixXd& g, const Eigen::VectorXd& h, const std::vector<int>& p) {
  const int k = static_cast<int>(p.size());
  Eigen::MatrixXd gp(k, k);
  Eigen::VectorXd hp(k);
  for (int i = 0; i < k; ++i) {
    hp(i) = h(p[i]);
    for (int j = 0; j < k; ++j) gp(i, j) = g(p[i], p[j]);
  }
  return gp.completeOrthogonalDecomposition().solve(hp);
}

// Lawson–Hanson on scaled normal equations (unit diagonal, or zero for empty columns).
NnlsResult active_set(const Eigen::MatrixXd& g, const Eigen::VectorXd& h) {
  const int n = static_cast<int>(h.size());
  NnlsResult r;
  r.x = Eigen::VectorXd::Zero(n);
  std::vector<bool> passive(n, false);
  std::vector<bool> blocked(n, false);  // rounding made it useless to free this column just now
  const double tol = 1e-12 * std::max(1.0, h.cwiseAbs().maxCoeff());
  const int max_outer = 3 * n + 10;
  for (;;) {
    const Eigen::VectorXd w = h - g * r.x;  // negative gradient of the objective
    int enter = -1;
    for (int j = 0; j < n; ++j)
      if (!passive[j] && !blocked[j] && g(j, j) > 0 && w(j) > tol && (enter < 0 || w(j) > w(enter)))
        enter = j;
    if (enter < 0) break;
    if (r.iterations >= max_outer) {
      r.converged = false;
      break;
    }
    ++r.iterations;
    passive[enter] = true;
    // Inner loop: step towards the unconstrained passive solution, dropping columns that hit zero.
    for (int inner = 0; inner <= n; ++inner) {
      std::vector<int> p;
      for (int j = 0; j < n; ++j)
        if (passive[j]) p.push_back(j);
      const Eigen::VectorXd zp = solve_passive(g, h, p);
      Eigen::VectorXd z = Eigen::VectorXd::Zero(n);
      bool feasible = true;
      for (size_t i = 0; i < p.size(); ++i) {
        z(p[i]) = zp(static_cast<int>(i));
        if (!(z(p[i]) > 0)) feasible = false;
      }
      if (feasible) {
        r.x = z;
        std::fill(blocked.begin(), blocked.end(), false);
        break;
      }
      if (inner == 0 && !(z(enter) > 0)) {
        // In exact arithmetic a column with a positive gradient enters with a positive value;
        // when rounding says otherwise, skip it rather than cycle.
        passive[enter] = false;
        blocked[enter] = true;
        break;
      }
      double alpha = 1;
      for (int j : p)
        if (!(z(j) > 0)) alpha = std::min(alpha, r.x(j) / (r.x(j) - z(j)));
      r.x += alpha * (z - r.x);
      for (int j : p)
        if (r.x(j) <= tol * 1e-3) {
          r.x(j) = 0;
          passive[j] = false;
        }
      if (std::none_of(passive.begin(), passive.end(), [](bool b) { return b; })) break;
    }
  }
  return r;
}

void check_normal(const Eigen::MatrixXd& g, const Eigen::VectorXd& h) {
  if (g.rows() != g.cols() || g.rows() != h.size())
    throw std::invalid_argument("nnls: normal equations have mismatched sizes");
  if (!g.allFinite() || !h.allFinite()) throw std::invalid_argument("nnls: non-finite input");
}

}  // namespace

NnlsResult solve_nnls_normal(const Eigen::MatrixXd& g, const Eigen::VectorXd& h) {
  check_normal(g, h);
  const int n = static_cast<int>(h.size());
  Eigen::VectorXd scale(n);
  for (int j = 0; j < n; ++j) scale(j) = g(j, j) > 0 ? 1.0 / std::sqrt(g(j, j)) : 0.0;
  const Eigen::MatrixXd gs = scale.asDiagonal() * g * scale.asDiagonal();
  const Eigen::VectorXd hs = scale.cwiseProduct(h);
  NnlsResult r = active_set(gs, hs);
  r.x = scale.cwiseProduct(r.x);
  return r;
}

NnlsResult solve_nnls(const Eigen::MatrixXd& a, const Eigen::VectorXd& b) {
  if (a.rows() != b.size()) throw std::invalid_argument("nnls: A and b have different row counts");
  if (!a.allFinite() || !b.allFinite()) throw std::invalid_argument("nnls: non-finite input");
  NnlsResult r = solve_nnls_normal(a.transpose() * a, a.transpose() * b);
  r.residual_norm = (a * r.x - b).norm();
  return r;
}

}  // namespace flame::fit
