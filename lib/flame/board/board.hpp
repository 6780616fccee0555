#pragma once
// Board: the typed description of a Jetson board's DVFS-relevant hardware as discovered under a
// SysfsRoot (see discovery.hpp). Values are snapshots taken at discovery time; the clock writer re-reads
// current min/max before every decision and never trusts these for writes.
//
// Units follow sysfs: cpufreq kHz, devfreq and EMC Hz, thermal millidegrees (converted to °C here),
// rails mW.
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "flame/clocks/clocks.hpp"

namespace flame::board {

// Whether a domain can be written, only observed, or not used at all. Never fatal: a board without a
// usable GPU devfreq is still a board.
enum class DomainStatus {
  Active,       // readable and (as far as discovery can tell) writable
  ObserveOnly,  // readable, not writable (not root, read-only attribute, or a write failed with EACCES)
  Offline,      // cpufreq policy whose CPUs are all offline: readable, writes fail with EINVAL
  Deferred,     // GPU present but its devfreq device is not registered yet (never powered up)
  Unavailable,  // missing or unreadable
};
const char* to_string(DomainStatus s);

struct DomainHealth {
  DomainStatus status = DomainStatus::Unavailable;
  std::string reason;  // why it is not Active; empty when Active
  bool writable() const { return status == DomainStatus::Active; }
};

// Write semantics of min/max attributes, derived from the L4T release (docs/board-io.md, Sources:
// cpufreq and devfreq).
enum class KernelRules {
  Unknown,
  Strict,  // 4.9 (JetPack 4, R32): a crossing min/max write fails with EINVAL
  Qos,     // 5.10/5.15 (JetPack 5/6, R35/R36): crossing writes are clamped and leave a stale request
};
const char* to_string(KernelRules k);

struct Identity {
  std::vector<std::string> compatible;  // /proc/device-tree/compatible, NUL-separated list
  std::string model;                    // /proc/device-tree/model
  std::string soc;                      // "tegra234", "tegra194", "tegra186", "tegra210", or ""
  std::string l4t;                      // "R36.4.3" from /etc/nv_tegra_release, or ""
  int l4t_major = 0;
  std::optional<int> chip_id;  // tegra_fuse tegra_chip_id
  KernelRules rules = KernelRules::Unknown;
};

struct CpuPolicy {
  std::string name;  // "policy0"
  std::string dir;   // resolved, e.g. /sys/devices/system/cpu/cpufreq/policy0
  std::vector<int> related_cpus;
  std::vector<int> online_cpus;              // from cpuK/online (cpu without an online file counts as online)
  std::vector<std::uint64_t> available_khz;  // ascending; empty if the driver has no table
  std::vector<std::string> available_governors;
  std::string governor;
  std::string driver;
  std::uint64_t cpuinfo_min_khz = 0;
  std::uint64_t cpuinfo_max_khz = 0;
  std::uint64_t min_khz = 0;                      // scaling_min_freq
  std::uint64_t max_khz = 0;                      // scaling_max_freq
  std::uint64_t cur_khz = 0;                      // scaling_cur_freq
  std::optional<std::uint64_t> nvpmodel_max_khz;  // cap of the current nvpmodel mode, if known
  bool nvpmodel_uncapped = false;                 // the current mode's conf leaves it uncapped (-1)
  DomainHealth health;
};

struct GpuDevice {
  std::string name;         // devfreq device name, e.g. "17000000.gpu"
  std::string devfreq_dir;  // resolved devfreq directory
  std::string device_dir;   // resolved GPU device directory (load, railgate_enable)
  std::string of_name;      // device-tree node name ("gpu", "gv11b", ...)
  std::string of_compatible;
  std::string matched_by;  // how discovery recognised it (for `board show`)
  std::vector<std::uint64_t> available_hz;
  std::vector<std::string> available_governors;
  std::string governor;
  std::uint64_t min_hz = 0;
  std::uint64_t max_hz = 0;
  std::uint64_t cur_hz = 0;
  std::optional<std::uint64_t> load_permille;  // 0 while rail-gated
  std::optional<int> railgate_enable;
  std::optional<std::uint64_t> nvpmodel_max_hz;
  bool nvpmodel_uncapped = false;            // the current mode's conf leaves it uncapped (-1)
  std::vector<std::string> ignored_devfreq;  // other devfreq devices seen and skipped
  DomainHealth health;
};

struct EmcClock {
  std::string interface;  // "bpmp" (T186/T194/T234) or "t210-override"
  std::string dir;
  std::string rate_path;        // read-back of the current rate
  std::string rate_write_path;  // where a new rate is written (same as rate_path on bpmp)
  std::string lock_path;        // mrq_rate_locked / override clk_state
  std::string min_path;
  std::string max_path;
  std::uint64_t rate_hz = 0;
  std::uint64_t min_hz = 0;
  std::uint64_t max_hz = 0;
  bool locked = false;
  // Supported rates are not exposed by debugfs; empty unless supplied by a board description.
  std::vector<std::uint64_t> available_hz;
  DomainHealth health;
};

struct Nvpmodel {
  std::string status_path;  // /var/lib/nvpmodel/status
  std::string status;       // raw, e.g. "pmode:0002 fmode:quiet"; empty if absent
  std::optional<int> mode_id;
  std::string mode_name;  // from nvpmodel.conf when it can be parsed
  std::string conf_path;  // /etc/nvpmodel.conf if present
  std::string conf_error;
  std::string emc_iso_cap_path;
  std::optional<std::uint64_t> emc_iso_cap_hz;  // 0 = no cap
  std::optional<std::uint64_t> emc_max_hz;      // EMC MAX_FREQ of the current mode (conf), 0 = no cap
};

struct PowerRail {
  std::string name;    // "VDD_IN"
  std::string device;  // i2c device, "1-0040"
  std::string kind;    // "hwmon" (mV x mA) or "iio" (mW)
  std::string voltage_path;
  std::string current_path;
  std::string power_path;  // iio only
  std::optional<double> power_mw;
};

struct ThermalZone {
  std::string zone;  // "thermal_zone0"
  std::string type;  // "cpu-thermal"
  std::string temp_path;
  std::optional<double> temp_c;  // nullopt: sensorless (-256000) or unreadable
  std::string note;
};

struct Board {
  std::string sysfs_root;
  Identity identity;
  std::vector<CpuPolicy> cpu;
  GpuDevice gpu;
  EmcClock emc;
  Nvpmodel nvpmodel;
  std::vector<PowerRail> rails;
  std::string total_rail;  // VDD_IN / POM_5V_IN if present, else "" (sum of rails)
  std::vector<ThermalZone> thermal;
  std::vector<std::string> notes;  // non-fatal discovery problems, one line each

  const CpuPolicy* policy(const std::string& name) const;
  int online_cores() const;
  // The board's current operating point: highest current frequency among online CPU policies, online
  // cores, GPU and EMC current rates (0 for unusable domains).
  Clocks current() const;
  // Total board power: the VDD_IN/POM_5V_IN rail if present, else the sum of readable rails.
  std::optional<double> total_power_mw() const;
  // A thermal zone by kind, matched as jtop does: case-insensitively on the type's prefix before the
  // first '-' or '_' ("cpu" matches "CPU-therm" and "cpu-thermal"). Zones without a reading are skipped.
  const ThermalZone* thermal_zone(std::string_view kind) const;
};

nlohmann::json to_json(const Board& b);
std::string to_text(const Board& b);

}  // namespace flame::board
