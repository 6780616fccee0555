#include "flame/validate/derived_validation.hpp"

#include <cmath>
#include <map>
#include <random>
#include <set>
#include <stdexcept>

#include "flame/features/curve_prior.hpp"
#include "flame/model/layerwise_model.hpp"
#include "flame/model/layerwise_plan.hpp"
#include "flame/sim/layer_board.hpp"

namespace flame::validate {

namespace {

sim::SimClocks at(const Clocks& c, const sim::LayerBoardSpec& b) {
  return sim::sim_clocks(c, b.levels.cores.back());
}

}  // namespace

std::vector<DerivedRow> validate_derived(const model::CouplingDataset& dataset,
                                         const sim::LayerBoardSpec& board, const DerivedOptions& o) {
  const ClockGrid grid = sim::clock_grid(board.levels);
  const Clocks ref = grid.max();
  std::vector<const model::CouplingConfig*> configs, sources;  // predicted; learned from
  for (const auto& c : dataset.configs) {
    if (c.mode.empty()) configs.push_back(&c);
    if (c.mode.empty() || o.slm_in_prior) sources.push_back(&c);
  }
  if (configs.size() < 2)
    throw std::invalid_argument("derived validation: needs at least two CNN/ViT configurations");
  std::mt19937_64 rng(o.seed);
  std::normal_distribution<double> z;
  const auto plan = model::plan_layerwise(grid, o.budget, o.seed);
  // Every configuration profiled in full and fitted; its segments' shapes are what priors learn.
  std::map<std::string, model::LayerwiseModel> full;
  std::map<std::string, std::vector<features::ShapeSample>> shapes;
  for (const auto* c : sources) {
    std::vector<model::ProfiledPoint> points;
    for (const auto& k : plan)
      points.push_back(
          {k,
           sim::replay_profile(*c, at(k, board), board.params, board.levels, std::exp(o.host_noise * z(rng))),
           std::nullopt});
    full.emplace(c->tag, model::fit_layerwise(points, grid.emc_hz));
    shapes[c->tag] = features::shape_samples(full.at(c->tag), c->profile.segments, ref);
  }
  std::vector<DerivedRow> rows;
  for (const auto* test : configs) {
    DerivedRow row;
    row.tag = test->tag;
    std::vector<features::ShapeSample> prior_samples;
    std::set<std::string> models;
    for (const auto* c : sources) {
      if (c->model == test->model) continue;  // leave the whole model out, every batch and precision
      models.insert(c->model);
      prior_samples.insert(prior_samples.end(), shapes.at(c->tag).begin(), shapes.at(c->tag).end());
    }
    row.prior_models.assign(models.begin(), models.end());
    row.prior_segments = prior_samples.size();
    const features::CurvePrior prior(std::move(prior_samples), grid.emc_hz);
    const auto one = sim::replay_profile(*test, at(ref, board), board.params, board.levels,
                                         std::exp(o.host_noise * z(rng)));
    const auto derived = features::derive_layerwise(one, test->profile.segments, ref, prior);
    std::vector<double> full_ape, derived_ape;
    for (std::size_t i = 0; i < grid.size(); i += std::max<std::size_t>(1, o.grid_stride)) {
      const Clocks k = grid.at(i);
      const double truth = sim::replay_profile(*test, at(k, board), board.params, board.levels).e2e_median_ns;
      full_ape.push_back(fit::ape_pct(full.at(test->tag).latency_ns(k), truth));
      derived_ape.push_back(fit::ape_pct(derived.latency_ns(k), truth));
    }
    row.full = fit::summarize_ape(full_ape);
    row.derived = fit::summarize_ape(derived_ape);
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace flame::validate
