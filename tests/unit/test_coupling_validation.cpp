// The timeline model on the real H200 coupling measurements (the repository's copy).
#include <catch2/catch.hpp>
#include <string>

#include "flame/validate/coupling_validation.hpp"

using namespace flame;

TEST_CASE("validate coupling: timeline beats every baseline on the transition band (run 1)") {
  const auto ds = flame::model::load_coupling_dataset(std::string(FLAME_SOURCE_DIR) +
                                                      "/data/h200-coupling/coupling.json");
  const auto r = flame::validate::validate_coupling(ds);
  REQUIRE(r.ours.s_gt_1.n == 72);
  REQUIRE(r.ours.band.n > 0);
  INFO("timeline mean " << r.ours.s_gt_1.mean_ape_pct << " band " << r.ours.band.mean_ape_pct);
  // Measured 0.648 % mean / 3.88 % max / 0.859 % on the band (docs/timeline-model.md). The
  // targets are 0.6 % / 8 % / 0.8 %: the mean and band targets are not met; the gap is documented.
  CHECK(r.ours.s_gt_1.mean_ape_pct < 0.66);
  CHECK(r.ours.s_gt_1.max_ape_pct <= 8.0);
  CHECK(r.ours.band.mean_ape_pct < 0.9);
  for (const auto& [name, e] : r.baselines) {
    INFO(name);
    CHECK(r.ours.band.mean_ape_pct < e.band.mean_ape_pct);
    CHECK(r.ours.s_gt_1.mean_ape_pct < e.s_gt_1.mean_ape_pct);
  }
  // Every reference sweep is reproduced exactly by its own calibration.
  for (const auto& c : r.cases)
    if (c.slowdown == 1.0) CHECK(c.predicted_ns == Approx(c.measured_ns).epsilon(1e-6));
}

TEST_CASE("validate coupling: execution-bound profiles flip to launch-bound as the CPU slows") {
  const auto ds = flame::model::load_coupling_dataset(std::string(FLAME_SOURCE_DIR) +
                                                      "/data/h200-coupling/coupling.json");
  const auto r = flame::validate::validate_coupling(ds);
  int first = -1, last = -1;
  for (const auto& c : r.cases) {
    if (c.tag != "resnet50_b64_float32") continue;
    if (c.slowdown == 1.0) first = c.execution_bound;
    if (c.slowdown == 4.0) last = c.execution_bound;
  }
  CHECK(first > 100);  // at s = 1 the GPU queue stays full through most layers
  CHECK(last < first / 4);
}

TEST_CASE("validate coupling: the second run stays within its host noise") {
  const auto ds = flame::model::load_coupling_dataset(std::string(FLAME_SOURCE_DIR) +
                                                      "/data/h200-coupling/run2/coupling.json");
  const auto r = flame::validate::validate_coupling(ds);
  REQUIRE(r.ours.s_gt_1.n == 104);
  // Measured 1.137 % mean, 8.33 % max: run 2's host was noisier (see docs/timeline-model.md).
  CHECK(r.ours.s_gt_1.mean_ape_pct < 1.25);
  CHECK(r.ours.s_gt_1.mean_ape_pct < r.baselines.at("max_of_sums").s_gt_1.mean_ape_pct);
}

TEST_CASE("validate coupling: leave one configuration out, and the steady sweeps apart") {
  for (const char* file : {"/data/h200-coupling/coupling.json", "/data/h200-coupling/run2/coupling.json"}) {
    INFO(file);
    const auto r = flame::validate::validate_coupling(
        flame::model::load_coupling_dataset(std::string(FLAME_SOURCE_DIR) + file));
    // The one shared cost (the machine's sync latency) comes from launch-bound references and is used
    // only by execution-bound ones, so no configuration's own data predicts it: leaving each
    // configuration out changes nothing (docs/timeline-model.md).
    CHECK(r.ours_loco.s_gt_1.n == r.ours.s_gt_1.n);
    CHECK(r.ours_loco.s_gt_1.mean_ape_pct == Approx(r.ours.s_gt_1.mean_ape_pct).epsilon(1e-12));
    // Drifting sweeps are a minority and hold the largest errors.
    CHECK(r.ours_steady.s_gt_1.n < r.ours.s_gt_1.n);
    CHECK(r.ours_steady.s_gt_1.n > r.ours.s_gt_1.n / 2);
    CHECK(r.ours_steady.s_gt_1.mean_ape_pct < r.ours.s_gt_1.mean_ape_pct);
    CHECK(r.ours_steady.s_gt_1.max_ape_pct < r.ours.s_gt_1.max_ape_pct);
  }
  // The drifting example: mobilenet_v3_small b1 at s = 3 in run 1 (halves 12.5 and 15.1 ms).
  const auto run1 = flame::model::load_coupling_dataset(std::string(FLAME_SOURCE_DIR) +
                                                        "/data/h200-coupling/coupling.json");
  for (const auto& c : run1.configs)
    if (c.tag == "mobilenet_v3_small_b1_float32")
      for (const auto& s : c.sweeps)
        if (s.slowdown == 3.0) CHECK_FALSE(s.steady());
}
