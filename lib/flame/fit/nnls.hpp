#pragma once
// Non-negative least squares: min ||A x - b|| subject to x >= 0 (Lawson–Hanson active set).
//
// Cost curves fitted from a few samples must stay physical when extrapolated: a time that grows
// with context length, bytes or MACs never gets a negative rate. Eigen 3.4 has no NNLS module, so
// this is a small active-set solver on the normal equations. Columns are scaled to unit norm
// internally, so callers can mix units (1, ctx, ctx^2; bytes and MACs) without conditioning tricks.
#include <Eigen/Dense>

namespace flame::fit {

struct NnlsResult {
  Eigen::VectorXd x;         // the non-negative solution, in the caller's column units
  double residual_norm = 0;  // ||A x - b||
  int iterations = 0;        // outer iterations (columns freed)
  bool converged = true;     // false when the iteration cap was hit (x is still feasible)
};

// Rows are samples, columns are basis functions; A.rows() must equal b.size(). All-zero columns
// get coefficient 0. Deterministic: ties go to the lowest column index.
NnlsResult solve_nnls(const Eigen::MatrixXd& a, const Eigen::VectorXd& b);

// The same problem given by its normal equations G = A^T A and h = A^T b (G symmetric PSD), for
// callers that accumulate G and h over many rows; residual_norm is then left at 0.
NnlsResult solve_nnls_normal(const Eigen::MatrixXd& g, const Eigen::VectorXd& h);

}  // namespace flame::fit
