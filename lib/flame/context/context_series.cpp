#include "flame/context/context_series.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace flame::context {
namespace {

std::string describe(const model::Segment& s) {
  if (s.kind == model::SegmentKind::Glue) return "glue";
  return fmt::format("call {} ({})", s.name, s.type);
}

}  // namespace

std::vector<int> ContextSeries::contexts() const {
  std::vector<int> out;
  for (const auto* c : configs) out.push_back(c->ctx);
  return out;
}

void check_same_structure(const model::SegmentProfile& reference, const model::SegmentProfile& other) {
  const auto& a = reference.segments;
  const auto& b = other.segments;
  if (a.size() != b.size())
    throw std::runtime_error(
        fmt::format("{}: has {} segments, expected {} as in {} (same model, other context)", other.tag,
                    b.size(), a.size(), reference.tag));
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].kind != b[i].kind || a[i].name != b[i].name || a[i].type != b[i].type)
      throw std::runtime_error(fmt::format("{}: segment {} is {}, expected {} as in {}", other.tag, i,
                                           describe(b[i]), describe(a[i]), reference.tag));
}

std::vector<ContextSeries> context_series(const model::CouplingDataset& dataset) {
  std::vector<ContextSeries> out;
  for (const auto& c : dataset.configs) {
    if (c.mode.empty()) continue;
    const auto phase = model::parse_context_phase(c.mode);
    if (!phase)
      throw std::runtime_error(fmt::format("{}: {}: unknown config.mode \"{}\" (expected decode or prefill)",
                                           dataset.source, c.tag, c.mode));
    if (c.ctx <= 0)
      throw std::runtime_error(fmt::format("{}: {}: config.mode is \"{}\" but config.ctx is missing or 0",
                                           dataset.source, c.tag, c.mode));
    auto it = std::find_if(out.begin(), out.end(),
                           [&](const ContextSeries& s) { return s.model == c.model && s.phase == *phase; });
    if (it == out.end()) {
      out.push_back({c.model, *phase, {}});
      it = std::prev(out.end());
    }
    it->configs.push_back(&c);
  }
  for (auto& s : out) {
    std::stable_sort(
        s.configs.begin(), s.configs.end(),
        [](const model::CouplingConfig* a, const model::CouplingConfig* b) { return a->ctx < b->ctx; });
    for (size_t i = 1; i < s.configs.size(); ++i) {
      if (s.configs[i]->ctx == s.configs[i - 1]->ctx)
        throw std::runtime_error(fmt::format("{}: {} and {} have the same {} context length {}",
                                             dataset.source, s.configs[i - 1]->tag, s.configs[i]->tag,
                                             model::phase_name(s.phase), s.configs[i]->ctx));
      check_same_structure(s.configs.front()->profile, s.configs[i]->profile);
    }
  }
  return out;
}

}  // namespace flame::context
