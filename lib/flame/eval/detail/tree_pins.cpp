#include "flame/eval/detail/tree_pins.hpp"

#include <string>
#include <utility>

namespace flame::eval {
namespace {

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

TreePins::TreePins(sim::FakeTree& tree, sim::BoardLayout layout) : tree_(tree), layout_(std::move(layout)) {
  const std::string& p = layout_.grid_policy;
  const std::string& d = layout_.gpu_devfreq;
  const std::string& e = layout_.emc;
  for (const std::string& f : {p + "/scaling_min_freq", p + "/scaling_max_freq", d + "/min_freq",
                               d + "/max_freq", e + "/rate", e + "/mrq_rate_locked"})
    baseline_[f] = trim(tree_.read(f));
}

std::string TreePins::get(const std::string& path) const {
  return trim(tree_.read(path));
}

void TreePins::put(const std::string& path, const std::string& value) {
  if (get(path) == value) return;  // the kernel would accept it; skipping keeps the run fast
  tree_.attr(path, value);
  ++writes_;
}

void TreePins::pin(const Target& t) {
  const std::string& p = layout_.grid_policy;
  const std::string& d = layout_.gpu_devfreq;
  const std::string& e = layout_.emc;
  // min = max = f. The simulator reads the pair, so the 4.9 write order (raise max first, lower min
  // first) does not change the outcome; the board layer's ordering is exercised by the real flamed.
  auto pair = [&](const std::string& lo, const std::string& hi, std::uint64_t v) {
    if (v == 0) {
      put(lo, baseline_.at(lo));
      put(hi, baseline_.at(hi));
      return;
    }
    put(lo, std::to_string(v));
    put(hi, std::to_string(v));
  };
  pair(p + "/scaling_min_freq", p + "/scaling_max_freq", t.cpu_khz);
  pair(d + "/min_freq", d + "/max_freq", t.gpu_hz);
  if (t.emc_hz == 0) {
    put(e + "/mrq_rate_locked", baseline_.at(e + "/mrq_rate_locked"));
    put(e + "/rate", baseline_.at(e + "/rate"));
  } else {
    put(e + "/rate", std::to_string(t.emc_hz));
    put(e + "/mrq_rate_locked", "1");
  }
}

void TreePins::restore() {
  for (const auto& [path, value] : baseline_) put(path, value);
}

}  // namespace flame::eval
