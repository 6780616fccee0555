#include "flame/eval/detail/flame_profile.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "flame/eval/detail/eval_run.hpp"
#include "flame/eval/detail/tree_pins.hpp"
#include "flame/grid/sampling_plan.hpp"
#include "flame/sim/fake_tree.hpp"
#include "flame/sim/profiles.hpp"

namespace flame::eval {
namespace {

Clocks to_clocks(const Target& t) {
  return {static_cast<double>(t.cpu_khz), t.cores, static_cast<double>(t.gpu_hz),
          static_cast<double>(t.emc_hz)};
}

}  // namespace

std::map<std::string, ProfiledModel> profile_models(const EvalBoard& board,
                                                    const std::vector<std::string>& models,
                                                    const ProfileOptions& o) {
  if (o.repeats < 1) throw std::invalid_argument("profile: repeats must be >= 1");
  EvalBoard at_cores = board;
  at_cores.cores = o.cores;
  const BoardLevels b = at_cores.levels();
  std::vector<Target> combos;
  std::vector<Clocks> clocks;
  for (auto c : b.cpu_khz)
    for (auto g : b.gpu_hz)
      for (auto e : b.emc_hz) {
        combos.push_back({b.cores, c, g, e});
        clocks.push_back(to_clocks(combos.back()));
      }
  const std::vector<std::size_t> plan = grid::plan_samples(clocks, o.budget, o.seed);

  std::map<std::string, ProfiledModel> out;
  for (const std::string& name : models) {
    // A board of its own, with a noise stream unrelated to the evaluation runs.
    sim::FakeTree tree;
    sim::build(board.profile, tree);
    TreePins pins(tree, board.board.layout);
    sim::SimOptions so = o.sim;
    so.seed = o.seed * 7919 + 17;
    so.power_cap_w.reset();
    sim::TableSimulator s = board.simulator(tree.root(), so);
    const sim::ModelTruth& truth = board.truth(name);
    grid::Dataset d;
    d.path = "simulated " + board.name + ": " + name;
    d.format = grid::DatasetFormat::FlexiboGrid;
    d.latency_label = "latency_ms (simulated board)";
    d.power_label = "avg_power_w (simulated VDD_IN)";
    double t = 0;
    s.observe(t);
    for (std::size_t k : plan) {
      pins.pin(combos[k]);
      s.observe(t);
      t += o.settle_ms;
      for (int r = 0; r < o.repeats; ++r) {
        const auto x = s.run(name, t);
        grid::Sample sm;
        sm.clocks = clocks[k];
        sm.latency_ms = x.latency_ms;
        sm.power_w = x.avg_power_w;
        sm.cost_ms = x.latency_ms;
        sm.line = static_cast<int>(d.samples.size()) + 2;
        d.samples.push_back(sm);
        t += x.latency_ms;
      }
    }
    grid::GridFitOptions fo;
    fo.budget = plan.size();
    fo.seed = o.seed;
    grid::GridFit fit = grid::fit_grid_model(d, fo);
    ProfiledModel pm;
    pm.profiled = plan.size();
    pm.excluded = fit.excluded.size();
    pm.profile_s = t / 1000.0;
    // The model's accuracy on the whole table (the evaluation may look; the governor may not).
    const auto& series = fit.model.series.front();
    double le = 0, pe = 0;
    for (std::size_t i = 0; i < combos.size(); ++i) {
      const sim::TruthSample p = truth.mean(combos[i]);
      const Estimate e = series.estimate(clocks[i]);
      le += std::abs(e.latency_ms - p.latency_ms) / p.latency_ms;
      pe += std::abs(e.power_w - p.power_w) / p.power_w;
    }
    pm.latency_mape_pct = 100 * le / static_cast<double>(combos.size());
    pm.power_mape_pct = 100 * pe / static_cast<double>(combos.size());
    pm.model = std::move(fit.model);
    out.emplace(name, std::move(pm));
  }
  return out;
}

}  // namespace flame::eval
