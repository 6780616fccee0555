#pragma once
// nvpmodel: the power-mode tool whose per-mode maxima are the ceiling of our search space
// (NVIDIA Jetson Linux Developer Guide, power management; /etc/nvpmodel.conf). We read its status file and,
// when present, its configuration, to learn the current mode's caps. Parsing is pure; resolving the caps to
// domains needs the SysfsRoot.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "flame/board/detail/file_access.hpp"
#include "flame/board/detail/sysfs_root.hpp"

namespace flame::board {

struct NvpmodelParam {
  std::string name;                                       // "CPU_DENVER_0", "GPU", "EMC", "CPU_ONLINE"
  std::string type;                                       // "CLOCK" or "FILE"
  std::vector<std::pair<std::string, std::string>> args;  // ARG_NAME -> sysfs path, in file order
};

struct NvpmodelSetting {
  std::string param;
  std::string arg;
  std::string value;
  int line = 0;
};

struct NvpmodelMode {
  int id = 0;
  std::string name;
  std::vector<NvpmodelSetting> settings;
};

struct NvpmodelConf {
  std::vector<NvpmodelParam> params;
  std::vector<NvpmodelMode> modes;
  std::optional<int> default_mode;

  const NvpmodelParam* param(std::string_view name) const;
  const NvpmodelMode* mode(int id) const;
  // Paths declared for an argument of a parameter, including its "<ARG>_KNEXT" variant (newer kernels).
  std::vector<std::string> paths(std::string_view param, std::string_view arg) const;
};

// Parses the nvpmodel.conf format ("< PARAM TYPE=.. NAME=.. >", "< POWER_MODEL ID=.. NAME=.. >",
// "< PM_CONFIG DEFAULT=.. >"). Throws std::runtime_error("line N: ...") on malformed input.
NvpmodelConf parse_nvpmodel_conf(std::string_view text);

// "pmode:0002 fmode:quiet" -> 2.
std::optional<int> parse_nvpmodel_status(std::string_view text);

// Where the files live (in-root paths).
inline constexpr const char* kNvpmodelStatusPath = "/var/lib/nvpmodel/status";
inline constexpr const char* kNvpmodelConfPath = "/etc/nvpmodel.conf";
inline constexpr const char* kEmcIsoCapPath = "/sys/kernel/nvpmodel_emc_cap/emc_iso_cap";

// The current mode's caps, resolved to the directories they limit.
struct NvpmodelCaps {
  std::string status;  // raw status text (trimmed), "" if absent
  std::optional<int> mode_id;
  std::string mode_name;
  std::string conf_error;                           // why the conf could not be used, if it exists
  std::map<std::string, std::uint64_t> max_by_dir;  // resolved attribute dir -> MAX_FREQ (CPU kHz, GPU Hz)
  std::set<std::string> unlimited_dirs;             // resolved dirs the mode leaves uncapped (MAX_FREQ -1)
  std::optional<std::uint64_t> emc_max_hz;          // EMC MAX_FREQ of the mode; 0 = no cap
  std::optional<std::uint64_t> emc_iso_cap_hz;      // live emc_iso_cap; 0 = no cap
};

NvpmodelCaps read_nvpmodel_caps(const SysfsRoot& root, FileAccess& io,
                                const std::string& status_path = kNvpmodelStatusPath,
                                const std::string& conf_path = kNvpmodelConfPath,
                                const std::string& iso_cap_path = kEmcIsoCapPath);

}  // namespace flame::board
