#include <catch2/catch.hpp>

#include "flame/calibrate/calibrator.hpp"

using flame::Calibrator;

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
  CHECK_THROWS(d.load_json(nlohmann::json::parse(R"({"version":1,"buckets":{"a":{"factor":99}}})")));
  CHECK(d.factor("a") == Approx(c.factor("a")));
}
