#pragma once
// BoardDescription: a board's DVFS tables as a YAML file (docs/board-format.md), for simulation and
// offline work (model fitting, sampling plans, search). On a real board the tables come from sysfs at
// run time (discovery.hpp); a description is either dumped from a tree (`flame board dump`) or shipped
// in config/boards/ for boards whose tables are documented in public sources.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "flame/board/board.hpp"

namespace flame::board {

inline constexpr const char* kDescriptionFormat = "flame-board";
inline constexpr int kDescriptionVersion = 1;

struct DescribedPolicy {
  std::string name;                            // "policy0"
  std::vector<int> cpus;                       // related CPUs
  std::vector<std::uint64_t> frequencies_khz;  // only when it differs from the CPU-wide table
  bool operator==(const DescribedPolicy&) const = default;
};

struct BoardDescription {
  std::string name;    // "orin-nano-8gb-super"
  std::string soc;     // "tegra234" (optional)
  std::string source;  // where the tables come from (optional, free text)
  // Device-tree compatible strings of the module or carrier+module this description is for
  // ("nvidia,p3767-0005"): they identify the board a description is for (description_match.hpp).
  std::vector<std::string> compatible;
  struct Cpu {
    std::vector<std::uint64_t> frequencies_khz;  // settable on every policy, ascending
    int cores = 0;                               // CPUs on the board
    std::vector<int> core_options;               // online-core counts the board can run with
    std::vector<DescribedPolicy> policies;       // optional cluster layout
    bool operator==(const Cpu&) const = default;
  } cpu;
  struct Gpu {
    std::vector<std::uint64_t> frequencies_hz;  // empty: no GPU table known
    bool operator==(const Gpu&) const = default;
  } gpu;
  struct Emc {
    std::vector<std::uint64_t> frequencies_hz;  // empty: rates unknown (debugfs does not list them)
    std::optional<std::uint64_t> min_hz;
    std::optional<std::uint64_t> max_hz;
    bool operator==(const Emc&) const = default;
  } emc;
  struct Ceilings {  // e.g. the nvpmodel mode's caps; absent = the top of the table
    std::optional<std::uint64_t> cpu_khz;
    std::optional<std::uint64_t> gpu_hz;
    std::optional<std::uint64_t> emc_hz;
    bool operator==(const Ceilings&) const = default;
  } ceilings;

  bool operator==(const BoardDescription&) const = default;
};

// "file:line:column: message" (1-based), or "file: message" when there is no position.
class DescriptionError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

BoardDescription load_board_description(const std::string& path);
// `origin` names the text in error messages.
BoardDescription parse_board_description(const std::string& yaml, const std::string& origin = "<string>");
// YAML text; `header` lines are emitted as leading comments.
std::string to_yaml(const BoardDescription& d, const std::vector<std::string>& header = {});

// A description of a discovered board: its tables, cluster layout, online cores as the core option in
// effect, and its current ceilings (nvpmodel caps where known, else the max limits in place).
BoardDescription describe(const Board& b, const std::string& name = "");

}  // namespace flame::board
