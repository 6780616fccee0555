#pragma once
// The few settings of flamed's configuration that `flame profile` shares with the daemon, so that
// both drive the same board through the same controller lock and the model lands where flamed
// loads it: sysfs_root, runtime_dir, models_dir, board_file. Read leniently (other keys are
// flamed's business and not checked here); flamed validates the file itself.
#include <filesystem>
#include <string>

namespace flame::profile {

inline constexpr const char* kDefaultDaemonConfig = "/etc/flame/flamed.yaml";

struct DaemonSettings {
  std::string sysfs_root = "/";
  std::string runtime_dir = "/run/flame";
  std::string models_dir = "/var/lib/flame/models";
  std::string board_file;  // empty: none configured
};

// Defaults when the file does not exist; throws std::runtime_error naming the file when it exists
// but cannot be read or parsed, or a shared key is not a string.
DaemonSettings read_daemon_settings(const std::filesystem::path& config);

}  // namespace flame::profile
