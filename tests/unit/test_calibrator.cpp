#include <catch2/catch.hpp>
#include <random>

#include "flame/calibrate/calibrator.hpp"

using flame::calibrate::Calibrator;
using flame::calibrate::CalibratorOptions;

TEST_CASE("calibrator: converges to a systematic model error") {
  Calibrator c;
  const std::string k = Calibrator::key("resnet50");
  for (int i = 0; i < 40; ++i) c.observe(k, 10.0, 12.0);  // the model is 20 % optimistic
  CHECK(c.factor(k) == Approx(1.2).epsilon(0.01));
  CHECK(c.factor("other") == 1.0);
}

TEST_CASE("calibrator: single outliers are ignored, a run of them is a regime change") {
  Calibrator c;
  const std::string k = "m";
  for (int i = 0; i < 20; ++i) c.observe(k, 10, 10);
  CHECK_FALSE(c.observe(k, 10, 100));  // one 10x spike (a page fault storm)
  CHECK(c.factor(k) == Approx(1.0).margin(1e-9));
  for (int i = 0; i < 4; ++i) c.observe(k, 10, 50);
  CHECK(c.factor(k) == Approx(3.0));  // fifth same-side outlier resets, clamped to max_factor
}

TEST_CASE("calibrator: invalid observations and buckets") {
  Calibrator c;
  CHECK_FALSE(c.observe("m", 0, 10));
  CHECK_FALSE(c.observe("m", 10, -1));
  CHECK(Calibrator::key("qwen", "decode", 1500) == "qwen/decode/ctx2048");
  CHECK(Calibrator::key("qwen", "decode", 2048) == "qwen/decode/ctx2048");
  CHECK(Calibrator::key("resnet") == "resnet");
}

TEST_CASE("calibrator: state round-trips through JSON; bad state changes nothing") {
  Calibrator c;
  c.observe("a", 10, 11);
  Calibrator d;
  d.load_json(c.to_json());
  CHECK(d.factor("a") == Approx(c.factor("a")));
  CHECK_THROWS(d.load_json(nlohmann::json{{"version", 2}}));
  CHECK_THROWS(d.load_json(nlohmann::json::parse(R"({"version":1,"buckets":[]})")));
  CHECK(d.factor("a") == Approx(c.factor("a")));
}

TEST_CASE("calibrator: a bucket that does not fit is set aside, the others load, and a save keeps it") {
  const auto file = nlohmann::json::parse(R"({"version":1,"buckets":{
      "good": {"factor": 1.2, "samples": 9, "rejected": 1, "last_ratio": 1.1, "spread": 0.03},
      "high": {"factor": 2.5, "samples": 40},
      "junk": {"factor": "x"},
      "nan-spread": {"factor": 1.0, "spread": -1},
      "bad-count": {"factor": 1.0, "samples": -4}}})");
  CalibratorOptions lowered;
  lowered.max_factor = 2.0;  // an operator lowered it: "high" no longer fits
  Calibrator c(lowered);
  const auto problems = c.load_json(file);
  REQUIRE(problems.size() == 4);
  CHECK_THAT(problems[0], Catch::Contains("'bad-count' set aside"));
  CHECK_THAT(problems[1], Catch::Contains("'high' set aside: factor 2.5 outside [0.5, 2]"));
  CHECK(c.states().size() == 1);
  CHECK(c.factor("good") == Approx(1.2));
  CHECK(c.states().at("good").samples == 9);
  // The save keeps the set-aside buckets as they were; a later load with room for them takes them.
  const auto saved = c.to_json();
  CHECK(saved["set_aside"]["high"] == file["buckets"]["high"]);
  CHECK(saved["set_aside"]["junk"] == file["buckets"]["junk"]);
  Calibrator wide;  // max_factor back to its default
  const auto again = wide.load_json(saved);
  CHECK(again.size() == 3);  // junk, nan-spread, bad-count stay aside
  CHECK(wide.factor("high") == Approx(2.5));
  CHECK(wide.states().at("high").samples == 40);
  CHECK(wide.to_json()["set_aside"].size() == 3);
  CHECK_FALSE(wide.to_json()["set_aside"].contains("high"));
}

TEST_CASE("calibrator: the planning margin covers the measured scatter") {
  Calibrator c;
  std::mt19937_64 rng(7);
  std::normal_distribution<double> noise(1.0, 0.04);  // 4 % run-to-run scatter
  const std::string noisy = "slm/decode/ctx128", steady = "camera";
  CHECK(c.divisor(noisy, 5) == Approx(1.05));  // nothing measured: the safety margin
  for (int i = 0; i < 7; ++i) c.observe(noisy, 100, 100 * noise(rng));
  CHECK(c.divisor(noisy, 5) == Approx(c.factor(noisy) * 1.05));  // too few samples to trust
  for (int i = 0; i < 400; ++i) c.observe(noisy, 100, 100 * noise(rng));
  const auto& s = c.states().at(noisy);
  CHECK(s.spread() == Approx(0.04).margin(0.02));
  CHECK(c.divisor(noisy, 5) == Approx(s.factor * (1 + 2.33 * s.spread())));
  CHECK(c.divisor(noisy, 5) > s.factor * 1.05);
  // Small scatter keeps the fixed margin; noise_z 0 switches the noise margin off.
  for (int i = 0; i < 100; ++i) c.observe(steady, 100, 100 * (i % 2 ? 1.005 : 0.995));
  CHECK(c.divisor(steady, 5) == Approx(c.factor(steady) * 1.05));
  CalibratorOptions off;
  off.noise_z = 0;
  Calibrator plain(off);
  for (int i = 0; i < 100; ++i) plain.observe(noisy, 100, 100 * noise(rng));
  CHECK(plain.divisor(noisy, 5) == Approx(plain.factor(noisy) * 1.05));
  // The scatter is kept with the state.
  Calibrator d;
  d.load_json(c.to_json());
  CHECK(d.states().at(noisy).spread() == Approx(s.spread()));
  CHECK(d.load_json(nlohmann::json::parse(R"({"version":1,"buckets":{"a":{"factor":1,"spread":-1}}})"))
            .size() == 1);
}

TEST_CASE("calibrator: buckets of models no longer served are kept, at most max_stale_buckets",
          "[calibration]") {
  CalibratorOptions o;
  o.max_stale_buckets = 2;
  Calibrator c(o);
  CHECK(Calibrator::model_id("resnet", "0a1b2c3d") == "resnet@0a1b2c3d");
  CHECK(Calibrator::model_id("resnet", "") == "resnet");
  const std::string served = Calibrator::model_id("qwen", "1111");
  c.observe(Calibrator::key(served, "decode", 100), 10, 11);
  c.observe(Calibrator::key(served, "prefill", 1000), 10, 11);
  for (const char* old : {"qwen@0001", "qwen@0002", "qwen@0003"})
    c.observe(Calibrator::key(old, "decode", 100), 10, 12);
  c.observe("resnet", 10, 9);  // a bucket from before digests: as stale as any
  // Stale: qwen@0001..3 and resnet; the two most recently observed stay.
  const auto dropped = c.retain({served});
  CHECK(dropped == std::vector<std::string>{"qwen@0001/decode/ctx128", "qwen@0002/decode/ctx128"});
  CHECK(c.states().size() == 4);
  CHECK(c.states().count("qwen@1111/decode/ctx128") == 1);
  CHECK(c.states().count("qwen@1111/prefill/ctx1024") == 1);
  CHECK(c.states().count("resnet") == 1);
  CHECK(c.retain({served}).empty());  // within the bound: nothing more goes

  // Recency survives a save and load: the order of the stale buckets is the same afterwards.
  Calibrator again(o);
  CHECK(again.load_json(c.to_json()).empty());
  again.observe("other@1", 10, 10);
  CHECK(again.retain({served}) == std::vector<std::string>{"qwen@0003/decode/ctx128"});
}
