// SLM chats on the live layer boards: requests that carry their context length and phase (the
// workload file's fields and errors, the slm generator naming the SLM), the rule that resolves such a
// request to the configuration that runs it, and the evaluation passing ctx and phase to flamed's
// policy. The context model itself is not here: a test-only LatencyModel whose latency is a line in
// ctx stands for it.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>
#include <string>
#include <utility>

#include "flame/eval/detail/eval_run.hpp"
#include "flame/eval/detail/flame_governor.hpp"
#include "flame/eval/detail/oracle_governor.hpp"
#include "flame/eval/detail/ztt_governor.hpp"
#include "flame/eval/eval_board.hpp"
#include "flame/eval/eval_report.hpp"
#include "flame/eval/eval_suite.hpp"
#include "flame/sim/request_truth.hpp"
#include "flame/sim/workload.hpp"
#include "h200_data.hpp"

using namespace flame::eval;
namespace sim = flame::sim;

namespace {

const std::string kSlm = "qwen2-0.5b";

std::string decode_tag(int ctx) {
  return "qwen2-0.5b_decode_ctx" + std::to_string(ctx) + "_bfloat16";
}
std::string prefill_tag(int ctx) {
  return "qwen2-0.5b_prefill_ctx" + std::to_string(ctx) + "_bfloat16";
}

const sim::RequestTruths& truths() {
  static const sim::RequestTruths t(flame::test::h200_run2());
  return t;
}

// A short chat: one turn, a few decode steps, naming the SLM.
sim::Workload short_chat(int turns = 1, int reply = 6) {
  sim::SlmSpec s = sim::slm_chat_live();
  s.turns = turns;
  s.reply_min = s.reply_max = reply;
  s.think_mean_ms = 500;
  return sim::generate_slm(s, "short-chat");
}

EvalBoard orin_for(const sim::Workload& w) {
  return layer_eval_board(*sim::layer_board("layer-orin"), flame::test::h200_run2(), truths().truth_names(w),
                          truths());
}

// Stands for a context model: at the top GPU clock the latency is a + b·ctx, inversely proportional
// to the GPU clock below it; power rises with the square of the GPU clock, so energy is lowest at
// half of it and a longer context (a larger a + b·ctx) needs faster clocks for the same budget.
// Records every workload it is asked about.
class ContextLine : public flame::model::LatencyModel {
 public:
  ContextLine(double gpu_max_hz, bool needs) : gpu_max_(gpu_max_hz), needs_(needs) {}
  flame::Estimate estimate(const flame::Clocks& c, const flame::model::Workload& w) const override {
    seen.insert({w.ctx, w.phase});
    const double x = c.gpu_hz / gpu_max_;
    return {(20 + 0.05 * w.ctx) / x, 2 + 8 * x * x};
  }
  bool needs_workload() const override { return needs_; }
  std::string kind() const override { return "test-context-line"; }
  mutable std::set<std::pair<int, std::string>> seen;

 private:
  double gpu_max_;
  bool needs_;
};

Decision slm_decision(std::size_t index, int ctx, const std::string& phase, double budget_ms) {
  Decision d;
  d.index = index;
  d.model = kSlm;
  d.deadline_ms = d.budget_ms = budget_ms;
  d.ctx = ctx;
  d.phase = phase;
  return d;
}

void end(FlameGovernor& g, const Decision& d) {
  Outcome o;
  o.index = d.index;
  o.model = d.model;
  o.start_ms = d.now_ms;
  o.latency_ms = 10;
  g.observe(o);
}

}  // namespace

TEST_CASE("slm eval: workload files carry ctx and phase per request", "[slm-eval]") {
  const std::string head = "format: flame-workload\nversion: 1\nname: x\nrequests:\n";
  const sim::Workload w = sim::parse_workload(
      head +
          "  - {t_ms: 0, model: qwen2-0.5b, deadline_ms: 1500, ctx: 79, phase: prefill}\n"
          "  - {t_ms: 1500, model: qwen2-0.5b, deadline_ms: 166.667, ctx: 80, phase: decode}\n"
          "  - {t_ms: 1600, model: resnet50_b1_float32, deadline_ms: 40}\n",
      "w.yaml");
  REQUIRE(w.requests.size() == 3);
  CHECK(w.requests[0].ctx == 79);
  CHECK(w.requests[0].phase == "prefill");
  CHECK(w.requests[1].ctx == 80);
  CHECK(w.requests[1].phase == "decode");
  CHECK(w.requests[2].ctx == 0);  // a DNN request has neither
  CHECK(w.requests[2].phase.empty());
  CHECK(w.has_context());
  // Written back, and only where a request has them.
  const std::string text = sim::to_yaml(w);
  CHECK(text.find("deadline_ms: 166.667, stream: \"\", ctx: 80, phase: decode}") != std::string::npos);
  CHECK(text.find("model: \"resnet50_b1_float32\", deadline_ms: 40.000, stream: \"\"}") != std::string::npos);
  const sim::Workload back = sim::parse_workload(text, "back.yaml");
  CHECK(sim::to_yaml(back) == text);
  CHECK_FALSE(sim::generate_preset("camera30", 1).has_context());
  CHECK(sim::to_yaml(sim::generate_preset("camera30", 1)).find("ctx") == std::string::npos);

  // Both or neither; ctx a positive integer; phase decode or prefill; errors name file:line:column.
  const auto bad = [&](const std::string& fields) {
    return sim::parse_workload(head + "  - {t_ms: 0, model: m, deadline_ms: 10" + fields + "}\n", "w.yaml");
  };
  CHECK_THROWS_WITH(bad(", ctx: 80"), Catch::Contains("w.yaml:5:") && Catch::Contains("go together"));
  CHECK_THROWS_WITH(bad(", phase: decode"), Catch::Contains("w.yaml:5:") && Catch::Contains("go together"));
  CHECK_THROWS_WITH(
      bad(", ctx: 0, phase: decode"),
      Catch::Contains("w.yaml:5:") && Catch::Contains("requests[0].ctx: must be an integer > 0"));
  CHECK_THROWS_WITH(bad(", ctx: -4, phase: decode"), Catch::Contains("must be an integer > 0"));
  CHECK_THROWS_WITH(bad(", ctx: 1.5, phase: decode"),
                    Catch::Contains("w.yaml:5:") && Catch::Contains("requests[0].ctx"));
  CHECK_THROWS_WITH(bad(", ctx: 8, phase: train"),
                    Catch::Contains("w.yaml:5:") && Catch::Contains("'train' is not decode or prefill"));
}

TEST_CASE("slm eval: the slm generator names the SLM with each request's context and phase", "[slm-eval]") {
  sim::SlmSpec s = sim::slm_chat_live();
  REQUIRE(s.model == kSlm);
  s.seed = 7;
  const sim::Workload live = sim::generate_slm(s, "live");
  sim::SlmSpec b = s;
  b.model.clear();
  const sim::Workload buckets = sim::generate_slm(b, "buckets");  // the same chat, named by bucket
  REQUIRE(live.requests.size() == buckets.requests.size());
  const double slot = 1000.0 / s.tokens_per_s;
  int cache = 0, prefills = 0, decodes = 0;
  double turn_start = 0;
  for (std::size_t i = 0; i < live.requests.size(); ++i) {
    const sim::Request& r = live.requests[i];
    const sim::Request& q = buckets.requests[i];
    CHECK(r.model == kSlm);
    CHECK(r.t_ms == q.t_ms);  // the same arrivals, deadlines and streams as the bucket naming
    CHECK(r.deadline_ms == q.deadline_ms);
    CHECK(r.stream == q.stream);
    CHECK(q.ctx == 0);
    if (r.phase == "prefill") {
      // The new prompt's length, due within the time to first token; the bucket the old naming chose.
      ++prefills;
      CHECK(r.ctx >= s.prompt_min);
      CHECK(r.ctx <= s.prompt_max);
      CHECK(r.deadline_ms == Approx(s.ttft_ms));
      CHECK(q.model.rfind("qwen2-0.5b-prefill-c", 0) == 0);
      CHECK(std::stoi(q.model.substr(q.model.rfind('c') + 1)) >= std::min(r.ctx, 2048));
      turn_start = r.t_ms;
      cache += r.ctx;
      continue;
    }
    // Decode: the whole context including its new token, one more per token, across turns; each due
    // before the next display slot, the first at the time to first token.
    REQUIRE(r.phase == "decode");
    CHECK(r.ctx == cache + 1);
    CHECK(r.deadline_ms == Approx(slot).margin(0.001));
    if (live.requests[i - 1].phase == "prefill")
      CHECK(r.t_ms == Approx(turn_start + s.ttft_ms).margin(0.001));
    else
      CHECK(r.t_ms - live.requests[i - 1].t_ms == Approx(slot).margin(0.002));
    // The old naming's bucket is the cache before the token.
    CHECK(q.model == "qwen2-0.5b-decode-c" + std::to_string(cache <= 128    ? 128
                                                            : cache <= 256  ? 256
                                                            : cache <= 512  ? 512
                                                            : cache <= 1024 ? 1024
                                                                            : 2048));
    ++decodes;
    ++cache;
  }
  CHECK(prefills == s.turns);
  CHECK(decodes + prefills == static_cast<int>(live.requests.size()));
  CHECK(cache > 4 * s.prompt_min);  // the context grew over the whole chat

  // The file keeps the SLM's name instead of the unused buckets and regenerates byte for byte.
  const std::string text = sim::to_yaml(live);
  CHECK(text.find("  model: \"qwen2-0.5b\"\n") != std::string::npos);
  CHECK(text.find("decode_buckets") == std::string::npos);
  CHECK(sim::to_yaml(sim::regenerate(sim::parse_workload(text, "live.yaml"))) == text);
  // slm-chat keeps naming buckets; slm-chat-live is the same chat naming the SLM, made for layer-orin.
  const sim::Workload chat = sim::generate_preset("slm-chat", 1),
                      chat_live = sim::generate_preset("slm-chat-live", 1);
  CHECK_FALSE(chat.has_context());
  CHECK(chat_live.has_context());
  CHECK(chat_live.board == "layer-orin");
  CHECK(chat_live.requests.size() == chat.requests.size());
  CHECK(chat_live.models() == std::vector<std::string>{kSlm});
  sim::SlmSpec quoted = s;
  quoted.model = "qwen \"2\"";
  CHECK_THROWS_WITH(sim::generate_slm(quoted), Catch::Contains("plain name"));
}

TEST_CASE("slm eval: a request runs the profiled context at or above its own, else the largest",
          "[slm-eval]") {
  const sim::RequestTruths& t = truths();
  CHECK(t.truth_name(kSlm, 1, "decode") == decode_tag(128));
  CHECK(t.truth_name(kSlm, 128, "decode") == decode_tag(128));
  CHECK(t.truth_name(kSlm, 129, "decode") == decode_tag(256));
  CHECK(t.truth_name(kSlm, 1000, "decode") == decode_tag(1024));
  CHECK(t.truth_name(kSlm, 16384, "decode") == decode_tag(16384));
  CHECK(t.truth_name(kSlm, 40000, "decode") == decode_tag(16384));  // above the largest: the largest
  CHECK(t.truth_name(kSlm, 79, "prefill") == prefill_tag(128));
  CHECK(t.truth_name(kSlm, 32, "prefill") == prefill_tag(32));
  CHECK(t.truth_name(kSlm, 2049, "prefill") == prefill_tag(2048));
  sim::Request r;
  r.model = kSlm;
  r.ctx = 300;
  r.phase = "decode";
  CHECK(t.truth_name(r) == decode_tag(512));
  // A DNN request names its truth.
  CHECK(t.truth_name("resnet50_b1_float32", 0, "") == "resnet50_b1_float32");
  // An unknown model or phase, or half of the pair: a clear error naming what the board has.
  CHECK_THROWS_AS(t.truth_name("qwen2-7b", 100, "decode"), std::invalid_argument);
  CHECK_THROWS_WITH(
      t.truth_name("qwen2-7b", 100, "decode"),
      Catch::Contains("qwen2-7b decode at ctx 100") &&
          Catch::Contains("qwen2-0.5b decode (ctx 128..16384), qwen2-0.5b prefill (ctx 32..2048)"));
  CHECK_THROWS_WITH(t.truth_name(kSlm, 100, "train"), Catch::Contains("qwen2-0.5b train at ctx 100"));
  CHECK_THROWS_WITH(t.truth_name(kSlm, 100, ""), Catch::Contains("needs both ctx > 0 and a phase"));
  CHECK_THROWS_WITH(t.truth_name(kSlm, 0, "decode"), Catch::Contains("needs both ctx > 0 and a phase"));
  // A board without SLM series (the table-driven TX2) runs none.
  CHECK_THROWS_WITH(sim::RequestTruths().truth_name(kSlm, 100, "decode"), Catch::Contains("series are none"));
  CHECK(sim::RequestTruths().truth_name("inceptionv3-200", 0, "") == "inceptionv3-200");

  // The truths a workload needs: distinct, sorted, within the limit.
  const sim::Workload w = short_chat(1, 3);
  const int prompt = w.requests[0].ctx;
  const auto names = t.truth_names(w);
  CHECK(names.size() >= 2);
  CHECK(std::is_sorted(names.begin(), names.end()));
  CHECK(t.truth_names(w, 1) == std::vector<std::string>{t.truth_name(kSlm, prompt, "prefill")});
}

TEST_CASE("slm eval: the oracles and zTT ask the board for the resolved configuration", "[slm-eval]") {
  const sim::Workload w = short_chat();
  const EvalBoard b = orin_for(w);
  const BoardLevels l = b.levels();
  CHECK(b.truth_name(slm_decision(0, 300, "decode", 100)) == decode_tag(512));
  sim::SimOptions so;
  so.noise_scale = 0;
  // The same decision as a request naming the configuration directly.
  const int ctx = w.requests[1].ctx;
  Decision named = slm_decision(0, 0, "", 100);
  named.model = truths().truth_name(kSlm, ctx, "decode");
  for (int k = 0; k < 2; ++k) {
    std::unique_ptr<Governor> a, c;
    if (k == 0) {
      a = std::make_unique<ExpectationOracle>(b, so);
      c = std::make_unique<ExpectationOracle>(b, so);
    } else {
      a = std::make_unique<OracleGovernor>(b, so);
      c = std::make_unique<OracleGovernor>(b, so);
    }
    a->reset(l);
    c->reset(l);
    CHECK(a->decide(slm_decision(0, ctx, "decode", 100)) == c->decide(named));
  }
  // zTT's budget scale is the configuration's fastest latency.
  ZttGovernor z({{named.model, 50.0}}, {}, truths());
  z.reset(l);
  CHECK_NOTHROW(z.decide(slm_decision(0, ctx, "decode", 100)));
  CHECK_THROWS_WITH(z.decide(slm_decision(0, 20000, "decode", 100)), Catch::Contains(decode_tag(16384)));
}

TEST_CASE("slm eval: flamed's policy gets each request's ctx and phase", "[slm-eval]") {
  const sim::Workload w = short_chat(2, 5);
  const EvalBoard b = orin_for(w);
  const BoardLevels l = b.levels();
  const double gpu_max = static_cast<double>(l.gpu_hz.back());

  SECTION("a context model plans faster clocks for a longer context") {
    auto m = std::make_shared<ContextLine>(gpu_max, true);
    FlameGovernor g(flame::policy::ModelSet{{kSlm, m}});
    g.reset(l);
    const Decision short_ctx = slm_decision(0, 100, "decode", 100);
    const Target a = g.decide(short_ctx);
    end(g, short_ctx);
    const Decision long_ctx = slm_decision(1, 1500, "decode", 100);
    const Target c = g.decide(long_ctx);
    end(g, long_ctx);
    CHECK(a.gpu_hz < c.gpu_hz);
    CHECK(m->seen.count({100, "decode"}) == 1);
    CHECK(m->seen.count({1500, "decode"}) == 1);
    // At the planned clocks the line fits the budget (less the 5 % margin): 20 + 0.05 ctx at x.
    CHECK((20 + 0.05 * 1500) / (static_cast<double>(c.gpu_hz) / gpu_max) <= 100 / 1.05);
    // Without ctx and phase the policy refuses, and the governor says why.
    CHECK_THROWS_WITH(g.decide(slm_decision(2, 0, "", 100)), Catch::Contains("needs \"ctx\" and \"phase\""));
  }

  SECTION("the evaluation loop sends every request's ctx and phase") {
    auto m = std::make_shared<ContextLine>(gpu_max, true);
    FlameGovernor g(flame::policy::ModelSet{{kSlm, m}});
    const RunResult r = run_governor(w, b, g, {});
    REQUIRE(r.records.size() == w.requests.size());
    std::set<std::pair<int, std::string>> sent;
    for (std::size_t i = 0; i < w.requests.size(); ++i) {
      sent.insert({w.requests[i].ctx, w.requests[i].phase});
      CHECK(r.records[i].ctx == w.requests[i].ctx);
      CHECK(r.records[i].phase == w.requests[i].phase);
    }
    CHECK(m->seen == sent);  // every pair, and no request without them
    CHECK(phase_summaries(r).at("decode").requests == w.requests.size() - 2);
    CHECK(phase_summaries(r).at("prefill").requests == 2);
  }

  SECTION("a model without needs_workload refuses requests with ctx") {
    auto m = std::make_shared<ContextLine>(gpu_max, false);
    FlameGovernor g(flame::policy::ModelSet{{kSlm, m}});
    g.reset(l);
    CHECK_THROWS_WITH(g.decide(slm_decision(0, 100, "decode", 100)),
                      Catch::Contains("does not use \"ctx\" or \"phase\""));
    CHECK_THROWS_AS(run_governor(w, b, g, {}), std::invalid_argument);
  }
}

TEST_CASE("slm eval: the suite on an SLM chat", "[slm-eval]") {
  const sim::Workload w = short_chat(1, 6);
  const EvalBoard b = orin_for(w);
  SuiteOptions o;
  // flamed needs its context model from a file; flamed-grid has no context.
  CHECK_THROWS_WITH(evaluate(w, b, o), Catch::Contains("--models DIR"));
  o.governors = {"flamed-grid"};
  CHECK_THROWS_WITH(evaluate(w, b, o), Catch::Contains("one grid per context bucket"));

  o.governors = {"flamed", "max", "oracle-nc"};
  o.flame_models = flame::policy::ModelSet{
      {kSlm, std::make_shared<ContextLine>(static_cast<double>(b.levels().gpu_hz.back()), true)}};
  const Evaluation e = evaluate(w, b, o);
  REQUIRE(e.runs.size() == 3);
  // Fastest latencies per configuration the chat runs, deadlines relative to them.
  for (const auto& n : truths().truth_names(w)) CHECK(e.fastest_ms.count(n) == 1);
  CHECK(e.fastest_ms.size() == truths().truth_names(w).size());
  CHECK(e.deadline_over_fastest_min > 1);
  const auto j = to_json(e);
  CHECK(j["governors"]["max"]["phases"]["decode"]["requests"] == 6);
  CHECK(j["governors"]["max"]["phases"]["prefill"]["requests"] == 1);
  CHECK(j["governors"]["max"]["phases"]["decode"]["met_pct"] == 100.0);
  bool token = false;
  for (const auto& c : check_targets(e)) token = token || c.id == "token_met";
  CHECK(token);
  CHECK(text_report(e).find("  decode ") != std::string::npos);
  const auto dir = std::filesystem::temp_directory_path() / ("flame-slm-eval-" + std::to_string(::getpid()));
  const auto md = write_report(e, dir, "flame eval --slm qwen2-0.5b");
  std::ifstream f(md);
  const std::string report((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::filesystem::remove_all(dir);
  CHECK(report.find("## Per phase") != std::string::npos);
  CHECK(report.find("| max | prefill | 1 | 100.00 |") != std::string::npos);
}
