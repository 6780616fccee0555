// `flame profile --e2e`: the latency-line parser (numbers, JSON lines, ignored lines, garbage and
// impossible values refused with the line), the warm-up rule, trtexec's exported times, the journal
// fields, and the grid fit of the latency lines (a board in the grid model's form is recovered, the
// file loads as kind grid for its board).
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <sstream>

#include "flame/board/description_grid.hpp"
#include "flame/grid/grid_model.hpp"
#include "flame/model/grid_model_file.hpp"
#include "flame/model/model_file.hpp"
#include "flame/profile/e2e_fit.hpp"
#include "flame/profile/latency_lines.hpp"
#include "flame/profile/profile_plan.hpp"
#include "flame/profile/trtexec_times.hpp"

using namespace flame;
using namespace flame::profile;

namespace {

std::vector<double> values(const std::vector<LatencyLine>& lines) {
  std::vector<double> v;
  for (const auto& l : lines) v.push_back(l.ms);
  return v;
}

std::string refusal(const std::string& text) {
  try {
    parse_latency_lines(text);
  } catch (const LatencyLineError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("latency lines: numbers and JSON objects, in order, with their line numbers", "[profile][e2e]") {
  const auto lines = parse_latency_lines("12.5\n  13 \n{\"latency_ms\": 14.25, \"batch\": 1}\n1.5e1\r\n");
  CHECK(values(lines) == std::vector<double>{12.5, 13, 14.25, 15});
  REQUIRE(lines.size() == 4);
  CHECK(lines[2].line == 3);
  // No newline after the last line: still a line.
  CHECK(values(parse_latency_lines("1\n2")) == std::vector<double>{1, 2});
}

TEST_CASE("latency lines: blank lines, comments and JSON without latency_ms are ignored", "[profile][e2e]") {
  const auto lines = parse_latency_lines("\n# warm-up done\n   \n{\"event\": \"loaded\"}\n7\n\t# 8\n");
  CHECK(values(lines) == std::vector<double>{7});
  CHECK(lines[0].line == 5);
  CHECK(parse_latency_lines("").empty());
  CHECK(parse_latency_lines("# nothing\n\n").empty());
}

TEST_CASE("latency lines: garbage is refused naming the line and quoting it", "[profile][e2e]") {
  CHECK_THAT(refusal("12\nLoading engine...\n13\n"),
             Catch::Contains("line 2 'Loading engine...'") && Catch::Contains("is not a latency"));
  CHECK_THAT(refusal("12 ms\n"), Catch::Contains("line 1 '12 ms'"));
  CHECK_THAT(refusal("1,5\n"), Catch::Contains("line 1"));
  CHECK_THAT(refusal("+12\n"), Catch::Contains("line 1"));
  CHECK_THAT(refusal("{\"latency_ms\": 12\n"), Catch::Contains("not a JSON object"));
  CHECK_THAT(refusal("{\"latency_ms\": \"12\"}\n"), Catch::Contains("\"latency_ms\" is not a number"));
  CHECK_THAT(refusal("{\"latency_ms\": null}\n"), Catch::Contains("is not a number"));
  CHECK_THAT(refusal("[12]\n"), Catch::Contains("line 1"));
  // A long line is cut in the message, control characters shown as '?'.
  const std::string msg = refusal(std::string(500, 'x') + "\n");
  CHECK_THAT(msg, Catch::Contains("..."));
  CHECK(msg.size() < 300);
  CHECK_THAT(refusal("a\x01"
                     "b\n"),
             Catch::Contains("'a?b'"));
}

TEST_CASE("latency lines: NaN, infinities, zero and negative latencies are refused", "[profile][e2e]") {
  for (const char* bad : {"nan", "NaN", "-nan", "inf", "infinity", "-inf", "0", "0.0", "-3", "-0", "1e999"}) {
    INFO(bad);
    CHECK_THAT(refusal(std::string("5\n") + bad + "\n"), Catch::Contains("line 2"));
  }
  CHECK_THAT(refusal("{\"latency_ms\": -1}\n"), Catch::Contains("above 0"));
  CHECK_THAT(refusal("{\"latency_ms\": 0}\n"), Catch::Contains("above 0"));
  CHECK_THAT(refusal("{\"latency_ms\": 1e999}\n"), Catch::Contains("line 1"));
  CHECK_THAT(refusal("{\"latency_ms\": NaN}\n"), Catch::Contains("line 1"));
}

TEST_CASE("latency lines: the warm-up is dropped, the median taken of the rest", "[profile][e2e]") {
  const auto r = recorded_latencies({50, 40, 10, 12, 11, 30}, 2);
  CHECK(r.dropped == 2);
  CHECK(r.ms == std::vector<double>{10, 12, 11, 30});
  CHECK(r.median_ms == Approx(11.5));
  const auto none = recorded_latencies({50, 40}, 3);
  CHECK(none.ms.empty());
  CHECK(none.dropped == 2);
  CHECK(recorded_latencies({9, 1, 5}, 0).median_ms == 5);
}

TEST_CASE("trtexec times: every query's latency, compute or end-to-end time, in order", "[profile][e2e]") {
  std::ifstream f(std::string(FLAME_SOURCE_DIR) + "/tests/data/trtexec/times.json");
  std::stringstream text;
  text << f.rdbuf();
  const auto lat = parse_trtexec_times(text.str(), TrtexecMetric::Latency, "times.json");
  CHECK(lat == std::vector<double>{9.51001, 4.15674, 4.14355, 4.16211, 4.14746});
  const auto compute = parse_trtexec_times(text.str(), trtexec_metric("compute"), "times.json");
  REQUIRE(compute.size() == 5);
  CHECK(compute[1] == Approx(4.05664));
  const auto e2e = parse_trtexec_times(text.str(), trtexec_metric("end-to-end"), "times.json");
  CHECK(e2e[4] == Approx(4.15332));
  // What it prints is what the latency-line parser reads back.
  std::string lines;
  for (double v : lat) lines += std::to_string(v) + "\n";
  CHECK(values(parse_latency_lines(lines)).size() == 5);
}

TEST_CASE("trtexec times: other files are refused, naming the file and the query", "[profile][e2e]") {
  auto refused = [](const std::string& text) {
    try {
      parse_trtexec_times(text, TrtexecMetric::Latency, "t.json");
    } catch (const TrtexecTimesError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK_THAT(refused("=== Performance summary ===\nLatency: min = 4.1 ms"),
             Catch::Contains("t.json: not JSON"));
  CHECK_THAT(refused("{\"latencyMs\": 4}"), Catch::Contains("expected a JSON array"));
  CHECK_THAT(refused("[]"), Catch::Contains("no queries"));
  CHECK_THAT(refused("[{\"latencyMs\": 4}, {\"computeMs\": 4}]"),
             Catch::Contains("query 1 has no numeric \"latencyMs\""));
  CHECK_THAT(refused("[{\"latencyMs\": \"4\"}]"), Catch::Contains("query 0"));
  CHECK_THROWS_AS(trtexec_metric("gpu"), std::invalid_argument);
}

namespace {

ClockGrid orin() {
  return board::clock_grid(board::load_board_description(std::string(FLAME_SOURCE_DIR) +
                                                         "/config/boards/orin-nano-8gb-super.yaml"));
}

// A board in the grid model's own form (host and device sides coupled by a p-norm), power
// log-linear in the clocks.
grid::CoupledLatency truth(const ClockGrid& g) {
  grid::ClockReference ref;
  ref.cpu_khz = g.cpu_khz.back();
  ref.gpu_hz = g.gpu_hz.back();
  ref.emc_hz = g.emc_hz.back();
  grid::LatencyParams p;
  p.launch = 6;
  p.memory_stall = 0.1;
  p.gpu = 9;
  p.memory = 3;
  p.serial = 1;
  p.serial_fixed = 0.5;
  return grid::CoupledLatency(ref, p);
}

double truth_power_w(const Clocks& c, const ClockGrid& g) {
  return 3 + 2 * c.cpu_khz / g.cpu_khz.back() + 6 * c.gpu_hz / g.gpu_hz.back() +
         1.5 * c.emc_hz / g.emc_hz.back();
}

JournalHeader e2e_header(std::size_t budget) {
  JournalHeader h;
  h.mode = ProfileMode::EndToEnd;
  h.warmup = 2;
  h.model = "engine";
  h.command = {"flame-trtexec", "--loadEngine=m.engine"};
  h.budget = budget;
  h.seed = 1;
  h.grid = orin();
  h.plan = make_profile_plan(h.grid, budget, 1, PlanKind::Grid).steps;
  return h;
}

// Each combination's latencies: the truth with a +-1 % spread around it, one outlier per step.
std::vector<StepRecord> e2e_steps(const JournalHeader& h, bool power = true) {
  const auto t = truth(h.grid);
  std::vector<StepRecord> out;
  for (std::size_t s = 0; s < h.plan.size(); ++s) {
    StepRecord r;
    r.step = s;
    r.requested = r.applied = r.observed = h.plan[s];
    const double ms = t.latency_ms(h.plan[s]);
    EndToEndResult e;
    e.latencies_ms = {ms * 0.99, ms * 1.01, ms, ms * 1.005, ms * 3};
    e.median_ms = ms * 1.005;
    r.e2e = e;
    if (power) r.power_mw = truth_power_w(h.plan[s], h.grid) * 1e3;
    r.power_samples = 10;
    r.power_window = PowerWindow::Iterations;
    out.push_back(r);
  }
  return out;
}

}  // namespace

TEST_CASE("e2e journal: mode, warm-up and latencies round-trip; a changed mode or warm-up is another run",
          "[profile][e2e]") {
  const JournalHeader h = e2e_header(12);
  const auto steps = e2e_steps(h);
  const auto back = parse_journal(header_line(h) + "\n" + record_line(steps[0]) + "\n", "j");
  CHECK(back.header.mode == ProfileMode::EndToEnd);
  CHECK(back.header.warmup == 2);
  REQUIRE(back.steps[0].e2e);
  CHECK(back.steps[0].e2e->latencies_ms == steps[0].e2e->latencies_ms);
  CHECK(back.steps[0].e2e->median_ms == steps[0].e2e->median_ms);
  JournalHeader other = h;
  other.warmup = 5;
  CHECK_THAT(header_mismatch(h, other), Catch::Contains("--warmup (2 there, 5 now)"));
  other = h;
  other.mode = ProfileMode::Layerwise;
  CHECK_THAT(header_mismatch(h, other), Catch::Contains("the mode (e2e there, layerwise now)"));
  // A journal written before the mode existed is layer-wise.
  std::string old = header_line(h);
  old.replace(old.find("\"mode\":\"e2e\""), 12, "\"mode\":\"layerwise\"");
  CHECK(parse_journal(old + "\n", "j").header.mode == ProfileMode::Layerwise);
  std::string bad = header_line(h);
  bad.replace(bad.find("\"mode\":\"e2e\""), 12, "\"mode\":\"fast\"");
  CHECK_THROWS_WITH(parse_journal(bad + "\n", "j"), Catch::Contains("j:1") && Catch::Contains("\"fast\""));
}

TEST_CASE("e2e fit: a board in the grid model's form is recovered from the latency lines", "[profile][e2e]") {
  const JournalHeader h = e2e_header(GENERATE(12, 24));
  const auto steps = e2e_steps(h);
  const EndToEndFit f = fit_end_to_end(h, steps);
  CHECK(f.points == h.plan.size());
  // The grid plan spreads 12 points to the corners, so each one left out is far from the rest.
  CHECK(f.in_sample.mean_ape_pct < 3);
  CHECK(f.cross_validated.n == static_cast<int>(h.plan.size()));
  CHECK(f.cross_validated.mean_ape_pct < (h.budget >= 24 ? 3 : 7));
  // Everywhere on the board, not only where it was profiled. 12 of 528 combinations pin this board's
  // form only roughly (5.2 % mean), 24 pin it (0.7 %).
  const auto t = truth(h.grid);
  double sum = 0;
  for (std::size_t i = 0; i < h.grid.size(); ++i) {
    const Clocks c = h.grid.at(i);
    sum += std::abs(f.model.series.front().latency.latency_ms(c) / t.latency_ms(c) - 1);
  }
  INFO("budget " << h.budget << ": mean error over the grid "
                 << 100 * sum / static_cast<double>(h.grid.size()) << " %");
  CHECK(sum / static_cast<double>(h.grid.size()) < (h.budget >= 24 ? 0.02 : 0.08));
  REQUIRE(f.model.series.front().power);
  CHECK(f.power_in_sample.mean_ape_pct < 3);
}

TEST_CASE("e2e fit: the model file is kind grid, names its board, loads, carries the fit quality",
          "[profile][e2e]") {
  const JournalHeader h = e2e_header(12);
  const auto steps = e2e_steps(h);
  const EndToEndFit f = fit_end_to_end(h, steps);
  const std::string text = end_to_end_model_file_text(f, h, "orin-nano-8gb-super");
  const flame::model::LoadedModel m = flame::model::parse_model_file(text, "engine.yaml");
  CHECK(m.kind == "grid");
  CHECK(m.name == "engine");
  CHECK(m.board == "orin-nano-8gb-super");
  CHECK_THAT(text, Catch::Contains("flame profile --e2e") && Catch::Contains("leave-one-out") &&
                       Catch::Contains("2 warm-up lines") && Catch::Contains("flame-profile-e2e"));
  const auto& g = dynamic_cast<const flame::model::GridLatencyModel&>(*m.model);
  const Clocks top = h.grid.max();
  CHECK(m.model->estimate(top, {}).latency_ms == Approx(f.model.series.front().latency.latency_ms(top)));
  CHECK(g.grid().series.front().power);
}

TEST_CASE("e2e fit: without a rail reading everywhere there is no power model; a trace journal is refused",
          "[profile][e2e]") {
  const JournalHeader h = e2e_header(12);
  auto steps = e2e_steps(h);
  steps[3].power_mw.reset();
  const EndToEndFit f = fit_end_to_end(h, steps);
  CHECK_FALSE(f.model.series.front().power);
  CHECK_THAT(end_to_end_model_file_text(f, h, ""), Catch::Contains("No power model"));
  steps[5].e2e.reset();
  CHECK_THROWS_WITH(fit_end_to_end(h, steps), Catch::Contains("step 5 has no latencies"));
  CHECK_THROWS_WITH(fit_end_to_end(h, {}), Catch::Contains("no profiled combinations"));
}
