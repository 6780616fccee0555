// `flame board snapshot`: a copy of what discovery reads, loadable as --sysfs-root, that discovers as
// the original did; identifying data left out and listed; symlink loops survived; write-only and
// oversized files skipped; a non-empty target refused with nothing changed.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "fake_board.hpp"
#include "flame/board/detail/identifying.hpp"
#include "flame/board/discovery.hpp"
#include "flame/board/snapshot.hpp"

using namespace flame::board;
using flame::test::FakeTree;
using flame::test::Profile;
namespace fs = std::filesystem;

namespace {

const std::string kSerial = "/proc/device-tree/serial-number";
const std::string kMac = "/proc/device-tree/nvidia,ether-mac";
// Where they are: /proc/device-tree is a link to the firmware's device tree, as on a board.
const std::string kSerialAt = "/sys/firmware/devicetree/base/serial-number";
const std::string kMacAt = "/sys/firmware/devicetree/base/nvidia,ether-mac";
const std::string kNetAddress = "/sys/class/net/eth0/address";

// What a real board adds to the fake trees: a serial number and a MAC address where the snapshot
// looks (the device-tree root), a network interface, a two-link cycle in the thermal class and a link
// back to an ancestor in a directory the snapshot copies.
void add_board_details(FakeTree& t) {
  t.raw(kSerial, std::string("1421623033141") + '\0');
  t.raw(kMac, std::string("48:b0:2d:12:34:56") + '\0');
  t.attr(kNetAddress, "48:b0:2d:12:34:57");
  t.link("/sys/class/thermal/thermal_zone98", "/sys/class/thermal/thermal_zone99");
  t.link("/sys/class/thermal/thermal_zone99", "/sys/class/thermal/thermal_zone98");
  t.link("/sys/devices/system/cpu/cpufreq/policy0/stats/up", "/sys/devices/system/cpu");
}

nlohmann::json discovered(const std::string& root) {
  auto j = to_json(discover(root));
  j.erase("sysfs_root");
  return j;
}

SnapshotOptions options() {
  SnapshotOptions o;
  o.date = "2025-01-08T12:00:00Z";
  o.flame_version = "test";
  return o;
}

bool listed(const std::vector<SnapshotItem>& items, const std::string& path) {
  for (const auto& i : items)
    if (i.path == path) return true;
  return false;
}

}  // namespace

TEST_CASE("board snapshot: link targets stay inside the root", "[board][snapshot]") {
  // Relative targets that stay inside are kept as they are (sysfs' own form).
  CHECK(relative_link_target("/sys/class/devfreq/17000000.gpu", "../../devices/platform/17000000.gpu") ==
        "../../devices/platform/17000000.gpu");
  // Absolute targets are re-rooted, as SysfsRoot resolves them.
  CHECK(relative_link_target("/proc/device-tree", "/sys/firmware/devicetree/base") ==
        "../sys/firmware/devicetree/base");
  CHECK(relative_link_target("/sys/devices/gpu.0", "/sys/devices/17000000.gv11b") == "17000000.gv11b");
  CHECK(relative_link_target("/a/b/link", "/a/c/d") == "../c/d");
  CHECK(relative_link_target("/link", "/") == ".");
  CHECK(relative_link_target("/a/b/link", "/") == "../..");
  // Climbing above the root stops at the root (resolve()); on disk it must not leave the snapshot.
  CHECK(relative_link_target("/a/link", "../../../x") == "../x");
}

TEST_CASE("board snapshot: serial numbers and MAC addresses are recognised", "[board][snapshot]") {
  CHECK(identifying_name("/proc/device-tree/serial-number") == "serial number");
  CHECK(identifying_name("/sys/firmware/devicetree/base/serial-number") == "serial number");
  CHECK(identifying_name("/sys/devices/soc0/serial_number") == "serial number");
  CHECK(identifying_name("/sys/class/net/eth0/address") == "MAC address");
  CHECK(identifying_name("/proc/device-tree/ethernet@2310000/local-mac-address") == "MAC address");
  CHECK(identifying_name("/sys/bus/i2c/devices/1-0040/address").empty());  // not a net device
  CHECK(identifying_name("/proc/device-tree/model").empty());
  CHECK(identifying_name("/sys/devices/system/cpu/cpufreq/policy0/scaling_cur_freq").empty());
  CHECK(identifying_content("48:b0:2d:12:34:56\n") == "MAC address");
  CHECK(identifying_content("mac=48-B0-2D-12-34-56 up") == "MAC address");
  CHECK(identifying_content("12:34:56\n").empty());
  CHECK(identifying_content("1190400 1267200 \n").empty());
  CHECK(identifying_content("48:b0:2d:12:34\n").empty());
  CHECK(identifying_content("48:b0-2d:12:34:56\n").empty());  // mixed separators
}

TEST_CASE("board snapshot: every profile loads back as the same board", "[board][snapshot]") {
  for (auto p : flame::sim::all_profiles()) {
    DYNAMIC_SECTION(flame::sim::profile_name(p)) {
      FakeTree tree;
      flame::sim::build(p, tree);
      add_board_details(tree);
      const auto s = collect_snapshot(SysfsRoot(tree.root()), options());
      CHECK(s.complete);
      FakeTree out;  // an empty directory: allowed
      write_snapshot(s, options(), out.root());

      CHECK(discovered(out.root()) == discovered(tree.root()));
      // The simulator's reads come from the same places (profiles.cpp layouts): spot-check them.
      FakeTree copy(out.root(), false);
      CHECK(copy.read("/sys/kernel/nvpmodel_emc_cap/emc_iso_cap") ==
            tree.read("/sys/kernel/nvpmodel_emc_cap/emc_iso_cap"));
      CHECK(copy.read("/sys/devices/system/cpu/cpu0/online") ==
            tree.read("/sys/devices/system/cpu/cpu0/online"));

      // Identifying data: not copied, and listed.
      CHECK_FALSE(copy.exists(kSerial));
      CHECK_FALSE(copy.exists(kMac));
      CHECK_FALSE(copy.exists(kNetAddress));
      CHECK_FALSE(copy.exists(kSerialAt));
      CHECK(listed(s.left_out, kSerialAt));
      CHECK(listed(s.left_out, kMacAt));
      CHECK(fs::is_symlink(out.root() + "/proc/device-tree"));
      for (const auto& [path, bytes] : copy.snapshot()) {
        INFO(path);
        CHECK(identifying_content(bytes).empty());
      }

      // The loops are copied as links (so discovery sees the same), not followed.
      CHECK(fs::is_symlink(out.root() + "/sys/class/thermal/thermal_zone98"));
      CHECK(fs::is_symlink(out.root() + "/sys/devices/system/cpu/cpufreq/policy0/stats/up"));
      CHECK(listed(s.skipped, "/sys/class/thermal/thermal_zone98"));

      // Every link is relative and lands inside the snapshot.
      for (const auto& [path, target] : s.links) {
        INFO(path << " -> " << target);
        CHECK(target.front() != '/');
        const auto where = (fs::path(out.root() + path).parent_path() / target).lexically_normal().string();
        CHECK(where.rfind(out.root(), 0) == 0);
      }

      const auto m = nlohmann::json::parse(copy.read("/" + std::string(kSnapshotManifest)));
      CHECK(m["format"] == "flame-board-snapshot");
      CHECK(m["date"] == "2025-01-08T12:00:00Z");
      CHECK(m["flame_version"] == "test");
      CHECK(m["source_root"] == tree.root());
      CHECK(m["copied"]["files"] == s.files.size());
      CHECK(m["left_out"].size() == s.left_out.size());
    }
  }
}

TEST_CASE("board snapshot: faults and decoys discover the same after the copy", "[board][snapshot]") {
  using O = flame::sim::TreeOptions;
  std::vector<std::pair<const char*, O>> cases;
  for (auto flag : {&O::debugfs_unreadable, &O::no_debugfs, &O::gpu_unregistered, &O::sensorless_unreadable,
                    &O::nvpmodel_conf, &O::nc_rail})
    cases.emplace_back("flag", flame::test::option(flag));
  cases.emplace_back("offline", flame::test::offline({4, 5}));
  for (auto p : {Profile::OrinNanoJp6, Profile::XavierNxJp4}) {
    for (std::size_t i = 0; i < cases.size(); ++i) {
      DYNAMIC_SECTION(flame::sim::profile_name(p) << " case " << i) {
        FakeTree tree;
        flame::sim::build(p, tree, cases[i].second);
        FakeTree out;
        write_snapshot(collect_snapshot(SysfsRoot(tree.root()), options()), options(), out.root());
        CHECK(discovered(out.root()) == discovered(tree.root()));
      }
    }
  }
}

TEST_CASE("board snapshot: the nvpmodel conf's paths are copied so its caps resolve", "[board][snapshot]") {
  FakeTree tree;
  flame::sim::build(Profile::XavierNxJp5, tree, flame::test::option(&flame::sim::TreeOptions::nvpmodel_conf));
  // Mode 8 caps nothing; switch to the capped test mode so the resolution matters.
  tree.attr("/var/lib/nvpmodel/status", "pmode:0000 fmode:quiet");
  // A parameter naming a file nothing else copies (real confs name fan and DLA/PVA clock files).
  std::string conf = tree.read("/etc/nvpmodel.conf");
  conf.insert(conf.find('\n') + 1, "< PARAM TYPE=FILE NAME=FAN >\nPWM /sys/devices/pwm-fan/target_pwm\n");
  tree.raw("/etc/nvpmodel.conf", conf);
  tree.attr("/sys/devices/pwm-fan/target_pwm", "128");
  FakeTree out;
  const auto s = collect_snapshot(SysfsRoot(tree.root()), options());
  CHECK(s.notes.empty());
  CHECK(s.files.count("/sys/devices/pwm-fan/target_pwm"));
  write_snapshot(s, options(), out.root());
  const Board b = discover(out.root());
  REQUIRE(b.cpu.size() == 3);
  CHECK(b.cpu[0].nvpmodel_max_khz == 1200000u);
  CHECK(b.gpu.nvpmodel_max_hz == 520000000u);
  CHECK(discovered(out.root()) == discovered(tree.root()));
}

TEST_CASE("board snapshot: write-only, oversized, GPU-acting and limited files are not copied",
          "[board][snapshot]") {
  FakeTree tree;
  flame::sim::build(Profile::OrinNanoJp6, tree);
  const std::string pol = "/sys/devices/system/cpu/cpufreq/policy0";
  tree.attr(pol + "/reset_stats", "0");
  ::chmod(tree.host(pol + "/reset_stats").c_str(), 0200);
  tree.raw(pol + "/stats/trans_table", std::string(70 * 1024, 'x'));
  // An nvgpu attribute that acts when read: never opened (only the GPU attributes discovery reads are).
  const std::string gpu = "/sys/devices/platform/bus@0/17000000.gpu";
  tree.attr(gpu + "/counters_reset", "0 0");
  auto s = collect_snapshot(SysfsRoot(tree.root()), options());
  CHECK(s.complete);
  CHECK_FALSE(s.files.count(gpu + "/counters_reset"));
  CHECK(s.files.count(gpu + "/load"));
  CHECK(s.files.count(gpu + "/railgate_enable"));
  CHECK(listed(s.skipped, pol + "/reset_stats"));
  CHECK(listed(s.skipped, pol + "/stats/trans_table"));
  CHECK_FALSE(s.files.count(pol + "/reset_stats"));
  CHECK(s.files.count(pol + "/scaling_max_freq"));

  auto small = options();
  small.max_files = 5;
  s = collect_snapshot(SysfsRoot(tree.root()), small);
  CHECK_FALSE(s.complete);
  CHECK(s.files.size() == 5);
  FakeTree out;
  write_snapshot(s, small, out.root());
  const auto m = nlohmann::json::parse(FakeTree(out.root(), false).read("/SNAPSHOT.json"));
  CHECK(m["complete"] == false);
}

TEST_CASE("board snapshot: a non-empty target is refused and left as it was", "[board][snapshot]") {
  FakeTree tree;
  flame::sim::build(Profile::OrinNanoJp6, tree);
  const auto s = collect_snapshot(SysfsRoot(tree.root()), options());
  FakeTree out;
  out.attr("/keep", "mine");
  const auto before = out.snapshot();
  CHECK_THROWS_AS(write_snapshot(s, options(), out.root()), SnapshotError);
  CHECK_THROWS_WITH(write_snapshot(s, options(), out.root()), Catch::Contains("not empty"));
  CHECK(out.snapshot() == before);
  // No half-written sibling either.
  for (const auto& e : fs::directory_iterator(fs::path(out.root()).parent_path()))
    CHECK(e.path().filename().string().find(fs::path(out.root()).filename().string() + ".partial") ==
          std::string::npos);
  // A file in the way is refused too; a new directory is created.
  CHECK_THROWS_AS(write_snapshot(s, options(), out.host("/keep")), SnapshotError);
  write_snapshot(s, options(), out.host("/new/snap"));
  CHECK(fs::exists(out.host("/new/snap/SNAPSHOT.json")));
}
