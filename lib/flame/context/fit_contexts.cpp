#include "flame/context/fit_contexts.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace flame::context {

std::vector<int> choose_fit_contexts(std::span<const int> profiled, int count) {
  std::vector<int> ctx(profiled.begin(), profiled.end());
  std::sort(ctx.begin(), ctx.end());
  if (!ctx.empty() && ctx.front() <= 0)
    throw std::invalid_argument(fmt::format("context lengths must be positive, got {}", ctx.front()));
  if (std::adjacent_find(ctx.begin(), ctx.end()) != ctx.end())
    throw std::invalid_argument("context lengths must be distinct");
  if (count < 1 || count > static_cast<int>(ctx.size()))
    throw std::invalid_argument(
        fmt::format("cannot fit from {} of {} profiled context lengths", count, ctx.size()));

  const double lo = std::log(ctx.front()), hi = std::log(ctx.back());
  std::vector<double> targets;
  if (count == 1) {
    targets.push_back(0.5 * (lo + hi));
  } else {
    targets = {lo, hi};  // the ends first, so an interior target never takes the largest
    for (int j = 1; j + 1 < count; ++j) targets.push_back(lo + (hi - lo) * j / (count - 1));
  }
  std::vector<bool> used(ctx.size(), false);
  std::vector<int> chosen;
  for (double t : targets) {
    int best = -1;
    for (size_t i = 0; i < ctx.size(); ++i) {
      if (used[i]) continue;
      // A margin keeps the smaller context on a tie that rounding would otherwise decide (128 and
      // 16384 have 1024 and 2048 equally far from their geometric middle).
      if (best < 0 || std::abs(std::log(ctx[i]) - t) < std::abs(std::log(ctx[best]) - t) - 1e-9)
        best = static_cast<int>(i);
    }
    used[best] = true;
    chosen.push_back(ctx[best]);
  }
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

}  // namespace flame::context
