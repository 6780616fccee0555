#include "flame/eval/eval_suite.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <stdexcept>

#include "flame/eval/max_governor.hpp"
#include "flame/eval/oracle_governor.hpp"

namespace flame::eval {

const std::vector<std::string>& governor_names() {
  static const std::vector<std::string> names = {"flamed", "max", "stock", "ztt", "oracle"};
  return names;
}

Evaluation evaluate(const sim::Workload& w, const std::vector<sim::GridTable>& tables,
                    const SuiteOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  if (w.requests.empty()) throw std::invalid_argument("eval: the workload has no requests");
  for (const auto& g : o.governors)
    if (std::find(governor_names().begin(), governor_names().end(), g) == governor_names().end())
      throw std::invalid_argument("eval: unknown governor '" + g +
                                  "' (known: flamed, max, stock, ztt, oracle)");
  Evaluation e;
  e.workload = w.name;
  e.seed = o.run.sim.seed;
  e.options = o;
  e.requests = o.run.limit ? std::min(o.run.limit, w.requests.size()) : w.requests.size();
  const std::vector<std::string> models = w.models();
  {
    std::map<std::string, const sim::GridTable*> by_name;
    for (const auto& t : tables) by_name[t.name()] = &t;
    for (const auto& m : models) {
      const auto it = by_name.find(m);
      if (it == by_name.end())
        throw std::invalid_argument("eval: the board has no grid for model '" + m + "'");
      const sim::GridTable& t = *it->second;
      e.fastest_ms[m] = t.at(t.fastest(o.profile.cores)).latency_s * 1000.0;
    }
    e.deadline_over_fastest_min = 1e300;
    for (std::size_t i = 0; i < e.requests; ++i) {
      const double r = w.requests[i].deadline_ms / e.fastest_ms.at(w.requests[i].model);
      e.deadline_over_fastest_min = std::min(e.deadline_over_fastest_min, r);
      e.deadline_over_fastest_max = std::max(e.deadline_over_fastest_max, r);
    }
  }
  auto wanted = [&](const std::string& n) {
    return std::find(o.governors.begin(), o.governors.end(), n) != o.governors.end();
  };
  for (const std::string& name : governor_names()) {
    if (!wanted(name)) continue;
    std::unique_ptr<Governor> g;
    if (name == "flamed" && o.flame_models) {
      for (const auto& m : models)
        if (!o.flame_models->count(m))
          throw std::invalid_argument("eval: no model file serves '" + m + "' (flamed's models)");
      g = std::make_unique<FlameGovernor>(*o.flame_models, o.flame);
    } else if (name == "flamed") {
      ProfileOptions po = o.profile;
      po.sim.noise_scale = o.run.sim.noise_scale;
      po.sim.cpu_delay_ms = o.run.sim.cpu_delay_ms;
      po.sim.gpu_delay_ms = o.run.sim.gpu_delay_ms;
      po.sim.emc_delay_ms = o.run.sim.emc_delay_ms;
      e.profiles = profile_models(tables, models, po);
      std::map<std::string, grid::GridModel> ms;
      for (const auto& [m, p] : e.profiles) ms.emplace(m, p.model);
      g = std::make_unique<FlameGovernor>(ms, o.flame);
    } else if (name == "max") {
      g = std::make_unique<MaxGovernor>();
    } else if (name == "stock") {
      g = std::make_unique<StockGovernor>(o.stock);
    } else if (name == "ztt") {
      auto z = std::make_unique<ZttGovernor>(e.fastest_ms, o.ztt);
      ZttTrainOptions to = o.train;
      to.run = o.run;
      e.ztt_training = train_ztt(*z, w, tables, to);
      g = std::move(z);
    } else {
      g = std::make_unique<OracleGovernor>(tables, o.run.sim);
    }
    e.runs.push_back(run_governor(w, tables, *g, o.run));
  }
  e.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return e;
}

}  // namespace flame::eval
