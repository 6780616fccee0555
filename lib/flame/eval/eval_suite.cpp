#include "flame/eval/eval_suite.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <stdexcept>

#include "flame/eval/detail/max_governor.hpp"
#include "flame/eval/detail/oracle_governor.hpp"

namespace flame::eval {

const std::vector<std::string>& governor_names() {
  static const std::vector<std::string> names = {"flamed", "flamed-grid", "max",   "stock",
                                                 "ztt",    "oracle-nc",   "oracle"};
  return names;
}

Evaluation evaluate(const sim::Workload& w, const EvalBoard& board, const SuiteOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  if (w.requests.empty()) throw std::invalid_argument("eval: the workload has no requests");
  for (const auto& g : o.governors)
    if (std::find(governor_names().begin(), governor_names().end(), g) == governor_names().end())
      throw std::invalid_argument("eval: unknown governor '" + g +
                                  "' (known: flamed, flamed-grid, max, stock, ztt, oracle-nc, oracle)");
  Evaluation e;
  e.board = board.name;
  e.workload = w.name;
  e.seed = o.run.sim.seed;
  e.options = o;
  e.requests = o.run.limit ? std::min(o.run.limit, w.requests.size()) : w.requests.size();
  const std::vector<std::string> models = w.models();
  auto wanted = [&](const std::string& n) {
    return std::find(o.governors.begin(), o.governors.end(), n) != o.governors.end();
  };
  if (w.has_context()) {
    // SLM requests carry their context: flamed plans them with a context model from a model file.
    if (wanted("flamed") && !o.flame_models)
      throw std::invalid_argument(
          "eval: flamed on SLM requests needs a context model file (--models DIR): the in-process grid "
          "profile cannot make a context model");
    if (wanted("flamed-grid"))
      throw std::invalid_argument(
          "eval: flamed-grid does not run SLM requests: its end-to-end grid profile has no context (it "
          "would need one grid per context bucket)");
  }
  {
    EvalBoard at_cores = board;
    at_cores.cores = o.profile.cores;
    const BoardLevels levels = at_cores.levels();
    // Per truth: a DNN's model, an SLM request's configuration.
    for (const auto& m : board.requests.truth_names(w, e.requests)) {
      const sim::ModelTruth& t = board.truth(m);
      double fastest = 1e300;
      for (auto c : levels.cpu_khz)
        for (auto g : levels.gpu_hz)
          for (auto x : levels.emc_hz)
            fastest = std::min(fastest, t.mean({levels.cores, c, g, x}).latency_ms);
      e.fastest_ms[m] = fastest;
    }
    e.deadline_over_fastest_min = 1e300;
    for (std::size_t i = 0; i < e.requests; ++i) {
      const double r = w.requests[i].deadline_ms / e.fastest_ms.at(board.truth_name(w.requests[i]));
      e.deadline_over_fastest_min = std::min(e.deadline_over_fastest_min, r);
      e.deadline_over_fastest_max = std::max(e.deadline_over_fastest_max, r);
    }
  }
  for (const std::string& name : governor_names()) {
    if (!wanted(name)) continue;
    std::unique_ptr<Governor> g;
    if (name == "flamed" && o.flame_models) {
      for (const auto& m : models)
        if (!o.flame_models->count(m))
          throw std::invalid_argument("eval: no model file serves '" + m + "' (flamed's models)");
      g = std::make_unique<FlameGovernor>(*o.flame_models, o.flame);
    } else if (name == "flamed" || name == "flamed-grid") {
      // The end-to-end grid model from the in-process profile (flamed's baseline model kind).
      ProfileOptions po = o.profile;
      po.sim.noise_scale = o.run.sim.noise_scale;
      po.sim.cpu_delay_ms = o.run.sim.cpu_delay_ms;
      po.sim.gpu_delay_ms = o.run.sim.gpu_delay_ms;
      po.sim.emc_delay_ms = o.run.sim.emc_delay_ms;
      e.profiles = profile_models(board, models, po);
      std::map<std::string, grid::GridModel> ms;
      for (const auto& [m, p] : e.profiles) ms.emplace(m, p.model);
      FlameOptions fo = o.flame;
      fo.name = name;
      g = std::make_unique<FlameGovernor>(ms, fo);
    } else if (name == "max") {
      g = std::make_unique<MaxGovernor>();
    } else if (name == "stock") {
      g = std::make_unique<StockGovernor>(o.stock);
    } else if (name == "ztt") {
      ZttOptions zo = o.ztt;
      zo.power_scale_w = board.ztt_power_scale_w;
      auto z = std::make_unique<ZttGovernor>(e.fastest_ms, zo, board.requests);
      ZttTrainOptions to = o.train;
      to.run = o.run;
      e.ztt_training = train_ztt(*z, w, board, to);
      g = std::move(z);
    } else if (name == "oracle-nc") {
      g = std::make_unique<ExpectationOracle>(board, o.run.sim);
    } else {
      g = std::make_unique<OracleGovernor>(board, o.run.sim);
    }
    e.runs.push_back(run_governor(w, board, *g, o.run));
  }
  e.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return e;
}

}  // namespace flame::eval
