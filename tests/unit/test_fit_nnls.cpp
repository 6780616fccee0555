// Non-negative least squares: recovery, clamping, optimality (KKT) and input checks.
#include <Eigen/Dense>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>

#include "flame/fit/nnls.hpp"

using flame::fit::solve_nnls;

namespace {

// A tiny deterministic generator (std distributions differ between standard libraries).
struct Lcg {
  std::uint64_t s;
  double next() {  // uniform in [0, 1)
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(s >> 11) / 9007199254740992.0;
  }
};

}  // namespace

TEST_CASE("nnls: recovers known non-negative coefficients in mixed units") {
  // Columns in very different units, as in {1, ctx, ctx^2} or {1, bytes, MACs}.
  Lcg rng{7};
  const int m = 40;
  Eigen::MatrixXd a(m, 4);
  for (int i = 0; i < m; ++i) {
    const double x = 32 + 4000 * rng.next();
    a.row(i) << 1.0, x, x * x, 1e6 * rng.next();
  }
  Eigen::Vector4d truth(5000, 2.5, 0.001, 0.0);  // one true zero
  const Eigen::VectorXd b = a * truth;
  const auto r = solve_nnls(a, b);
  REQUIRE(r.converged);
  CHECK(r.x(0) == Approx(5000).epsilon(1e-6));
  CHECK(r.x(1) == Approx(2.5).epsilon(1e-6));
  CHECK(r.x(2) == Approx(0.001).epsilon(1e-6));
  CHECK(r.x(3) == Approx(0).margin(1e-9));
  CHECK(r.residual_norm < 1e-6 * b.norm());
}

TEST_CASE("nnls: clamps a coefficient that least squares would make negative") {
  // A decreasing series: unconstrained intercept 4, slope -1. The non-negative answer is the
  // constant that fits best: slope 0, intercept = mean = 3.
  Eigen::MatrixXd a(3, 2);
  a << 1, 1, 1, 2, 1, 3;
  const Eigen::Vector3d b(3.2, 3.0, 2.8);
  const Eigen::VectorXd ls = a.colPivHouseholderQr().solve(b);
  REQUIRE(ls(1) < 0);
  const auto r = solve_nnls(a, b);
  CHECK(r.x(1) == 0.0);
  CHECK(r.x(0) == Approx(3.0));
}

TEST_CASE("nnls: the solution satisfies the optimality (KKT) conditions on random problems") {
  Lcg rng{42};
  for (int trial = 0; trial < 50; ++trial) {
    const int m = 6 + trial % 7, n = 1 + trial % 5;
    Eigen::MatrixXd a(m, n);
    Eigen::VectorXd b(m);
    for (int i = 0; i < m; ++i) {
      for (int j = 0; j < n; ++j) a(i, j) = rng.next() - 0.3;
      b(i) = rng.next() - 0.5;
    }
    const auto r = solve_nnls(a, b);
    INFO("trial " << trial);
    REQUIRE(r.converged);
    const Eigen::VectorXd w = a.transpose() * (b - a * r.x);  // minus the gradient
    for (int j = 0; j < n; ++j) {
      CHECK(r.x(j) >= 0);
      CHECK(w(j) <= 1e-9);                            // no descent direction into x_j > 0
      if (r.x(j) > 0) CHECK(std::abs(w(j)) <= 1e-9);  // stationary on the free set
    }
  }
}

TEST_CASE("nnls: empty and collinear columns") {
  Eigen::MatrixXd a(4, 3);
  a << 1, 0, 2, 1, 0, 2, 1, 0, 2, 1, 0, 2;  // column 1 empty, column 2 = 2 x column 0
  const Eigen::Vector4d b(4, 4, 4, 4);
  const auto r = solve_nnls(a, b);
  CHECK(r.x(1) == 0.0);
  CHECK((a * r.x - b).norm() < 1e-9);
  CHECK((r.x.array() >= 0).all());
}

TEST_CASE("nnls: mismatched or non-finite input is rejected") {
  CHECK_THROWS_AS(solve_nnls(Eigen::MatrixXd::Ones(3, 2), Eigen::VectorXd::Ones(4)), std::invalid_argument);
  Eigen::MatrixXd a = Eigen::MatrixXd::Ones(3, 2);
  a(1, 1) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_AS(solve_nnls(a, Eigen::VectorXd::Ones(3)), std::invalid_argument);
  CHECK_THROWS_AS(flame::fit::solve_nnls_normal(Eigen::MatrixXd::Ones(3, 3), Eigen::VectorXd::Ones(2)),
                  std::invalid_argument);
}
