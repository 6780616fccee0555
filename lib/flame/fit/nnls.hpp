#pragma once
// Non-negative least squares (Lawson–Hanson active set): min ||A x - b|| subject to x >= 0.
// Physical time coefficients (cycles, bytes per bandwidth, fixed overheads) are never negative;
// constraining them keeps sparse fits from extrapolating into nonsense.
#include <Eigen/Dense>

namespace flame {

struct NnlsResult {
  Eigen::VectorXd x;
  double residual_norm = 0;
  int iterations = 0;
  bool converged = false;
};

NnlsResult nnls(const Eigen::MatrixXd& A, const Eigen::VectorXd& b, int max_iterations = 0);

}  // namespace flame
