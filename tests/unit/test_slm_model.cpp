// The SLM model (lib/flame/model/slm_model.hpp): device curves across context lengths, the
// (clocks x phase x context) plan, the served range, the `kind: slm` file, and the fit against the
// live layer boards' replay of the real qwen2-0.5b segments.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <random>
#include <set>

#include "flame/context/context_series.hpp"
#include "flame/fit/error_stats.hpp"
#include "flame/model/coupling_dataset.hpp"
#include "flame/model/model_file.hpp"
#include "flame/model/slm_model.hpp"
#include "flame/model/slm_model_file.hpp"
#include "flame/model/slm_plan.hpp"
#include "flame/profile/profile_fit.hpp"
#include "flame/sim/layer_boards.hpp"
#include "trace_test_support.hpp"

using namespace flame;
using model::ContextPhase;

namespace {

ClockGrid toy_grid() {
  ClockGrid g;
  g.cpu_khz = {115200, 422400, 729600, 1036800, 1344000, 1728000};
  g.gpu_hz = {306e6, 510e6, 714e6, 1020e6};
  g.emc_hz = {665.6e6, 2133e6, 3199e6};
  return g;
}

// A device curve of the fitted form with known coefficients.
model::ContextGpuCurve known_curve(ContextPhase phase) {
  model::ContextGpuCurve c;
  const std::vector<double> emc = toy_grid().emc_hz;
  model::GpuCurve constant{emc, {90e3, 40e3, 31e3}, 2.0e13};
  c.terms.push_back(constant);
  const double mem = 3.2e12, work = 6.0e10;  // per token: memory / f_emc, work / f_gpu
  c.terms.push_back({emc, {mem / emc[0], mem / emc[1], mem / emc[2]}, work});
  if (phase == ContextPhase::Prefill) c.terms.push_back({emc, {0, 0, 0}, 4.0e7});
  return c;
}

std::map<ContextPhase, std::vector<int>> chat_contexts() {
  return {{ContextPhase::Decode, {128, 16384}}, {ContextPhase::Prefill, {32, 256, 2048}}};
}

// One replayed inference on a live layer board as a profiler records it.
model::ProfiledRun replay_run(const model::CouplingConfig& c, const Clocks& k, const sim::LayerBoardSpec& b,
                              double host_factor, double* latency_ns = nullptr) {
  const sim::SimClocks clocks = sim::sim_clocks(k, b.levels.cores.back());
  auto run = sim::replay_profile(c, clocks, b.params, b.levels, host_factor);
  if (latency_ns) *latency_ns = run.e2e_median_ns;
  return run;
}

}  // namespace

TEST_CASE("slm: device curves across contexts are recovered from a sparse plan", "[slm]") {
  const ClockGrid g = toy_grid();
  for (const auto phase : {ContextPhase::Decode, ContextPhase::Prefill}) {
    const auto truth = known_curve(phase);
    std::vector<model::ContextCurveSample> samples;
    for (const auto& p : model::plan_slm(g, {{phase, chat_contexts().at(phase)}}, 9, 3))
      samples.push_back({p.clocks, static_cast<double>(p.ctx),
                         truth.at(phase, p.ctx).at(p.clocks.gpu_hz, p.clocks.emc_hz)});
    const auto fitted = model::fit_context_gpu_curve(phase, samples, g.emc_hz);
    REQUIRE(fitted.terms.size() == static_cast<std::size_t>(model::basis_size(phase)));
    for (int ctx : {1, 64, 700, 5000, 16384})
      for (double gpu : g.gpu_hz)
        for (double emc : g.emc_hz)
          CHECK(fitted.at(phase, ctx).at(gpu, emc) ==
                Approx(truth.at(phase, ctx).at(gpu, emc)).epsilon(1e-6));
  }
}

TEST_CASE("slm: the plan covers every context at two GPU clocks and every EMC level per phase", "[slm]") {
  const ClockGrid g = toy_grid();
  const auto contexts = chat_contexts();
  CHECK(model::min_slm_budget(g, contexts) == (2 * 2 + 2) + (2 * 3 + 2));
  const auto plan = model::plan_slm(g, contexts, 16, 1);
  REQUIRE(plan.size() == 16);
  CHECK(plan == model::plan_slm(g, contexts, 16, 1));  // deterministic
  for (const auto& [phase, list] : contexts) {
    std::set<double> emc;
    for (int ctx : list) {
      std::set<double> gpu;
      for (const auto& p : plan)
        if (p.phase == phase && p.ctx == ctx) gpu.insert(p.clocks.gpu_hz);
      CHECK(gpu.count(g.gpu_hz.front()) == 1);
      CHECK(gpu.count(g.gpu_hz.back()) == 1);
    }
    for (const auto& p : plan)
      if (p.phase == phase) emc.insert(p.clocks.emc_hz);
    CHECK(emc.size() == g.emc_hz.size());
  }
  // Run order: EMC clock descending (its re-training is the slowest change).
  for (std::size_t i = 1; i < plan.size(); ++i) CHECK(plan[i - 1].clocks.emc_hz >= plan[i].clocks.emc_hz);
  CHECK_THAT(trace_test::error_of<std::invalid_argument>([&] { model::plan_slm(g, contexts, 13, 1); }),
             Catch::Contains("a budget of 13 is too small: it needs at least 14"));
  CHECK_THAT(trace_test::error_of<std::invalid_argument>([&] {
               model::plan_slm(g, {{ContextPhase::Prefill, {32, 256}}}, 16, 1);
             }),
             Catch::Contains("the basis {1, ctx, ctx^2} needs at least 3 context lengths, 2 given"));
  CHECK_THAT(trace_test::error_of<std::invalid_argument>([&] {
               model::plan_slm(g, {{ContextPhase::Decode, {128, 128}}}, 16, 1);
             }),
             Catch::Contains("positive and distinct"));
}

namespace {

// An SLM model of two segments per phase with the known curves.
model::SlmModel toy_slm() {
  std::vector<model::SlmPhase> phases;
  for (const auto phase : {ContextPhase::Decode, ContextPhase::Prefill}) {
    model::SlmPhase p;
    p.phase = phase;
    p.names = {"attn", "mlp"};
    p.cpu = {{2000, 9.0e9, 0}, {1000, 4.0e9, 1.0e12}};
    p.gpu = {known_curve(phase), known_curve(phase)};
    p.costs.sync_latency_ns = 20000;
    p.contexts = chat_contexts().at(phase);
    phases.push_back(std::move(p));
  }
  return model::SlmModel(std::move(phases), std::nullopt);
}

}  // namespace

TEST_CASE("slm: a request is planned at its phase and context, within the served range", "[slm]") {
  const auto m = toy_slm();
  const Clocks c{1036800, 0, 714e6, 2133e6};
  const double at_128 = m.estimate(c, ContextPhase::Decode, 128).latency_ms;
  CHECK(m.estimate(c, ContextPhase::Decode, 8000).latency_ms > at_128);
  // The phase at a context is an ordinary layer-wise model with that context's device curves.
  const auto lw = m.at(ContextPhase::Prefill, 300);
  CHECK(lw->gpu_curves()[0].at(714e6, 2133e6) ==
        Approx(known_curve(ContextPhase::Prefill).at(ContextPhase::Prefill, 300).at(714e6, 2133e6)));
  CHECK(m.at(ContextPhase::Prefill, 300) == lw);  // cached
  CHECK_THAT(trace_test::error_of<std::out_of_range>([&] { m.at(ContextPhase::Decode, 32769); }),
             Catch::Contains("decode context 32769 is outside what the model serves: 1 to 32768"));
  CHECK_THROWS_AS(m.at(ContextPhase::Prefill, 0), std::out_of_range);
  CHECK_NOTHROW(m.at(ContextPhase::Prefill, 4096));
  const model::SlmLatencyModel served(m);
  CHECK(served.needs_workload());
  CHECK(served.estimate(c, {128, "decode"}).latency_ms == Approx(at_128));
  CHECK_THAT(trace_test::error_of<std::invalid_argument>([&] {
               served.estimate(c, {128, "decoding"});
             }),
             Catch::Contains("phase \"decoding\": give decode or prefill"));
  // Only decode in the model: prefill requests are refused with the reason.
  auto only = m.phases();
  only.pop_back();
  const model::SlmModel decode_only(only, std::nullopt);
  CHECK_THAT(trace_test::error_of<std::out_of_range>([&] { decode_only.at(ContextPhase::Prefill, 64); }),
             Catch::Contains("the model has no prefill phase"));
}

TEST_CASE("slm: the model file round-trips and bad files name the place", "[slm]") {
  const auto m = toy_slm();
  const std::string text = model::slm_to_yaml(m, "qwen-toy", "orin-nano-8gb-super", "a toy");
  const auto loaded = model::parse_model_file(text, "q.yaml");
  CHECK(loaded.kind == "slm");
  CHECK(loaded.name == "qwen-toy");
  CHECK(loaded.model->needs_workload());
  const Clocks c{729600, 0, 510e6, 665.6e6};
  for (const auto& [phase, ctx] : std::vector<std::pair<const char*, int>>{{"decode", 900}, {"prefill", 77}})
    CHECK(loaded.model->estimate(c, {ctx, phase}).latency_ms ==
          Approx(m.estimate(c, *model::parse_context_phase(phase), ctx).latency_ms).epsilon(1e-7));
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string t = text;
    const auto at = t.find(from);
    REQUIRE(at != std::string::npos);
    return t.replace(at, from.size(), to);
  };
  auto error_of = [](const std::string& yaml) {
    return trace_test::error_of<model::ModelFileError>([&] { model::parse_model_file(yaml, "q.yaml"); });
  };
  CHECK_THAT(error_of(replaced("  decode:", "  decoding:")), Catch::Contains("phases.decoding: not a phase"));
  CHECK_THAT(error_of(replaced("contexts: [128, 16384]", "contexts: [128, 0.5]")),
             Catch::Contains("phases.decode.contexts"));
  // A device curve missing from a segment: prefill has three basis functions.
  const auto prefill_gpu = text.find("gpu: [", text.find("prefill:"));
  REQUIRE(prefill_gpu != std::string::npos);
  std::string two = text;
  const auto third = two.find(", {work_ns_hz", two.find(", {work_ns_hz", prefill_gpu) + 1);
  two.erase(third, two.find('}', third) + 1 - third);
  CHECK_THAT(error_of(two),
             Catch::Contains("expected 3 device curves, one per basis function {1, ctx, ctx^2}"));
  CHECK_THAT(error_of(replaced("  prefill:", "  decode:")), Catch::Contains("phases.decode: given twice"));
}

TEST_CASE("slm: an SLM's configurations share one host profile on the live boards", "[slm]") {
  const auto d =
      model::load_coupling_dataset(std::string(FLAME_SOURCE_DIR) + "/data/h200-coupling/run2/coupling.json");
  const auto shared = sim::with_shared_slm_host(d);
  REQUIRE(shared.configs.size() == d.configs.size());
  std::map<std::pair<std::string, std::string>, std::vector<double>> first;
  std::size_t slm = 0;
  for (std::size_t i = 0; i < d.configs.size(); ++i) {
    const auto& c = shared.configs[i];
    if (c.mode.empty()) {
      CHECK(c.sweeps.front().cpu_seg_ns == d.configs[i].sweeps.front().cpu_seg_ns);  // CNNs untouched
      continue;
    }
    ++slm;
    auto [it, fresh] = first.emplace(std::pair{c.model, c.mode}, c.sweeps.front().cpu_seg_ns);
    if (!fresh) CHECK(c.sweeps.front().cpu_seg_ns == it->second);
  }
  CHECK(slm >= 15);
  // The shared span is each segment's median over the series: between the series' extremes.
  const auto series = context::context_series(d);
  for (const auto& s : series) {
    const auto& spans = first.at({s.model, std::string(model::phase_name(s.phase))});
    for (std::size_t i = 0; i < spans.size(); ++i) {
      double lo = 1e300, hi = 0;
      for (const auto* c : s.configs)
        lo = std::min(lo, c->sweeps.front().cpu_seg_ns[i]),
        hi = std::max(hi, c->sweeps.front().cpu_seg_ns[i]);
      CHECK(spans[i] >= lo);
      CHECK(spans[i] <= hi);
    }
  }
}

TEST_CASE("slm: fitted at 16 runs, qwen2-0.5b on the live layer boards over the whole grid", "[slm]") {
  const auto d = sim::with_shared_slm_host(
      model::load_coupling_dataset(std::string(FLAME_SOURCE_DIR) + "/data/h200-coupling/run2/coupling.json"));
  std::map<std::pair<ContextPhase, int>, const model::CouplingConfig*> configs;
  for (const auto& c : d.configs)
    if (c.model == "qwen2-0.5b")
      if (const auto phase = model::parse_context_phase(c.mode)) configs[{*phase, c.ctx}] = &c;
  REQUIRE(configs.size() == 15);
  // Mean error over every clock combination and every profiled context; measured bounds
  // (docs/context-model.md).
  const std::map<std::string, std::pair<double, double>> bound = {{"layer-tx2", {1.5, 1.5}},
                                                                  {"layer-orin", {3.0, 5.0}}};
  for (const auto& [board_name, limits] : bound) {
    const auto b = *sim::layer_board(board_name);
    const ClockGrid g = sim::clock_grid(b.levels);
    std::mt19937_64 rng(1);
    std::normal_distribution<double> z;
    std::vector<model::SlmPoint> points;
    for (const auto& p : model::plan_slm(g, chat_contexts(), 16, 1)) {
      model::SlmPoint s{
          p.phase,
          p.ctx,
          {p.clocks, replay_run(*configs.at({p.phase, p.ctx}), p.clocks, b, std::exp(0.02 * z(rng))),
           std::nullopt}};
      points.push_back(std::move(s));
    }
    const auto m = model::fit_slm(points, g.emc_hz);
    for (const auto phase : {ContextPhase::Decode, ContextPhase::Prefill}) {
      std::vector<double> ape;
      for (const auto& [key, c] : configs) {
        if (key.first != phase) continue;
        for (std::size_t i = 0; i < g.size(); i += 3) {  // every third combination: the grid's spread
          const Clocks k = g.at(i);
          double truth = 0;
          replay_run(*c, k, b, 1.0, &truth);
          ape.push_back(fit::ape_pct(m.estimate(k, phase, key.second).latency_ms * 1e6, truth));
        }
      }
      const auto s = fit::summarize_ape(ape);
      INFO(board_name << " " << model::phase_name(phase) << ": mean " << s.mean_ape_pct << " %, max "
                      << s.max_ape_pct << " %");
      CHECK(s.mean_ape_pct < (phase == ContextPhase::Decode ? limits.first : limits.second));
    }
  }
}

TEST_CASE("slm: flame profile's fit of an SLM journal, with leave-one-out over the runs it can spare",
          "[slm]") {
  const auto d = sim::with_shared_slm_host(
      model::load_coupling_dataset(std::string(FLAME_SOURCE_DIR) + "/data/h200-coupling/run2/coupling.json"));
  const auto b = *sim::layer_board("layer-tx2");
  profile::JournalHeader h;
  h.model = "qwen2-0.5b";
  h.grid = sim::clock_grid(b.levels);
  h.budget = 16;
  std::vector<profile::StepRecord> steps;
  for (const auto& p : model::plan_slm(h.grid, chat_contexts(), 16, 1)) {
    const std::string tag = "qwen2-0.5b_" + std::string(model::phase_name(p.phase)) + "_ctx" +
                            std::to_string(p.ctx) + "_bfloat16";
    const auto c =
        std::find_if(d.configs.begin(), d.configs.end(), [&](const auto& x) { return x.tag == tag; });
    REQUIRE(c != d.configs.end());
    profile::StepRecord r;
    r.step = steps.size();
    r.requested = r.applied = r.observed = p.clocks;
    profile::WorkloadResult w;
    w.ctx = p.ctx;
    w.phase = std::string(model::phase_name(p.phase));
    w.trace_run.run = replay_run(*c, p.clocks, b, 1.0);
    w.trace_run.names.assign(w.trace_run.run.cpu_ns.size(), "");
    r.workloads.push_back(std::move(w));
    h.plan.push_back(p.clocks);
    h.workloads.push_back({r.workloads[0].phase, p.ctx});
    steps.push_back(std::move(r));
  }
  const auto fit = profile::fit_slm_workloads(h, steps);
  CHECK(fit.name == "qwen2-0.5b");
  CHECK(fit.model.phases().size() == 2);
  CHECK(fit.quality.points == 16);
  // The runs the design needs (alone at their EMC level, or one of a context's two GPU clocks) are
  // not held back; the others are, and the model fitted without each predicts it.
  CHECK(fit.quality.cross_validated.n > 0);
  CHECK(fit.quality.cross_validated.n < 16);
  CHECK(fit.quality.cross_validated.mean_ape_pct < 5.0);
  CHECK(fit.quality.in_sample.mean_ape_pct < 1.0);
  const std::string text = profile::slm_model_file_text(fit, h, "tx2-flexibo");
  CHECK_THAT(text, Catch::Contains("decode: contexts 128, 16384 (served 1 to 32768)"));
  CHECK(model::parse_model_file(text, "q.yaml").kind == "slm");
  // A step without a phase is not an SLM run.
  auto broken = steps;
  broken[3].workloads[0].phase.clear();
  CHECK_THAT(trace_test::error_of<std::runtime_error>([&] { profile::fit_slm_workloads(h, broken); }),
             Catch::Contains("step 3 has no SLM phase and context length"));
}
