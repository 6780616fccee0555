#include "flame/sim/request_truth.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <stdexcept>

#include "flame/context/context_series.hpp"

namespace flame::sim {

RequestTruths::RequestTruths(const model::CouplingDataset& dataset) : source_(dataset.source) {
  for (const auto& s : context::context_series(dataset)) {
    Series out{s.model, std::string(model::phase_name(s.phase)), s.contexts(), {}};
    for (const auto* c : s.configs) out.tags.push_back(c->tag);
    series_.push_back(std::move(out));
  }
}

std::string RequestTruths::truth_name(const std::string& model, int ctx, const std::string& phase) const {
  if (ctx <= 0 && phase.empty()) return model;  // a DNN request names its truth
  if (ctx <= 0 || phase.empty())
    throw std::invalid_argument(fmt::format(
        "{}: an SLM request needs both ctx > 0 and a phase (ctx {}, phase '{}')", model, ctx, phase));
  for (const auto& s : series_) {
    if (s.model != model || s.phase != phase) continue;
    // The smallest profiled context at or above the request's; beyond the largest, the largest.
    const auto it = std::lower_bound(s.contexts.begin(), s.contexts.end(), ctx);
    return s
        .tags[it == s.contexts.end() ? s.tags.size() - 1 : static_cast<std::size_t>(it - s.contexts.begin())];
  }
  std::string known;
  for (const auto& s : series_)
    known += fmt::format("{}{} {} (ctx {}..{})", known.empty() ? "" : ", ", s.model, s.phase,
                         s.contexts.front(), s.contexts.back());
  throw std::invalid_argument(
      fmt::format("no configuration runs {} {} at ctx {}{}: the board's SLM series are {}", model, phase, ctx,
                  source_.empty() ? "" : " (" + source_ + ")", known.empty() ? "none" : known));
}

std::vector<std::string> RequestTruths::truth_names(const Workload& w, std::size_t limit) const {
  const std::size_t n = limit ? std::min(limit, w.requests.size()) : w.requests.size();
  std::set<std::string> out;
  for (std::size_t i = 0; i < n; ++i) out.insert(truth_name(w.requests[i]));
  return {out.begin(), out.end()};
}

}  // namespace flame::sim
