#pragma once
// `flame validate coupling`: predict every sweep of a coupling dataset from its configuration's
// reference (slowdown 1) profile and the sweep's effective CPU speed ratio, and compare with the
// measured median end-to-end time — for the timeline model and for the baselines.
#include <map>
#include <string>
#include <vector>

#include "flame/fit/error_stats.hpp"
#include "flame/model/coupling_calibration.hpp"
#include "flame/model/coupling_dataset.hpp"

namespace flame::validate {

inline constexpr const char* kBaselineNames[] = {"scaled_e2e", "max_of_sums", "sum_of_max"};

struct CouplingCase {
  std::string tag;
  double slowdown = 1;
  double cpu_ratio = 1;  // k = sum(cpu at this sweep) / sum(cpu at the reference)
  double measured_ns = 0;
  double predicted_ns = 0;
  // The same with the shared (machine) costs fitted without this configuration.
  double predicted_loco_ns = 0;
  bool band = false;    // total CPU and total GPU within a factor of 2
  bool steady = false;  // CouplingSweep::steady(): the sweep did not drift while it ran
  double bubble_ns = 0;
  int launch_bound = 0;
  int execution_bound = 0;
  std::map<std::string, double> baseline_ns;
};

struct ErrorPair {
  fit::ErrorStats s_gt_1;
  fit::ErrorStats band;
};

struct CouplingReport {
  std::vector<CouplingCase> cases;
  ErrorPair ours;
  ErrorPair ours_loco;    // leave one configuration out of the shared costs
  ErrorPair ours_steady;  // over steady sweeps only
  ErrorPair ours_loco_steady;
  std::map<std::string, ErrorPair> baselines;
  model::MachineCalibration machine;
  std::map<std::string, model::TimelineCosts> costs;  // per configuration tag
};

// A configuration's reference measurements as a calibration input.
model::ProfiledRun reference_run(const model::CouplingConfig& config);

CouplingReport validate_coupling(const model::CouplingDataset& dataset);

}  // namespace flame::validate
