#pragma once
// Fake Jetson sysfs trees following the sources of docs/board-io.md: Orin Nano 8GB Super on JetPack
// 6.2 and Orin Nano 8GB on JetPack 5.1, Xavier NX on JetPack 4.6 and its JetPack 5 variant, and a Jetson TX2
// on JetPack 4 (L4T R32, tegra186) whose clock tables are exactly the FlexiBO measurement grid (the simulated
// board of `flame sim`, docs/simulator.md). Optional decoys and faults for tests.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "flame/sim/fake_tree.hpp"

namespace flame::sim {

// Tx2Jp4 is the grid board of `flame sim` and `flame eval`; Tx2Jp4Mode3 and Tx2Jp4Maxn are the module
// with its own tables in nvpmodel mode 3 and mode 0, for the board tests (docs/simulator.md).
enum class Profile { OrinNanoJp6, OrinNanoJp5, XavierNxJp4, XavierNxJp5, Tx2Jp4, Tx2Jp4Mode3, Tx2Jp4Maxn };

// "orin-nano-jp6", "orin-nano-jp5", "xavier-nx-jp4", "xavier-nx-jp5", "tx2-jp4", "tx2-jp4-mode3",
// "tx2-jp4-maxn"
const char* profile_name(Profile p);
std::optional<Profile> parse_profile(const std::string& name);
// Every profile: the board tests and `flame sim tree --list` iterate over it, so a new profile is tested.
std::vector<Profile> all_profiles();
std::string profile_names();  // "orin-nano-jp6 | ... ", for help texts

struct TreeOptions {
  bool vic_decoy = true;               // a non-GPU devfreq device (host1x VIC) next to the GPU
  std::vector<int> offline_cpus;       // cpuK/online = 0 (cpufreq files stay readable)
  bool sensorless_unreadable = false;  // a sensorless thermal zone whose temp read fails instead of -256000
  bool debugfs_unreadable = false;     // the EMC rate attribute cannot be read (a directory: EISDIR)
  bool no_debugfs = false;             // debugfs not mounted
  bool gpu_unregistered = false;       // GPU present but its devfreq device not registered yet
  bool nvpmodel_conf = false;          // a small /etc/nvpmodel.conf (illustrative caps, test only)
  bool nc_rail = false;                // an extra INA3221 channel labelled "NC" (must be skipped)
  // tx2-jp4 only: the grid board has its Denver cluster (cpu1, cpu2) hotplugged off, as FlexiBO measured
  // it, see tx2_layout(); this keeps it online.
  bool tx2_denver_online = false;
  // The current clocks are relative symlinks to their limits (cpufreq scaling_cur_freq and
  // cpuinfo_cur_freq -> scaling_max_freq, devfreq cur_freq and target_freq -> max_freq), so that
  // without a simulator they follow every write as a busy board's would (docs/simulator.md, "Current
  // clocks"). The simulator replaces a link with a plain file when it writes the clocks in effect.
  bool cur_follows_max = false;
};

void build(Profile p, FakeTree& t, const TreeOptions& o = {});

// Facts about each profile, for assertions and for the simulator.
struct ProfileFacts {
  std::string soc;
  std::string l4t;
  bool qos = false;  // 5.10+ write rules
  std::vector<std::string> policies;
  std::vector<std::uint64_t> cpu_khz;
  std::vector<std::uint64_t> gpu_hz;
  std::vector<std::uint64_t> emc_hz;  // rates the EMC model supports
  std::string gpu_name;
  std::string gpu_devfreq_dir;  // resolved
  std::string emc_dir;
  std::uint64_t emc_max_hz = 0;
  // What discovery finds in the default tree (TreeOptions{}).
  std::vector<std::string> offline_policies{};  // policies whose CPUs are all offline
  int online_cores = 0;
  std::size_t rails = 0;  // named INA3221 channels
  std::uint64_t emc_iso_cap = 0;
  int nvpmodel_mode = 0;  // /var/lib/nvpmodel/status
  // The current mode's conf caps (0 = none), which flame's writer honours.
  std::uint64_t nvpmodel_cpu_khz = 0, nvpmodel_gpu_hz = 0;
  std::string cpu_zone = "cpu";  // a thermal zone type that names the CPU
};
ProfileFacts facts(Profile p);

// Where the simulator finds what it reads and refreshes in a simulated board's tree (in-root paths).
struct BoardLayout {
  std::string grid_policy;             // cpufreq policy the simulator reads (TX2: the A57 cluster)
  std::vector<int> grid_cpus;          // the CPUs counted as online cores (TX2: FlexiBO's core0..3)
  std::vector<std::string> policies;   // every policy dir (the grid policy first)
  std::string gpu_devfreq;             // GPU devfreq dir
  std::string gpu_device;              // GPU device dir (load)
  std::string emc;                     // bpmp debugfs EMC clock dir
  std::string emc_iso_cap;             // nvpmodel EMC cap (Hz, 0 = none)
  std::string vdd_in;                  // dir holding the VDD_IN rail: iio (channel 0) or hwmon (channel 1)
  bool vdd_in_hwmon = false;           // hwmon: in1_input mV, curr1_input mA; iio: in_power0_input mW
  double vdd_in_mv = 0;                // bus voltage written with the power readings
  std::vector<std::string> die_zones;  // thermal zone dirs that show the die temperature
};
// TX2 on JetPack 4 (profile tx2-jp4).
BoardLayout tx2_layout();
// Orin Nano 8GB Super on JetPack 6 (profile orin-nano-jp6): policy0 (cpu0-3) is read, all six CPUs
// count as cores, VDD_IN is hwmon channel 1 of the INA3221 at 1-0040.
BoardLayout orin_nano_layout();

}  // namespace flame::sim
