// Workload generation (deterministic per seed), the file format, and replay without a daemon with a
// summary that agrees with its per-request records.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "flame/sim/profiles.hpp"
#include "flame/sim/replay.hpp"
#include "flame/sim/table_sim.hpp"
#include "flame/sim/workload.hpp"

using namespace flame::sim;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("sim workload: camera generation is deterministic and periodic", "[sim][workload]") {
  CameraSpec s;
  s.seed = 5;
  s.frames = 300;
  const Workload a = generate_camera(s, "cam"), b = generate_camera(s, "cam");
  CHECK(to_yaml(a) == to_yaml(b));
  s.seed = 6;
  CHECK(to_yaml(generate_camera(s, "cam")) != to_yaml(a));
  REQUIRE(a.requests.size() == 50);  // every 6th of 300 frames
  const double period = 1000.0 / 30;
  for (std::size_t i = 0; i < a.requests.size(); ++i) {
    const auto& r = a.requests[i];
    CHECK(r.model == "inceptionv3-200");
    CHECK(r.deadline_ms == Approx(6 * period).margin(0.001));
    CHECK(std::abs(r.t_ms - 6.0 * period * double(i)) <= 0.5 + 0.001);  // jitter
    if (i) CHECK(r.t_ms > a.requests[i - 1].t_ms);
  }
  // The file round-trips and regenerates byte for byte from its own parameters.
  const Workload p = parse_workload(to_yaml(a), "a.yaml");
  CHECK(to_yaml(p) == to_yaml(a));
  CHECK(to_yaml(regenerate(p)) == to_yaml(a));
  CHECK(p.models() == std::vector<std::string>{"inceptionv3-200"});
}

TEST_CASE("sim workload: bursty generation", "[sim][workload]") {
  BurstySpec s;
  s.seed = 2;
  s.bursts = 10;
  s.models = {"inceptionv3-200", "xception-200"};
  const Workload w = generate_bursty(s);
  CHECK(to_yaml(w) == to_yaml(generate_bursty(s)));
  CHECK(w.requests.size() >= 10 * 3);
  CHECK(w.requests.size() <= 10 * 8);
  std::map<std::string, int> per_burst;
  for (std::size_t i = 0; i < w.requests.size(); ++i) {
    const auto& r = w.requests[i];
    CHECK(r.deadline_ms >= 220);
    CHECK(r.deadline_ms <= 420);
    ++per_burst[r.stream];
    if (i && r.stream == w.requests[i - 1].stream) {
      CHECK(r.t_ms - w.requests[i - 1].t_ms >= 150 - 0.002);
      CHECK(r.t_ms - w.requests[i - 1].t_ms <= 300 + 0.002);
    } else if (i) {
      CHECK(r.t_ms - w.requests[i - 1].t_ms >= 300 - 0.002);  // idle_min_ms
    }
  }
  CHECK(per_burst.size() == 10);
  for (const auto& [k, n] : per_burst) {
    CHECK(n >= 3);
    CHECK(n <= 8);
  }
  CHECK(w.models().size() == 2);
  CHECK(to_yaml(regenerate(parse_workload(to_yaml(w), "b.yaml"))) == to_yaml(w));
}

TEST_CASE("sim workload: an SLM chat grows its context token by token", "[sim][workload]") {
  SlmSpec s;
  s.turns = 3;
  const Workload w = generate_slm(s, "chat");
  CHECK(to_yaml(generate_slm(s, "chat")) == to_yaml(w));
  CHECK(to_yaml(regenerate(parse_workload(to_yaml(w), "chat.yaml"))) == to_yaml(w));
  int prefills = 0, last_bucket = 0;
  double last_t = 0;
  for (const auto& r : w.requests) {
    CHECK(r.t_ms >= last_t);
    last_t = r.t_ms;
    if (r.model.rfind("qwen2-0.5b-prefill-c", 0) == 0) {
      ++prefills;
      CHECK(r.deadline_ms == s.ttft_ms);
      continue;
    }
    REQUIRE(r.model.rfind("qwen2-0.5b-decode-c", 0) == 0);
    const int bucket = std::stoi(r.model.substr(std::string("qwen2-0.5b-decode-c").size()));
    CHECK(bucket >= last_bucket);  // the context only grows
    last_bucket = bucket;
    CHECK(r.deadline_ms == Approx(1000.0 / s.tokens_per_s).margin(0.001));
  }
  CHECK(prefills == 3);
  const auto decodes = w.requests.size() - 3;
  CHECK(decodes >= size_t(3 * s.reply_min));
  CHECK(decodes <= size_t(3 * s.reply_max));
  CHECK(last_bucket >= 256);  // 3 turns of >= 64 prompt and >= 48 reply tokens pass 128

  SlmSpec bad = s;
  bad.decode_buckets = {512, 256};
  CHECK_THROWS_WITH(generate_slm(bad), Catch::Contains("strictly ascending"));
  bad = s;
  bad.tokens_per_s = 0;
  CHECK_THROWS_WITH(generate_slm(bad), Catch::Contains("tokens_per_s"));
}

TEST_CASE("sim workload: a mix of two apps shares one arrival order", "[sim][workload]") {
  MixSpec s;
  s.seed = 3;
  s.camera.frames = 600;
  s.bursty.bursts = 6;
  const Workload w = generate_mix(s, "mix");
  CHECK(to_yaml(w) == to_yaml(generate_mix(s, "mix")));
  // Each app is exactly its own generator's output (B from a seed derived from the mix's).
  CameraSpec a = s.camera;
  a.seed = 3;
  const Workload wa = generate_camera(a);
  std::vector<Request> cam, burst;
  for (const auto& r : w.requests) (r.stream == "camera" ? cam : burst).push_back(r);
  REQUIRE(cam.size() == wa.requests.size());
  for (std::size_t i = 0; i < cam.size(); ++i) {
    CHECK(cam[i].t_ms == wa.requests[i].t_ms);
    CHECK(cam[i].model == "inceptionv3-200");
    CHECK(cam[i].deadline_ms == Approx(1000.0 / 3).margin(0.001));  // every 10th frame at 30 FPS
  }
  CHECK(burst.size() >= 6 * 2);
  CHECK(burst.size() <= 6 * 6);
  for (const auto& r : burst) {
    CHECK(r.model == "xception-200");
    CHECK(r.deadline_ms >= 300);
    CHECK(r.deadline_ms <= 500);
  }
  for (std::size_t i = 1; i < w.requests.size(); ++i) CHECK(w.requests[i].t_ms >= w.requests[i - 1].t_ms);
  CHECK(w.streams() == std::vector<std::string>{"camera", "burst"});
  CHECK(w.models() == std::vector<std::string>{"inceptionv3-200", "xception-200"});
  // Another seed moves both apps.
  MixSpec t = s;
  t.seed = 4;
  const Workload v = generate_mix(t, "mix");
  CHECK(v.requests.front().t_ms != w.requests.front().t_ms);
  // Changing app B leaves app A's requests alone.
  t = s;
  t.bursty.bursts = 3;
  std::size_t same = 0;
  for (const auto& r : generate_mix(t, "mix").requests)
    if (r.stream == "camera") CHECK(r.t_ms == cam[same++].t_ms);
  CHECK(same == cam.size());
  // Round trip, regeneration, and refusals.
  const Workload p = parse_workload(to_yaml(w), "m.yaml");
  CHECK(p.generator == "mix");
  CHECK(to_yaml(p) == to_yaml(w));
  CHECK(to_yaml(regenerate(p)) == to_yaml(w));
  MixSpec bad = s;
  bad.bursty_stream = "camera";
  CHECK_THROWS_WITH(generate_mix(bad), Catch::Contains("distinct"));
  bad = s;
  bad.bursty.deadline_min_ms = 0;
  CHECK_THROWS_WITH(generate_mix(bad), Catch::Contains("deadline_min_ms"));
}

TEST_CASE("sim workload: the shipped files regenerate from their seeds", "[sim][workload]") {
  for (const char* name : {"camera30", "bursty", "slm-chat", "slm-chat-live", "mix"}) {
    DYNAMIC_SECTION(name) {
      const std::string path = std::string(FLAME_SOURCE_DIR) + "/config/workloads/" + name + ".yaml";
      const std::string text = slurp(path);
      const Workload w = load_workload(path);
      CHECK(w.name == name);
      CHECK(to_yaml(regenerate(w)) == text);
      const auto seed = w.generator == "camera"   ? w.camera.seed
                        : w.generator == "bursty" ? w.bursty.seed
                        : w.generator == "mix"    ? w.mix.seed
                                                  : w.slm.seed;
      CHECK(to_yaml(generate_preset(name, seed)) == text);
    }
  }
  CHECK_THROWS_WITH(generate_preset("nope", 1), Catch::Contains("unknown workload preset"));
}

TEST_CASE("sim workload: malformed files name the place", "[sim][workload]") {
  const std::string head = "format: flame-workload\nversion: 1\nname: x\n";
  CHECK_THROWS_WITH(parse_workload("format: other\nversion: 1\n", "w.yaml"), Catch::Contains("w.yaml:1:9"));
  CHECK_THROWS_WITH(parse_workload(head + "requests: []\n", "w.yaml"), Catch::Contains("non-empty list"));
  CHECK_THROWS_WITH(parse_workload(head + "requests:\n  - {t_ms: 5, model: m, deadline_ms: 10}\n"
                                          "  - {t_ms: 4, model: m, deadline_ms: 10}\n",
                                   "w.yaml"),
                    Catch::Contains("w.yaml:6") && Catch::Contains("arrival order"));
  CHECK_THROWS_WITH(parse_workload(head + "requests:\n  - {t_ms: 5, model: m, deadline_ms: 0}\n", "w.yaml"),
                    Catch::Contains("deadline_ms: must be > 0"));
  CHECK_THROWS_WITH(
      parse_workload(head + "generator: {kind: camera, fps: 0}\nrequests:\n  - {t_ms: 5, model: m, "
                            "deadline_ms: 1}\n",
                     "w.yaml"),
      Catch::Contains("fps must be > 0"));
  // A hand-written file without a generator is fine (it just cannot regenerate).
  const Workload w = parse_workload(head + "requests:\n  - {t_ms: 5, model: m, deadline_ms: 1}\n", "w.yaml");
  CHECK(w.generator == "manual");
  CHECK_THROWS(regenerate(w));
}

TEST_CASE("sim replay: summary statistics", "[sim][replay]") {
  CHECK(percentile({}, 99) == 0);
  CHECK(percentile({3, 1, 2}, 50) == 2);
  CHECK(percentile({1, 2, 3, 4}, 50) == 2);
  std::vector<double> h(100);
  for (int i = 0; i < 100; ++i) h[i] = i + 1;
  CHECK(percentile(h, 99) == 99);
  CHECK(percentile(h, 100) == 100);
  std::vector<FrameRecord> rs(4);
  for (int i = 0; i < 4; ++i) {
    rs[i].latency_ms = 10.0 * (i + 1);
    rs[i].response_ms = 10.0 * (i + 1);
    rs[i].deadline_ms = 25;
    rs[i].met = rs[i].response_ms <= rs[i].deadline_ms;
    rs[i].energy_j = 0.5;
    rs[i].finish_ms = 100.0 * (i + 1);
    rs[i].requested = {4, 345600, 1, 1};
  }
  rs[3].requested.cpu_khz = 499200;
  rs[2].feasible = false;
  const Summary s = summarize(rs);
  CHECK(s.met == 2);
  CHECK(s.met_pct == Approx(50));
  CHECK(s.energy_j == Approx(2.0));
  CHECK(s.mean_power_w == Approx(2.0 / 0.1));
  CHECK(s.p99_latency_ms == 40);
  CHECK(s.p99_response_over_deadline == Approx(40.0 / 25));
  CHECK(s.virtual_s == Approx(0.4));
  CHECK(s.clock_changes == 1);
  CHECK(s.infeasible == 1);
}

TEST_CASE("sim replay: without a daemon, at the tree's clocks", "[sim][replay]") {
  FakeTree t;
  build(Profile::Tx2Jp4, t);
  SimOptions o;
  o.seed = 3;
  TableSimulator sim(t.root(),
                     load_tx2_tables(std::string(FLAME_SOURCE_DIR) + "/data/jetson-public/flexibo-tx2"), o);
  // Tight deadlines so that the GPU queue builds up: a request starts when the previous one finishes.
  CameraSpec s;
  s.frames = 120;
  s.infer_every = 4;  // 133 ms apart, slower than the fastest inference at 4 cores (137 ms)
  const Workload w = generate_camera(s);
  ReplayOptions ro;
  ro.limit = 25;
  const auto r = replay(w, sim, ro);
  REQUIRE(r.records.size() == 25);
  for (std::size_t i = 0; i < r.records.size(); ++i) {
    const auto& x = r.records[i];
    CHECK(x.start_ms >= x.arrival_ms);
    if (i) CHECK(x.start_ms == Approx(std::max(x.arrival_ms, r.records[i - 1].finish_ms)));
    CHECK(x.response_ms == Approx(x.finish_ms - x.arrival_ms));
    CHECK(x.budget_ms == Approx(x.deadline_ms - (x.start_ms - x.arrival_ms)));
    CHECK(x.met == (x.response_ms <= x.deadline_ms));
    CHECK_FALSE(x.predicted_ms.has_value());
  }
  CHECK(r.records.back().start_ms > r.records.back().arrival_ms);  // the queue built up
  const Summary again = summarize(r.records);
  CHECK(to_json(again) == to_json(r.summary));
  CHECK(r.summary.met < r.summary.requests);
}
