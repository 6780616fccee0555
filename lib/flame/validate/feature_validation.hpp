#pragma once
// `flame validate features`: predict the GPU time of every segment of a configuration from
// counter-like features, with the model fitted on all *other* configurations (leave one
// configuration out), versus the same model fitted on all of them (in-sample, "profiled").
#include <map>
#include <string>
#include <vector>

#include "flame/features/feature_model.hpp"
#include "flame/fit/error_stats.hpp"
#include "flame/model/coupling_dataset.hpp"

namespace flame::validate {

struct FeatureCase {
  std::string tag;
  std::string model;
  double gpu_measured_ns = 0;            // total GPU time
  double gpu_held_out_ns = 0;            // predicted by the model fitted without this configuration
  double gpu_in_sample_ns = 0;           // predicted by the model fitted on every configuration
  double weighted_held_out_ape_pct = 0;  // sum |pred - meas| / sum meas over segments
  double weighted_in_sample_ape_pct = 0;
  double call_measured_ns = 0, call_held_out_ns = 0;
  double glue_measured_ns = 0, glue_held_out_ns = 0;
  int fallback_segments = 0;  // held out: segments whose group was unseen or rare (wider fit used)

  // Through the timeline at slowdown 1, with this configuration's measured host side (spans and
  // host offset) and the sync latency of the other configurations (GPU scale 1):
  double e2e_measured_ns = 0;
  double e2e_held_out_ns = 0;   // held-out predicted GPU times
  double e2e_in_sample_ns = 0;  // in-sample predicted GPU times
  double e2e_profiled_ns = 0;   // measured GPU times: the floor of this comparison
};

struct FeatureSummary {
  fit::ErrorStats gpu_total_held_out;
  fit::ErrorStats gpu_total_in_sample;
  fit::ErrorStats weighted_held_out;
  fit::ErrorStats weighted_in_sample;
  fit::ErrorStats e2e_held_out;
  fit::ErrorStats e2e_in_sample;
  fit::ErrorStats e2e_profiled;
};

struct FeatureReport {
  bool has_macs = false;  // whether any call in the file has MACs (run 1 has none)
  std::vector<FeatureCase> cases;
  FeatureSummary all;
  std::map<std::string, FeatureSummary> by_model;
  features::FeatureModel in_sample;  // the model fitted on every configuration
};

// Needs at least two configurations. Throws std::runtime_error otherwise.
FeatureReport validate_features(const model::CouplingDataset& dataset,
                                const features::FeatureModelOptions& options = {});

// The features of a configuration's segments (its dtype, phase and context length).
std::vector<features::FeatureRow> config_feature_rows(const model::CouplingConfig& config);

}  // namespace flame::validate
