#include "flame/fit/nnls.hpp"

#include <limits>
#include <stdexcept>
#include <vector>

namespace flame {

NnlsResult nnls(const Eigen::MatrixXd& A, const Eigen::VectorXd& b, int max_iterations) {
  const Eigen::Index n = A.cols();
  if (A.rows() != b.size()) throw std::invalid_argument("nnls: A and b have different row counts");
  if (max_iterations <= 0) max_iterations = static_cast<int>(3 * n + 10);
  NnlsResult r;
  r.x = Eigen::VectorXd::Zero(n);
  std::vector<bool> passive(static_cast<size_t>(n), false);
  const double tol = 1e-12 * std::max(1.0, A.norm() * b.norm());

  auto solve_passive = [&](Eigen::VectorXd& z) {
    std::vector<Eigen::Index> idx;
    for (Eigen::Index j = 0; j < n; ++j)
      if (passive[static_cast<size_t>(j)]) idx.push_back(j);
    z = Eigen::VectorXd::Zero(n);
    if (idx.empty()) return;
    Eigen::MatrixXd Ap(A.rows(), static_cast<Eigen::Index>(idx.size()));
    for (size_t k = 0; k < idx.size(); ++k) Ap.col(static_cast<Eigen::Index>(k)) = A.col(idx[k]);
    const Eigen::VectorXd zp = Ap.colPivHouseholderQr().solve(b);
    for (size_t k = 0; k < idx.size(); ++k) z(idx[k]) = zp(static_cast<Eigen::Index>(k));
  };

  for (r.iterations = 0; r.iterations < max_iterations; ++r.iterations) {
    const Eigen::VectorXd w = A.transpose() * (b - A * r.x);
    Eigen::Index best = -1;
    double best_w = tol;
    for (Eigen::Index j = 0; j < n; ++j)
      if (!passive[static_cast<size_t>(j)] && w(j) > best_w) best_w = w(j), best = j;
    if (best < 0) {
      r.converged = true;
      break;
    }
    passive[static_cast<size_t>(best)] = true;
    for (int inner = 0; inner < 3 * n + 10; ++inner) {
      Eigen::VectorXd z;
      solve_passive(z);
      bool feasible = true;
      for (Eigen::Index j = 0; j < n; ++j)
        if (passive[static_cast<size_t>(j)] && z(j) <= 0) feasible = false;
      if (feasible) {
        r.x = z;
        break;
      }
      // Step back towards the last feasible point until a passive coefficient hits zero.
      double alpha = std::numeric_limits<double>::infinity();
      for (Eigen::Index j = 0; j < n; ++j)
        if (passive[static_cast<size_t>(j)] && z(j) <= 0) alpha = std::min(alpha, r.x(j) / (r.x(j) - z(j)));
      r.x += alpha * (z - r.x);
      for (Eigen::Index j = 0; j < n; ++j)
        if (passive[static_cast<size_t>(j)] && r.x(j) <= tol)
          passive[static_cast<size_t>(j)] = false, r.x(j) = 0;
    }
  }
  r.residual_norm = (A * r.x - b).norm();
  return r;
}

}  // namespace flame
