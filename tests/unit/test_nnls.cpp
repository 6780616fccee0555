#include <catch2/catch.hpp>

#include "flame/fit/nnls.hpp"

TEST_CASE("nnls: recovers non-negative coefficients exactly") {
  Eigen::MatrixXd A(5, 3);
  A << 1, 2, 0.5, 1, 1, 0.2, 1, 4, 0.9, 1, 3, 0.1, 1, 0.5, 0.7;
  const Eigen::Vector3d truth(2.0, 0.5, 3.0);
  const auto r = flame::nnls(A, A * truth);
  REQUIRE(r.converged);
  CHECK(r.x(0) == Approx(2.0));
  CHECK(r.x(1) == Approx(0.5));
  CHECK(r.x(2) == Approx(3.0));
  CHECK(r.residual_norm == Approx(0).margin(1e-9));
}

TEST_CASE("nnls: clamps a coefficient that unconstrained least squares makes negative") {
  // y = 3 - x on x in [0, 2]: the best fit with a non-negative slope is the constant mean.
  Eigen::MatrixXd A(3, 2);
  A << 1, 0, 1, 1, 1, 2;
  Eigen::Vector3d b(3, 2, 1);
  const auto r = flame::nnls(A, b);
  CHECK(r.x(1) == 0);
  CHECK(r.x(0) == Approx(2.0));
}

TEST_CASE("nnls: rejects mismatched shapes") {
  CHECK_THROWS(flame::nnls(Eigen::MatrixXd::Ones(3, 2), Eigen::VectorXd::Ones(2)));
}
