#include <catch2/catch.hpp>

#include "config/config.hpp"
#include "flame/sim/fake_tree.hpp"

using Catch::Contains;
using flamed::ConfigError;
using flamed::parse_config;

TEST_CASE("config: defaults when the file is empty") {
  const auto c = parse_config("", "empty.yaml");
  CHECK(c.sysfs_root == "/");
  CHECK(c.socket_path == "/run/flame/flamed.sock");
  CHECK(c.socket_mode == 0660);
  CHECK(c.policy.idle == flamed::IdlePolicy::Restore);
  CHECK(c.limits.max_line_bytes == 65536);
}

TEST_CASE("config: every documented key parses") {
  const auto c = parse_config(R"(
sysfs_root: /tmp/fake
socket_path: /tmp/f.sock
socket_group: ""
socket_mode: 0600
models_dir: /tmp/models
state_dir: /tmp/state
runtime_dir: /tmp/run
log_level: debug
safety_margin_pct: 10
idle_policy: lowest
request_expiry_ms: 500
idle_delay_ms: 0
queue_aware: false
dry_run: true
dbus: false
limits: {max_line_bytes: 4096, max_connections: 8, max_requests_per_client: 4, rate_per_s: 100, rate_burst: 10}
domains:
  cpu: {enabled: true, min_khz: 345600, max_khz: 2035200}
  gpu: {enabled: false}
  emc: {max_hz: 1866000000}
recalibration: {enabled: false, alpha: 0.5, outlier_ratio: 2, min_factor: 0.8, max_factor: 2, persist_interval_s: 5, noise_z: 0}
metrics: {textfile: /tmp/flamed.prom, interval_s: 2}
)",
                              "full.yaml");
  CHECK(c.sysfs_root == "/tmp/fake");
  CHECK(c.socket_group.empty());
  CHECK(c.socket_mode == 0600);
  CHECK(c.policy.idle == flamed::IdlePolicy::Lowest);
  CHECK(c.policy.idle_delay_ms == 0);
  CHECK_FALSE(c.policy.queue_aware);
  CHECK(parse_config("", "empty.yaml").policy.queue_aware);
  CHECK(c.limits.max_connections == 8);
  CHECK(c.cpu.min == 345600);
  CHECK_FALSE(c.gpu.enabled);
  CHECK(c.emc.max == 1866000000);
  CHECK(c.recalibration.calibrator.alpha == 0.5);
  CHECK(c.recalibration.calibrator.noise_z == 0);
  CHECK(c.metrics.textfile == "/tmp/flamed.prom");
  // dump -> parse round trip keeps every value.
  const auto again = parse_config(flamed::dump_config(c), "dump");
  CHECK(flamed::dump_config(again) == flamed::dump_config(c));
}

TEST_CASE("config: errors name file:line:column and the key") {
  CHECK_THROWS_WITH(parse_config("sysfs_root: /\nsocket_pth: /x\n", "f.yaml"),
                    Contains("f.yaml:2:1: unknown key 'socket_pth'"));
  CHECK_THROWS_WITH(parse_config("safety_margin_pct: lots\n", "f.yaml"),
                    Contains("f.yaml:1:20: safety_margin_pct: 'lots' is not a number"));
  CHECK_THROWS_WITH(parse_config("safety_margin_pct: 150\n", "f.yaml"), Contains("out of range"));
  CHECK_THROWS_WITH(parse_config("idle_policy: sleepy\n", "f.yaml"), Contains("'sleepy' is not one of"));
  CHECK_THROWS_WITH(parse_config("domains:\n  cpu: {min_khz: 2000, max_khz: 1000}\n", "f.yaml"),
                    Contains("domains.cpu: min_khz (2000) is above max_khz (1000)"));
  CHECK_THROWS_WITH(parse_config("domains:\n  npu: {}\n", "f.yaml"),
                    Contains("f.yaml:2:3: unknown key 'domains.npu'"));
  CHECK_THROWS_WITH(parse_config("limits: 5\n", "f.yaml"), Contains("expected a mapping"));
  CHECK_THROWS_WITH(parse_config("models_dir: relative/path\n", "f.yaml"),
                    Contains("expected an absolute path"));
  CHECK_THROWS_WITH(parse_config("socket_mode: 999\n", "f.yaml"), Contains("octal mode"));
  CHECK_THROWS_WITH(parse_config("socket_mode: \"0666\"\n", "f.yaml"),
                    Contains("f.yaml:1:14: socket_mode: 0666 lets every user"));
  CHECK_THROWS_WITH(parse_config("socket_mode: \"4660\"\n", "f.yaml"), Contains("setuid, setgid and sticky"));
  CHECK_THROWS_WITH(parse_config("socket_mode: \"1770\"\n", "f.yaml"), Contains("setuid, setgid and sticky"));
  CHECK(parse_config("socket_mode: \"0600\"\n", "f.yaml").socket_mode == 0600);
  // A directory is no configuration file (an ifstream opens it and reads nothing).
  CHECK_THROWS_WITH(flamed::load_config("/tmp"), Contains("Is a directory"));
  CHECK_THROWS_WITH(flamed::load_config_keys("/tmp", {"sysfs_root"}, nullptr), Contains("Is a directory"));
  CHECK_THROWS_WITH(parse_config("dry_run: maybe\n", "f.yaml"), Contains("expected true or false"));
  CHECK_THROWS_WITH(parse_config("a: [1, 2\n", "f.yaml"), Contains("f.yaml:"));
  CHECK_THROWS_WITH(parse_config("log_level: info\nlog_level: debug\n", "f.yaml"),
                    Contains("f.yaml:2:1: duplicate key 'log_level'"));
  CHECK_THROWS_WITH(flamed::load_config("/nonexistent/flamed.yaml"), Contains("cannot open"));
  // Complex keys (found by tests/integration/fuzz.sh: yaml-cpp's conversion error escaped).
  CHECK_THROWS_AS(parse_config("domains:\n ? gpu: {enabled: true}\n", "f.yaml"), flamed::ConfigError);
  CHECK_THROWS_WITH(parse_config("domains:\n ? gpu: {enabled: true}\n", "f.yaml"),
                    Contains("f.yaml:2:4: a key of 'domains' is a mapping; keys are plain names"));
  CHECK_THROWS_WITH(parse_config("? [a, b]\n: 1\n", "f.yaml"), Contains("a key of 'the file' is a list"));
}

TEST_CASE("config: --restore salvages the board and runtime paths from an invalid file") {
  flame::sim::FakeTree dir;
  const std::string path = dir.root() + "/flamed.yaml";
  std::string why;
  SECTION("valid YAML, invalid configuration: the two paths are kept") {
    dir.raw("/flamed.yaml", "sysfs_root: /tmp/fake\nruntime_dir: /tmp/run\nsafety_margin_pct: lots\n");
    REQUIRE_THROWS_AS(flamed::load_config(path), ConfigError);
    const auto c = flamed::salvage_restore_paths(path, &why);
    CHECK(c.sysfs_root == "/tmp/fake");
    CHECK(c.runtime_dir == "/tmp/run");
    CHECK(why == "defaults with sysfs_root=/tmp/fake, runtime_dir=/tmp/run");
  }
  SECTION("relative or non-scalar paths are not trusted") {
    dir.raw("/flamed.yaml", "sysfs_root: fake\nruntime_dir: [a, b]\n");
    const auto c = flamed::salvage_restore_paths(path, &why);
    CHECK(c.sysfs_root == "/");
    CHECK(c.runtime_dir == "/run/flame");
    CHECK(why == "compiled-in defaults");
  }
  SECTION("not YAML at all, or missing: defaults") {
    dir.raw("/flamed.yaml", "sysfs_root: [unclosed\n");
    CHECK(flamed::salvage_restore_paths(path, &why).sysfs_root == "/");
    CHECK(flamed::salvage_restore_paths(dir.root() + "/absent.yaml", &why).runtime_dir == "/run/flame");
    CHECK(why == "compiled-in defaults");
  }
}
