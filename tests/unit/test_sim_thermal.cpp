// The simulator's temperature and thermal throttling: the lumped model heats under load and cools when
// idle, the throttle engages at the trip and releases below trip - hysteresis, a throttled board runs
// (and shows) lower clocks and longer latencies, and all of it is deterministic for a seed.
#include <catch2/catch.hpp>
#include <cmath>

#include "flame/sim/detail/thermal.hpp"
#include "flame/sim/detail/thermal_throttle.hpp"
#include "flame/sim/profiles.hpp"
#include "flame/sim/table_sim.hpp"

using namespace flame::sim;

namespace {

const std::string kP0 = "/sys/devices/system/cpu/cpufreq/policy0";
const std::string kGpu = "/sys/devices/17000000.gp10b/devfreq/17000000.gp10b";
const std::string kGpuZone = "/sys/devices/virtual/thermal/thermal_zone2";  // GPU-therm
const std::string kModel = "inceptionv3-200";

std::vector<GridTable> tables() {
  static const auto t = load_tx2_tables(std::string(FLAME_SOURCE_DIR) + "/data/jetson-public/flexibo-tx2");
  return t;
}

// A hot board with a short time constant, so that a few seconds of load reach the trip.
SimOptions hot(bool throttle, std::uint64_t seed = 1) {
  SimOptions o;
  o.seed = seed;
  o.thermal.ambient_c = 60;
  o.thermal.tau_s = 3;
  if (throttle) {
    o.throttle = ThrottleOptions{};
    o.throttle->trip_c = 75;
    o.throttle->hysteresis_c = 5;
  }
  return o;
}

struct Rig {
  FakeTree tree;
  std::unique_ptr<TableSimulator> sim;
  explicit Rig(SimOptions o) {
    build(Profile::Tx2Jp4, tree);
    sim = std::make_unique<TableSimulator>(tree.root(), tables(), o);
    sim->observe(0);
  }
};

// Back-to-back inferences at the fresh tree's ceilings from t0 for `n` requests; returns the results.
std::vector<InferenceResult> busy(Rig& r, double t0, int n) {
  std::vector<InferenceResult> out;
  double t = t0;
  for (int i = 0; i < n; ++i) {
    out.push_back(r.sim->run(kModel, t));
    t += out.back().latency_ms;
  }
  return out;
}

}  // namespace

TEST_CASE("sim thermal: the lumped model relaxes towards ambient + R * P", "[sim][thermal]") {
  Thermal th({25, 6, 30});
  CHECK(th.celsius() == 25);
  th.advance(30'000, 2);  // one time constant at 2 W: 1 - 1/e of the way to 37 °C
  CHECK(th.celsius() == Approx(37 - 12 / std::exp(1.0)));
  th.advance(1e9, 2);
  CHECK(th.celsius() == Approx(37));
  th.advance(30'000, 0);
  CHECK(th.celsius() == Approx(25 + 12 / std::exp(1.0)));
  th.advance(-5, 100);  // no time, no change
  CHECK(th.celsius() == Approx(25 + 12 / std::exp(1.0)));
}

TEST_CASE("sim thermal: the temperature rises under sustained load and falls when idle", "[sim][thermal]") {
  Rig r(hot(false));
  CHECK(r.sim->temperature_c() == 60);
  const auto xs = busy(r, 0, 40);
  for (std::size_t i = 1; i < xs.size(); ++i) CHECK(xs[i].temperature_c > xs[i - 1].temperature_c);
  // Towards ambient + R * P at the ceilings (about 3 W), never beyond.
  CHECK(xs.back().temperature_c > 70);
  CHECK(xs.back().temperature_c < 60 + 6 * 3.6);
  CHECK(r.sim->max_temperature_c() == Approx(xs.back().temperature_c));
  const double end = xs.back().start_ms + xs.back().latency_ms;
  r.sim->observe(end + 3000);
  const double cooled = r.sim->temperature_c();
  CHECK(cooled < xs.back().temperature_c);
  r.sim->observe(end + 30'000);
  CHECK(r.sim->temperature_c() < cooled);
  CHECK(r.sim->temperature_c() == Approx(60).margin(0.1));
  // Without throttling nothing is ever capped.
  for (const auto& x : xs) CHECK_FALSE(x.throttled);
}

TEST_CASE("sim thermal: the throttle engages at the trip and releases below trip - hysteresis",
          "[sim][thermal]") {
  ThrottleOptions o;
  o.trip_c = 80;
  o.hysteresis_c = 5;
  ThermalThrottle t(o);
  CHECK_FALSE(t.poll(79.9));
  CHECK_FALSE(t.engaged());
  CHECK(t.poll(80));
  CHECK(t.engaged());
  CHECK_FALSE(t.poll(90));
  CHECK_FALSE(t.poll(75.5));  // inside the hysteresis band: stays engaged
  CHECK(t.engaged());
  CHECK_FALSE(t.poll(75));
  CHECK(t.poll(74.9));
  CHECK_FALSE(t.engaged());
  CHECK_FALSE(t.poll(79));  // below the trip again: stays released
  CHECK(t.poll(81));
  CHECK(t.engagements() == 2);
  o.clock_fraction = 0;
  CHECK_THROWS(ThermalThrottle(o));
  o.clock_fraction = 0.75;
  o.hysteresis_c = -1;
  CHECK_THROWS(ThermalThrottle(o));
}

TEST_CASE("sim thermal: a throttled board runs lower clocks, shows them, and is slower", "[sim][thermal]") {
  Rig cool(hot(false)), warm(hot(true));
  const auto a = busy(cool, 0, 60), b = busy(warm, 0, 60);
  const SimClocks top{4, 2035200, 1300500000, 1866000000};
  // Below the trip both boards are the same board.
  CHECK(b.front().effective == top);
  CHECK(b.front().latency_ms == Approx(a.front().latency_ms));
  std::size_t first = b.size();
  for (std::size_t i = 0; i < b.size(); ++i)
    if (b[i].thermal_throttled) {
      first = i;
      break;
    }
  REQUIRE(first < b.size());
  REQUIRE(first > 0);
  CHECK(b[first - 1].temperature_c < 75 + 1);  // it tripped around 75 °C (polled every 100 ms)
  CHECK(warm.sim->throttle_engagements() >= 1);
  const auto cap = warm.sim->thermal_cap();
  REQUIRE(cap);
  CHECK(cap->cpu_khz == 1420800);  // the highest levels at or below 75 % of the maxima
  CHECK(cap->gpu_hz == 943500000);
  // Throttled inferences run at the cap though the tree asks for the ceilings, and take longer.
  const auto& x = b.back();
  CHECK(x.requested == top);
  CHECK(x.effective.cpu_khz == 1420800);
  CHECK(x.effective.gpu_hz == 943500000);
  CHECK(x.throttled);
  CHECK(x.latency_ms > 1.05 * a.back().latency_ms);
  CHECK(x.avg_power_w < a.back().avg_power_w);
  // What a governor can see: cur_freq below the request, and the die zones' temperature.
  CHECK(warm.tree.read(kP0 + "/scaling_cur_freq") == "1420800\n");
  CHECK(warm.tree.read(kGpu + "/cur_freq") == "943500000\n");
  CHECK(warm.tree.read(kP0 + "/scaling_max_freq") == "2035200\n");
  const long milli = std::lround(warm.sim->temperature_c() * 2) * 500;
  CHECK(warm.tree.read(kGpuZone + "/temp") == std::to_string(milli) + "\n");
  CHECK(milli >= 70'000);
  // Cooling below trip - hysteresis releases the throttle; cur_freq goes back up.
  const double end = x.start_ms + x.latency_ms;
  warm.sim->observe(end + 200);
  CHECK(warm.sim->thermal_cap());  // still hot
  warm.sim->observe(end + 20'000);
  CHECK_FALSE(warm.sim->thermal_cap());
  CHECK(warm.tree.read(kP0 + "/scaling_cur_freq") == "2035200\n");
  const auto y = warm.sim->run(kModel, end + 20'000);
  CHECK_FALSE(y.thermal_throttled);
  CHECK(y.effective == top);
}

TEST_CASE("sim thermal: deterministic for a seed", "[sim][thermal]") {
  Rig a(hot(true, 7)), b(hot(true, 7)), c(hot(true, 8));
  const auto xa = busy(a, 0, 50), xb = busy(b, 0, 50), xc = busy(c, 0, 50);
  bool differs = false;
  for (std::size_t i = 0; i < xa.size(); ++i) {
    CHECK(xa[i].temperature_c == xb[i].temperature_c);
    CHECK(xa[i].latency_ms == xb[i].latency_ms);
    CHECK(xa[i].thermal_throttled == xb[i].thermal_throttled);
    differs = differs || xa[i].temperature_c != xc[i].temperature_c;
  }
  CHECK(differs);  // the power noise moves the temperature
  CHECK(a.sim->throttle_engagements() == b.sim->throttle_engagements());
}

TEST_CASE("sim thermal: refuses nonsense options", "[sim][thermal]") {
  FakeTree tree;
  build(Profile::Tx2Jp4, tree);
  SimOptions o;
  o.thermal.tau_s = 0;
  CHECK_THROWS_WITH(TableSimulator(tree.root(), tables(), o), Catch::Contains("thermal"));
  o = SimOptions{};
  o.throttle = ThrottleOptions{};
  o.throttle->poll_ms = 0;
  CHECK_THROWS_WITH(TableSimulator(tree.root(), tables(), o), Catch::Contains("poll"));
}
