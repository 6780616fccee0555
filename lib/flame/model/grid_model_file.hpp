#pragma once
// `kind: grid` model files (docs/model-format.md): the model-level frequency model fitted from
// end-to-end samples by `flame fit`, one latency (and power) model per series (workload).
#include <memory>
#include <string>

#include "flame/grid/grid_model.hpp"
#include "flame/model/latency_model.hpp"

namespace YAML {
class Node;
}

namespace flame::model {

class GridLatencyModel : public LatencyModel {
 public:
  explicit GridLatencyModel(grid::GridModel m) : m_(std::move(m)) {}
  // The first series; use grid().find(name) for the others.
  Estimate estimate(const Clocks& clocks, const Workload&) const override {
    return m_.series.front().estimate(clocks);
  }
  std::string kind() const override { return "grid"; }
  const grid::GridModel& grid() const { return m_; }

 private:
  grid::GridModel m_;
};

// Parses the kind-specific part of a model file; errors are ModelFileError naming source:line:column.
std::shared_ptr<const GridLatencyModel> parse_grid_model(const YAML::Node& root, const std::string& source);

std::string grid_to_yaml(const grid::GridModel& m, const std::string& name, const std::string& board,
                         const std::string& provenance);

}  // namespace flame::model
