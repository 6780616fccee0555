#include <catch2/catch.hpp>

#include "flame/grid/detail/glitch_screen.hpp"

using namespace flame;
using namespace flame::grid;

namespace {
// A GPU x EMC decode sweep with three repeats per setting; tpot follows a smooth clock response.
Dataset sweep(double glitch_gpu_mhz, double glitch_emc_mhz) {
  Dataset d;
  d.path = "sweep.csv";
  int line = 2;
  for (double emc : {665., 3199.})
    for (double gpu : {306., 408., 510., 612., 714., 816., 918., 1020., 1122., 1300.}) {
      // At the glitched setting the clock change did not happen: the board ran at maximum clocks.
      const bool glitch = gpu == glitch_gpu_mhz && emc == glitch_emc_mhz;
      const double tpot = glitch ? 24.0 : pnorm(24000.0 / gpu, 20.0 + 3000.0 / emc, 3);
      for (int r = 0; r < 3; ++r)
        d.samples.push_back(
            {{1036e3, 0, gpu * 1e6, emc * 1e6}, "w", tpot * (1 + 0.001 * r), std::nullopt, 1000, line++});
    }
  return d;
}
}  // namespace

TEST_CASE("glitch screen: a setting faster than higher clocks is excluded with the reason") {
  const Dataset d = sweep(510, 665);
  const auto points = group_points(d);
  const ScreenResult r = screen_points(points, d, {1036e3, 1300e6, 3199e6, {}});
  REQUIRE(r.excluded.size() == 1);
  const Point& p = r.points[r.excluded[0].point];
  CHECK(p.clocks.gpu_hz == 510e6);
  CHECK(p.clocks.emc_hz == 665e6);
  CHECK(r.excluded[0].reason.find("GPU 510 MHz") != std::string::npos);
  CHECK(r.excluded[0].reason.find("lower but faster") != std::string::npos);
  CHECK(std::count(r.keep.begin(), r.keep.end(), true) == static_cast<long>(points.size()) - 1);
}

TEST_CASE("glitch screen: a clean sweep keeps everything; a stray repeat is dropped alone") {
  Dataset d = sweep(0, 0);
  CHECK(screen_points(group_points(d), d, {1036e3, 1300e6, 3199e6, {}}).excluded.empty());
  d.samples[4].latency_ms *= 2;  // one repeat at GPU 408 MHz, EMC 665 MHz
  const ScreenResult r = screen_points(group_points(d), d, {1036e3, 1300e6, 3199e6, {}});
  CHECK(r.excluded.empty());
  REQUIRE(r.excluded_rows.size() == 1);
  CHECK(r.excluded_rows[0].row == 4);
  CHECK(r.excluded_rows[0].reason.find("line 6: repeat") == 0);
}
