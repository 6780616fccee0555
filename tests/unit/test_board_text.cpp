// Parsing of sysfs attribute text and in-root path resolution (docs/board-io.md, Discovery).
#include <catch2/catch.hpp>
#include <filesystem>

#include "fake_tree.hpp"
#include "flame/board/detail/sysfs_root.hpp"
#include "flame/board/detail/text.hpp"

using namespace flame::board;

TEST_CASE("board text: numbers tolerate sysfs formatting quirks", "[board][text]") {
  CHECK(parse_u64("1728000\n") == 1728000u);
  CHECK(parse_u64("1728000") == 1728000u);  // missing final newline
  CHECK(parse_u64(" 1728000 \n") == 1728000u);
  CHECK_FALSE(parse_u64("<unsupported>\n"));
  CHECK_FALSE(parse_u64("undefined\n"));
  CHECK_FALSE(parse_u64("-1\n"));
  CHECK_FALSE(parse_u64("12abc"));
  CHECK_FALSE(parse_u64(""));
  CHECK(parse_i64("-256000\n") == -256000);
}

TEST_CASE("board text: frequency tables with and without a trailing space", "[board][text]") {
  CHECK(parse_u64_list("115200 192000 268800 \n") == std::vector<std::uint64_t>{115200, 192000, 268800});
  CHECK(parse_u64_list("306000000 408000000") == std::vector<std::uint64_t>{306000000, 408000000});
  CHECK(parse_u64_list("\n")->empty());
  CHECK_FALSE(parse_u64_list("1 2 x"));
}

TEST_CASE("board text: device-tree strings are NUL separated", "[board][text]") {
  const std::string compat("nvidia,p3767-0005\0nvidia,tegra234\0", 34);
  CHECK(parse_dt_strings(compat) == std::vector<std::string>{"nvidia,p3767-0005", "nvidia,tegra234"});
  CHECK(parse_dt_strings(std::string("gpu\0", 4)) == std::vector<std::string>{"gpu"});
}

TEST_CASE("board text: CPU lists in range and space formats", "[board][text]") {
  CHECK(parse_cpu_list("0-3\n") == std::vector<int>{0, 1, 2, 3});
  CHECK(parse_cpu_list("0 1 2 3 \n") == std::vector<int>{0, 1, 2, 3});
  CHECK(parse_cpu_list("0-1,4-5") == std::vector<int>{0, 1, 4, 5});
  CHECK(parse_cpu_list("\n")->empty());  // an all-offline policy's affected_cpus
  CHECK_FALSE(parse_cpu_list("3-1"));
  CHECK(format_cpu_list({0, 1, 2, 3, 5}) == "0-3,5");
  CHECK(format_cpu_list({}) == "");
}

TEST_CASE("board root: symlinks resolve inside the root, absolute targets re-rooted", "[board][root]") {
  flame::test::FakeTree t;
  t.attr("/sys/devices/platform/bus@0/17000000.gpu/load", "0");
  t.link("/sys/devices/platform/gpu.0", "/sys/devices/platform/bus@0/17000000.gpu");
  // An absolute link, as /proc/device-tree is on a real system.
  t.attr("/sys/firmware/devicetree/base/model", "x");
  std::filesystem::create_symlink("/sys/firmware/devicetree/base", t.host("/proc-dt"));
  SysfsRoot root(t.root());
  CHECK(root.resolve("/sys/devices/platform/gpu.0/load") == "/sys/devices/platform/bus@0/17000000.gpu/load");
  CHECK(root.resolve("/proc-dt/model") == "/sys/firmware/devicetree/base/model");
  // ".." applies to the resolved directory, as in realpath(3).
  CHECK(root.resolve("/sys/devices/platform/gpu.0/../17000000.gpu/load") ==
        "/sys/devices/platform/bus@0/17000000.gpu/load");
  CHECK_FALSE(root.resolve("/sys/nope"));
  std::filesystem::create_symlink("loop", t.host("/loop"));
  CHECK_FALSE(root.resolve("/loop/x"));
  CHECK(root.is_dir("/sys/devices/platform/gpu.0"));
  CHECK(root.list("/sys/devices/platform") == std::vector<std::string>{"bus@0", "gpu.0"});
  CHECK(root.host("/sys") == t.root() + "/sys");
  CHECK(SysfsRoot("/").host("/sys") == "/sys");
  CHECK(SysfsRoot(t.root() + "/").root() == t.root());
}
