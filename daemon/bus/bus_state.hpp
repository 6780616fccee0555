#pragma once
// What the D-Bus object org.flame.Flamed1 shows (docs/dbus.md): a plain snapshot of the daemon's
// state, built from the same flame::policy::Status the socket's `status` reply encodes, so that the
// two views cannot disagree. Pure; the sd-bus side (dbus_service.cpp) only marshals it.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "flame/board/board.hpp"
#include "flame/clocks/clock_grid.hpp"
#include "flame/policy/policy.hpp"

namespace flamed {

// Property names of org.flame.Flamed1.
inline constexpr const char* kPropVersion = "Version";
inline constexpr const char* kPropBoard = "Board";
inline constexpr const char* kPropDomains = "Domains";
inline constexpr const char* kPropCurrentClocks = "CurrentClocks";
inline constexpr const char* kPropActiveRequests = "ActiveRequests";
inline constexpr const char* kPropModels = "Models";
inline constexpr const char* kPropDegraded = "Degraded";
inline constexpr const char* kPropCalibration = "Calibration";
inline constexpr const char* kPropEnabled = "Enabled";

// One DVFS domain, D-Bus signature (ssssbat).
struct DomainInfo {
  std::string name;         // "cpu", "gpu", "emc"
  std::string unit;         // "kHz" (cpu) or "Hz"
  std::string status;       // active, observe-only, offline, deferred, unavailable (board layer),
                            // disabled (domains.<name>.enabled: false) or unknown (no board information)
  std::string reason;       // why it is not active; empty when active
  bool controlled = false;  // flamed may change it: active and >= 2 selectable clocks
  std::vector<uint64_t> frequencies;  // what the search may choose (limits applied), ascending

  bool operator==(const DomainInfo&) const = default;
};

struct BusState {
  std::string version;                        // Version s
  std::string board;                          // Board s
  std::vector<DomainInfo> domains;            // Domains a(ssssbat)
  std::map<std::string, double> clocks;       // CurrentClocks a{sd}
  uint32_t active_requests = 0;               // ActiveRequests u
  std::vector<std::string> models;            // Models as
  std::string degraded;                       // Degraded s: degraded_reasons joined by "; "
  std::vector<std::string> degraded_reasons;  // (the socket's status and the metrics show them too)
  std::map<std::string, double> calibration;  // Calibration a{sd}
  bool enabled = true;                        // Enabled b

  bool operator==(const BusState&) const = default;
};

// Clocks -> a{sd} with the keys of the socket's clocks (cpu_khz, cpu_cores, gpu_hz, emc_hz).
std::map<std::string, double> clock_map(const flame::Clocks& clocks);
// Calibration buckets -> a{sd} of bucket -> factor.
std::map<std::string, double> calibration_map(
    const std::map<std::string, flame::calibrate::CalibrationState>& buckets);
// "NVIDIA Jetson Orin Nano Developer Kit (tegra234, L4T R36.4.3)"; "unknown" when nothing is known.
std::string board_label(const flame::board::Identity& id);
// The CPU as one domain: active when any policy is writable, else the first policy's status, with
// every policy's reason.
flame::board::DomainHealth cpu_health(const std::vector<flame::board::CpuPolicy>& policies);
// cpu, gpu, emc in that order. board may be null (an actuator that is not the board layer).
std::vector<DomainInfo> domain_infos(const flame::board::Board* board, const flame::ClockGrid& grid,
                                     const Config& config);
// Why flamed does not do its whole job, one entry each (none when it does): "disabled", "dry run",
// "no models loaded" (or none served, `refused` refused for their board), "clock write refused: <what>:
// <error>" until a later write succeeds,
// "<domain>: <status> (<reason>)" for a domain the configuration enables, "no clock is
// controllable" when the board is known and no domain can be set, then `held`: what the hardware
// side holds for lack of information (e.g. EMC without a board description).
std::vector<std::string> degraded_reasons(bool enabled, bool dry_run, size_t models,
                                          const std::vector<DomainInfo>& domains,
                                          const std::string& hardware_fault = {},
                                          const std::vector<std::string>& held = {}, size_t refused = 0);
// The properties whose value differs (Version and Board are constant and never listed).
std::vector<const char*> changed_properties(const BusState& before, const BusState& after);

// The daemon's state: the policy's status, the board (null when unknown) and the grid it offers.
BusState snapshot(const Config& config, const flame::policy::Status& status, const flame::board::Board* board,
                  const flame::ClockGrid& grid, const std::vector<std::string>& held = {});

}  // namespace flamed
