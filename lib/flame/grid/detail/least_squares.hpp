#pragma once
// Nonlinear least squares (Levenberg-Marquardt) for the small, dense fits of the grid model:
// tens of parameters, up to a few thousand residuals. Jacobians by finite differences, because
// the model forms change while we explore them and are cheap to evaluate.
#include <Eigen/Dense>
#include <functional>

namespace flame::grid {

// Fills r (already sized to the residual count) for parameters theta.
using ResidualFn = std::function<void(const Eigen::VectorXd& theta, Eigen::VectorXd& r)>;

struct LsqOptions {
  int max_iterations = 200;
  double relative_tolerance = 1e-10;  // stop when the cost improves by less than this fraction
  double initial_lambda = 1e-3;
  double fd_step = 1e-6;  // forward-difference step on each parameter
};

struct LsqResult {
  Eigen::VectorXd theta;
  double cost = 0;  // sum of squared residuals
  int iterations = 0;
  bool converged = false;
};

LsqResult levenberg_marquardt(const ResidualFn& residuals, Eigen::VectorXd theta, Eigen::Index n_residuals,
                              const LsqOptions& options = {});

}  // namespace flame::grid
