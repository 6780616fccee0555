#include "flame/grid/detail/least_squares.hpp"

#include <cmath>
#include <limits>

namespace flame::grid {

namespace {

bool finite(const Eigen::VectorXd& v) {
  return v.allFinite();
}

void jacobian(const ResidualFn& residuals, const Eigen::VectorXd& theta, const Eigen::VectorXd& r0,
              double step, Eigen::MatrixXd& jac) {
  Eigen::VectorXd t = theta;
  Eigen::VectorXd r(r0.size());
  for (Eigen::Index j = 0; j < theta.size(); ++j) {
    const double h = step * std::max(1.0, std::abs(theta[j]));
    t[j] = theta[j] + h;
    residuals(t, r);
    jac.col(j) = finite(r) ? Eigen::VectorXd((r - r0) / h) : Eigen::VectorXd::Zero(r0.size());
    t[j] = theta[j];
  }
}

}  // namespace

LsqResult levenberg_marquardt(const ResidualFn& residuals, Eigen::VectorXd theta, Eigen::Index n_residuals,
                              const LsqOptions& options) {
  LsqResult out;
  Eigen::VectorXd r(n_residuals), r_try(n_residuals);
  residuals(theta, r);
  double cost = finite(r) ? r.squaredNorm() : std::numeric_limits<double>::infinity();
  const Eigen::Index n = theta.size();
  Eigen::MatrixXd jac(n_residuals, n);
  double lambda = options.initial_lambda;
  int it = 0;
  for (; it < options.max_iterations && std::isfinite(cost); ++it) {
    jacobian(residuals, theta, r, options.fd_step, jac);
    const Eigen::MatrixXd jtj = jac.transpose() * jac;
    const Eigen::VectorXd jtr = jac.transpose() * r;
    bool improved = false;
    double gain = 0;
    for (int attempt = 0; attempt < 24 && !improved; ++attempt) {
      Eigen::MatrixXd a = jtj;
      // Marquardt scaling, with a floor so parameters the data does not see stay put.
      a.diagonal().array() += lambda * (jtj.diagonal().array() + 1e-9);
      const Eigen::VectorXd step = a.ldlt().solve(-jtr);
      if (!finite(step)) {
        lambda *= 10;
        continue;
      }
      const Eigen::VectorXd t_try = theta + step;
      residuals(t_try, r_try);
      const double c_try = finite(r_try) ? r_try.squaredNorm() : std::numeric_limits<double>::infinity();
      if (c_try < cost) {
        gain = (cost - c_try) / std::max(cost, 1e-300);
        theta = t_try;
        r = r_try;
        cost = c_try;
        lambda = std::max(lambda / 3, 1e-12);
        improved = true;
      } else {
        lambda *= 4;
      }
    }
    if (!improved || gain < options.relative_tolerance) {
      out.converged = true;
      ++it;
      break;
    }
  }
  out.theta = theta;
  out.cost = cost;
  out.iterations = it;
  return out;
}

}  // namespace flame::grid
