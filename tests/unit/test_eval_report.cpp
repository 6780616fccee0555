// What `flame eval` prints and writes: metrics from a run, the JSON shape, the targets,
// the Markdown report with its SVGs, and the SVG writer itself.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "flame/eval/detail/svg_plot.hpp"
#include "flame/eval/eval_report.hpp"
#include "flame/sim/fake_tree.hpp"

using namespace flame::eval;
namespace sim = flame::sim;

namespace {

sim::FrameRecord rec(double arrival, double latency, double deadline, double energy) {
  sim::FrameRecord r;
  r.arrival_ms = r.start_ms = arrival;
  r.latency_ms = r.response_ms = latency;
  r.finish_ms = arrival + latency;
  r.deadline_ms = deadline;
  r.met = latency <= deadline;
  r.energy_j = energy;
  r.effective = {4, 2035200, 1300500000, 1866000000};
  return r;
}

RunResult run(const std::string& name, double energy, bool miss) {
  RunResult r;
  r.governor = name;
  for (int i = 0; i < 10; ++i) r.records.push_back(rec(200.0 * i, miss && i == 3 ? 250 : 150, 200, energy));
  r.temperature_c.assign(10, 30);
  r.summary = sim::summarize(r.records);
  r.decisions = 10;
  r.decide_s = 0.001;
  return r;
}

Evaluation evaluation() {
  Evaluation e;
  e.workload = "test";
  e.requests = 10;
  e.fastest_ms["m"] = 120;
  e.deadline_over_fastest_min = e.deadline_over_fastest_max = 200.0 / 120;
  e.runs = {run("flamed", 0.30, false), run("max", 0.46, false), run("stock", 0.40, true),
            run("ztt", 0.38, true), run("oracle", 0.29, false)};
  ZttTraining t;
  t.episodes = 3;
  t.curve = {{1, 0.9, 80, 0.4, 0.5, 0.1}, {2, 1.0, 90, 0.38, 0.01, 0.05}, {3, 1.01, 90, 0.38, 0.0, 0.04}};
  e.ztt_training = t;
  return e;
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream f(p);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("eval report: metrics of a run", "[eval][report]") {
  const auto m = metrics(run("x", 0.5, true));
  CHECK(m.summary.requests == 10);
  CHECK(m.summary.met == 9);
  CHECK(m.summary.met_pct == Approx(90));
  CHECK(m.summary.energy_per_inference_j == Approx(0.5));
  CHECK(m.summary.energy_j == Approx(5));
  CHECK(m.ppw == Approx(9 / 5.0));
  CHECK(m.decisions_per_s == Approx(10000));
  CHECK(m.summary.p99_response_over_deadline == Approx(1.25));
  // The JSON keeps the report's names: energy_j per inference, energy_total_j over the run.
  const auto j = to_json(m);
  CHECK(j["energy_j"].get<double>() == Approx(0.5));
  CHECK(j["energy_total_j"].get<double>() == Approx(5));
  CHECK(j["met"] == 9);
}

TEST_CASE("eval report: JSON has the documented shape and the targets", "[eval][report]") {
  const auto j = to_json(evaluation());
  for (const char* g : {"flamed", "max", "stock", "ztt", "oracle"}) {
    INFO(g);
    REQUIRE(j["governors"].contains(g));
    for (const char* k : {"met_pct", "energy_j", "ppw", "p99_response_over_deadline", "decisions_per_s"})
      CHECK(j["governors"][g].contains(k));
  }
  CHECK(j["ztt_training"]["curve"].size() == 3);
  const auto targets = check_targets(evaluation());
  REQUIRE(targets.size() == 5);
  for (const auto& t : targets) {
    INFO(t.id);
    CHECK(t.applicable);  // deadlines are 1.67 x the fastest: every target applies
  }
  CHECK(j["targets"].size() == 5);
}

TEST_CASE("eval report: targets judge flamed against the others", "[eval][report]") {
  auto e = evaluation();
  e.deadline_over_fastest_min = 1.6;
  std::map<std::string, TargetCheck> by;
  for (const auto& t : check_targets(e)) by[t.id] = t;
  CHECK(by["met"].met);
  CHECK(by["oracle"].value == Approx(0.30 / 0.29));
  CHECK(by["oracle"].met);
  CHECK(by["ztt_ppw"].value == Approx((10 / 3.0) / (9 / 3.8) - 1));
  CHECK(by["ztt_met"].met);
  CHECK(by["max"].applicable);
  CHECK(by["max"].value == Approx(1 - 0.30 / 0.46));
  CHECK(by["max"].met);
  e.deadline_over_fastest_min = 1.1;
  for (const auto& t : check_targets(e)) CHECK_FALSE(t.applicable);
}

TEST_CASE("eval report: Markdown report with SVG plots", "[eval][report]") {
  sim::FakeTree dir;  // a temporary directory
  const auto path = write_report(evaluation(), dir.root() + "/out", "flame eval --workload test");
  CHECK(std::filesystem::exists(path));
  const std::string md = slurp(path);
  CHECK(md.find("| flamed |") != std::string::npos);
  CHECK(md.find("flame eval --workload test") != std::string::npos);
  for (const char* f : {"energy.svg", "latency.svg", "clocks-flamed.svg", "clocks-oracle.svg",
                        "ztt-learning.svg", "eval.json"}) {
    INFO(f);
    const auto p = std::filesystem::path(dir.root()) / "out" / f;
    REQUIRE(std::filesystem::exists(p));
    if (std::string(f).ends_with(".svg")) {
      const std::string s = slurp(p);
      CHECK(s.rfind("<svg", 0) == 0);
      CHECK(s.find("</svg>") != std::string::npos);
      CHECK(md.find(f) != std::string::npos);
    }
  }
  const auto j = nlohmann::json::parse(slurp(std::filesystem::path(dir.root()) / "out" / "eval.json"));
  CHECK(j["governors"].size() == 5);
  CHECK(text_report(evaluation()).find("oracle") != std::string::npos);
}

TEST_CASE("eval report: the SVG writer escapes text and survives empty or flat data", "[eval][svg]") {
  LineChart c;
  c.title = "a < b & \"c\"";
  c.series = {{"s<1>", {{0, 1}, {1, 1}}, ""}, {"empty", {}, ""}};
  const std::string s = to_svg(c);
  CHECK(s.find("a &lt; b &amp; &quot;c&quot;") != std::string::npos);
  CHECK(s.find("s&lt;1&gt;") != std::string::npos);
  CHECK(s.find("nan") == std::string::npos);
  CHECK(to_svg(LineChart{}).find("</svg>") != std::string::npos);
  BarChart b;
  b.bars = {{"zero", 0}};
  CHECK(to_svg(b).find("nan") == std::string::npos);
  CHECK(svg_escape("x") == "x");
}
