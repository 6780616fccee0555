#pragma once
// Simpler latency aggregations, kept beside the timeline so users can see why it matters.
// Each takes the reference-clock profile and a CPU speed ratio k (host spans scale by k).
#include <span>

namespace flame::model::baseline {

// End-to-end time at the reference scaled by the CPU ratio (assumes fully host-bound).
double scaled_e2e(double e2e_ref_ns, double cpu_ratio);

// max(total CPU, total GPU): perfect overlap, no bubbles.
double max_of_sums(std::span<const double> cpu_ns, std::span<const double> gpu_ns, double cpu_ratio);

// Sum over segments of max(CPU, GPU): each layer bound by its slower side, no queueing across layers.
double sum_of_max(std::span<const double> cpu_ns, std::span<const double> gpu_ns, double cpu_ratio);

}  // namespace flame::model::baseline
