#pragma once
// The governor comparison of one workload: flamed (profile + fit + in-process policy),
// MAX, stock, zTT (trained online until converged, then evaluated frozen) and the oracle, each on a
// fresh simulated TX2 with the same workload, simulator seed and options.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "flame/eval/detail/eval_run.hpp"
#include "flame/eval/detail/flame_governor.hpp"
#include "flame/eval/detail/flame_profile.hpp"
#include "flame/eval/detail/stock_governor.hpp"
#include "flame/eval/detail/ztt_governor.hpp"

namespace flame::eval {

// Governor names in report order.
const std::vector<std::string>& governor_names();

struct SuiteOptions {
  RunOptions run;  // run.sim.seed is the evaluation seed
  ProfileOptions profile;
  FlameOptions flame;
  // flamed's models from model files (`flame eval --models DIR`) instead of the in-process profile.
  std::optional<policy::ModelSet> flame_models;
  StockOptions stock;
  ZttOptions ztt;
  ZttTrainOptions train;
  // By default every governor but flamed-grid, which duplicates flamed unless flamed runs on
  // model files (then both run: flame eval adds it).
  std::vector<std::string> governors = {"flamed", "max", "stock", "ztt", "oracle-nc", "oracle"};
};

struct Evaluation {
  std::string board = "tx2";
  std::string workload;
  std::uint64_t seed = 1;
  std::size_t requests = 0;
  std::map<std::string, double> fastest_ms;  // per truth (model, or SLM configuration), at the tree's cores
  double deadline_over_fastest_min = 0, deadline_over_fastest_max = 0;
  SuiteOptions options;
  std::vector<RunResult> runs;                    // in governor_names() order, those that were asked for
  std::map<std::string, ProfiledModel> profiles;  // flamed's models
  std::optional<ZttTraining> ztt_training;
  double wall_s = 0;
};

Evaluation evaluate(const sim::Workload& w, const EvalBoard& board, const SuiteOptions& o);

}  // namespace flame::eval
