// The policy (lib/flame/policy): the planner memo hits only for the same model object, workload,
// grid and target; the answers with the memo equal the planner's without it; queue-aware budgets;
// arbitration and recalibration; the replies as the socket encodes them (daemon/transport/protocol.hpp).
#include <fmt/format.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <optional>
#include <random>

#include "flame/policy/detail/decision_memo.hpp"
#include "flame/policy/detail/outcomes.hpp"
#include "flame/policy/policy.hpp"
#include "flame/version.hpp"
#include "state/metrics.hpp"
#include "transport/protocol.hpp"

using namespace flame::policy;
using flamed::clocks_json;
using flamed::to_json;

namespace {

class FakeActuator : public Actuator {
 public:
  const flame::ClockGrid& grid() const override { return g; }
  flame::Clocks apply(const flame::Clocks& t) override {
    if (refuse) throw std::runtime_error("gpu: Failed (Is a directory)");
    return now = t;
  }
  void restore() override {
    if (refuse) throw std::runtime_error("restore incomplete: gpu: Failed (Is a directory)");
    now = baseline;
  }
  flame::Clocks current() const override { return now; }

  flame::ClockGrid g{{500, 1000, 1500, 2000}, {}, {100, 200, 300, 400}, {5, 7}};
  flame::Clocks baseline{1000, 0, 100, 7};
  flame::Clocks now = baseline;
  bool refuse = false;  // every write fails, as on a sysfs node that turned into a directory
};

class TwoSidedModel : public flame::model::LatencyModel {
 public:
  flame::Estimate estimate(const flame::Clocks& c, const flame::model::Workload& w) const override {
    return {1e4 / c.cpu_khz + 2e3 / c.gpu_hz + 10.0 / c.emc_hz + w.ctx * 0.001,
            c.cpu_khz / 1000 + c.gpu_hz / 100};
  }
  std::string kind() const override { return "test"; }
};

// The planner the daemon uses, counting its calls: the greedy search picks the cheapest feasible
// point; here an exhaustive scan (the same contract) keeps the test independent of the search.
struct CountingPlanner {
  int* calls;
  Decision operator()(const flame::model::LatencyModel& m, const flame::model::Workload& w,
                      const flame::ClockGrid& g, double target) const {
    ++*calls;
    Decision best;
    double best_e = 1e300;
    for (size_t i = 0; i < g.size(); ++i) {
      const auto c = g.at(i);
      const auto e = m.estimate(c, w);
      if (e.latency_ms <= target && e.latency_ms * e.power_w < best_e) {
        best_e = e.latency_ms * e.power_w;
        best = {c, e.latency_ms, e.power_w, true, int(g.size())};
      }
    }
    if (!best.feasible) best = {g.max(), m.estimate(g.max(), w).latency_ms, 0, false, int(g.size())};
    return best;
  }
};

BeginRequest begin(int64_t id, const std::string& model, double deadline_ms) {
  BeginRequest b;
  b.id = id;
  b.model = model;
  b.deadline_ms = deadline_ms;
  return b;
}

// The policy on a fake actuator with one model "m", its planner counting the searches it runs;
// replies as the socket encodes them.
struct Rig {
  FakeActuator act;
  int calls = 0;
  std::shared_ptr<TwoSidedModel> model = std::make_shared<TwoSidedModel>();
  Policy policy;
  explicit Rig(const Options& o) : policy(o, act, {}, CountingPlanner{&calls}) {
    policy.set_models({{"m", model}});
  }
};

struct Encoded {
  Policy& p;
  nlohmann::json begin(uint64_t client, const BeginRequest& r, TimeMs now) {
    return to_json(p.begin(client, r, now));
  }
  nlohmann::json end(uint64_t client, const EndRequest& r, TimeMs now) {
    return to_json(p.end(client, r, now));
  }
  nlohmann::json status(TimeMs now) { return to_json(p.status(now), 0); }
  void set_models(ModelSet m) { p.set_models(std::move(m)); }
  void set_options(const Options& o) { p.set_options(o); }
  const flame::Clocks& applied() const { return p.applied(); }
};

}  // namespace

TEST_CASE("decision cache: hits need the same model, workload, target and grid", "[daemon][cache]") {
  TwoSidedModel a, b;
  const flame::ClockGrid g1{{1000}, {}, {100}, {5}}, g2{{1000, 2000}, {}, {100}, {5}};
  DecisionMemo cache;
  const DecisionKey k{&a, 0, "", 30.0};
  CHECK_FALSE(cache.find(k, g1));
  Decision d;
  d.model_ms = 12;
  cache.put(k, d);
  REQUIRE(cache.find(k, g1));
  CHECK(cache.find(k, g1)->model_ms == 12);
  CHECK_FALSE(cache.find({&b, 0, "", 30.0}, g1));
  CHECK_FALSE(cache.find({&a, 0, "", 30.000000001}, g1));
  CHECK_FALSE(cache.find({&a, 128, "decode", 30.0}, g1));
  CHECK_FALSE(cache.find(k, g2));  // another grid empties the memo
  CHECK_FALSE(cache.find(k, g1));
  CHECK(cache.hits() == 2);

  DecisionMemo small(2);
  small.put({&a, 0, "", 1}, d);
  small.put({&a, 0, "", 2}, d);
  small.put({&a, 0, "", 3}, d);  // full: starts again
  CHECK(small.size() == 1);
}

TEST_CASE("decision cache: the governor plans once per distinct request and answers identically",
          "[daemon][cache]") {
  Options o;
  o.idle_delay_ms = 0;
  Rig rig(o);
  auto& [act, calls, model, policy] = rig;
  const flame::calibrate::Calibrator& cal = policy.calibrator();
  Encoded gov{policy};
  int reference_calls = 0;
  const TimeMs t0 = 0;

  std::mt19937 rng(3);
  std::uniform_int_distribution<int> deadline(5, 60);
  std::vector<double> seen;
  for (int i = 0; i < 200; ++i) {
    const double dl = deadline(rng);
    const auto r = gov.begin(1, begin(i, "m", dl), t0);
    REQUIRE(r["ok"] == true);
    // Same answer as planning afresh with the same target.
    const double target = dl / (1.0 + o.safety_margin_pct / 100.0) / cal.factor("m");
    const Decision fresh = CountingPlanner{&reference_calls}(*model, {}, act.g, target);
    CHECK(r["clocks"] == clocks_json(fresh.clocks));
    CHECK(r["feasible"] == fresh.feasible);
    EndRequest e;
    e.id = i;
    REQUIRE(gov.end(1, e, t0)["ok"] == true);
    if (std::find(seen.begin(), seen.end(), dl) == seen.end()) seen.push_back(dl);
  }
  CHECK(calls == int(seen.size()));  // one search per distinct deadline
  CHECK(gov.status(t0)["counters"]["decision_cache_hits"] == 200 - seen.size());

  // A reported latency moves the calibration factor: the same deadline is planned again.
  const int before = calls;
  const auto first = gov.begin(1, begin(1000, "m", 70), t0);  // a deadline not seen yet
  CHECK(calls == before + 1);
  EndRequest e;
  e.id = 1000;
  e.latency_ms = 1.2 * first["predicted_ms"].get<double>();
  REQUIRE(gov.end(1, e, t0)["calibration"]["updated"] == true);
  gov.begin(1, begin(1001, "m", 70), t0);
  CHECK(calls == before + 2);
  // A reload (new model objects) forgets every decision.
  gov.set_models({{"m", std::make_shared<TwoSidedModel>()}});
  gov.begin(1, begin(1002, "m", 70), t0);
  CHECK(calls == before + 3);
}

TEST_CASE("governor: a request that arrives behind another plans for what the queue leaves",
          "[daemon][queue]") {
  Options o;
  o.idle_delay_ms = 0;
  o.recalibrate = false;
  Rig rig(o);
  auto& [act, calls, model, policy] = rig;
  Encoded gov{policy};
  int reference_calls = 0;
  const TimeMs t0 = 0;

  // App 1 starts a slow inference; app 2 arrives 5 ms later with a 60 ms deadline.
  const auto a = gov.begin(1, begin(1, "m", 60), t0);
  REQUIRE(a["ok"] == true);
  CHECK(a["queued_ms"] == 0);
  const double a_ms = a["predicted_ms"].get<double>();
  const auto b = gov.begin(2, begin(1, "m", 60), t0 + 5);
  REQUIRE(b["ok"] == true);
  CHECK(b["queued_ms"].get<double>() == Approx(a_ms - 5));
  const double target = (60 - (a_ms - 5)) / 1.05;
  const Decision fresh = CountingPlanner{&reference_calls}(*model, {}, act.g, target);
  CHECK(b["clocks"] == clocks_json(fresh.clocks));
  CHECK(b["predicted_ms"].get<double>() < a_ms);  // a tighter budget: faster clocks than app 1's
  // The board runs the maximum of both, so app 1's inference speeds up too.
  CHECK(b["applied"] == clocks_json(fresh.clocks));
  // App 1 ends; app 2 renews its begin at its start with what is left: nothing queued ahead.
  EndRequest e;
  e.id = 1;
  REQUIRE(gov.end(1, e, t0 + 30)["ok"] == true);
  CHECK(gov.begin(2, begin(1, "m", 35), t0 + 30)["queued_ms"] == 0);
  // A budget the queue has used up runs at the fastest clocks, flagged.
  gov.begin(1, begin(2, "m", 1000), t0 + 30);
  const auto late = gov.begin(3, begin(1, "m", 1), t0 + 31);
  CHECK(late["feasible"] == false);
  CHECK(late["clocks"] == clocks_json(act.g.max()));

  // queue_aware: false plans every request for its whole deadline.
  o.queue_aware = false;
  gov.set_options(o);
  const auto c = gov.begin(4, begin(1, "m", 60), t0 + 32);
  CHECK(c["queued_ms"] == 0);
  CHECK(c["clocks"] == clocks_json(CountingPlanner{&reference_calls}(*model, {}, act.g, 60 / 1.05).clocks));
}

TEST_CASE("governor: a request the arbitration ran faster does not recalibrate", "[daemon][queue]") {
  Options o;
  o.idle_delay_ms = 0;
  Rig rig(o);
  auto& [act, calls, model, policy] = rig;
  Encoded gov{policy};
  const TimeMs t0 = 0;
  // Request 1 (slow clocks) overlaps request 2 (a tight deadline): 1 runs at 2's faster clocks.
  const auto a = gov.begin(1, begin(1, "m", 60), t0);
  const auto b = gov.begin(2, begin(1, "m", 40), t0 + 1);
  REQUIRE(b["applied"] != a["clocks"]);
  EndRequest e;
  e.id = 1;
  e.latency_ms = 0.7 * a["predicted_ms"].get<double>();  // faster than predicted: it ran faster
  const auto ea = gov.end(1, e, t0 + 20);
  CHECK(ea["calibration"]["updated"] == false);
  CHECK(ea["calibration"]["factor"] == 1.0);
  // Request 2 held the maximum itself: its measurement counts.
  e.latency_ms = 1.1 * b["predicted_ms"].get<double>();
  CHECK(gov.end(2, e, t0 + 40)["calibration"]["updated"] == true);
}

TEST_CASE("metrics: counters, applied clocks and per-bucket calibration in Prometheus text", "[daemon]") {
  Options o;
  o.idle_delay_ms = 1000;
  Rig rig(o);
  auto& [act, calls, model, policy] = rig;
  const flame::calibrate::Calibrator& cal = policy.calibrator();
  Encoded gov{policy};
  const TimeMs t0 = 0;
  for (int i = 0; i < 3; ++i) {
    const auto b = gov.begin(1, begin(i, "m", 60), t0);
    EndRequest e;
    e.id = i;
    e.latency_ms = b["predicted_ms"].get<double>() * (i == 1 ? 1.1 : 0.9);
    gov.end(1, e, t0);
  }
  EndRequest missing;
  missing.id = 99;
  gov.end(1, missing, t0);  // an error: no such request
  const std::string text = flamed::prometheus_text(policy.status(t0));
  CHECK_THAT(text, Catch::Contains("flamed_requests_total 3\n"));
  CHECK_THAT(text, Catch::Contains("flamed_request_errors_total 1\n"));
  CHECK_THAT(text, Catch::Contains("# TYPE flamed_calibration_spread gauge"));
  CHECK_THAT(text,
             Catch::Contains(fmt::format("flamed_calibration_factor{{bucket=\"m\"}} {}\n", cal.factor("m"))));
  CHECK_THAT(text, Catch::Contains(fmt::format("flamed_calibration_spread{{bucket=\"m\"}} {}\n",
                                               cal.states().at("m").spread())));
  CHECK(cal.states().at("m").spread() > 0);
  CHECK_THAT(text,
             Catch::Contains(fmt::format("flamed_clock_hz{{domain=\"gpu\"}} {}\n", gov.applied().gpu_hz)));
}

TEST_CASE("outcomes: upper-inclusive cumulative buckets, NaN left out", "[daemon][metrics]") {
  Histogram h({0.5, 1, 2});
  for (const double v : {0.1, 0.5, 1.0, 1.5, 3.0, std::nan("")}) h.observe(v);
  CHECK(h.count() == 5);
  CHECK(h.sum() == Approx(6.1));
  CHECK(h.cumulative(0) == 2);  // 0.1 and 0.5: le="0.5" includes its bound
  CHECK(h.cumulative(1) == 3);
  CHECK(h.cumulative(2) == 4);
  CHECK(h.cumulative(3) == 5);  // +Inf = count
}

TEST_CASE("outcomes: at most kMaxModelLabels models keep their name, the rest are \"other\"",
          "[daemon][metrics]") {
  OutcomeCounter c;
  for (size_t i = 0; i < kMaxModelLabels + 3; ++i) c.record(fmt::format("m{:02}", i), 10, 10, 5);
  c.record("m00", 10, 10, 20);  // a labelled model keeps its label
  const auto& by = c.by_model();
  CHECK(by.size() == kMaxModelLabels + 1);
  REQUIRE(by.count(kOtherModel));
  CHECK(by.at(kOtherModel).met == 3);
  CHECK(by.at(kOtherModel).latency_deadline.count() == 3);
  CHECK(by.at("m00").met == 1);
  CHECK(by.at("m00").missed == 1);
  CHECK_FALSE(by.count(fmt::format("m{:02}", kMaxModelLabels)));
  c.record("late", 10, 10, 5);  // still "other", even after the map is full
  CHECK(by.at(kOtherModel).met == 4);
}

TEST_CASE("policy: end counts latency over deadline and the prediction's error per model",
          "[daemon][metrics][policy]") {
  Options o;
  Rig rig(o);
  auto& policy = rig.policy;
  const auto run = [&](int64_t id, double deadline_ms, std::optional<double> latency_ratio) {
    const TimeMs t = double(id) * 100;
    const BeginResult b = policy.begin(1, begin(id, "m", deadline_ms), t);
    REQUIRE_FALSE(b.error);
    EndRequest e;
    e.id = id;
    if (latency_ratio) e.latency_ms = *latency_ratio * deadline_ms;
    REQUIRE_FALSE(policy.end(1, e, t + 10).error);
    return b.predicted_ms;
  };
  run(1, 40, 0.5);                   // met, le="0.5"
  run(2, 40, 1.0);                   // met on the deadline, le="1"
  const double p = run(3, 40, 1.2);  // missed, le="1.5"
  run(4, 40, std::nullopt);          // no latency: not an outcome
  const Status s = policy.status(500);
  CHECK(s.counters.ends == 4);
  CHECK(s.counters.deadline_met == 2);
  CHECK(s.counters.deadline_missed == 1);
  REQUIRE(s.outcomes.size() == 1);
  const Outcomes& m = s.outcomes.at("m");
  CHECK(m.met == 2);
  CHECK(m.missed == 1);
  const Histogram& h = m.latency_deadline;
  CHECK(h.count() == 3);
  CHECK(h.sum() == Approx(2.7));
  CHECK(h.cumulative(1) == 1);  // le="0.5"
  CHECK(h.cumulative(4) == 2);  // le="1"
  CHECK(h.cumulative(5) == 2);  // le="1.1"
  CHECK(h.cumulative(6) == 3);  // le="1.5"
  CHECK(m.prediction_error.count() == 3);
  CHECK(m.prediction_error.sum() >= std::abs(48 - p) / 48 - 1e-12);
}

TEST_CASE("metrics: build info, active requests and per-model deadline histograms in Prometheus text",
          "[daemon][metrics]") {
  Options o;
  Rig rig(o);
  auto& policy = rig.policy;
  REQUIRE_FALSE(policy.begin(1, begin(1, "m", 40), 0).error);
  REQUIRE_FALSE(policy.begin(1, begin(2, "m", 40), 0).error);
  EndRequest e;
  e.id = 1;
  e.latency_ms = 50;  // ratio 1.25: missed
  REQUIRE_FALSE(policy.end(1, e, 10).error);
  Status s = policy.status(10);
  const std::string text = flamed::prometheus_text(s, {}, {"emc"});
  CHECK_THAT(text, Catch::Contains(fmt::format("flamed_build_info{{version=\"{}\"}} 1\n", flame::kVersion)));
  CHECK_THAT(text, Catch::Contains("# TYPE flamed_active_requests gauge\nflamed_active_requests 1\n"));
  CHECK_THAT(text, Catch::Contains("flamed_degraded 1\n"));
  CHECK_THAT(text, Catch::Contains("flamed_deadlines_total{model=\"m\",result=\"met\"} 0\n"));
  CHECK_THAT(text, Catch::Contains("flamed_deadlines_total{model=\"m\",result=\"missed\"} 1\n"));
  CHECK_THAT(text, Catch::Contains("# TYPE flamed_latency_deadline_ratio histogram\n"));
  CHECK_THAT(text, Catch::Contains("flamed_latency_deadline_ratio_bucket{model=\"m\",le=\"1.1\"} 0\n"
                                   "flamed_latency_deadline_ratio_bucket{model=\"m\",le=\"1.5\"} 1\n"));
  CHECK_THAT(text, Catch::Contains("flamed_latency_deadline_ratio_bucket{model=\"m\",le=\"+Inf\"} 1\n"
                                   "flamed_latency_deadline_ratio_sum{model=\"m\"} 1.25\n"
                                   "flamed_latency_deadline_ratio_count{model=\"m\"} 1\n"));
  CHECK_THAT(text, Catch::Contains("flamed_prediction_error_ratio_count{model=\"m\"} 1\n"));
  // Gone: percents, a lifetime mean, met and missed as two metrics.
  CHECK_THAT(text, !Catch::Contains("_pct"));
  CHECK_THAT(text, !Catch::Contains("flamed_deadline_met_total"));
  // Label values are escaped as the text format says.
  s.outcomes["a\"b\\c\nd"] = Outcomes{};
  CHECK_THAT(flamed::prometheus_text(s),
             Catch::Contains("flamed_deadlines_total{model=\"a\\\"b\\\\c\\nd\",result=\"met\"} 0\n"));
}

TEST_CASE("policy: a latency under a microsecond releases the request but is no measurement", "[daemon]") {
  Options o;
  Rig rig(o);
  auto& [act, calls, model, policy] = rig;
  REQUIRE_FALSE(policy.begin(1, begin(1, "m", 30), 0).error);
  EndRequest e;
  e.id = 1;
  e.latency_ms = 1e-300;
  const EndResult r = policy.end(1, e, 10);
  CHECK_FALSE(r.error);
  CHECK_FALSE(r.calibration);
  const Status s = policy.status(10);
  CHECK(s.counters.ends == 1);
  CHECK(policy.active_requests() == 0);
  CHECK(s.counters.deadline_met + s.counters.deadline_missed == 0);
  CHECK(s.outcomes.empty());
  CHECK(policy.calibrator().states().empty());
}

TEST_CASE("policy: a write refused on release, expiry, idle or restore is counted, never thrown",
          "[daemon][policy]") {
  // With no idle delay, releasing the only hold writes at once (back to the baseline).
  Options o;
  o.idle_delay_ms = 0;
  o.expiry_ms = 1000;
  Rig rig(o);
  auto& [act, calls, model, policy] = rig;
  const auto faults = [&] { return policy.status(0).counters.hardware_faults; };
  REQUIRE_FALSE(policy.begin(1, begin(1, "m", 30), 0).error);
  const flame::Clocks held = act.now;
  act.refuse = true;
  EndRequest e;
  e.id = 1;
  CHECK_NOTHROW(policy.end(1, e, 10));
  CHECK(faults() == 1);
  CHECK(policy.status(10).counters.ends == 1);
  act.refuse = false;
  REQUIRE_FALSE(policy.begin(2, begin(2, "m", 30), 20).error);
  act.refuse = true;
  CHECK_NOTHROW(policy.disconnect(2, 30));
  CHECK(faults() == 2);
  act.refuse = false;
  REQUIRE_FALSE(policy.begin(3, begin(3, "m", 30), 40).error);
  act.refuse = true;
  CHECK_NOTHROW(policy.advance(2000));  // request 3 expires
  CHECK(policy.active_requests() == 0);
  CHECK(policy.status(2000).counters.expired == 1);
  CHECK(faults() == 3);
  CHECK_NOTHROW(policy.release_all(/*restore_baseline=*/true));
  CHECK(faults() == 4);
  const Status s = policy.status(3000);
  CHECK_THAT(s.hardware_fault, Catch::Contains("Is a directory"));
  CHECK(act.now == held);  // nothing was written
  CHECK(policy.applied() == held);
  // The status reply carries it; a later write that succeeds clears the fault, not the count.
  const auto j = to_json(s, 0);
  CHECK(j["hardware_fault"].get<std::string>() == s.hardware_fault);
  CHECK(j["counters"]["hardware_faults"] == s.counters.hardware_faults);
  act.refuse = false;
  CHECK_NOTHROW(policy.release_all(/*restore_baseline=*/true));
  CHECK(policy.status(3000).hardware_fault.empty());
  CHECK(faults() == 4);
  // A refused begin is a fault too, and is answered with an error.
  act.refuse = true;
  CHECK(policy.begin(5, begin(5, "m", 30), 4100).error);
  CHECK(faults() == 5);
}

TEST_CASE("policy: a write refused when the idle delay ends is counted, never thrown", "[daemon][policy]") {
  Options o;
  o.idle_delay_ms = 50;
  Rig rig(o);
  auto& [act, calls, model, policy] = rig;
  REQUIRE_FALSE(policy.begin(1, begin(1, "m", 30), 0).error);
  EndRequest e;
  e.id = 1;
  policy.end(1, e, 10);  // the clocks stay for the idle delay
  act.refuse = true;
  CHECK_NOTHROW(policy.advance(100));
  const Status s = policy.status(100);
  CHECK(s.counters.hardware_faults == 1);
  CHECK_THAT(s.hardware_fault, Catch::StartsWith("idle: "));
}

TEST_CASE("policy: ctx and phase are refused by a model that does not use them", "[policy]") {
  Rig r({});
  auto b = begin(1, "m", 100);
  b.ctx = 512;
  auto out = r.policy.begin(1, b, 0);
  REQUIRE(out.error);
  CHECK_THAT(*out.error, Catch::Contains("does not use \"ctx\" or \"phase\""));
  b.ctx.reset();
  b.phase = "decode";
  CHECK(r.policy.begin(1, b, 0).error);
  CHECK(r.act.now == r.act.baseline);  // refused: nothing written
  b.phase.reset();
  CHECK_FALSE(r.policy.begin(1, b, 0).error);
}

TEST_CASE("policy: a refused model is named with its reason, and listed in status", "[policy]") {
  Rig r({});
  r.policy.set_models({{"m", r.model}},
                      {{"tx2-model", "x.yaml: fitted on board tx2-flexibo, not on this orin"}});
  const auto out = r.policy.begin(1, begin(1, "tx2-model", 100), 0);
  REQUIRE(out.error);
  CHECK(*out.error ==
        "model \"tx2-model\" is not served: x.yaml: fitted on board tx2-flexibo, not on this orin");
  CHECK(*r.policy.begin(1, begin(2, "nosuch", 100), 0).error == "unknown model \"nosuch\"");
  const auto s = to_json(r.policy.status(0), 0);
  CHECK(s["models"]["tx2-model"]["served"] == false);
  CHECK(s["models"]["m"]["served"] == true);
  CHECK_THAT(s["models"]["tx2-model"]["refused"].get<std::string>(), Catch::Contains("tx2-flexibo"));
}

TEST_CASE("policy: no prediction for a clock the board does not tell", "[policy]") {
  Rig r({});
  r.act.g.gpu_hz = {0};  // the actuator's way of saying: GPU clock unknown
  const auto out = r.policy.begin(1, begin(1, "m", 100), 0);
  REQUIRE(out.error);
  CHECK(*out.error == "cannot plan: the board does not tell its GPU clock (see status: degraded)");
  CHECK(r.calls == 0);
  CHECK(r.act.now == r.act.baseline);
}

TEST_CASE("policy: calibration follows the model file; a re-profiled model starts fresh", "[policy]") {
  Rig r({});
  r.policy.set_models({{"m", ServedModel(r.model, "", "aaaa0001")}});
  for (int i = 0; i < 3; ++i) {
    const auto b = r.policy.begin(1, begin(i, "m", 100), i * 10);
    EndRequest e;
    e.id = i;
    e.latency_ms = b.predicted_ms * 1.5;
    REQUIRE(r.policy.end(1, e, i * 10 + 5).calibration->updated);
  }
  CHECK(r.policy.calibrator().states().count("m@aaaa0001") == 1);
  CHECK(r.policy.begin(1, begin(9, "m", 100), 50).calibration > 1.0);

  // The same name from a new file: a new bucket; the old one is kept (the file may come back).
  r.policy.set_models({{"m", ServedModel(r.model, "", "bbbb0002")}});
  CHECK(r.policy.begin(1, begin(10, "m", 100), 60).calibration == 1.0);
  CHECK(r.policy.calibrator().states().count("m@aaaa0001") == 1);
  CHECK(to_json(r.policy.status(70), 0)["models"]["m"]["digest"] == "bbbb0002");
}

TEST_CASE("policy: a derived model plans with the wider margin until calibration confirms it", "[policy]") {
  Rig r({});
  r.policy.set_models({{"m", ServedModel(r.model, "", "aaaa0001", true)}, {"full", ServedModel(r.model)}});
  CHECK(r.policy.begin(1, begin(100, "full", 100), 0).margin_pct == Approx(5));
  const int needed = r.policy.calibrator().options().min_noise_samples;
  for (int i = 0; i < needed; ++i) {
    const auto b = r.policy.begin(1, begin(i, "m", 100), i * 10);
    REQUIRE_FALSE(b.error);
    INFO(i);
    CHECK(b.margin_pct == Approx(20));  // derived_margin_pct, not safety_margin_pct
    EndRequest e;
    e.id = i;
    e.latency_ms = b.predicted_ms * (i % 2 ? 1.01 : 0.99);
    REQUIRE(r.policy.end(1, e, i * 10 + 5).calibration);
  }
  // Confirmed: the fixed margin (or the measured scatter's, here smaller) applies as for any model.
  CHECK(r.policy.begin(1, begin(50, "m", 100), 500).margin_pct == Approx(5));
  CHECK(to_json(r.policy.status(600), 0)["models"]["m"]["derived"] == true);
  CHECK_FALSE(to_json(r.policy.status(600), 0)["models"]["full"].contains("derived"));
  // Without recalibration nothing ever confirms it.
  Options o;
  o.recalibrate = false;
  Rig off(o);
  off.policy.set_models({{"m", ServedModel(off.model, "", "aaaa0001", true)}});
  CHECK(off.policy.begin(1, begin(1, "m", 100), 0).margin_pct == Approx(20));
}

TEST_CASE("status: a summary whatever the number of requests; the list comes in pages", "[fair]") {
  Options o;
  o.max_requests_per_client = 1000;
  Rig rig(o);
  auto& policy = rig.policy;
  for (uint64_t client = 1; client <= 3; ++client)
    for (int64_t id = 0; id < 500; ++id) REQUIRE_FALSE(policy.begin(client, begin(id, "m", 1000), 0).error);
  // The summary counts: its size does not grow with the held requests.
  const Status s = policy.status(10);
  CHECK(s.active_requests == 1500);
  const std::string summary = to_json(s, 3).dump();
  CHECK(summary.size() < 2048);
  CHECK(summary.find("\"id\"") == std::string::npos);
  // Pages in (client, id) order, each request once; `next` resumes after the last one.
  auto all = [](uint64_t) { return true; };
  std::vector<RequestKey> seen;
  std::optional<RequestKey> after;
  int pages = 0;
  do {
    const RequestPage page = policy.requests(10, all, after, 400);
    CHECK(page.total == 1500);
    CHECK(page.requests.size() <= 400);
    for (const auto& r : page.requests) seen.push_back({r.client, r.id});
    after = page.next;
    ++pages;
  } while (after);
  CHECK(pages == 4);
  CHECK(seen.size() == 1500);
  CHECK(std::is_sorted(seen.begin(), seen.end()));
  CHECK(std::adjacent_find(seen.begin(), seen.end()) == seen.end());
  // Only the clients `visible` admits, counted and listed.
  const RequestPage own = policy.requests(
      10, [](uint64_t c) { return c == 2; }, std::nullopt, 1000);
  CHECK(own.total == 500);
  CHECK(own.requests.size() == 500);
  CHECK(std::all_of(own.requests.begin(), own.requests.end(), [](const auto& r) { return r.client == 2; }));
  CHECK_FALSE(own.next);
  CHECK(own.requests.front().expires_in_ms == Approx(o.expiry_ms - 10));
  // A request ended between two pages is not shown; the cursor still resumes in order.
  const RequestPage first = policy.requests(10, all, std::nullopt, 2);
  REQUIRE(first.next);
  EndRequest e;
  e.id = 2;
  REQUIRE_FALSE(policy.end(1, e, 20).error);
  const RequestPage second = policy.requests(20, all, first.next, 2);
  REQUIRE(second.requests.size() == 2);
  CHECK(second.requests[0].id == 3);
  CHECK(second.total == 1499);
  // The encoded page carries its cursor as text.
  const auto j = to_json(first, flamed::RequestScope::Own);
  CHECK(j["next"] == "1:1");
  CHECK(j["scope"] == "own");
  CHECK(j["requests"].size() == 2);
}
