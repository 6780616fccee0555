#pragma once
// What the daemon and the search need from any fitted model: latency (and power) at a clock
// combination for a workload. Layer-wise models, grid models and SLM context models implement it.
#include <string>

#include "flame/clocks/clocks.hpp"

namespace flame::model {

struct Workload {
  int ctx = 0;        // SLM context length; 0 for DNNs
  std::string phase;  // "prefill" / "decode" for SLMs; empty for DNNs
};

class LatencyModel {
 public:
  virtual ~LatencyModel() = default;
  virtual Estimate estimate(const Clocks& clocks, const Workload& workload) const = 0;
  // SLM models need ctx and phase in every request.
  virtual bool needs_workload() const { return false; }
  virtual std::string kind() const = 0;
};

}  // namespace flame::model
