#pragma once
// Which profiled context lengths to fit from, when only a few may be profiled.
#include <span>
#include <vector>

namespace flame::context {

// Picks `count` of the profiled context lengths, spread evenly on a log scale: the smallest and
// the largest first (so predictions interpolate), then for each interior log-spaced target the
// nearest unused context (ties to the smaller). count = 3 gives smallest, the one closest to the
// geometric middle, and largest. Deterministic; returns them sorted. Throws std::invalid_argument
// when count < 1, count exceeds the profiled contexts, or a context is not positive or repeated.
std::vector<int> choose_fit_contexts(std::span<const int> profiled, int count);

}  // namespace flame::context
