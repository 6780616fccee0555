// Board description files (docs/board-format.md): loading with clear file:line errors, dumping from
// fake trees, and the shipped config/boards files against their documented sources.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>
#include <sstream>

#include "fake_board.hpp"
#include "flame/board/description.hpp"
#include "flame/board/discovery.hpp"

using namespace flame::board;
using flame::test::FakeTree;
using flame::test::Profile;

namespace {

const std::string kMinimal = R"(format: flame-board
version: 1
name: tiny
cpu:
  cores: 2
  frequencies_khz: [100, 200]
)";

std::string error_of(const std::string& yaml) {
  try {
    parse_board_description(yaml, "b.yaml");
  } catch (const DescriptionError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("board description: minimal file and defaults", "[board][description]") {
  auto d = parse_board_description(kMinimal);
  CHECK(d.name == "tiny");
  CHECK(d.cpu.cores == 2);
  CHECK(d.cpu.core_options == std::vector<int>{2});
  CHECK(d.gpu.frequencies_hz.empty());
  CHECK_FALSE(d.emc.max_hz);
  // Round trip through the writer.
  CHECK(parse_board_description(to_yaml(d, {"header"})) == d);
}

TEST_CASE("board description: device-tree compatible strings", "[board][description]") {
  const std::string text =
      kMinimal + "compatible: [\"nvidia,p3768-0000+p3767-0005\", \"nvidia,p3767-0005\"]\n";
  const auto d = parse_board_description(text);
  CHECK(d.compatible == std::vector<std::string>{"nvidia,p3768-0000+p3767-0005", "nvidia,p3767-0005"});
  CHECK(parse_board_description(to_yaml(d)) == d);  // order kept
  CHECK(parse_board_description(kMinimal).compatible.empty());
  CHECK(to_yaml(parse_board_description(kMinimal)).find("compatible") == std::string::npos);

  CHECK(error_of(kMinimal + "compatible: []\n") ==
        "b.yaml:7:13: compatible must be a non-empty list of strings");
  CHECK(error_of(kMinimal + "compatible: nvidia,p3767-0005\n") ==
        "b.yaml:7:13: compatible must be a non-empty list of strings");
  CHECK(error_of(kMinimal + "compatible: [\"\"]\n") == "b.yaml:7:14: compatible entries must not be empty");
  CHECK(error_of(kMinimal + "compatible: [[a]]\n") == "b.yaml:7:14: compatible entries must be strings");
  CHECK(error_of(kMinimal + "compatible: [a, b, a]\n") == "b.yaml:7:20: compatible lists 'a' twice");
  CHECK(error_of(kMinimal + "compatible: [\"nvidia,p3767-0005\", \"nvidia,tegra234\"]\n") ==
        "b.yaml:7:35: compatible 'nvidia,tegra234' names the SoC, not a module or carrier (use soc)");
  // A string that merely starts like the SoC's is a board's.
  CHECK(parse_board_description(kMinimal + "compatible: [\"nvidia,tegra234-vdk\"]\n").compatible.size() == 1);
}

TEST_CASE("board description: malformed files name the file, line and column", "[board][description]") {
  // YAML syntax error (yaml-cpp mark).
  CHECK_THAT(error_of("format: flame-board\nversion: 1\nname: [unclosed\n"), Catch::StartsWith("b.yaml:"));
  CHECK_THAT(error_of("format: flame-board\n  bad: indentation\n: x"), Catch::StartsWith("b.yaml:"));
  // Semantic errors point at the offending node.
  auto with = [](const std::string& line) {
    std::string s = kMinimal;
    return s + line;
  };
  CHECK(error_of(with("gpu:\n  frequencies_hz: [300, 200]\n")) ==
        "b.yaml:8:25: gpu.frequencies_hz must be strictly ascending (200 after 300)");
  CHECK(error_of(with("gpux: {}\n")).rfind("b.yaml:7:1: unknown key 'gpux'", 0) == 0);
  CHECK(error_of(with("emc:\n  min_hz: 5\n")) == "b.yaml:8:3: emc needs frequencies_hz or at least max_hz");
  CHECK(error_of(with("ceilings:\n  cpu_khz: 50\n")) ==
        "b.yaml:8:12: ceilings.cpu_khz = 50 is below the lowest table entry 100");
  std::string bad_freq = kMinimal;
  bad_freq.replace(bad_freq.find("[100, 200]"), 10, "[100, fast]");
  CHECK(error_of(bad_freq) ==
        "b.yaml:6:26: cpu.frequencies_khz entry must be a non-negative integer, got 'fast'");
  CHECK(error_of("format: flame-board\nversion: 2\nname: x\n") ==
        "b.yaml:2:10: version 2 is not supported (expected 1)");
  CHECK(error_of("format: other\n").find("format must be 'flame-board'") != std::string::npos);
  CHECK(error_of("format: flame-board\nversion: 1\nname: x\n") == "b.yaml:1:1: missing 'cpu'");
  CHECK(error_of("") == "empty board description");
  CHECK(error_of(with("  core_options: [3]\n")).find("cpu.core_options entry must be between 1 and 2") !=
        std::string::npos);
  CHECK(error_of(with("  policies:\n    - {name: p0, cpus: [0]}\n")) ==
        "b.yaml:8:5: cpu.policies cover 1 CPUs but cpu.cores is 2");
  CHECK(error_of(with("  policies:\n    - {name: p0, cpus: [0, 1]}\n    - {name: p1, cpus: [1]}\n"))
            .find("cpu 1 belongs to two policies") != std::string::npos);
  // A file that does not exist.
  CHECK_THROWS_WITH(load_board_description("/nonexistent/b.yaml"),
                    Catch::Contains("/nonexistent/b.yaml: cannot open"));
}

TEST_CASE("board description: dump from each fake tree loads back", "[board][description]") {
  for (auto p : flame::test::all_profiles()) {
    DYNAMIC_SECTION(flame::test::profile_name(p)) {
      FakeTree t;
      flame::test::build(p, t);
      const auto f = flame::test::facts(p);
      const Board b = discover(t.root());
      const auto d = describe(b, "fixture");
      CHECK(d.cpu.frequencies_khz == f.cpu_khz);
      CHECK(d.gpu.frequencies_hz == f.gpu_hz);
      CHECK(d.cpu.cores == 6);
      CHECK(d.cpu.core_options == std::vector<int>{f.online_cores});
      CHECK(d.cpu.policies.size() == f.policies.size());
      CHECK(d.emc.max_hz == f.emc_max_hz);
      CHECK(d.soc == f.soc);
      // The board's device-tree compatible list without its last, SoC-only entry.
      REQUIRE_FALSE(d.compatible.empty());
      CHECK(d.compatible.size() + 1 == b.identity.compatible.size());
      CHECK(d.compatible.front() == b.identity.compatible.front());
      CHECK(parse_board_description(to_yaml(d)) == d);
    }
  }
}

TEST_CASE("board description: dump records the ceilings in force", "[board][description]") {
  FakeTree t;
  flame::test::build(Profile::XavierNxJp4, t, flame::test::offline({4, 5}));
  t.attr("/sys/kernel/nvpmodel_emc_cap/emc_iso_cap", "1600000000");
  t.attr("/sys/devices/17000000.gv11b/devfreq/17000000.gv11b/max_freq", "803250000");
  const auto d = describe(discover(t.root()));
  CHECK(d.name == "nvidia-jetson-xavier-nx-developer-kit");
  CHECK(d.cpu.core_options == std::vector<int>{4});
  CHECK(d.ceilings.gpu_hz == 803250000u);
  CHECK(d.ceilings.emc_hz == 1600000000u);
  CHECK_FALSE(d.ceilings.cpu_khz);
}

TEST_CASE("board description: shipped boards load and match their sources", "[board][description]") {
  const std::string dir = std::string(FLAME_SOURCE_DIR) + "/config/boards";
  std::set<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    CAPTURE(e.path().string());
    auto d = load_board_description(e.path().string());
    names.insert(d.name);
    // Every shipped file cites its source in a comment and in `source`.
    std::ifstream in(e.path());
    std::string first;
    std::getline(in, first);
    CHECK(first.rfind("#", 0) == 0);
    CHECK_FALSE(d.source.empty());
  }
  CHECK(names == std::set<std::string>{"agx-orin-32gb", "agx-orin-64gb", "jetson-nano", "orin-nano-4gb",
                                       "orin-nano-8gb", "orin-nano-8gb-super", "orin-nx-16gb", "orin-nx-8gb",
                                       "tx2-flexibo", "xavier-nx"});

  // The shipped tables, which the fake trees also use.
  auto orin = load_board_description(dir + "/orin-nano-8gb-super.yaml");
  CHECK(orin.cpu.frequencies_khz == flame::test::facts(Profile::OrinNanoJp6).cpu_khz);
  CHECK(orin.gpu.frequencies_hz == flame::test::facts(Profile::OrinNanoJp6).gpu_hz);
  CHECK(orin.emc.frequencies_hz == std::vector<std::uint64_t>{665600000, 2133000000, 3199000000});
  auto nx = load_board_description(dir + "/xavier-nx.yaml");
  CHECK(nx.cpu.frequencies_khz == flame::test::facts(Profile::XavierNxJp4).cpu_khz);
  CHECK(nx.gpu.frequencies_hz == flame::test::facts(Profile::XavierNxJp4).gpu_hz);
  CHECK(nx.emc.frequencies_hz.empty());
  CHECK(nx.emc.max_hz == 1866000000u);
}

TEST_CASE("board description: the Orin modules' files follow the T234 cpufreq rule and their sources",
          "[board][description]") {
  // tegra194-cpufreq.c lists ndiv_min, 76.8 MHz steps below ndiv_max, then ndiv_max; every Orin file's
  // CPU table is that ladder from 115.2 MHz up to its top, and every cap is one of its entries.
  const std::string dir = std::string(FLAME_SOURCE_DIR) + "/config/boards";
  struct Expected {
    std::string file;
    std::uint64_t top_khz;
    int cores;
    std::vector<int> core_options;
    std::optional<std::uint64_t> cpu_ceiling_khz;
    std::uint64_t emc_max_hz;
  };
  const std::vector<Expected> expected = {
      {"orin-nano-4gb", 1510400, 6, {4, 6}, std::nullopt, 2133000000},
      {"orin-nano-8gb", 1510400, 6, {4, 6}, std::nullopt, 2133000000},
      {"orin-nx-8gb", 1984000, 6, {4, 6}, 1420800, 3199000000},
      {"orin-nx-16gb", 1984000, 8, {4, 8}, 1651200, 3199000000},
      {"agx-orin-32gb", 2201600, 8, {4, 8}, 1728000, 3199000000},
      {"agx-orin-64gb", 2201600, 12, {4, 8, 12}, 1728000, 3199000000},
  };
  for (const auto& e : expected) {
    CAPTURE(e.file);
    const auto d = load_board_description(dir + "/" + e.file + ".yaml");
    CHECK(d.name == e.file);
    CHECK(d.soc == "tegra234");
    REQUIRE_FALSE(d.cpu.frequencies_khz.empty());
    CHECK(d.cpu.frequencies_khz.front() == 115200);
    CHECK(d.cpu.frequencies_khz.back() == e.top_khz);
    for (std::size_t i = 1; i + 1 < d.cpu.frequencies_khz.size(); ++i)
      CHECK(d.cpu.frequencies_khz[i] - d.cpu.frequencies_khz[i - 1] == 76800);
    CHECK(e.top_khz - d.cpu.frequencies_khz[d.cpu.frequencies_khz.size() - 2] <= 76800);
    CHECK(d.cpu.cores == e.cores);
    CHECK(d.cpu.core_options == e.core_options);
    CHECK(d.cpu.policies.size() == static_cast<std::size_t>((e.cores + 3) / 4));  // clusters of up to 4
    CHECK(d.ceilings.cpu_khz == e.cpu_ceiling_khz);
    if (d.ceilings.cpu_khz)
      CHECK(std::count(d.cpu.frequencies_khz.begin(), d.cpu.frequencies_khz.end(), *d.ceilings.cpu_khz) == 1);
    CHECK_FALSE(d.ceilings.gpu_hz);
    CHECK_FALSE(d.ceilings.emc_hz);
    CHECK(d.gpu.frequencies_hz.empty());  // not documented: devfreq lists it on the board
    CHECK(d.emc.frequencies_hz.empty());  // not documented either
    CHECK(d.emc.max_hz == e.emc_max_hz);
    REQUIRE(d.compatible.size() >= 2);
    // The header marks what was read in a source and what was inferred.
    std::ifstream in(dir + "/" + e.file + ".yaml");
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(text.find("[V]") != std::string::npos);
    CHECK(text.find("[I]") != std::string::npos);
  }
}

TEST_CASE("board description: the TX2 file is exactly the FlexiBO grid", "[board][description]") {
  const std::string csv = std::string(FLAME_SOURCE_DIR) +
                          "/data/jetson-public/flexibo-tx2/tx2_sampled_output_inceptionv3_200x200.csv";
  std::ifstream in(csv);
  REQUIRE(in);
  std::string line;
  std::getline(in, line);  // header
  std::set<std::uint64_t> cpu, gpu, emc;
  std::set<int> cores;
  while (std::getline(in, line)) {
    std::vector<std::string> cols;
    std::stringstream ss(line);
    std::string c;
    while (std::getline(ss, c, ',')) cols.push_back(c);
    REQUIRE(cols.size() >= 15);
    // ,model_name,sample,size,system_name,config_name,core0..3_status,core_freq,gpu_status,gpu_freq,emc_status,emc_freq
    cores.insert(std::stoi(cols[6]) + std::stoi(cols[7]) + std::stoi(cols[8]) + std::stoi(cols[9]));
    cpu.insert(std::stoull(cols[10]));
    gpu.insert(std::stoull(cols[12]));
    emc.insert(std::stoull(cols[14]));
  }
  auto d = load_board_description(std::string(FLAME_SOURCE_DIR) + "/config/boards/tx2-flexibo.yaml");
  CHECK(d.cpu.frequencies_khz == std::vector<std::uint64_t>(cpu.begin(), cpu.end()));
  CHECK(d.gpu.frequencies_hz == std::vector<std::uint64_t>(gpu.begin(), gpu.end()));
  CHECK(d.emc.frequencies_hz == std::vector<std::uint64_t>(emc.begin(), emc.end()));
  CHECK(d.cpu.core_options == std::vector<int>(cores.begin(), cores.end()));
}
