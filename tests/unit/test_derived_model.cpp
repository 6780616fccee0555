// Models derived from one profiled point (lib/flame/features/curve_prior.hpp): shapes of fitted
// curves, the prior's mapping from features, and leave-one-model-out on the live layer boards
// (lib/flame/validate/derived_validation.hpp).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "flame/features/curve_prior.hpp"
#include "flame/features/prior_dir.hpp"
#include "flame/model/coupling_dataset.hpp"
#include "flame/model/layerwise_plan.hpp"
#include "flame/model/model_file.hpp"
#include "flame/profile/profile_fit.hpp"
#include "flame/sim/grid_table.hpp"
#include "flame/sim/layer_boards.hpp"
#include "flame/validate/derived_validation.hpp"
#include "trace_test_support.hpp"

using namespace flame;

TEST_CASE("derived: a fitted segment's shape is its time shares at the reference clocks", "[derived]") {
  const Clocks ref{2000000, 0, 1e9, 2e9};
  const model::CpuCurve cpu{100, 300 * 2000000.0, 100 * 2e9};    // 100 fixed + 300 work + 100 memory ns
  const model::GpuCurve gpu{{1e9, 2e9}, {500, 200}, 800 * 1e9};  // 200 memory + 800 work ns at the top
  const auto s = features::shape_of(cpu, gpu, ref);
  CHECK(s.host_fixed == Approx(0.2));
  CHECK(s.host_work == Approx(0.6));
  CHECK(s.host_memory == Approx(0.2));
  CHECK(s.device_work == Approx(0.8));
  REQUIRE(s.device_memory.size() == 2);
  CHECK(s.device_memory[0] == Approx(0.5));
  CHECK(s.device_memory[1] == Approx(0.2));
}

TEST_CASE("derived: a prior predicts the shape of segments like the ones it learned", "[derived]") {
  auto seg = [](double macs, double bytes, int kernels) {
    model::Segment s;
    s.kind = model::SegmentKind::Call;
    s.n_kernels = kernels;
    s.features = model::SegmentFeatures{macs, 0, bytes, 0, 0};
    return s;
  };
  // Compute-heavy segments scale with the GPU clock, memory-heavy ones with the EMC level.
  std::vector<features::ShapeSample> samples;
  for (int i = 0; i < 10; ++i) {
    features::CurveShape compute;
    compute.device_work = 0.9;
    compute.device_memory = {0.3, 0.1};
    features::CurveShape memory;
    memory.device_work = 0.1;
    memory.device_memory = {1.8, 0.9};
    samples.push_back({seg(1e9 * (1 + i), 1e6, 1), compute, 1e5});
    samples.push_back({seg(1e3 * (1 + i), 1e8, 1), memory, 1e5});
  }
  const features::CurvePrior prior(samples, {1e9, 2e9}, {.neighbours = 4});  // the toy has 20 samples
  CHECK(prior.predict(seg(4e9, 2e6, 1)).device_work > 0.8);
  CHECK(prior.predict(seg(2e3, 3e8, 1)).device_work < 0.2);
  CHECK_THROWS_AS(features::CurvePrior({}, {1e9}), std::invalid_argument);
}

TEST_CASE("derived: leave-one-model-out on the live layer boards", "[derived]") {
  const auto d =
      model::load_coupling_dataset(std::string(FLAME_SOURCE_DIR) + "/data/h200-coupling/run2/coupling.json");
  for (const char* name : {"layer-tx2", "layer-orin"}) {
    const auto rows = validate::validate_derived(d, *sim::layer_board(name));
    REQUIRE(rows.size() == 11);
    for (const auto& r : rows) {
      // The prior never holds the model it predicts, at any batch or precision.
      const std::string arch = r.tag.substr(0, r.tag.find("_b"));
      CHECK(std::find(r.prior_models.begin(), r.prior_models.end(), arch) == r.prior_models.end());
      CHECK(r.prior_segments > 0);
      INFO(name << " " << r.tag << ": full " << r.full.mean_ape_pct << " %, derived "
                << r.derived.mean_ape_pct << " % (max " << r.derived.max_ape_pct << " %)");
      CHECK(r.derived.n == r.full.n);
      CHECK(std::isfinite(r.derived.mean_ape_pct));
    }
  }
}

namespace {

// What `flame profile` journals for `config` on the board at `plan`: replays as the simulated
// application's traces give them, with the segments' names and traits.
std::vector<profile::StepRecord> journal_steps(const model::CouplingConfig& config,
                                               const sim::LayerBoardSpec& b,
                                               const std::vector<Clocks>& plan) {
  std::vector<profile::StepRecord> out;
  for (std::size_t s = 0; s < plan.size(); ++s) {
    profile::StepRecord r;
    r.step = s;
    r.requested = r.applied = r.observed = plan[s];
    profile::WorkloadResult w;
    w.trace_run.run =
        sim::replay_profile(config, sim::sim_clocks(plan[s], b.levels.cores.back()), b.params, b.levels);
    for (const auto& seg : config.profile.segments) {
      w.trace_run.names.push_back(seg.name);
      w.trace_run.traits.push_back(model::traits_of(seg));
    }
    r.workloads.push_back(std::move(w));
    out.push_back(std::move(r));
  }
  return out;
}

profile::JournalHeader header(const std::string& name, const ClockGrid& grid, std::vector<Clocks> plan) {
  profile::JournalHeader h;
  h.model = name;
  h.command = {"flame", "sim", "app"};
  h.budget = plan.size();
  h.grid = grid;
  h.plan = std::move(plan);
  return h;
}

}  // namespace

TEST_CASE("derived: flame profile's path from a directory of full profiles to a served derived file",
          "[derived]") {
  const auto d =
      model::load_coupling_dataset(std::string(FLAME_SOURCE_DIR) + "/data/h200-coupling/run2/coupling.json");
  const auto board = *sim::layer_board("layer-orin");
  const ClockGrid grid = sim::clock_grid(board.levels);
  const std::string board_name = "orin-nano-8gb-super";
  auto config = [&](const std::string& tag) {
    for (const auto& c : d.configs)
      if (c.tag == tag) return c;
    FAIL("no configuration " << tag);
    return d.configs.front();
  };
  trace_test::TempDir dir;
  const auto prior_dir = dir.path() / "prior";
  std::filesystem::create_directories(prior_dir);
  auto write = [&](const std::string& file, const std::string& text) {
    std::ofstream(prior_dir / file) << text;
  };
  // The models of the other architectures profiled in full, as flame profile writes them: with their
  // segments' traits.
  const auto plan = model::plan_layerwise(grid, 12, 1);
  std::vector<std::string> others;
  for (const auto& c : d.configs)
    if (c.tag.find("resnet50") == std::string::npos) others.push_back(c.tag);
  std::sort(others.begin(), others.end());
  for (const auto& tag : others) {
    const auto h = header(tag, grid, plan);
    const auto steps = journal_steps(config(tag), board, plan);
    const auto fit = profile::fit_workload(h, steps);
    REQUIRE(fit.extras.traits.size() == fit.model.segments());
    write(tag + ".yaml", profile::model_file_text(fit, h, board_name));
  }
  // What cannot teach is skipped with its reason: the model being derived (an earlier full profile
  // of it), a file without traits, another board's model.
  const auto target = config("resnet50_b1_float32");
  {
    const auto h = header(target.tag, grid, plan);
    const auto fit = profile::fit_workload(h, journal_steps(target, board, plan));
    write("self.yaml", profile::model_file_text(fit, h, board_name));
    write("bare.yaml", model::layerwise_to_yaml(fit.model, "bare", board_name, ""));
    write("tx2.yaml", model::layerwise_to_yaml(fit.model, "tx2", "tx2-flexibo", "", {fit.extras.traits, {}}));
  }
  const auto prior = features::load_prior_dir(prior_dir, board_name, grid.max(), grid.emc_hz, target.tag);
  REQUIRE(prior.prior);
  CHECK(prior.models == others);
  REQUIRE(prior.skipped.size() == 3);
  CHECK_THAT(prior.skipped[0], Catch::StartsWith("bare.yaml: no segment traits"));
  CHECK_THAT(prior.skipped[1], Catch::StartsWith("self.yaml: the model being derived"));
  CHECK_THAT(prior.skipped[2], Catch::StartsWith("tx2.yaml: fitted on board tx2-flexibo"));

  // The new model, profiled at the reference clocks only.
  const std::vector<Clocks> one{grid.max()};
  const auto h = header(target.tag, grid, one);
  const auto fit = profile::derive_workload(h, journal_steps(target, board, one), prior, "prior/");
  const std::string text = profile::model_file_text(fit, h, board_name);
  CHECK_THAT(text, Catch::Contains("version: 4"));
  const auto loaded = model::parse_model_file(text, "derived.yaml");
  REQUIRE(loaded.extras.derived);
  CHECK(loaded.extras.derived->prior == "prior/");
  CHECK(loaded.extras.derived->models == prior.models);
  CHECK(loaded.extras.derived->profiled == 1);
  CHECK(loaded.extras.traits == fit.extras.traits);
  // It comes from the learned mapping, not from its own full profile: error over the whole grid,
  // against the noise-free replay, within 2 x that of the full profile (docs/feature-model.md).
  const auto full = profile::fit_workload(header(target.tag, grid, plan), journal_steps(target, board, plan));
  std::vector<double> full_ape, derived_ape;
  for (std::size_t i = 0; i < grid.size(); i += 7) {
    const Clocks k = grid.at(i);
    const double truth =
        sim::replay_profile(target, sim::sim_clocks(k, board.levels.cores.back()), board.params, board.levels)
            .e2e_median_ns;
    full_ape.push_back(fit::ape_pct(full.model.latency_ns(k), truth));
    derived_ape.push_back(fit::ape_pct(loaded.model->estimate(k, {}).latency_ms * 1e6, truth));
  }
  const auto f = fit::summarize_ape(full_ape), g = fit::summarize_ape(derived_ape);
  INFO("full " << f.mean_ape_pct << " %, derived " << g.mean_ape_pct << " % (max " << g.max_ape_pct << ")");
  CHECK(g.mean_ape_pct < 2 * std::max(f.mean_ape_pct, 1.0));
  CHECK(g.mean_ape_pct > 0);  // not a copy of a fit to this model's own profile

  // A derived section in a file older than version 4 is refused; a derived model never teaches.
  std::string old = text;
  old.replace(old.find("version: 4"), 10, "version: 3");
  CHECK_THROWS_WITH(model::parse_model_file(old, "old.yaml"),
                    Catch::Contains("derived: needs model file version 4"));
  write("derived.yaml", text);
  const auto again = features::load_prior_dir(prior_dir, board_name, grid.max(), grid.emc_hz, "other");
  CHECK(std::find(again.models.begin(), again.models.end(), target.tag) != again.models.end());  // self.yaml
  CHECK(std::any_of(again.skipped.begin(), again.skipped.end(),
                    [](const std::string& s) { return s.starts_with("derived.yaml: itself derived"); }));
  // More than one profiled combination is not a derivation.
  CHECK_THROWS_WITH(profile::derive_workload(header(target.tag, grid, plan),
                                             journal_steps(target, board, plan), prior, "prior/"),
                    Catch::Contains("one profiled combination"));
}
