#include <catch2/catch.hpp>
#include <string>

#include "flame/model/coupling_dataset.hpp"

using flame::model::parse_coupling_dataset;

namespace {
const char* kGood = R"({"results": [{"tag": "tiny", "config": {"model": "m", "batch": 2},
  "segments": [{"kind": "glue", "gpu_ns": 0, "n_kernels": 0},
               {"kind": "call", "name": "fc", "type": "Linear", "bytes_in": 8, "bytes_out": 4,
                "param_bytes": 16, "macs": 32, "gpu_ns": 500, "n_kernels": 1},
               {"kind": "glue", "gpu_ns": 0, "n_kernels": 0}],
  "sweeps": [{"slowdown": 1, "e2e_ns": [1000, 1100, 1200], "cpu_seg_ns": [100, 600, 50, 30]},
             {"slowdown": 2, "e2e_ns": [2000], "e2e_median_ns": 2000, "cpu_seg_ns": [200, 1200, 100, 30]}]}]})";

std::string replaced(std::string s, const std::string& from, const std::string& to) {
  const auto at = s.find(from);
  REQUIRE(at != std::string::npos);
  return s.replace(at, from.size(), to);
}
}  // namespace

TEST_CASE("coupling dataset: a valid file becomes profiles and sweeps") {
  const auto ds = parse_coupling_dataset(kGood, "good.json");
  REQUIRE(ds.configs.size() == 1);
  const auto& c = ds.configs[0];
  CHECK(c.tag == "tiny");
  CHECK(c.batch == 2);
  REQUIRE(c.profile.segments.size() == 3);
  CHECK(c.profile.segments[1].name == "fc");
  CHECK(c.profile.segments[1].features->macs == 32);
  CHECK(c.profile.segments[1].cpu_ns == 600);
  CHECK(c.profile.sync_ns == 30);
  CHECK(c.sweeps[0].e2e_median_ns == 1100);  // computed when absent
  CHECK(c.sweeps[1].total_cpu_ns() == 1500);
}

TEST_CASE("coupling dataset: malformed input names the file and the entry") {
  using Catch::Contains;
  CHECK_THROWS_WITH(parse_coupling_dataset("{\"results\": [", "x.json"), Contains("x.json: not valid JSON"));
  CHECK_THROWS_WITH(parse_coupling_dataset("{}", "x.json"), Contains("missing \"results\""));
  CHECK_THROWS_WITH(parse_coupling_dataset(replaced(kGood, "[100, 600, 50, 30]", "[100, 600, 50]"), "x.json"),
                    Contains("results[0] (tiny).sweeps[0].cpu_seg_ns: has 3 entries, expected 4"));
  CHECK_THROWS_WITH(parse_coupling_dataset(replaced(kGood, "\"gpu_ns\": 500", "\"gpu_ns\": -5"), "x.json"),
                    Contains("segments[1].gpu_ns: expected a finite non-negative number"));
  CHECK_THROWS_WITH(
      parse_coupling_dataset(replaced(kGood, "\"slowdown\": 1,", "\"slowdown\": 1.5,"), "x.json"),
      Contains("reference sweep must have slowdown 1"));
  CHECK_THROWS_WITH(
      parse_coupling_dataset(replaced(kGood, "\"kind\": \"call\"", "\"kind\": \"op\""), "x.json"),
      Contains("expected \"glue\" or \"call\""));
  CHECK_THROWS_WITH(parse_coupling_dataset(replaced(kGood, "[2000]", "[]"), "x.json"),
                    Contains("no end-to-end samples"));
  CHECK_THROWS_WITH(flame::model::load_coupling_dataset("/nonexistent/coupling.json"),
                    Contains("cannot open"));
}
