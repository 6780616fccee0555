#pragma once
// Which of a board's truths runs a request (docs/simulator.md, "SLM requests on the live layer
// boards"). A DNN request names its truth (a grid name, a configuration tag). An SLM request names
// the SLM and carries its context length and phase; on the live layer boards it runs the dataset's
// configuration of that model and phase whose profiled context is the smallest at or above the
// request's, else the largest. Everything that asks a board for a request's truth (the simulator run
// in `flame eval` and `flame sim run`, the oracles, zTT's scale) resolves it here.
#include <string>
#include <vector>

#include "flame/model/coupling_dataset.hpp"
#include "flame/sim/workload.hpp"

namespace flame::sim {

class RequestTruths {
 public:
  // No SLM series: every request runs the truth its model names; one with a context is refused.
  RequestTruths() = default;
  // The SLM series of a coupling dataset (flame::context::context_series: per model and phase, the
  // configurations by context length). Throws std::runtime_error as context_series does.
  explicit RequestTruths(const model::CouplingDataset& dataset);

  // The name of the truth (ModelTruth::name()) that runs a request of `model` with context `ctx`
  // (0 = a DNN request) in `phase`. Throws std::invalid_argument naming the model, the phase and
  // the series known when no series serves it.
  std::string truth_name(const std::string& model, int ctx, const std::string& phase) const;
  std::string truth_name(const Request& r) const { return truth_name(r.model, r.ctx, r.phase); }
  // The distinct truths the first `limit` requests of `w` run (0 = all), sorted.
  std::vector<std::string> truth_names(const Workload& w, std::size_t limit = 0) const;

 private:
  struct Series {
    std::string model, phase;
    std::vector<int> contexts;      // ascending
    std::vector<std::string> tags;  // the configuration of each context
  };
  std::string source_;
  std::vector<Series> series_;
};

}  // namespace flame::sim
