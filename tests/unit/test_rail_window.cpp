// Which rail samples stand for a profiled combination: those taken while the recorded iterations
// ran, when the traces say when that was; otherwise the whole command.
#include <catch2/catch.hpp>

#include "flame/profile/detail/rail_window.hpp"

using namespace flame;
using namespace flame::profile;
using flame::trace::WallWindow;

namespace {

// One sample every 10 ms from t = 0: start-up at 1 W, iterations (100-200 ms) at 5 W, then the
// trace is written at 2 W.
std::vector<RailSample> command_samples() {
  std::vector<RailSample> s;
  for (int ms = 0; ms <= 300; ms += 10) {
    const double mw = ms < 100 ? 1000 : ms <= 200 ? 5000 : 2000;
    s.push_back({ms * 1'000'000LL, mw});
  }
  return s;
}

constexpr std::int64_t kMs = 1'000'000;

}  // namespace

TEST_CASE("rail window: samples inside the iterations count, start-up and trace writing do not",
          "[profile][power]") {
  const auto s = command_samples();
  const auto p = rail_power(s, {WallWindow{100 * kMs, 200 * kMs}}, 20 * kMs);
  REQUIRE(p.mw);
  CHECK(*p.mw == Approx(5000));
  CHECK(p.samples == 11);
  CHECK(p.window == PowerWindow::Iterations);
  // Two traces (two context lengths): both windows count.
  const auto two = rail_power(s, {WallWindow{100 * kMs, 120 * kMs}, WallWindow{250 * kMs, 260 * kMs}}, 0);
  CHECK(two.samples == 5);
  CHECK(*two.mw == Approx((3 * 5000.0 + 2 * 2000.0) / 5));
}

TEST_CASE("rail window: iterations shorter than the sampling period take the nearest sample, if near",
          "[profile][power]") {
  const auto s = command_samples();
  const auto near = rail_power(s, {WallWindow{152 * kMs, 157 * kMs}}, 20 * kMs);
  REQUIRE(near.mw);
  CHECK(near.samples == 1);
  CHECK(*near.mw == Approx(5000));  // the sample at 150 ms, 2 ms away
  // Nothing within the tolerance: no power for this combination (the fit then has no power model).
  const auto far = rail_power(s, {WallWindow{400 * kMs, 410 * kMs}}, 20 * kMs);
  CHECK_FALSE(far.mw);
  CHECK(far.samples == 0);
  CHECK(far.window == PowerWindow::Iterations);
}

TEST_CASE("rail window: a trace without a wall-clock anchor averages the whole command", "[profile][power]") {
  const auto s = command_samples();
  for (const auto& windows :
       {std::vector<std::optional<WallWindow>>{std::nullopt},
        std::vector<std::optional<WallWindow>>{WallWindow{100 * kMs, 200 * kMs}, std::nullopt},
        std::vector<std::optional<WallWindow>>{}}) {
    const auto p = rail_power(s, windows, 20 * kMs);
    CHECK(p.window == PowerWindow::Command);
    CHECK(p.samples == 31);
    CHECK(*p.mw == Approx((10 * 1000.0 + 11 * 5000.0 + 10 * 2000.0) / 31));
  }
  // No rail at all.
  CHECK_FALSE(rail_power({}, {WallWindow{0, 1}}, 0).mw);
  CHECK_FALSE(rail_power({}, {std::nullopt}, 0).mw);
  // Names as the journal writes them.
  CHECK(to_string(PowerWindow::Iterations) == "iterations");
  CHECK(power_window_from("command") == PowerWindow::Command);
  CHECK_FALSE(power_window_from("whole"));
}
