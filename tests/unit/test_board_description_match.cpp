// Choosing the board description that fits a discovered board (flame/board/description_match.hpp,
// docs/board-format.md "Matching a board"): device-tree compatible first, then SoC + CPU table, and
// none when the candidates left disagree on what they would change.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <set>

#include "fake_board.hpp"
#include "flame/board/description_match.hpp"
#include "flame/board/discovery.hpp"

using namespace flame::board;
using flame::test::FakeTree;
using flame::test::Profile;

namespace {

const std::string kBoards = std::string(FLAME_SOURCE_DIR) + "/config/boards";

// The T234 cpufreq ladder (115.2 MHz, 76.8 MHz steps) below `top`, then `top`.
std::vector<std::uint64_t> t234_table(std::uint64_t top) {
  std::vector<std::uint64_t> t;
  for (std::uint64_t f = 115200; f < top; f += 76800) t.push_back(f);
  t.push_back(top);
  return t;
}

BoardDescription described(const std::string& name, std::vector<std::uint64_t> cpu,
                           std::vector<std::string> compatible = {}) {
  BoardDescription d;
  d.name = name;
  d.soc = "tegra234";
  d.cpu.cores = 6;
  d.cpu.core_options = {6};
  d.cpu.frequencies_khz = std::move(cpu);
  d.compatible = std::move(compatible);
  return d;
}

// A discovered board reduced to what matching reads: identity and CPU policies.
Board board(std::vector<std::string> compatible, const std::vector<std::uint64_t>& cpu, int cores = 6) {
  Board b;
  b.identity.compatible = std::move(compatible);
  b.identity.soc = "tegra234";
  for (int first = 0; first < cores; first += 4) {
    CpuPolicy p;
    p.name = "policy" + std::to_string(first);
    for (int c = first; c < std::min(cores, first + 4); ++c) p.related_cpus.push_back(c);
    p.online_cpus = p.related_cpus;
    p.available_khz = cpu;
    b.cpu.push_back(p);
  }
  return b;
}

Board sim_board(Profile p) {
  FakeTree t;
  flame::test::build(p, t);
  return discover(t.root());
}

std::vector<BoardDescription> shipped() {
  std::vector<std::string> problems;
  auto all = load_descriptions(kBoards, &problems);
  CHECK(problems.empty());
  return all;
}

std::string chosen(const DescriptionMatch& m) {
  return m.description ? m.description->name : "";
}

}  // namespace

TEST_CASE("description match: device-tree compatible beats the SoC and CPU table", "[board][description]") {
  const auto nano = t234_table(1510400);
  const auto by_table = described("by-table", nano);
  const auto by_compatible = described("by-compatible", t234_table(1984000), {"nvidia,p3767-0005"});
  const Board b = board({"nvidia,p3768-0000+p3767-0005", "nvidia,p3767-0005", "nvidia,tegra234"}, nano);
  for (const auto& candidates :
       {std::vector{by_table, by_compatible}, std::vector{by_compatible, by_table}}) {
    const auto m = match_description(b, candidates);
    CHECK(chosen(m) == "by-compatible");
    CHECK(m.reason == "by-compatible: device-tree compatible 'nvidia,p3767-0005' (entry 2 of the board's 3)");
  }
  // Without a shared string the table decides.
  const auto m =
      match_description(board({"vendor,other", "nvidia,tegra234"}, nano), {by_table, by_compatible});
  CHECK(chosen(m) == "by-table");
  CHECK(m.reason ==
        "by-table: no description names the board's device-tree compatible (vendor,other, nvidia,tegra234); "
        "same "
        "SoC (tegra234) and CPU table (20 entries, 115200-1510400 kHz)");
}

TEST_CASE("description match: the board's earliest compatible entry is the most specific",
          "[board][description]") {
  const auto table = t234_table(1728000);
  const auto module = described("module", table, {"nvidia,p3767-0005"});
  const auto carrier = described("carrier", table, {"nvidia,p3768-0000+p3767-0005-super"});
  const Board b =
      board({"nvidia,p3768-0000+p3767-0005-super", "nvidia,p3767-0005", "nvidia,tegra234"}, table);
  for (const auto& candidates : {std::vector{module, carrier}, std::vector{carrier, module}}) {
    const auto m = match_description(b, candidates);
    CHECK(chosen(m) == "carrier");
    CHECK(m.reason ==
          "carrier: device-tree compatible 'nvidia,p3768-0000+p3767-0005-super' (the most specific of the "
          "board's 3)");
  }
}

TEST_CASE("description match: a compatible tie is narrowed by the CPU table", "[board][description]") {
  // Two descriptions of the same module (with and without Super firmware), on a carrier neither names.
  const auto super_table = t234_table(1728000);
  auto super = described("super", super_table, {"nvidia,p3767-0005"});
  super.emc.frequencies_hz = {665600000, 2133000000, 3199000000};
  auto plain = described("plain", t234_table(1510400), {"nvidia,p3767-0005"});
  plain.emc.max_hz = 2133000000;
  const Board b = board({"vendor,carrier+p3767-0005", "nvidia,p3767-0005", "nvidia,tegra234"}, super_table);
  const auto m = match_description(b, {plain, super});
  CHECK(chosen(m) == "super");
  CHECK(m.reason ==
        "super: device-tree compatible 'nvidia,p3767-0005' (entry 2 of the board's 3); of plain, super, only "
        "super has the board's SoC and CPU table (22 entries, 115200-1728000 kHz)");

  // Neither has the board's table: they disagree on the EMC, so none is chosen.
  const auto none = match_description(board({"nvidia,p3767-0005"}, t234_table(1984000)), {plain, super});
  CHECK_FALSE(none.description);
  CHECK(none.reason ==
        "no board description chosen, ambiguous: plain, super all fit (device-tree compatible "
        "'nvidia,p3767-0005' (the most specific of the board's 1)) but disagree on the EMC section or the "
        "ceilings");
}

TEST_CASE("description match: candidates left that disagree give none, that agree give the first",
          "[board][description]") {
  const auto table = t234_table(1984000);
  auto a = described("nx-a", table);
  auto b = described("nx-b", table);
  a.ceilings.cpu_khz = 1651200;
  b.ceilings.cpu_khz = 1420800;
  const Board nx = board({"nvidia,tegra234"}, table);
  const auto m = match_description(nx, {a, b});
  CHECK_FALSE(m.description);
  CHECK(m.reason ==
        "no board description chosen, ambiguous: nx-a, nx-b all fit (no description names the board's "
        "device-tree compatible (nvidia,tegra234); same SoC (tegra234) and CPU table (26 entries, "
        "115200-1984000 kHz)) but disagree on the EMC section or the ceilings");
  b.ceilings = a.ceilings;
  b.emc.max_hz = 3199000000;
  CHECK_FALSE(match_description(nx, {a, b}).description);  // the EMC differs now
  a.emc = b.emc;
  const auto agreed = match_description(nx, {a, b});
  CHECK(chosen(agreed) == "nx-a");
  CHECK_THAT(agreed.reason, Catch::EndsWith("; nx-b fit as well and agree with it on the EMC section and the "
                                            "ceilings"));
}

TEST_CASE("description match: nothing fits", "[board][description]") {
  const auto m = match_description(board({}, t234_table(1510400)), {described("agx", t234_table(2201600))});
  CHECK_FALSE(m.description);
  CHECK(m.reason ==
        "no board description fits: none names the board's device-tree compatible (none) or has its SoC "
        "(tegra234) and CPU table (20 entries, 115200-1510400 kHz)");
  auto other_soc = described("xavier", t234_table(1510400));
  other_soc.soc = "tegra194";
  CHECK_FALSE(match_description(board({}, t234_table(1510400)), {other_soc}).description);
  CHECK(match_description(board({}, t234_table(1510400)), {}).reason ==
        "no board descriptions to choose from");
  // A board without a CPU table matches by compatible only.
  const Board no_table = board({"nvidia,p3767-0005"}, {});
  CHECK_FALSE(match_description(no_table, {described("nano", t234_table(1510400))}).description);
  CHECK(chosen(match_description(no_table,
                                 {described("nano", t234_table(1510400), {"nvidia,p3767-0005"})})) == "nano");
}

TEST_CASE("description match: load_descriptions skips and names broken files", "[board][description]") {
  FakeTree dir;
  dir.raw("/good.yaml",
          "format: flame-board\nversion: 1\nname: good\ncpu:\n  cores: 1\n  frequencies_khz: [1]\n");
  dir.raw("/broken.yaml", "format: flame-board\nversion: 1\nname: broken\n");
  dir.raw("/notes.txt", "not a description");
  dir.raw("/sub.yaml/inside.yaml", "a directory named like a file is not read");
  std::vector<std::string> problems;
  const auto loaded = load_descriptions(dir.root(), &problems);
  REQUIRE(loaded.size() == 1);
  CHECK(loaded[0].name == "good");
  REQUIRE(problems.size() == 1);
  CHECK(problems[0] == dir.root() + "/broken.yaml:1:1: missing 'cpu'");
  CHECK(load_descriptions(dir.root()).size() == 1);  // problems are optional

  problems.clear();
  CHECK(load_descriptions(dir.root() + "/absent", &problems).empty());
  REQUIRE(problems.size() == 1);
  CHECK_THAT(problems[0], Catch::StartsWith(dir.root() + "/absent: cannot list the board descriptions: "));
}

TEST_CASE("description match: every shipped description loads; the simulated boards find theirs",
          "[board][description]") {
  const auto all = shipped();
  std::set<std::string> names;
  for (const auto& d : all) names.insert(d.name);
  CHECK(names == std::set<std::string>{"agx-orin-32gb", "agx-orin-64gb", "jetson-nano", "orin-nano-4gb",
                                       "orin-nano-8gb", "orin-nano-8gb-super", "orin-nx-16gb", "orin-nx-8gb",
                                       "tx2-flexibo", "xavier-nx"});

  // The simulated Orin Nano (JetPack 6.2, Super device tree) by its most specific compatible.
  const auto orin = match_description(sim_board(Profile::OrinNanoJp6), all);
  CHECK(chosen(orin) == "orin-nano-8gb-super");
  CHECK_THAT(orin.reason, Catch::Contains("'nvidia,p3768-0000+p3767-0005-super' (the most specific"));
  // The JetPack 5 Orin Nano (no Super device tree) by its carrier+module compatible.
  const auto jp5 = match_description(sim_board(Profile::OrinNanoJp5), all);
  CHECK(chosen(jp5) == "orin-nano-8gb");
  CHECK_THAT(jp5.reason, Catch::Contains("'nvidia,p3768-0000+p3767-0005' (the most specific"));
  // The Xavier NX trees (no shipped description names them) by SoC and CPU table.
  for (auto p : {Profile::XavierNxJp4, Profile::XavierNxJp5}) {
    const auto nx = match_description(sim_board(p), all);
    CHECK(chosen(nx) == "xavier-nx");
    CHECK_THAT(nx.reason, Catch::Contains("same SoC (tegra194) and CPU table (25 entries"));
  }
}

TEST_CASE("description match: the shipped Orin modules are told apart by compatible only",
          "[board][description]") {
  const auto all = shipped();
  const auto nano = t234_table(1510400);
  const auto nx = t234_table(1984000);
  const auto agx = t234_table(2201600);
  struct Case {
    std::vector<std::string> compatible;
    std::vector<std::uint64_t> table;
    int cores;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {{"nvidia,p3768-0000+p3767-0005", "nvidia,p3767-0005", "nvidia,tegra234"}, nano, 6, "orin-nano-8gb"},
      {{"nvidia,p3768-0000+p3767-0003", "nvidia,p3767-0003", "nvidia,tegra234"}, nano, 6, "orin-nano-8gb"},
      {{"nvidia,p3768-0000+p3767-0004", "nvidia,p3767-0004", "nvidia,tegra234"}, nano, 6, "orin-nano-4gb"},
      {{"nvidia,p3768-0000+p3767-0000", "nvidia,p3767-0000", "nvidia,tegra234"}, nx, 8, "orin-nx-16gb"},
      {{"nvidia,p3768-0000+p3767-0001", "nvidia,p3767-0001", "nvidia,tegra234"}, nx, 6, "orin-nx-8gb"},
      {{"nvidia,p3737-0000+p3701-0005", "nvidia,p3701-0005", "nvidia,tegra234"}, agx, 12, "agx-orin-64gb"},
      {{"nvidia,p3737-0000+p3701-0000", "nvidia,p3701-0000", "nvidia,tegra234"}, agx, 12, "agx-orin-64gb"},
      {{"nvidia,p3737-0000+p3701-0004", "nvidia,p3701-0004", "nvidia,tegra234"}, agx, 8, "agx-orin-32gb"},
      // A Super Orin Nano on a carrier without a Super string: the module string ties, the table decides.
      {{"vendor,carrier+p3767-0003", "nvidia,p3767-0003", "nvidia,tegra234"},
       t234_table(1728000),
       6,
       "orin-nano-8gb-super"},
      {{"vendor,carrier+p3767-0003", "nvidia,p3767-0003", "nvidia,tegra234"}, nano, 6, "orin-nano-8gb"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.compatible.front());
    CHECK(chosen(match_description(board(c.compatible, c.table, c.cores), all)) == c.expected);
  }

  // Without a compatible string: the Orin NX modules differ in their default mode's ceilings, so none;
  // the Orin Nano and AGX Orin pairs agree on EMC and ceilings, so either.
  const auto unnamed_nx = match_description(board({"nvidia,tegra234"}, nx, 8), all);
  CHECK_FALSE(unnamed_nx.description);
  CHECK_THAT(unnamed_nx.reason,
             Catch::StartsWith("no board description chosen, ambiguous: orin-nx-16gb, orin-nx-8gb"));
  const auto unnamed_nano = match_description(board({"nvidia,tegra234"}, nano), all);
  CHECK(chosen(unnamed_nano) == "orin-nano-4gb");
  CHECK_THAT(unnamed_nano.reason, Catch::Contains("orin-nano-8gb fit as well"));
  CHECK(chosen(match_description(board({"nvidia,tegra234"}, agx, 12), all)) == "agx-orin-32gb");
}
