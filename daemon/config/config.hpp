#pragma once
// flamed's configuration: /etc/flame/flamed.yaml parsed into a typed, validated struct with
// compiled-in defaults. Unknown keys, wrong types and out-of-range values are errors that name
// file:line:column and the key (docs/config.md). The keys themselves are the table in
// config_keys.hpp; the defaults are this struct's, and the policy's and the calibrator's options are
// their own structs, held here as they are, so each default is stated once.
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "flame/board/baseline.hpp"
#include "flame/calibrate/calibrator.hpp"
#include "flame/policy/policy.hpp"

namespace flamed {

using flame::policy::IdlePolicy;
using flame::policy::to_string;

inline constexpr const char* kDefaultConfigPath = "/etc/flame/flamed.yaml";

struct DomainLimits {
  bool enabled = true;
  double min = 0;  // 0 = no limit; kHz for the CPU, Hz for GPU and EMC
  double max = 0;
};

struct Config {
  std::filesystem::path sysfs_root = "/";
  std::filesystem::path socket_path = "/run/flame/flamed.sock";
  std::string socket_group = "flame";  // empty: leave the group alone
  uint32_t socket_mode = 0660;
  std::filesystem::path models_dir = "/var/lib/flame/models";
  std::filesystem::path state_dir = "/var/lib/flame";
  std::filesystem::path runtime_dir = flame::board::kDefaultRuntimeDir;
  std::filesystem::path board_file;  // empty: discover the board from sysfs_root
  std::string log_level = "info";
  // The request policy's own options: safety_margin_pct, idle_policy, request_expiry_ms,
  // idle_delay_ms, queue_aware, limits.max_requests_per_client and recalibration.enabled.
  flame::policy::Options policy;
  bool dry_run = false;
  bool allow_foreign_models = false;  // serve models whose board: names another board
  std::string admin_group;            // its members see every client's requests; "": root only

  struct Limits {
    size_t max_line_bytes = 64 * 1024;
    size_t max_connections = 64;
    // Half of max_connections: one user cannot take every connection (docs/config.md, "Limits").
    size_t max_connections_per_uid = 32;
    double idle_timeout_ms = 60'000;  // no request since connect or the last reply: closed
    double line_timeout_ms = 5'000;   // a request line started, or a reply, not through by then: closed
    double rate_per_s = 2000;         // token bucket per connection
    double rate_burst = 500;
  } limits;

  DomainLimits cpu, gpu, emc;

  struct Recalibration {
    flame::calibrate::CalibratorOptions calibrator;  // the other recalibration.* keys
    double persist_interval_s = 30;
  } recalibration;

  struct Metrics {
    std::filesystem::path textfile;  // node_exporter textfile collector; empty = off
    double interval_s = 15;
  } metrics;

  bool dbus = true;
  // Test and simulation only: take each request's time from the client's "t_ms" instead of the
  // daemon's steady clock (docs/config.md, docs/protocol.md).
  bool simulation_clock = false;
};

// The keys a reload cannot apply (docs/config.md, "Reload"), in the order the docs list them.
const std::vector<std::string>& restart_only_keys();
// Those of them whose value differs between the running and the reloaded configuration.
std::vector<std::string> restart_only_changes(const Config& running, const Config& next);
// Copies the running values of the restart-only keys into `next`.
void keep_restart_only(Config& next, const Config& running);

struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Parses YAML text; `source` names the file in messages. Missing keys keep their defaults.
Config parse_config(const std::string& yaml, const std::string& source);
Config load_config(const std::filesystem::path& path);
// Only the keys `names` (dotted) of the file, each checked as parse_config checks it; the file's
// other keys are not looked at. Defaults when the file does not exist. `taken` receives
// "name=value" for each key the file set. `flame profile` reads flamed's paths this way.
Config load_config_keys(const std::filesystem::path& path, const std::vector<std::string>& names,
                        std::vector<std::string>* taken = nullptr);
// For `flamed --restore` (ExecStopPost=) when the file does not validate: the clocks must still go
// back. Defaults, plus `sysfs_root` and `runtime_dir` taken from the file when the YAML parses and
// they are absolute paths. `why` receives what was salvaged. Never throws.
Config salvage_restore_paths(const std::filesystem::path& path, std::string* why);
// The effective configuration as YAML that parse_config accepts.
std::string dump_config(const Config& config);

}  // namespace flamed
