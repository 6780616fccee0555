#include "flame/policy/detail/decision_memo.hpp"

#include <functional>

namespace flame::policy {

size_t DecisionKeyHash::operator()(const DecisionKey& k) const {
  size_t h = std::hash<const void*>{}(k.model);
  auto mix = [&h](size_t v) { h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2); };
  mix(std::hash<int>{}(k.ctx));
  mix(std::hash<std::string>{}(k.phase));
  mix(std::hash<double>{}(k.target_ms));
  return h;
}

std::optional<Decision> DecisionMemo::find(const DecisionKey& key, const ClockGrid& grid) {
  if (grid != grid_) {
    entries_.clear();
    grid_ = grid;
  }
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    ++misses_;
    return std::nullopt;
  }
  ++hits_;
  return it->second;
}

void DecisionMemo::put(const DecisionKey& key, const Decision& d) {
  if (capacity_ == 0) return;
  if (entries_.size() >= capacity_) entries_.clear();
  entries_[key] = d;
}

void DecisionMemo::clear() {
  entries_.clear();
}

}  // namespace flame::policy
