#pragma once
// Memo of planner decisions. The greedy search is a pure function of (model, workload, grid,
// target), and applications repeat the same request every frame: same model, same deadline, and a
// calibration factor that only moves when an `end` reports a latency. Answering those from a memo
// takes the search (tens of microseconds) off the round trip. Cleared when the models or the grid
// change; bounded, cleared wholesale when full (entries are cheap to recompute).
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include "flame/clocks/clock_grid.hpp"
#include "flame/model/latency_model.hpp"
#include "flame/policy/detail/decision.hpp"

namespace flame::policy {

struct DecisionKey {
  const model::LatencyModel* model = nullptr;  // identity: a reload loads new objects
  int ctx = 0;
  std::string phase;
  double target_ms = 0;  // exact: the same deadline and factor give the same bits
  bool operator==(const DecisionKey&) const = default;
};

struct DecisionKeyHash {
  size_t operator()(const DecisionKey& k) const;
};

class DecisionMemo {
 public:
  explicit DecisionMemo(size_t capacity = 4096) : capacity_(capacity) {}

  // The memoised decision for `key` on `grid`, if any. A different grid than the entries were
  // computed on empties the memo first.
  std::optional<Decision> find(const DecisionKey& key, const ClockGrid& grid);
  void put(const DecisionKey& key, const Decision& d);
  void clear();

  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }
  size_t size() const { return entries_.size(); }

 private:
  size_t capacity_;
  ClockGrid grid_;
  std::unordered_map<DecisionKey, Decision, DecisionKeyHash> entries_;
  uint64_t hits_ = 0, misses_ = 0;
};

}  // namespace flame::policy
