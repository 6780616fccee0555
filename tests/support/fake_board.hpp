#pragma once
// Fake Jetson sysfs trees following jetson-sysfs.md §11: Orin Nano 8GB Super on JetPack 6.2 (§11.2),
// Xavier NX on JetPack 4.6 (§11.3) and its JetPack 5 variant, with optional decoys and faults.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fake_tree.hpp"

namespace flame::test {

enum class Profile { OrinNanoJp6, XavierNxJp4, XavierNxJp5 };

const char* profile_name(Profile p);  // "orin-nano-jp6", "xavier-nx-jp4", "xavier-nx-jp5"
std::optional<Profile> parse_profile(const std::string& name);
std::vector<Profile> all_profiles();

struct FixtureOptions {
  bool vic_decoy = true;               // a non-GPU devfreq device (host1x VIC) next to the GPU
  std::vector<int> offline_cpus;       // cpuK/online = 0 (cpufreq files stay readable)
  bool sensorless_unreadable = false;  // a sensorless thermal zone whose temp read fails instead of -256000
  bool debugfs_unreadable = false;     // the EMC rate attribute cannot be read (a directory: EISDIR)
  bool no_debugfs = false;             // debugfs not mounted
  bool gpu_unregistered = false;       // GPU present but its devfreq device not registered yet
  bool nvpmodel_conf = false;          // a small /etc/nvpmodel.conf (illustrative caps, test only)
  bool nc_rail = false;                // an extra INA3221 channel labelled "NC" (must be skipped)
};

void build(Profile p, FakeTree& t, const FixtureOptions& o = {});

// Shorthands (designated initializers trip GCC 12's -Wmissing-field-initializers).
inline FixtureOptions offline(std::vector<int> cpus) {
  FixtureOptions o;
  o.offline_cpus = std::move(cpus);
  return o;
}
inline FixtureOptions option(bool FixtureOptions::*flag) {
  FixtureOptions o;
  o.*flag = true;
  return o;
}

// Facts about each profile, for assertions.
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
};
ProfileFacts facts(Profile p);

}  // namespace flame::test
