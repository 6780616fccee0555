#pragma once
// Where discovery looks (in-root paths, docs/board-io.md, Discovery). Kept in one place so that
// `flame board snapshot` copies exactly what discovery reads. nvpmodel's files are in nvpmodel.hpp.
#include <array>

namespace flame::board::paths {

// Identity. /proc/device-tree is a link to /sys/firmware/devicetree/base on a board; both are read.
inline constexpr const char* kDeviceTree = "/proc/device-tree";
inline constexpr const char* kDeviceTreeBase = "/sys/firmware/devicetree/base";
inline constexpr const char* kTegraRelease = "/etc/nv_tegra_release";
inline constexpr const char* kTegraChipId = "/sys/module/tegra_fuse/parameters/tegra_chip_id";
inline constexpr const char* kOsRelease = "/proc/sys/kernel/osrelease";

// CPU: cpuK/online and the cpufreq policies.
inline constexpr const char* kCpuDir = "/sys/devices/system/cpu";
inline constexpr const char* kCpufreqDir = "/sys/devices/system/cpu/cpufreq";

// GPU: every devfreq device, and the gpu.0 convenience links (jetson_clocks' do_igpu()).
inline constexpr const char* kDevfreqClass = "/sys/class/devfreq";
inline constexpr std::array<const char*, 3> kGpuLinks = {"/sys/devices/platform/gpu.0", "/sys/devices/gpu.0",
                                                         "/sys/devices/platform/bus@0/gpu.0"};

// EMC: BPMP debugfs (T186/T194/T234) or the T210 override interface with its bandwidth manager.
inline constexpr const char* kBpmpEmcDir = "/sys/kernel/debug/bpmp/debug/clk/emc";
inline constexpr const char* kT210EmcDir = "/sys/kernel/debug/clk/override.emc";
inline constexpr const char* kT210BwmgrDir = "/sys/kernel/debug/tegra_bwmgr";

// Power rails (INA3221 on i2c) and thermal zones (the class, else the virtual devices).
inline constexpr const char* kI2cDevices = "/sys/bus/i2c/devices";
inline constexpr const char* kThermalClass = "/sys/class/thermal";
inline constexpr const char* kThermalVirtual = "/sys/devices/virtual/thermal";

}  // namespace flame::board::paths
