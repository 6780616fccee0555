// flame_fake_sysfs PROFILE DIR [options]: writes a fake Jetson sysfs tree (docs/board-io.md, Tests) for the
// integration tests, with the library's builder (the same as `flame sim tree`) plus the test faults.
#include <CLI/CLI.hpp>
#include <iostream>

#include "flame/sim/profiles.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Write a fake Jetson sysfs tree for tests"};
  std::string profile, dir;
  flame::sim::TreeOptions o;
  bool no_vic = false;
  app.add_option("profile", profile, flame::sim::profile_names())->required();
  app.add_option("dir", dir, "Directory to fill (created)")->required();
  app.add_option("--offline", o.offline_cpus, "CPUs to mark offline")->delimiter(',');
  app.add_flag("--no-vic", no_vic, "Omit the non-GPU devfreq decoy");
  app.add_flag("--unreadable-debugfs", o.debugfs_unreadable, "EMC rate attribute unreadable");
  app.add_flag("--no-debugfs", o.no_debugfs, "debugfs not mounted");
  app.add_flag("--gpu-unregistered", o.gpu_unregistered, "GPU devfreq not registered yet");
  app.add_flag("--sensorless-unreadable", o.sensorless_unreadable, "Sensorless thermal zones fail to read");
  app.add_flag("--nvpmodel-conf", o.nvpmodel_conf, "Write a small test /etc/nvpmodel.conf");
  app.add_flag("--nc-rail", o.nc_rail, "Label one INA3221 channel NC");
  app.add_flag("--cur-follows-max", o.cur_follows_max, "Current clocks are links to their limits");
  CLI11_PARSE(app, argc, argv);
  o.vic_decoy = !no_vic;
  auto p = flame::sim::parse_profile(profile);
  if (!p) {
    std::cerr << "unknown profile " << profile << "\n";
    return 2;
  }
  flame::sim::FakeTree tree(dir, /*owned=*/false);
  flame::sim::build(*p, tree, o);
  return 0;
}
