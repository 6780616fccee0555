// The profiling journal: round trip, torn last lines, damaged lines, and refusing to mix runs.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "flame/profile/detail/profile_journal.hpp"
#include "flame/profile/profile_plan.hpp"
#include "trace_test_support.hpp"

using namespace flame;
using namespace flame::profile;

namespace {

JournalHeader header() {
  JournalHeader h;
  h.model = "resnet18";
  h.command = {"python3", "-m", "flame_profile", "--torchvision", "resnet18"};
  h.budget = 4;
  h.seed = 7;
  h.grid.cpu_khz = {115200, 1728000};
  h.grid.gpu_hz = {306e6, 1020e6};
  h.grid.emc_hz = {665.6e6, 3199e6};
  h.plan = make_profile_plan(h.grid, h.budget, h.seed).steps;
  h.workloads = {{"decode", 128}, {"decode", 512}, {"prefill", 32}, {"decode", 128}};
  return h;
}

StepRecord record(std::size_t step, double scale) {
  StepRecord r;
  r.step = step;
  r.requested = r.applied = {1728000, 0, 1020e6, 3199e6};
  r.observed = {1728000, 0, 1020e6 * scale, 3199e6};
  r.settle_s = 0.125;
  r.command_s = 3.5 * scale;
  r.power_mw = 7123.25;
  r.power_samples = 70;
  for (int ctx : {128, 512}) {
    WorkloadResult w;
    w.ctx = ctx;
    w.phase = ctx == 128 ? "decode" : "prefill";
    w.trace = "traces/step-00" + std::to_string(step) + "-ctx" + std::to_string(ctx) + ".json.gz";
    w.trace_run.names = {"", "embed", ""};
    w.trace_run.traits = {
        {"", 1, std::nullopt},
        {"Embedding", 2, flame::model::SegmentFeatures{0, 0, 8.0 * ctx, 3584.0 * ctx, 1.5e8}},
        {"", 0, std::nullopt}};
    w.trace_run.run.cpu_ns = {1000.5, 2000 * scale, 30};
    w.trace_run.run.gpu_ns = {0, 12345.25 * ctx, 7};
    w.trace_run.run.e2e_median_ns = 99999.5;
    w.trace_run.run.sync_ns = 1234;
    w.trace_run.iterations = 5;
    r.workloads.push_back(w);
  }
  return r;
}

void check_same(const StepRecord& a, const StepRecord& b) {
  CHECK(a.step == b.step);
  CHECK(a.requested == b.requested);
  CHECK(a.observed == b.observed);
  CHECK(a.settle_s == b.settle_s);
  CHECK(a.command_s == b.command_s);
  CHECK(a.power_mw == b.power_mw);
  CHECK(a.power_samples == b.power_samples);
  REQUIRE(a.workloads.size() == b.workloads.size());
  for (std::size_t i = 0; i < a.workloads.size(); ++i) {
    CHECK(a.workloads[i].ctx == b.workloads[i].ctx);
    CHECK(a.workloads[i].phase == b.workloads[i].phase);
    CHECK(a.workloads[i].trace == b.workloads[i].trace);
    CHECK(a.workloads[i].trace_run.names == b.workloads[i].trace_run.names);
    CHECK(a.workloads[i].trace_run.traits == b.workloads[i].trace_run.traits);
    CHECK(a.workloads[i].trace_run.run.cpu_ns == b.workloads[i].trace_run.run.cpu_ns);
    CHECK(a.workloads[i].trace_run.run.gpu_ns == b.workloads[i].trace_run.run.gpu_ns);
    CHECK(a.workloads[i].trace_run.run.e2e_median_ns == b.workloads[i].trace_run.run.e2e_median_ns);
    CHECK(a.workloads[i].trace_run.run.sync_ns == b.workloads[i].trace_run.run.sync_ns);
    CHECK(a.workloads[i].trace_run.iterations == b.workloads[i].trace_run.iterations);
  }
}

}  // namespace

TEST_CASE("profile journal: header and records survive a round trip exactly", "[profile]") {
  const auto h = header();
  const std::string text =
      header_line(h) + "\n" + record_line(record(2, 1.0 / 3)) + "\n" + record_line(record(0, 1.7)) + "\n";
  const auto j = parse_journal(text, "j");
  CHECK(header_mismatch(j.header, h).empty());
  CHECK(j.header.plan == h.plan);
  CHECK(j.header.workloads == h.workloads);
  REQUIRE(j.steps.size() == 2);
  check_same(j.steps[0], record(2, 1.0 / 3));
  check_same(j.steps[1], record(0, 1.7));
  CHECK(j.notes.empty());
  // No power: null, read back as "not measured".
  auto r = record(1, 1);
  r.power_mw.reset();
  CHECK_FALSE(parse_journal(header_line(h) + "\n" + record_line(r) + "\n", "j").steps[0].power_mw);
  // A journal written before segment traits: unknown (none), not zero kernels and no features.
  auto old_json = nlohmann::json::parse(record_line(record(1, 1)));
  for (auto& w : old_json.at("workloads"))
    for (auto& seg : w.at("segments")) {
      seg.erase("kernels");
      seg.erase("type");
      seg.erase("features");
    }
  const std::string old = old_json.dump();
  REQUIRE(old.find("kernels") == std::string::npos);
  const auto legacy = parse_journal(header_line(h) + "\n" + old + "\n", "j");
  REQUIRE(legacy.steps.size() == 1);
  CHECK(legacy.steps[0].workloads[0].trace_run.names == record(1, 1).workloads[0].trace_run.names);
  CHECK(legacy.steps[0].workloads[0].trace_run.traits.empty());
}

TEST_CASE("profile journal: a torn last line is dropped with a note; damage elsewhere is an error",
          "[profile]") {
  const auto h = header();
  const std::string good = header_line(h) + "\n" + record_line(record(1, 1)) + "\n";
  const std::string torn = record_line(record(2, 1)).substr(0, 40);
  const auto j = parse_journal(good + torn, "work/journal.jsonl");
  CHECK(j.steps.size() == 1);
  REQUIRE(j.notes.size() == 1);
  CHECK_THAT(j.notes[0], Catch::Contains("work/journal.jsonl:3: dropped a torn last line"));

  // The same damage followed by a newline is not a crash artefact: refuse it.
  CHECK_THAT(trace_test::error_of<std::runtime_error>([&] { parse_journal(good + torn + "\n", "j"); }),
             Catch::StartsWith("j:3:"));
  CHECK_THAT(trace_test::error_of<std::runtime_error>([&] { parse_journal("", "j"); }),
             Catch::Contains("empty journal"));
  CHECK_THAT(trace_test::error_of<std::runtime_error>([&] { parse_journal("{\"format\": \"x\"}\n", "j"); }),
             Catch::Contains("not a flame profile journal"));
  CHECK_THAT(trace_test::error_of<std::runtime_error>(
                 [&] { parse_journal(good + record_line(record(1, 2)) + "\n", "j"); }),
             Catch::Contains("step 1 is recorded twice"));
  CHECK_THAT(trace_test::error_of<std::runtime_error>(
                 [&] { parse_journal(good + record_line(record(9, 2)) + "\n", "j"); }),
             Catch::Contains("step 9 is not in the plan (4 steps)"));
}

TEST_CASE("profile journal: differences between runs are named", "[profile]") {
  const auto h = header();
  CHECK(header_mismatch(h, h).empty());
  auto other = h;
  other.budget = 6;
  other.workloads[2].ctx = 64;
  other.command.push_back("--batch");
  const auto d = header_mismatch(h, other);
  CHECK_THAT(d, Catch::Contains("the budget (4 there, 6 now)"));
  CHECK_THAT(d, Catch::Contains("the SLM phases and context lengths"));
  CHECK_THAT(d, Catch::Contains("the command"));
  auto tables = h;
  tables.grid.gpu_hz.push_back(1300e6);
  CHECK(header_mismatch(h, tables) == "the board's clock tables");
}

TEST_CASE("profile journal: files are created once, appended, resumed only for the same run", "[profile]") {
  trace_test::TempDir dir;
  const auto path = dir.path() / "w" / "journal.jsonl";
  const auto h = header();
  {
    auto j = Journal::create(path, h);
    j.append(record(3, 1));
    j.append(record(0, 1));
  }
  CHECK_THAT(trace_test::error_of<std::runtime_error>([&] { Journal::create(path, h); }),
             Catch::Contains("--resume"));
  auto j = Journal::resume(path, h);
  REQUIRE(j.contents().steps.size() == 2);
  CHECK(j.contents().steps[0].step == 3);

  auto other = h;
  other.seed = 8;
  CHECK_THAT(trace_test::error_of<std::runtime_error>([&] { Journal::resume(path, other); }),
             Catch::Contains("the seed (7 there, 8 now)"));
  CHECK_THAT(trace_test::error_of<std::runtime_error>([&] { Journal::resume(dir.path() / "none.jsonl", h); }),
             Catch::Contains("there is no journal"));

  // A crash mid-line: resume drops the torn line and later appends start on a line of their own.
  {
    std::ofstream f(path, std::ios::app);
    f << record_line(record(1, 1)).substr(0, 30);
  }
  auto r = Journal::resume(path, h);
  CHECK(r.contents().notes.size() == 1);
  r.append(record(1, 1));
  const auto again = parse_journal(trace_test::read_bytes(path), "j");
  CHECK(again.notes.empty());
  REQUIRE(again.steps.size() == 3);
  CHECK(again.steps[2].step == 1);
}
