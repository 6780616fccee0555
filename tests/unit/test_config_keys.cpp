// The key table of flamed.yaml is the one source of parsing, --dump-config, the reload check and
// the key list of flamed.yaml(5); these tests fail when one of them drifts from it.
#include <catch2/catch.hpp>
#include <fstream>
#include <set>
#include <sstream>

#include "config/config.hpp"
#include "config/config_keys.hpp"

using Catch::Contains;
using flamed::Config;
using flamed::config_keys;
using flamed::parse_config;

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("config keys: names are unique, every key has help and is read from the file", "[config]") {
  std::set<std::string> names;
  for (const auto& k : config_keys()) {
    INFO(k.name);
    CHECK(names.insert(k.name).second);
    CHECK_FALSE(k.help.empty());
    CHECK(flamed::find_config_key(k.name) == &k);
  }
  CHECK(flamed::find_config_key("limits") == nullptr);
  CHECK(flamed::find_config_key("socket_pth") == nullptr);
  // A non-default value of every key survives dump -> parse; a key the parser did not read from
  // the table would come back at its default.
  Config c;
  c.sysfs_root = "/tmp/fake";
  c.socket_path = "/tmp/f.sock";
  c.socket_group = "users";
  c.socket_mode = 0600;
  c.models_dir = "/m";
  c.state_dir = "/s";
  c.runtime_dir = "/r";
  c.board_file = "/b.yaml";
  c.log_level = "debug";
  c.policy.safety_margin_pct = 7.5;
  c.policy.derived_margin_pct = 12.5;
  c.policy.idle = flamed::IdlePolicy::Max;
  c.policy.expiry_ms = 123;
  c.policy.idle_delay_ms = 45;
  c.policy.queue_aware = false;
  c.policy.max_requests_per_client = 5;
  c.dry_run = true;
  c.allow_foreign_models = true;
  c.dbus = false;
  c.simulation_clock = true;
  c.admin_group = "wheel";
  c.limits = {1024, 3, 2, 250, 125, 7, 9};
  c.cpu = {false, 1, 2};
  c.gpu = {false, 3, 4};
  c.emc = {false, 5, 6};
  c.policy.recalibrate = false;
  c.recalibration.calibrator.alpha = 0.3;
  c.recalibration.calibrator.outlier_ratio = 4;
  c.recalibration.calibrator.min_factor = 0.6;
  c.recalibration.calibrator.max_factor = 2.5;
  c.recalibration.calibrator.noise_z = 1.5;
  c.recalibration.persist_interval_s = 31;
  c.metrics = {"/tmp/m.prom", 16};
  const Config again = parse_config(flamed::dump_config(c), "dump");
  for (const auto& k : config_keys()) {
    INFO(k.name);
    CHECK(value_text(k, again) == value_text(k, c));
    CHECK(value_text(k, c) != value_text(k, Config{}));
  }
}

TEST_CASE("config keys: --dump-config prints numbers as written", "[config]") {
  const std::string dump = flamed::dump_config(Config{});
  CHECK_THAT(dump, Contains("  alpha: 0.2\n"));
  CHECK_THAT(dump, Contains("  noise_z: 2.33\n"));
  CHECK_THAT(dump, Contains("safety_margin_pct: 5\n"));
  CHECK_THAT(dump, Contains("socket_mode: \"0660\"\n"));
  CHECK_THAT(dump, Contains("queue_aware: true\n"));
  CHECK_THAT(dump, !Contains("0000000"));
  CHECK_THAT(dump, !Contains("board_file"));  // unset
  CHECK_THAT(dump, !Contains("simulation_clock"));
  CHECK_THAT(flamed::dump_config(parse_config("recalibration: {alpha: 0.1}\n", "f")),
             Contains("alpha: 0.1\n"));
}

TEST_CASE("config keys: the reload check is the table's restart-only keys", "[config]") {
  CHECK(flamed::restart_only_keys() == std::vector<std::string>{"sysfs_root", "socket_path", "runtime_dir",
                                                                "board_file", "dbus", "simulation_clock"});
  const Config running;
  Config next =
      parse_config("sysfs_root: /x\ndbus: false\nsafety_margin_pct: 9\nrecalibration: {alpha: 0.5}\n", "f");
  CHECK(flamed::restart_only_changes(running, next) == std::vector<std::string>{"sysfs_root", "dbus"});
  flamed::keep_restart_only(next, running);
  CHECK(next.sysfs_root == "/");
  CHECK(next.dbus);
  CHECK(next.policy.safety_margin_pct == 9);
  CHECK(next.recalibration.calibrator.alpha == 0.5);
  CHECK(flamed::restart_only_changes(running, next).empty());
}

TEST_CASE("config keys: an empty file keeps the policy's and the calibrator's own defaults", "[config]") {
  const Config c = parse_config("", "empty.yaml");
  const flame::policy::Options p;
  const flame::calibrate::CalibratorOptions cal;
  CHECK(c.policy.safety_margin_pct == p.safety_margin_pct);
  CHECK(c.policy.expiry_ms == p.expiry_ms);
  CHECK(c.policy.idle == p.idle);
  CHECK(c.policy.idle_delay_ms == p.idle_delay_ms);
  CHECK(c.policy.queue_aware == p.queue_aware);
  CHECK(c.policy.max_requests_per_client == p.max_requests_per_client);
  CHECK(c.policy.recalibrate == p.recalibrate);
  CHECK(c.recalibration.calibrator.alpha == cal.alpha);
  CHECK(c.recalibration.calibrator.outlier_ratio == cal.outlier_ratio);
  CHECK(c.recalibration.calibrator.min_factor == cal.min_factor);
  CHECK(c.recalibration.calibrator.max_factor == cal.max_factor);
  CHECK(c.recalibration.calibrator.noise_z == cal.noise_z);
}

TEST_CASE("config keys: flamed.yaml(5) lists exactly the table", "[config]") {
  const std::string page = read_text(FLAME_SOURCE_DIR "/docs/man/flamed.yaml.5.md");
  const std::string begin = "<!-- config keys: begin -->\n", end = "<!-- config keys: end -->";
  const auto b = page.find(begin), e = page.find(end);
  REQUIRE(b != std::string::npos);
  REQUIRE(e != std::string::npos);
  const std::string listed = page.substr(b + begin.size(), e - b - begin.size());
  // On failure the expected text is printed: paste it between the markers.
  INFO("docs/man/flamed.yaml.5.md, between the markers, should read:\n" << flamed::config_keys_markdown());
  CHECK(listed == flamed::config_keys_markdown());
  // No key is named anywhere else in the page with a default of its own ("**name** (...)").
  for (auto at = page.find("**"); at != std::string::npos; at = page.find("**", at + 2)) {
    const auto close = page.find("** (", at + 2);
    const std::string name = page.substr(at + 2, close == std::string::npos ? 0 : close - at - 2);
    if (name.empty() || name.find_first_not_of("abcdefghijklmnopqrstuvwxyz_.") != std::string::npos) continue;
    INFO(name);
    CHECK(at > b);
    CHECK(at < e);
    CHECK(flamed::find_config_key(name) != nullptr);
    at = close + 1;
  }
}

TEST_CASE("config keys: docs/config.md's table names every key", "[config]") {
  const std::string doc = read_text(FLAME_SOURCE_DIR "/docs/config.md");
  for (const auto& k : config_keys()) {
    INFO(k.name);
    // Rows may group a section's keys: `domains.cpu.enabled` / `min_khz` / `max_khz`.
    const std::string leaf = k.name.substr(k.name.rfind('.') + 1);
    CHECK((doc.find("`" + k.name + "`") != std::string::npos ||
           doc.find("`" + leaf + "`") != std::string::npos));
  }
}
