// The table-driven simulator on a TX2 tree: what it reads from the tree, table lookup, noise statistics,
// actuation delays, the power cap, tree refresh and determinism.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <numeric>

#include "flame/sim/profiles.hpp"
#include "flame/sim/rng.hpp"
#include "flame/sim/table_sim.hpp"

using namespace flame::sim;

namespace {

const std::string kP0 = "/sys/devices/system/cpu/cpufreq/policy0";
const std::string kGpu = "/sys/devices/17000000.gp10b/devfreq/17000000.gp10b";
const std::string kEmc = "/sys/kernel/debug/bpmp/debug/clk/emc";
const std::string kModel = "inceptionv3-200";

std::vector<GridTable> tables() {
  static const auto t = load_tx2_tables(std::string(FLAME_SOURCE_DIR) + "/data/jetson-public/flexibo-tx2");
  return t;
}

const GridTable& table() {
  static const auto t =
      GridTable::load_csv(std::string(FLAME_SOURCE_DIR) +
                          "/data/jetson-public/flexibo-tx2/tx2_sampled_output_inceptionv3_200x200.csv");
  return t;
}

double lat_ms(const SimClocks& c) {
  return table().at(*table().find(c)).latency_s * 1000.0;
}
double pow_w(const SimClocks& c) {
  return table().at(*table().find(c)).power_mw / 1000.0;
}

// Pins like flamed does on 4.9 (min/max pairs, lock + rate).
void pin(FakeTree& t, std::uint64_t cpu, std::uint64_t gpu, std::uint64_t emc) {
  t.attr(kP0 + "/scaling_min_freq", std::to_string(cpu));
  t.attr(kP0 + "/scaling_max_freq", std::to_string(cpu));
  t.attr(kGpu + "/min_freq", std::to_string(gpu));
  t.attr(kGpu + "/max_freq", std::to_string(gpu));
  t.attr(kEmc + "/mrq_rate_locked", "1");
  t.attr(kEmc + "/rate", std::to_string(emc));
}

struct Rig {
  FakeTree tree;
  std::unique_ptr<TableSimulator> sim;
  explicit Rig(SimOptions o = quiet()) {
    build(Profile::Tx2Jp4, tree);
    sim = std::make_unique<TableSimulator>(tree.root(), tables(), o);
  }
  static SimOptions quiet() {
    SimOptions o;
    o.noise_scale = 0;
    return o;
  }
};

const SimClocks kMax{4, 2035200, 1300500000, 1866000000};
const SimClocks kLow{4, 345600, 140250000, 1062400000};

}  // namespace

TEST_CASE("sim: reads the tree like a busy board and looks the grid up", "[sim][simulator]") {
  Rig r;
  // Fresh tree: schedutil/podgov with the full range, EMC unlocked: a busy board runs at the ceilings.
  auto s = r.sim->observe(0);
  CHECK(s.requested == kMax);
  CHECK(s.notes.empty());
  auto x = r.sim->run(kModel, 0);
  CHECK(x.latency_ms == Approx(lat_ms(kMax)));
  CHECK(x.avg_power_w == Approx(pow_w(kMax)));
  CHECK(x.energy_j == Approx(lat_ms(kMax) * pow_w(kMax) / 1000));
  CHECK(x.pieces == 1);
  // Pinned values are read exactly; cores follow cpuN/online of FlexiBO's cores (cpu0, cpu3, cpu4, cpu5).
  pin(r.tree, 960000, 497250000, 1331200000);
  r.tree.attr("/sys/devices/system/cpu/cpu5/online", "0");
  r.tree.attr("/sys/devices/system/cpu/cpu1/online", "1");  // a Denver core does not count
  s = r.sim->observe(1000);
  CHECK(s.requested == SimClocks{3, 960000, 497250000, 1331200000});
  x = r.sim->run(kModel, 2000);
  CHECK(x.latency_ms == Approx(lat_ms({3, 960000, 497250000, 1331200000})));
  // Off-grid values snap down to a grid level and say so.
  r.tree.attr(kP0 + "/scaling_max_freq", "1000000");
  r.tree.attr(kP0 + "/scaling_min_freq", "345600");
  s = r.sim->observe(3000);
  CHECK(s.requested.cpu_khz == 960000);
  // Governors: userspace runs setspeed, powersave the min.
  r.tree.attr(kP0 + "/scaling_governor", "userspace");
  r.tree.attr(kP0 + "/scaling_setspeed", "652800");
  r.tree.attr(kGpu + "/governor", "powersave");
  r.tree.attr(kGpu + "/min_freq", "140250000");
  r.tree.attr(kGpu + "/max_freq", "1300500000");
  s = r.sim->observe(4000);
  CHECK(s.requested.cpu_khz == 652800);
  CHECK(s.requested.gpu_hz == 140250000);
  // EMC: unlocked follows max_rate bounded by the nvpmodel cap.
  r.tree.attr(kEmc + "/mrq_rate_locked", "0");
  r.tree.attr("/sys/kernel/nvpmodel_emc_cap/emc_iso_cap", "1600000000");
  s = r.sim->observe(5000);
  CHECK(s.requested.emc_hz == 1600000000);
  CHECK_THROWS_WITH(r.sim->observe(10), Catch::Contains("time went backwards"));
  CHECK_THROWS_WITH(r.sim->run("resnet", 6000), Catch::Contains("no grid for model 'resnet'"));
}

TEST_CASE("sim: a clock change takes effect after its actuation delay", "[sim][simulator]") {
  Rig r;
  r.sim->observe(0);
  SECTION("CPU 1 ms: the first millisecond runs at the old clock") {
    r.tree.attr(kP0 + "/scaling_min_freq", "345600");
    r.tree.attr(kP0 + "/scaling_max_freq", "345600");
    const SimClocks low{4, 345600, 1300500000, 1866000000};
    const auto x = r.sim->run(kModel, 100);
    CHECK(x.requested == low);
    CHECK(x.effective == kMax);  // in effect at the start
    CHECK(x.effective_end == low);
    CHECK(x.pieces == 2);
    // 1 ms of progress at max, the rest at the new clock.
    const double expect = 1.0 + (1.0 - 1.0 / lat_ms(kMax)) * lat_ms(low);
    CHECK(x.latency_ms == Approx(expect).epsilon(1e-12));
    const double energy = (1.0 * pow_w(kMax) + (expect - 1.0) * pow_w(low)) / 1000;
    CHECK(x.energy_j == Approx(energy).epsilon(1e-12));
    CHECK(r.sim->effective(100.999) == kMax);
    CHECK(r.sim->effective(101.0) == low);
    // An inference that starts after the delay runs at the new clock throughout.
    const auto y = r.sim->run(kModel, 1000);
    CHECK(y.pieces == 1);
    CHECK(y.latency_ms == Approx(lat_ms(low)));
  }
  SECTION("CPU, GPU and EMC at once: four pieces, at +1, +5 and +8 ms") {
    pin(r.tree, 345600, 140250000, 1062400000);
    const auto x = r.sim->run(kModel, 50);
    CHECK(x.pieces == 4);
    CHECK(x.effective == kMax);
    CHECK(x.effective_end == kLow);
    CHECK(r.sim->effective(54.9) == SimClocks{4, 345600, 1300500000, 1866000000});
    CHECK(r.sim->effective(57.9) == SimClocks{4, 345600, 140250000, 1866000000});
    CHECK(r.sim->effective(58) == kLow);
    const SimClocks a{4, 345600, 1300500000, 1866000000}, b{4, 345600, 140250000, 1866000000};
    double p = 1.0 / lat_ms(kMax) + 4.0 / lat_ms(a) + 3.0 / lat_ms(b);
    CHECK(x.latency_ms == Approx(8.0 + (1 - p) * lat_ms(kLow)).epsilon(1e-12));
  }
  SECTION("a change observed while an earlier one is pending queues behind it") {
    pin(r.tree, 345600, 140250000, 1062400000);
    r.sim->observe(10);
    pin(r.tree, 2035200, 1300500000, 1866000000);  // straight back up 2 ms later
    r.sim->observe(12);
    CHECK(r.sim->effective(11) == SimClocks{4, 345600, 1300500000, 1866000000});
    CHECK(r.sim->effective(13) == kMax);                                             // CPU back up at 12 + 1
    CHECK(r.sim->effective(15.5) == SimClocks{4, 2035200, 140250000, 1866000000});   // GPU down at 15
    CHECK(r.sim->effective(17) == kMax);                                             // GPU up at 17
    CHECK(r.sim->effective(18.5) == SimClocks{4, 2035200, 1300500000, 1062400000});  // EMC down at 18
    CHECK(r.sim->effective(20) == kMax);                                             // EMC up at 20
  }
  SECTION("zero delays apply at once") {
    SimOptions o = Rig::quiet();
    o.cpu_delay_ms = o.gpu_delay_ms = o.emc_delay_ms = 0;
    Rig z(o);
    z.sim->observe(0);
    pin(z.tree, 345600, 140250000, 1062400000);
    const auto x = z.sim->run(kModel, 5);
    CHECK(x.pieces == 1);
    CHECK(x.latency_ms == Approx(lat_ms(kLow)));
  }
}

TEST_CASE("sim: noise is sized from the grid, mean-preserving, deterministic per seed",
          "[sim][simulator][noise]") {
  SimOptions o;
  o.seed = 7;
  Rig r(o);
  const double sigma = table().latency_noise().sigma, psigma = table().power_noise().sigma;
  CHECK(sigma > 0.005);
  CHECK(sigma < 0.05);
  r.sim->observe(0);
  std::vector<double> ll, lp;
  const int n = 4000;
  for (int i = 0; i < n; ++i) {
    const auto x = r.sim->run(kModel, 1000.0 * i);
    ll.push_back(std::log(x.latency_ms / lat_ms(kMax)));
    lp.push_back(std::log(x.avg_power_w / pow_w(kMax)));
  }
  auto mean = [](const std::vector<double>& v) {
    return std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
  };
  auto sd = [&](const std::vector<double>& v) {
    const double m = mean(v);
    double s = 0;
    for (double x : v) s += (x - m) * (x - m);
    return std::sqrt(s / double(v.size() - 1));
  };
  // ln factor ~ N(-σ²/2, σ²): its sd is σ (within 5 % for n = 4000) and E[factor] = 1.
  CHECK(sd(ll) == Approx(sigma).epsilon(0.05));
  CHECK(sd(lp) == Approx(psigma).epsilon(0.05));
  double ef = 0;
  for (double v : ll) ef += std::exp(v);
  CHECK(ef / n == Approx(1.0).epsilon(0.003));
  // Same seed, same stream; another seed, another stream.
  Rig a(o), b(o);
  SimOptions o2 = o;
  o2.seed = 8;
  Rig c(o2);
  a.sim->observe(0);
  b.sim->observe(0);
  c.sim->observe(0);
  bool differs = false;
  for (int i = 0; i < 20; ++i) {
    const auto xa = a.sim->run(kModel, 1000.0 * i), xb = b.sim->run(kModel, 1000.0 * i),
               xc = c.sim->run(kModel, 1000.0 * i);
    CHECK(xa.latency_ms == xb.latency_ms);
    CHECK(xa.energy_j == xb.energy_j);
    differs = differs || xa.latency_ms != xc.latency_ms;
  }
  CHECK(differs);
}

TEST_CASE("sim: neighbour-scatter estimator recovers a known noise level", "[sim][noise]") {
  const std::vector<double> f = {345600, 499200, 652800, 806400, 960000, 1113600, 1267200, 1420800};
  // A smooth power law leaves no residual.
  std::vector<std::vector<double>> smooth;
  for (int k = 0; k < 10; ++k) {
    std::vector<double> y;
    for (double x : f) y.push_back((k + 1) * 3e5 / x);
    smooth.push_back(y);
  }
  CHECK(noise_from_neighbours(smooth, f).sigma < 1e-12);
  // Power law times log-normal noise: the estimate comes back within 6 % over 3000 residuals.
  Rng rng(3);
  std::vector<double> sig = {0.01, 0.03};
  for (double s : sig) {
    std::vector<std::vector<double>> lines;
    for (int k = 0; k < 500; ++k) {
      std::vector<double> y;
      for (double x : f) y.push_back(2e5 / x * std::exp(s * rng.normal()));
      lines.push_back(y);
    }
    const auto e = noise_from_neighbours(lines, f);
    CHECK(e.residuals == 500 * (f.size() - 2));
    CHECK(e.sigma == Approx(s).epsilon(0.06));
  }
}

TEST_CASE("sim: power cap throttles the clocks in effect", "[sim][simulator]") {
  SimOptions o = Rig::quiet();
  o.power_cap_w = 2.0;
  Rig r(o);
  r.sim->observe(0);
  const auto x = r.sim->run(kModel, 0);
  CHECK(x.throttled);
  CHECK(x.avg_power_w <= 2.0);
  CHECK(x.effective.gpu_hz < kMax.gpu_hz);  // the GPU goes first
  CHECK(x.latency_ms == Approx(lat_ms(x.effective)));
  CHECK(r.tree.read(kP0 + "/scaling_cur_freq") == std::to_string(x.effective.cpu_khz) + "\n");
  // A cap above every point changes nothing.
  o.power_cap_w = 100.0;
  Rig big(o);
  big.sim->observe(0);
  const auto y = big.sim->run(kModel, 0);
  CHECK_FALSE(y.throttled);
  CHECK(y.effective == kMax);
}

TEST_CASE("sim: the tree shows the clocks in effect and the power drawn", "[sim][simulator]") {
  Rig r;
  const std::string vdd_in = tx2_layout().vdd_in;
  r.sim->observe(0);
  pin(r.tree, 806400, 497250000, 1600000000);
  const auto x = r.sim->run(kModel, 10);
  const SimClocks c{4, 806400, 497250000, 1600000000};
  CHECK(x.effective_end == c);
  CHECK(r.tree.read(kP0 + "/scaling_cur_freq") == "806400\n");
  CHECK(r.tree.read(kP0 + "/cpuinfo_cur_freq") == "806400\n");
  CHECK(r.tree.read(kGpu + "/cur_freq") == "497250000\n");
  CHECK(std::stod(r.tree.read(vdd_in + "/in_power0_input")) == Approx(x.avg_power_w * 1000).margin(0.5));
  // Refreshing never creates attributes, nor leaves temporary files behind.
  for (const auto& e : std::filesystem::directory_iterator(r.tree.host(kP0)))
    CHECK(e.path().filename().string().find(".tmp.") == std::string::npos);
  SimOptions o = Rig::quiet();
  o.update_tree = false;
  Rig frozen(o);
  frozen.sim->observe(0);
  pin(frozen.tree, 806400, 497250000, 1600000000);
  frozen.sim->run(kModel, 50);
  CHECK(frozen.tree.read(kP0 + "/scaling_cur_freq") == "2035200\n");
}

TEST_CASE("sim: a ticker's instants call back inside the inference only", "[sim][simulator]") {
  Rig r;
  r.sim->observe(0);
  std::vector<double> calls;
  Ticker t;
  t.instants = {5, 40, 60, 1e6};  // 5 is before the start; 1e6 after the finish
  t.at = [&](double now) {
    calls.push_back(now);
    if (now == 40) pin(r.tree, 2035200, 497250000, 1866000000);  // drop the GPU mid-inference
  };
  const auto x = r.sim->run(kModel, 10, t);
  CHECK(calls == std::vector<double>{40, 60});
  // The new GPU clock took effect 5 ms after it was written: two pieces, slower than at the top.
  CHECK(x.pieces == 2);
  CHECK(x.effective == kMax);
  CHECK(x.effective_end.gpu_hz == 497250000);
  const double fast = lat_ms(kMax), slow = lat_ms({4, 2035200, 497250000, 1866000000});
  CHECK(x.latency_ms == Approx(35 + (1 - 35 / fast) * slow));
}
