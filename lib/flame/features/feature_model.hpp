#pragma once
// GPU time of segments that were not profiled, from counter-like features (docs/feature-model.md).
//
// Calls:  t = t0[type] + act_bytes * a[type] + param_bytes * p[type] + macs * m[dtype]
//   a per-type floor and memory rates, and one MAC rate per element type shared by all layer types
//   (a layer type seen only at small sizes still gets a throughput from the others). Fitted jointly
//   by non-negative least squares; a type with few training segments uses the pooled fit
//   (one floor and rates for all calls).
// Glue:   t = g0 + prev_bytes_out * b + attention * c, per group of neighbouring leaf names, dtype
//   and phase; falling back to neighbouring layer types, then to one pooled fit.
// Every fit weights a segment by 1/sqrt(max(t, floor)): between absolute least squares (fits the
// big layers, ignores the floors of small ones) and relative (ignores how much time is at stake).
#include <array>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "flame/features/detail/segment_features.hpp"

namespace flame::features {

enum class FeatureLevel { Group, Coarse, Pooled };

struct FeatureModelOptions {
  int min_group_samples = 4;     // fewer training segments in a group -> a wider group's fit
  double weight_floor_ns = 500;  // so zero-time segments still count in the weights
  // A group predicts only sizes within this factor of the sizes it was fitted on; beyond, a wider
  // group's fit is used. A group seen at one size cannot tell its floor from its rate.
  double max_extrapolation = 2.0;
  bool guard_calls = true;
};

// Coefficients of one group: {t0 ns, ns per byte, ns per byte} for
// calls {floor, activation bytes, parameter bytes} or glue {floor, prev bytes_out, attention}.
using GroupCoefficients = std::array<double, 3>;

// A group's fit and the range of sizes (call: activation bytes, glue: prev bytes_out) it saw.
struct GroupFit {
  GroupCoefficients coef{};
  double min_size = 0;
  double max_size = 0;
};

class FeatureModel {
 public:
  double predict_ns(const FeatureRow& row) const;
  std::vector<double> predict_ns(std::span<const FeatureRow> rows) const;
  FeatureLevel level(const FeatureRow& row) const;

  bool uses_macs() const { return !ns_per_mac_.empty(); }
  const std::map<std::string, GroupFit>& call_groups() const { return call_groups_; }
  const std::map<std::string, double>& ns_per_mac() const { return ns_per_mac_; }  // per dtype
  const std::map<std::string, GroupFit>& glue_groups() const { return glue_fine_; }

 private:
  friend FeatureModel fit_feature_model(std::span<const FeatureRow>, std::span<const double>,
                                        const FeatureModelOptions&);
  double mac_rate(const std::map<std::string, double>& rates, const std::string& dtype) const;
  const GroupFit* covering(const std::map<std::string, GroupFit>& groups, const std::string& key, double size,
                           bool guard) const;

  FeatureModelOptions options_;
  std::map<std::string, GroupFit> call_groups_;
  std::map<std::string, double> ns_per_mac_;
  GroupFit call_pooled_;
  std::map<std::string, double> ns_per_mac_pooled_;
  std::map<std::string, GroupFit> glue_fine_;
  std::map<std::string, GroupFit> glue_coarse_;
  GroupFit glue_pooled_;
};

// rows and gpu_ns are parallel (measured GPU time per segment). Deterministic.
FeatureModel fit_feature_model(std::span<const FeatureRow> rows, std::span<const double> gpu_ns,
                               const FeatureModelOptions& options = {});

}  // namespace flame::features
