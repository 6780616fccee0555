// The governors of the evaluation on the simulated TX2: MAX meets every feasible deadline, the oracle
// is never beaten on energy by a governor meeting the same deadline, the stock model follows load,
// flamed's in-process policy meets deadlines with less energy than MAX, zTT's actions and reward,
// the simulator's mid-inference ticks, and determinism.
#include <algorithm>
#include <catch2/catch.hpp>
#include <set>

#include "flame/eval/detail/eval_run.hpp"
#include "flame/eval/detail/flame_governor.hpp"
#include "flame/eval/detail/flame_profile.hpp"
#include "flame/eval/detail/max_governor.hpp"
#include "flame/eval/detail/oracle_governor.hpp"
#include "flame/eval/detail/stock_governor.hpp"
#include "flame/eval/detail/tree_pins.hpp"
#include "flame/eval/detail/ztt_governor.hpp"
#include "flame/eval/eval_suite.hpp"
#include "flame/sim/profiles.hpp"

using namespace flame::eval;
namespace sim = flame::sim;

namespace {

const std::string kModel = "inceptionv3-200";

const std::vector<sim::GridTable>& tables() {
  static const auto t =
      sim::load_tx2_tables(std::string(FLAME_SOURCE_DIR) + "/data/jetson-public/flexibo-tx2");
  return t;
}

const EvalBoard& board() {
  static const EvalBoard b = tx2_eval_board(tables());
  return b;
}

const sim::GridTable& table() {
  for (const auto& t : tables())
    if (t.name() == kModel) return t;
  throw std::runtime_error("no table");
}

double fastest_ms() {
  return table().at(table().fastest(4)).latency_s * 1000;
}

// 20 camera requests at a 200 ms deadline (1.46 x the fastest 4-core latency).
sim::Workload camera(int frames = 120) {
  sim::CameraSpec c;
  c.frames = frames;
  return sim::generate_camera(c, "camera-test");
}

sim::Workload bursty(int bursts = 4) {
  sim::BurstySpec b;
  b.bursts = bursts;
  return sim::generate_bursty(b, "bursty-test");
}

const std::map<std::string, ProfiledModel>& profiled() {
  static const auto p = [] {
    ProfileOptions o;
    o.budget = 64;
    o.repeats = 2;
    return profile_models(board(), {kModel}, o);
  }();
  return p;
}

// A suite small enough for a unit test: a 16-point profile and two zTT training episodes.
SuiteOptions quick_suite() {
  SuiteOptions o;
  o.profile.budget = 16;
  o.profile.repeats = 1;
  o.train.max_episodes = 2;
  o.train.min_episodes = 2;
  o.train.window = 2;
  return o;
}

}  // namespace

TEST_CASE("eval: MAX pins every clock at its maximum and meets every feasible deadline",
          "[eval][governors]") {
  MaxGovernor g;
  RunOptions o;
  const auto r = run_governor(camera(), board(), g, o);
  REQUIRE(r.records.size() == 20);
  CHECK(r.summary.met == 20);
  for (const auto& rec : r.records) {
    CHECK(rec.effective.cpu_khz == table().cpu_khz().back());
    CHECK(rec.effective.gpu_hz == table().gpu_hz().back());
    CHECK(rec.effective.emc_hz == table().emc_hz().back());
  }
  CHECK(r.decisions == 20);
}

TEST_CASE("eval: the oracle is never beaten on energy by a governor meeting the same deadline",
          "[eval][governors]") {
  // Without actuation delays and with no queueing (camera), every governor faces the same budget and
  // the same noise per request, so the comparison is per request.
  RunOptions o;
  o.sim.cpu_delay_ms = o.sim.gpu_delay_ms = o.sim.emc_delay_ms = 0;
  const auto w = camera(180);
  OracleGovernor oracle(board(), o.sim);
  const auto ro = run_governor(w, board(), oracle, o);
  CHECK(ro.summary.met == ro.summary.requests);
  MaxGovernor mx;
  StockGovernor st;
  FlameGovernor fl([] {
    std::map<std::string, flame::grid::GridModel> m;
    for (const auto& [n, p] : profiled()) m.emplace(n, p.model);
    return m;
  }());
  for (Governor* g : std::vector<Governor*>{&mx, &st, &fl}) {
    const auto r = run_governor(w, board(), *g, o);
    INFO(g->name());
    for (std::size_t i = 0; i < r.records.size(); ++i) {
      if (!r.records[i].met || r.records[i].start_ms != ro.records[i].start_ms) continue;
      INFO("request " << i);
      CHECK(ro.records[i].energy_j <= r.records[i].energy_j * (1 + 1e-9));
    }
    CHECK(ro.summary.energy_j <= r.summary.energy_j);
  }
}

TEST_CASE("eval: oracle cost follows the simulator's pieces under actuation delays", "[eval][governors]") {
  RunOptions o;  // default delays 1/5/8 ms
  const Target hi = board().levels().max(), lo = board().levels().min();
  const sim::ModelTruth& truth = board().truth(kModel);
  const auto same = inference_cost(truth, o.sim, lo, lo, {});
  const auto mixed = inference_cost(truth, o.sim, hi, lo, {});
  CHECK(same.latency_ms == Approx(table().at(*table().find(lo)).latency_s * 1000));
  CHECK(mixed.latency_ms < same.latency_ms);  // the first milliseconds ran at the old, faster clocks
  CHECK(mixed.latency_ms > table().at(*table().find(hi)).latency_s * 1000);
}

TEST_CASE("eval: the stock model ramps up under load and down when idle", "[eval][governors]") {
  StockGovernor g;
  g.reset(board().levels());
  Decision d;
  d.now_ms = 0;
  Target t = g.decide(d);
  CHECK(t.cpu_khz == table().cpu_khz().front());
  CHECK(t.gpu_hz == table().gpu_hz().front());
  CHECK(t.emc_hz == 0);  // EMC left to BPMP
  for (double now = 4; now <= 200; now += 4)
    if (auto n = g.tick(now, true)) t = *n;
  CHECK(t.cpu_khz == table().cpu_khz().back());
  CHECK(t.gpu_hz == table().gpu_hz().back());
  CHECK(g.cpu_util() > 0.9);
  // Idle: the GPU steps down a level per window; the CPU stays until the next wake-up.
  for (double now = 204; now <= 1000; now += 4)
    if (auto n = g.tick(now, false)) t = *n;
  CHECK(t.gpu_hz == table().gpu_hz().front());
  CHECK(t.cpu_khz == table().cpu_khz().back());
  d.now_ms = 1000;
  t = g.decide(d);
  CHECK(t.cpu_khz == table().cpu_khz().front());  // decayed utilisation, down-rate limit long passed
}

TEST_CASE("eval: the stock model on the simulator starts bursts low and ramps within inferences",
          "[eval][governors]") {
  RunOptions o;
  StockGovernor st;
  MaxGovernor mx;
  const auto w = bursty(6);
  const auto rs = run_governor(w, board(), st, o);
  const auto rm = run_governor(w, board(), mx, o);
  CHECK(rm.summary.met == rm.summary.requests);
  CHECK(rs.ticks > 100);
  // A burst after an idle gap starts at low clocks; MAX starts every request at the ceiling.
  CHECK(rs.records[0].requested.cpu_khz < table().cpu_khz().back());
  CHECK(rs.records[0].latency_ms > rm.records[0].latency_ms);
  // Clocks moved inside inferences (ticks reached the tree).
  std::size_t multi = 0;
  for (const auto& r : rs.records) multi += r.pieces > 1;
  CHECK(multi > 0);
}

TEST_CASE("eval: flamed's in-process policy meets camera deadlines with less energy than MAX",
          "[eval][governors]") {
  const auto& p = profiled().at(kModel);
  CHECK(p.profiled == 64);
  CHECK(p.latency_mape_pct < 10);
  CHECK(p.power_mape_pct < 20);
  std::map<std::string, flame::grid::GridModel> m{{kModel, p.model}};
  FlameGovernor fl(m);
  MaxGovernor mx;
  RunOptions o;
  const auto w = camera(300);
  const auto rf = run_governor(w, board(), fl, o);
  const auto rm = run_governor(w, board(), mx, o);
  CHECK(rf.summary.met_pct >= 95);
  CHECK(rf.summary.energy_j < 0.9 * rm.summary.energy_j);
  CHECK(fl.calibrator().states().count(kModel) == 1);
  // Same seed, same run.
  FlameGovernor again(m);
  const auto rf2 = run_governor(w, board(), again, o);
  CHECK(rf2.summary.energy_j == rf.summary.energy_j);
  CHECK(rf2.summary.met == rf.summary.met);
}

TEST_CASE("eval: zTT's actions, state and reward", "[eval][ztt]") {
  ZttGovernor z({{kModel, fastest_ms()}});
  z.reset(board().levels());
  // CPU indices {3, 7, 11}; GPU 420.75/828.75/1236.75 MHz mapped to the nearest grid levels.
  CHECK(z.action_clocks(0).cpu_khz == 806400);
  CHECK(z.action_clocks(0).gpu_hz == 497250000);
  CHECK(z.action_clocks(4).cpu_khz == 1420800);
  CHECK(z.action_clocks(4).gpu_hz == 943500000);
  CHECK(z.action_clocks(8).cpu_khz == 2035200);
  CHECK(z.action_clocks(8).gpu_hz == 1300500000);
  CHECK(z.action_clocks(8).emc_hz == 0);
  Outcome met;
  met.met = true;
  met.deadline_ms = 200;
  met.response_ms = 150;
  met.avg_power_w = 2;
  met.temperature_c = 40;
  Outcome late = met;
  late.met = false;
  late.response_ms = 400;
  Outcome hot = met;
  hot.temperature_c = 50;
  CHECK(z.reward(met) == Approx(1 + 0.2 * std::tanh(10.0) + 2.0 / 20));
  CHECK(z.reward(late) == Approx(0.5 + 0.2 * std::tanh(10.0) + 2.0 / 20));
  CHECK(z.reward(hot) == Approx(1 - 2 + 2.0 / 20));
  Outcome frugal = met;
  frugal.avg_power_w = 1;
  CHECK(z.reward(frugal) > z.reward(met));
  CHECK_THROWS(ZttGovernor({{kModel, 0}}));
}

TEST_CASE("eval: zTT trains online and its reward improves", "[eval][ztt]") {
  ZttGovernor z({{kModel, fastest_ms()}});
  ZttTrainOptions o;
  o.max_episodes = 4;
  o.min_episodes = 4;
  const auto w = camera(900);  // 150 requests per episode
  const auto t = train_ztt(z, w, board(), o);
  REQUIRE(t.curve.size() == 4);
  CHECK(t.steps > 300);
  CHECK(z.dqn().epsilon() < 0.01);
  CHECK_FALSE(z.training());
  CHECK(t.curve.back().mean_reward > t.curve.front().mean_reward);
}

TEST_CASE("eval: the simulator's ticker lets a governor change clocks mid-inference", "[eval][sim]") {
  sim::FakeTree tree;
  sim::build(sim::Profile::Tx2Jp4, tree);
  TreePins pins(tree);
  sim::SimOptions so;
  so.noise_scale = 0;
  sim::TableSimulator s(tree.root(), tables(), so);
  const BoardLevels b = board().levels();
  pins.pin(b.min());
  s.observe(0);
  const double slow = table().at(*table().find(b.min())).latency_s * 1000;
  const double fast = table().at(*table().find(b.max())).latency_s * 1000;
  int calls = 0;
  sim::Ticker t;
  t.first_ms = 100;
  t.period_ms = 50;
  t.at = [&](double) {
    ++calls;
    pins.pin(b.max());
  };
  const auto x = s.run(kModel, 50, t);
  CHECK(calls >= 1);
  CHECK(x.pieces >= 2);
  CHECK(x.latency_ms < slow);
  CHECK(x.latency_ms > fast);
  CHECK(x.effective_end.cpu_khz == b.max().cpu_khz);
  // Ticks without a change do not split the inference.
  sim::Ticker idle;
  idle.first_ms = 0;
  idle.period_ms = 4;
  idle.at = [](double) {};
  const auto y = s.run(kModel, x.start_ms + x.latency_ms + 100, idle);
  CHECK(y.pieces == 1);
  CHECK(y.latency_ms == Approx(fast));
}

TEST_CASE("eval: the suite runs every governor on the same board and refuses bad input", "[eval][suite]") {
  const SuiteOptions o = quick_suite();
  const auto w = camera(240);
  const Evaluation e = evaluate(w, board(), o);
  REQUIRE(e.runs.size() == 6);
  CHECK(e.runs[0].governor == "flamed");
  CHECK(e.runs[4].governor == "oracle-nc");
  CHECK(e.runs[5].governor == "oracle");
  for (const auto& r : e.runs) CHECK(r.summary.requests == 40);
  CHECK(e.fastest_ms.at(kModel) == Approx(fastest_ms()));
  CHECK(e.deadline_over_fastest_min == Approx(200 / fastest_ms()));
  REQUIRE(e.ztt_training);
  CHECK(e.ztt_training->episodes == 2);
  SuiteOptions bad = o;
  bad.governors = {"nope"};
  CHECK_THROWS_AS(evaluate(w, board(), bad), std::invalid_argument);
  sim::Workload other = w;
  for (auto& q : other.requests) q.model = "resnet-9000";
  CHECK_THROWS_AS(evaluate(other, board(), o), std::invalid_argument);
}

TEST_CASE("eval: two apps on one board: every governor copes with two models", "[eval][suite]") {
  sim::MixSpec m;
  m.camera.frames = 300;  // 30 camera requests over 10 s
  m.bursty.bursts = 3;
  const auto w = sim::generate_mix(m, "mix-test");
  const SuiteOptions o = quick_suite();
  const Evaluation e = evaluate(w, board(), o);
  REQUIRE(e.runs.size() == 6);
  // flamed profiled and fitted a model per model name of the workload.
  REQUIRE(e.profiles.size() == 2);
  CHECK(e.profiles.count("inceptionv3-200") == 1);
  CHECK(e.profiles.count("xception-200") == 1);
  CHECK(e.fastest_ms.size() == 2);
  for (const auto& r : e.runs) {
    CHECK(r.summary.requests == w.requests.size());
    std::set<std::string> models;
    for (const auto& rec : r.records) models.insert(rec.model);
    CHECK(models.size() == 2);
  }
  auto run = [&](const std::string& g) -> const RunResult& {
    for (const auto& r : e.runs)
      if (r.governor == g) return r;
    throw std::runtime_error("no run " + g);
  };
  // The mix's deadlines leave room for one request of the other app ahead: MAX meets them all.
  CHECK(run("max").summary.met == w.requests.size());
  CHECK(run("oracle").summary.energy_j < run("max").summary.energy_j);
  CHECK(run("flamed").summary.energy_j < run("max").summary.energy_j);
  // Queueing happened: some request started after its arrival because the other app held the GPU.
  std::size_t waited = 0;
  for (const auto& rec : run("max").records) waited += rec.start_ms > rec.arrival_ms ? 1 : 0;
  CHECK(waited > 0);
}

TEST_CASE("eval: flamed told of queued requests (as the daemon is) meets a two-app mix",
          "[eval][governors]") {
  sim::MixSpec m;
  m.camera.frames = 450;  // 45 camera requests over 15 s
  m.bursty.bursts = 5;
  const auto w = sim::generate_mix(m, "mix-test");
  ProfileOptions po;
  po.budget = 48;
  po.repeats = 1;
  const auto models = profile_models(board(), {"inceptionv3-200", "xception-200"}, po);
  std::map<std::string, flame::grid::GridModel> gm;
  for (const auto& [n, p] : models) gm.emplace(n, p.model);
  RunOptions o;
  FlameOptions alone;
  alone.announce = false;
  alone.policy.queue_aware = false;
  FlameGovernor told(gm), blind(gm, alone);
  const auto rt = run_governor(w, board(), told, o);
  const auto rb = run_governor(w, board(), blind, o);
  INFO("told " << rt.summary.met << ", alone " << rb.summary.met << " of " << w.requests.size());
  CHECK(rt.summary.met > rb.summary.met);
  CHECK(rt.summary.met_pct >= 95);
}

TEST_CASE("eval: flamed's holds: an arrival plans for what the queue leaves, the board runs the maximum",
          "[eval][governors]") {
  const auto& p = profiled().at(kModel);
  FlameOptions fo;
  fo.policy.recalibrate = false;
  FlameGovernor fl({{kModel, p.model}}, fo);
  fl.reset(board().levels());
  // Request 0 starts with a loose budget: slow clocks.
  const Decision d0{0, kModel, 0, 0, 1000, 1000, 25, std::nullopt, 0, ""};
  const Target t0 = fl.decide(d0);
  // Request 1 arrives 10 ms later with 250 ms: the ~140 ms of request 0 ahead leave too little.
  const Decision d1{1, kModel, 10, 10, 250, 250, 25, std::nullopt, 0, ""};
  const auto t1 = fl.arrive(d1);
  REQUIRE(t1);
  INFO(sim::to_string(t0) << " then " << sim::to_string(*t1));
  CHECK((t1->cpu_khz > t0.cpu_khz || t1->gpu_hz > t0.gpu_hz || t1->emc_hz > t0.emc_hz));
  CHECK(t1->cpu_khz >= t0.cpu_khz);  // the maximum of both holds
  CHECK(t1->gpu_hz >= t0.gpu_hz);
  CHECK(t1->emc_hz >= t0.emc_hz);
  // Without queue awareness the same arrival plans for its whole 250 ms: clocks no higher.
  fo.policy.queue_aware = false;
  FlameGovernor plain({{kModel, p.model}}, fo);
  plain.reset(board().levels());
  plain.decide(d0);
  const auto t1p = plain.arrive(d1);
  REQUIRE(t1p);
  CHECK(t1p->gpu_hz < t1->gpu_hz);
  CHECK(t1p->cpu_khz <= t1->cpu_khz);
}

TEST_CASE("eval: thermal throttling slows MAX on a hot board and shows in the report fields",
          "[eval][thermal]") {
  RunOptions cool;
  cool.sim.thermal.ambient_c = 60;
  cool.sim.thermal.tau_s = 3;  // short, so that 120 frames heat the board
  RunOptions hot = cool;
  hot.sim.throttle = sim::ThrottleOptions{};
  hot.sim.throttle->trip_c = 70;
  const auto w = camera(600);
  MaxGovernor a, b;
  const RunResult plain = run_governor(w, board(), a, cool);
  const RunResult throttled = run_governor(w, board(), b, hot);
  CHECK(plain.summary.throttled == 0);
  CHECK(plain.max_temperature_c > 70);  // it would have tripped
  CHECK(throttled.summary.throttled > 0);
  CHECK(throttled.throttle_engagements >= 1);
  CHECK(throttled.max_temperature_c < plain.max_temperature_c);
  CHECK(throttled.summary.mean_latency_ms > plain.summary.mean_latency_ms);
  // The temperature the governors are given is the simulator's.
  REQUIRE(throttled.temperature_c.size() == w.requests.size());
  CHECK(*std::max_element(throttled.temperature_c.begin(), throttled.temperature_c.end()) <=
        throttled.max_temperature_c);
}
