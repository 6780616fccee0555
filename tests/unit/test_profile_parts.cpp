// The smaller pieces of `flame profile`: plan order and coverage, the grid from a discovered board,
// end-to-end time from a trace, board power from the rails, progress text, flamed's settings.
#include <catch2/catch.hpp>
#include <set>

#include "config/config.hpp"
#include "fake_tree.hpp"
#include "flame/board/discovery.hpp"
#include "flame/grid/sampling_plan.hpp"
#include "flame/profile/board_clock_control.hpp"
#include "flame/profile/detail/trace_run.hpp"
#include "flame/profile/profile_grid.hpp"
#include "flame/profile/profile_plan.hpp"
#include "flame/profile/profile_progress.hpp"
#include "flame/sim/profiles.hpp"
#include "flame/trace/trace_events.hpp"
#include "trace_test_support.hpp"

using namespace flame;
using namespace flame::profile;

namespace {

ClockGrid small_grid() {
  ClockGrid g;
  g.cpu_khz = {115200, 499200, 1036800, 1728000};
  g.gpu_hz = {306e6, 612e6, 1020e6};
  g.emc_hz = {665.6e6, 2133e6, 3199e6};
  return g;
}

}  // namespace

TEST_CASE("profile plan: the layer-wise plan, every EMC level, run in EMC-major order", "[profile]") {
  const auto g = small_grid();
  const auto p = make_profile_plan(g, 8, 3);
  CHECK(p.exhaustive_steps == 36);
  REQUIRE(p.steps.size() == 8);
  CHECK(std::set<Clocks>(p.steps.begin(), p.steps.end()).size() == 8);
  std::set<double> emc;
  for (const auto& c : p.steps) emc.insert(c.emc_hz);
  CHECK(emc.size() == 3);
  for (std::size_t i = 1; i < p.steps.size(); ++i)  // EMC changes at most twice
    CHECK(p.steps[i].emc_hz <= p.steps[i - 1].emc_hz);
  CHECK(p.steps.front() == Clocks{1728000, 0, 1020e6, 3199e6});
  CHECK(make_profile_plan(g, 8, 3).steps == p.steps);  // deterministic
  CHECK_THAT(trace_test::error_of<std::invalid_argument>([&] { make_profile_plan(g, 3, 1); }),
             Catch::Contains("needs at least 4"));
}

TEST_CASE("profile plan: --e2e samples with the grid fit's own plan, run in EMC-major order",
          "[profile][e2e]") {
  const auto g = small_grid();
  const auto p = make_profile_plan(g, 8, 3, PlanKind::Grid);
  CHECK(p.exhaustive_steps == 36);
  REQUIRE(p.steps.size() == 8);
  std::vector<Clocks> all;
  for (double c : g.cpu_khz)
    for (double gpu : g.gpu_hz)
      for (double e : g.emc_hz) all.push_back(Clocks{c, 0, gpu, e});
  std::set<Clocks> want;
  for (std::size_t i : flame::grid::plan_samples(all, 8, 3)) want.insert(all[i]);
  CHECK(std::set<Clocks>(p.steps.begin(), p.steps.end()) == want);
  CHECK(want.count(Clocks{1728000, 0, 1020e6, 3199e6}) == 1);  // the grid fit's reference point
  for (std::size_t i = 1; i < p.steps.size(); ++i) CHECK(p.steps[i].emc_hz <= p.steps[i - 1].emc_hz);
  CHECK(p.steps != make_profile_plan(g, 8, 3).steps);  // not the layer-wise plan
}

TEST_CASE("profile grid: sysfs tables, EMC rates from a description, unwritable domains fixed", "[profile]") {
  test::FakeTree tree;
  sim::build(*sim::parse_profile("orin-nano-jp6"), tree, {});
  auto b = board::discover(tree.root());
  const auto desc = board::load_board_description(std::string(FLAME_SOURCE_DIR) +
                                                  "/config/boards/orin-nano-8gb-super.yaml");

  const auto g = profile_grid(b, desc);
  CHECK(g.grid.cpu_khz.size() == 22);
  CHECK(g.grid.gpu_hz.size() == 8);
  CHECK(g.grid.emc_hz == std::vector<double>{665.6e6, 2133e6, 3199e6});
  CHECK(g.notes.empty());

  // Without a description the EMC has no table: profiled at its current rate only, with a note.
  const auto bare = profile_grid(b, std::nullopt);
  CHECK(bare.grid.emc_hz == std::vector<double>{b.current().emc_hz});
  REQUIRE(bare.notes.size() == 1);
  CHECK_THAT(bare.notes[0], Catch::Contains("EMC clock fixed at its current"));
  b.gpu.health.status = board::DomainStatus::ObserveOnly;
  CHECK(profile_grid(b, desc).grid.gpu_hz == std::vector<double>{b.current().gpu_hz});
}

TEST_CASE("profile trace run: end to end runs until the last GPU op of the iteration ends", "[profile]") {
  using trace_test::x_event;
  // Two iterations; the GPU finishes 300 us after the host in the first, before it in the second.
  const std::string text = trace_test::kineto_trace({
      x_event("user_annotation", "iter0", "1000", "1000"),
      x_event("user_annotation", "u0:fc", "1100", "500"),
      x_event("cuda_runtime", "cudaLaunchKernel", "1200", "5", 1),
      x_event("kernel", "gemm", "1300", "1000", 1),
      x_event("user_annotation", "iter1", "3000", "1000"),
      x_event("user_annotation", "u0:fc", "3100", "500"),
      x_event("cuda_runtime", "cudaLaunchKernel", "3200", "5", 2),
      x_event("kernel", "gemm", "3300", "100", 2),
  });
  const auto s = build_trace_summary(flame::trace::parse_trace_events(text, "t"));
  REQUIRE(s.per_iteration.size() == 2);
  CHECK(s.per_iteration[0].end_to_end_ns == 1'300'000);
  CHECK(s.per_iteration[0].drain_ns == 300'000);
  CHECK(s.per_iteration[1].end_to_end_ns == 1'000'000);
  CHECK(s.per_iteration[1].drain_ns == 0);
  const auto r = trace_run(s);
  CHECK(r.iterations == 2);
  CHECK(r.names == std::vector<std::string>{"", "fc", ""});
  CHECK(r.run.e2e_median_ns == 1'150'000);
  CHECK(r.run.sync_ns == 150'000);
  CHECK(r.run.gpu_ns[1] == 550'000);
}

TEST_CASE("profile power: the total rail, else the sum of the rails", "[profile]") {
  test::FakeTree tree;
  sim::build(*sim::parse_profile("orin-nano-jp6"), tree, {});
  auto b = board::discover(tree.root());
  board::SysfsFileAccess io{board::SysfsRoot(tree.root())};
  REQUIRE(!b.rails.empty());
  const auto total = read_board_power_mw(b, io);
  REQUIRE(total);
  CHECK(*total == Approx(*b.total_power_mw()));
  b.total_rail.clear();
  double sum = 0;
  for (const auto& r : b.rails) sum += r.power_mw.value_or(0);
  CHECK(*read_board_power_mw(b, io) == Approx(sum));
  b.rails.clear();
  CHECK_FALSE(read_board_power_mw(b, io));
}

TEST_CASE("profile progress: bar, ETA and the exhaustive projection", "[profile]") {
  CHECK(duration_text(42) == "42 s");
  CHECK(duration_text(200) == "3 min 20 s");
  CHECK(duration_text(3900) == "1 h 05 min");
  CHECK(duration_text(2 * 86400 + 3 * 3600) == "2 d 3 h");
  ProfileProgress p;
  p.done = 3;
  p.total = 12;
  p.mean_step_s = 20;
  p.eta_s = 180;
  p.exhaustive_s = 20 * 528;
  const auto line = progress_line(p, 528, 12);
  CHECK_THAT(line, Catch::StartsWith("[###.........] 3/12  25%"));
  CHECK_THAT(line, Catch::Contains("ETA 3 min 00 s"));
  CHECK_THAT(line, Catch::Contains("exhaustive: 528 combinations, ~2 h 56 min"));
}

TEST_CASE("profile settings: flamed's paths, defaults without a file, errors named", "[profile]") {
  // `flame profile` reads these keys of flamed.yaml through flamed's key table.
  const std::vector<std::string> shared{"sysfs_root", "runtime_dir", "models_dir", "board_file"};
  trace_test::TempDir dir;
  const auto none = flamed::load_config_keys(dir.path() / "missing.yaml", shared);
  CHECK(none.models_dir == "/var/lib/flame/models");
  CHECK(none.runtime_dir == "/run/flame");
  // Keys it does not share are not looked at, even when flamed would refuse them.
  const auto cfg = dir.write("f.yaml",
                             "sysfs_root: /tmp/x\nmodels_dir: /m\nsocket_path: /s\nboard_file: /b.yaml\n"
                             "safety_margin_pct: lots\n");
  const auto s = flamed::load_config_keys(cfg, shared);
  CHECK(s.sysfs_root == "/tmp/x");
  CHECK(s.models_dir == "/m");
  CHECK(s.board_file == "/b.yaml");
  CHECK(s.runtime_dir == "/run/flame");
  CHECK(s.socket_path == "/run/flame/flamed.sock");
  const auto bad = dir.write("b.yaml", "runtime_dir: /r\nmodels_dir: [1, 2]\n");
  CHECK_THAT(trace_test::error_of<flamed::ConfigError>([&] { flamed::load_config_keys(bad, shared); }),
             Catch::Contains("b.yaml:2:13: models_dir: expected a string"));
  const auto relative = dir.write("r.yaml", "models_dir: models\n");
  CHECK_THAT(trace_test::error_of<flamed::ConfigError>([&] { flamed::load_config_keys(relative, shared); }),
             Catch::Contains("r.yaml:1:13: models_dir: expected an absolute path"));
}
