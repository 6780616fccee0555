#include "config.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <vector>

namespace flamed {
namespace {

// Walks one YAML mapping, checking that every key is known and every value has the right type.
class Section {
 public:
  Section(const YAML::Node& node, std::string path, const std::string& source)
      : node_(node), path_(std::move(path)), source_(source) {
    if (node_ && !node_.IsNull() && !node_.IsMap()) fail(node_, "expected a mapping");
  }

  template <typename F>
  void key(const std::string& name, F&& read) {
    known_.push_back(name);
    if (!node_ || node_.IsNull()) return;
    const YAML::Node v = node_[name];
    const std::string q = qualified(name);
    if (v && !v.IsNull()) read(v, q);
  }

  void finish() const {
    if (!node_ || node_.IsNull()) return;
    std::vector<std::string> seen;
    for (const auto& kv : node_) {
      // YAML allows a mapping or a list as a key ("? a: b"); none of ours is one.
      if (!kv.first.IsScalar())
        fail(kv.first,
             fmt::format("a key of '{}' is a {}; keys are plain names", path_.empty() ? "the file" : path_,
                         kv.first.IsMap()        ? "mapping"
                         : kv.first.IsSequence() ? "list"
                                                 : "null"));
      const auto k = kv.first.Scalar();
      if (std::find(seen.begin(), seen.end(), k) != seen.end())
        fail(kv.first, fmt::format("duplicate key '{}'", qualified(k)));
      seen.push_back(k);
      if (std::find(known_.begin(), known_.end(), k) == known_.end())
        fail(kv.first, fmt::format("unknown key '{}' (known: {})", qualified(k), fmt::join(known_, ", ")));
    }
  }

  [[noreturn]] void fail(const YAML::Node& at, const std::string& what) const {
    const YAML::Mark m = at.Mark();
    throw ConfigError(fmt::format("{}:{}:{}: {}", source_, m.line + 1, m.column + 1, what));
  }

  std::string qualified(const std::string& k) const { return path_.empty() ? k : path_ + "." + k; }

  double number(const YAML::Node& v, const std::string& key, double lo, double hi) const {
    if (!v.IsScalar()) fail(v, fmt::format("{}: expected a number", key));
    double d;
    try {
      d = v.as<double>();
    } catch (const YAML::Exception&) {
      fail(v, fmt::format("{}: expected a number, got '{}'", key, v.Scalar()));
    }
    if (!std::isfinite(d) || d < lo || d > hi)
      fail(v, fmt::format("{}: {} is out of range [{}, {}]", key, d, lo, hi));
    return d;
  }

  bool boolean(const YAML::Node& v, const std::string& key) const {
    try {
      if (v.IsScalar()) return v.as<bool>();
    } catch (const YAML::Exception&) {
    }
    fail(v, fmt::format("{}: expected true or false, got '{}'", key,
                        v.IsScalar() ? v.Scalar() : "a collection"));
  }

  std::string string(const YAML::Node& v, const std::string& key) const {
    if (!v.IsScalar()) fail(v, fmt::format("{}: expected a string", key));
    return v.Scalar();
  }

  std::filesystem::path absolute_path(const YAML::Node& v, const std::string& key) const {
    std::string s = string(v, key);
    if (s.empty() || s.front() != '/')
      fail(v, fmt::format("{}: expected an absolute path, got '{}'", key, s));
    return s;
  }

  const YAML::Node& node() const { return node_; }

 private:
  YAML::Node node_;
  std::string path_;
  const std::string& source_;
  std::vector<std::string> known_;
};

void read_domain(Section& parent, const std::string& name, DomainLimits& d, const std::string& unit,
                 const std::string& source) {
  parent.key(name, [&](const YAML::Node& v, const std::string& path) {
    Section s(v, path, source);
    s.key("enabled", [&](const YAML::Node& x, const std::string& k) { d.enabled = s.boolean(x, k); });
    s.key("min_" + unit, [&](const YAML::Node& x, const std::string& k) { d.min = s.number(x, k, 0, 1e13); });
    s.key("max_" + unit, [&](const YAML::Node& x, const std::string& k) { d.max = s.number(x, k, 0, 1e13); });
    s.finish();
    if (d.min > 0 && d.max > 0 && d.min > d.max)
      s.fail(v, fmt::format("{}: min_{} ({}) is above max_{} ({})", path, unit, d.min, unit, d.max));
  });
}

}  // namespace

const std::vector<std::string>& restart_only_keys() {
  static const std::vector<std::string> keys{"sysfs_root", "socket_path", "runtime_dir",
                                             "board_file", "dbus",        "simulation_clock"};
  return keys;
}

std::vector<std::string> restart_only_changes(const Config& a, const Config& b) {
  std::vector<std::string> out;
  if (a.sysfs_root != b.sysfs_root) out.emplace_back("sysfs_root");
  if (a.socket_path != b.socket_path) out.emplace_back("socket_path");
  if (a.runtime_dir != b.runtime_dir) out.emplace_back("runtime_dir");
  if (a.board_file != b.board_file) out.emplace_back("board_file");
  if (a.dbus != b.dbus) out.emplace_back("dbus");
  if (a.simulation_clock != b.simulation_clock) out.emplace_back("simulation_clock");
  return out;
}

void keep_restart_only(Config& next, const Config& running) {
  next.sysfs_root = running.sysfs_root;
  next.socket_path = running.socket_path;
  next.runtime_dir = running.runtime_dir;
  next.board_file = running.board_file;
  next.dbus = running.dbus;
  next.simulation_clock = running.simulation_clock;
}

Config parse_config(const std::string& yaml, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::ParserException& e) {
    throw ConfigError(
        fmt::format("{}:{}:{}: invalid YAML: {}", source, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
  Config c;
  Section top(root, "", source);
  top.key("sysfs_root", [&](auto& v, auto& k) { c.sysfs_root = top.absolute_path(v, k); });
  top.key("socket_path", [&](auto& v, auto& k) {
    c.socket_path = top.absolute_path(v, k);
    if (c.socket_path.string().size() >= 108)
      top.fail(v, k + ": longer than a Unix socket path may be (107 bytes)");
  });
  top.key("socket_group", [&](auto& v, auto& k) { c.socket_group = top.string(v, k); });
  top.key("socket_mode", [&](auto& v, auto& k) {
    // Accept 0660 (YAML reads it as the decimal 660 or octal 432 depending on the writer) as octal text.
    const std::string s = top.string(v, k);
    if (s.empty() || s.size() > 4 || s.find_first_not_of("01234567") != std::string::npos)
      top.fail(v, fmt::format("{}: expected an octal mode such as 0660, got '{}'", k, s));
    c.socket_mode = static_cast<uint32_t>(std::stoul(s, nullptr, 8));
  });
  top.key("models_dir", [&](auto& v, auto& k) { c.models_dir = top.absolute_path(v, k); });
  top.key("state_dir", [&](auto& v, auto& k) { c.state_dir = top.absolute_path(v, k); });
  top.key("runtime_dir", [&](auto& v, auto& k) { c.runtime_dir = top.absolute_path(v, k); });
  top.key("board_file", [&](auto& v, auto& k) { c.board_file = top.absolute_path(v, k); });
  top.key("log_level", [&](auto& v, auto& k) {
    c.log_level = top.string(v, k);
    static const std::vector<std::string> levels{"trace", "debug",    "info", "warn",
                                                 "error", "critical", "off"};
    if (std::find(levels.begin(), levels.end(), c.log_level) == levels.end())
      top.fail(v, fmt::format("{}: '{}' is not one of {}", k, c.log_level, fmt::join(levels, ", ")));
  });
  top.key("safety_margin_pct", [&](auto& v, auto& k) { c.safety_margin_pct = top.number(v, k, 0, 100); });
  top.key("idle_policy", [&](auto& v, auto& k) {
    const std::string s = top.string(v, k);
    if (s == "restore")
      c.idle_policy = IdlePolicy::Restore;
    else if (s == "lowest")
      c.idle_policy = IdlePolicy::Lowest;
    else if (s == "max")
      c.idle_policy = IdlePolicy::Max;
    else
      top.fail(v, fmt::format("{}: '{}' is not one of restore, lowest, max", k, s));
  });
  top.key("request_expiry_ms",
          [&](auto& v, auto& k) { c.request_expiry_ms = top.number(v, k, 1, 86'400'000); });
  top.key("idle_delay_ms", [&](auto& v, auto& k) { c.idle_delay_ms = top.number(v, k, 0, 3'600'000); });
  top.key("queue_aware", [&](auto& v, auto& k) { c.queue_aware = top.boolean(v, k); });
  top.key("dry_run", [&](auto& v, auto& k) { c.dry_run = top.boolean(v, k); });
  top.key("dbus", [&](auto& v, auto& k) { c.dbus = top.boolean(v, k); });
  top.key("simulation_clock", [&](auto& v, auto& k) { c.simulation_clock = top.boolean(v, k); });
  top.key("limits", [&](const YAML::Node& v, const std::string& path) {
    Section s(v, path, source);
    s.key("max_line_bytes",
          [&](auto& x, auto& k) { c.limits.max_line_bytes = size_t(s.number(x, k, 256, 16 << 20)); });
    s.key("max_connections",
          [&](auto& x, auto& k) { c.limits.max_connections = size_t(s.number(x, k, 1, 65536)); });
    s.key("max_requests_per_client",
          [&](auto& x, auto& k) { c.limits.max_requests_per_client = size_t(s.number(x, k, 1, 65536)); });
    s.key("rate_per_s", [&](auto& x, auto& k) { c.limits.rate_per_s = s.number(x, k, 1, 1e7); });
    s.key("rate_burst", [&](auto& x, auto& k) { c.limits.rate_burst = s.number(x, k, 1, 1e7); });
    s.finish();
  });
  top.key("domains", [&](const YAML::Node& v, const std::string& path) {
    Section s(v, path, source);
    read_domain(s, "cpu", c.cpu, "khz", source);
    read_domain(s, "gpu", c.gpu, "hz", source);
    read_domain(s, "emc", c.emc, "hz", source);
    s.finish();
  });
  top.key("recalibration", [&](const YAML::Node& v, const std::string& path) {
    Section s(v, path, source);
    auto& r = c.recalibration;
    s.key("enabled", [&](auto& x, auto& k) { r.enabled = s.boolean(x, k); });
    s.key("alpha", [&](auto& x, auto& k) { r.alpha = s.number(x, k, 0.001, 1); });
    s.key("outlier_ratio", [&](auto& x, auto& k) { r.outlier_ratio = s.number(x, k, 1.01, 100); });
    s.key("min_factor", [&](auto& x, auto& k) { r.min_factor = s.number(x, k, 0.01, 1); });
    s.key("max_factor", [&](auto& x, auto& k) { r.max_factor = s.number(x, k, 1, 100); });
    s.key("persist_interval_s", [&](auto& x, auto& k) { r.persist_interval_s = s.number(x, k, 1, 86400); });
    s.key("noise_z", [&](auto& x, auto& k) { r.noise_z = s.number(x, k, 0, 10); });
    s.finish();
  });
  top.key("metrics", [&](const YAML::Node& v, const std::string& path) {
    Section s(v, path, source);
    s.key("textfile", [&](auto& x, auto& k) {
      const std::string p = s.string(x, k);
      if (!p.empty() && p.front() != '/') s.fail(x, fmt::format("{}: expected an absolute path or \"\"", k));
      c.metrics.textfile = p;
    });
    s.key("interval_s", [&](auto& x, auto& k) { c.metrics.interval_s = s.number(x, k, 1, 86400); });
    s.finish();
  });
  top.finish();
  return c;
}

Config load_config(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(fmt::format("{}: cannot open configuration file", path.string()));
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_config(ss.str(), path.string());
}

Config salvage_restore_paths(const std::filesystem::path& path, std::string* why) {
  Config c;
  std::vector<std::string> taken;
  try {
    const YAML::Node root = YAML::LoadFile(path.string());
    auto take = [&](const char* key, std::filesystem::path& into) {
      const YAML::Node v = root.IsMap() ? root[key] : YAML::Node();
      if (!v || !v.IsScalar()) return;
      const std::string s = v.Scalar();
      if (s.empty() || s.front() != '/') return;
      into = s;
      taken.push_back(fmt::format("{}={}", key, s));
    };
    take("sysfs_root", c.sysfs_root);
    take("runtime_dir", c.runtime_dir);
  } catch (const std::exception&) {
    // Not even YAML: the compiled-in defaults are the best guess.
  }
  if (why)
    *why = taken.empty() ? "compiled-in defaults" : fmt::format("defaults with {}", fmt::join(taken, ", "));
  return c;
}

std::string dump_config(const Config& c) {
  YAML::Emitter e;
  e << YAML::BeginMap;
  e << YAML::Key << "sysfs_root" << YAML::Value << c.sysfs_root.string();
  e << YAML::Key << "socket_path" << YAML::Value << c.socket_path.string();
  e << YAML::Key << "socket_group" << YAML::Value << c.socket_group;
  e << YAML::Key << "socket_mode" << YAML::Value << YAML::DoubleQuoted
    << fmt::format("{:04o}", c.socket_mode);
  e << YAML::Key << "models_dir" << YAML::Value << c.models_dir.string();
  e << YAML::Key << "state_dir" << YAML::Value << c.state_dir.string();
  e << YAML::Key << "runtime_dir" << YAML::Value << c.runtime_dir.string();
  if (!c.board_file.empty()) e << YAML::Key << "board_file" << YAML::Value << c.board_file.string();
  e << YAML::Key << "log_level" << YAML::Value << c.log_level;
  e << YAML::Key << "safety_margin_pct" << YAML::Value << c.safety_margin_pct;
  e << YAML::Key << "idle_policy" << YAML::Value << to_string(c.idle_policy);
  e << YAML::Key << "request_expiry_ms" << YAML::Value << c.request_expiry_ms;
  e << YAML::Key << "idle_delay_ms" << YAML::Value << c.idle_delay_ms;
  e << YAML::Key << "queue_aware" << YAML::Value << c.queue_aware;
  e << YAML::Key << "dry_run" << YAML::Value << c.dry_run;
  e << YAML::Key << "dbus" << YAML::Value << c.dbus;
  if (c.simulation_clock) e << YAML::Key << "simulation_clock" << YAML::Value << c.simulation_clock;
  e << YAML::Key << "limits" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "max_line_bytes" << YAML::Value << c.limits.max_line_bytes;
  e << YAML::Key << "max_connections" << YAML::Value << c.limits.max_connections;
  e << YAML::Key << "max_requests_per_client" << YAML::Value << c.limits.max_requests_per_client;
  e << YAML::Key << "rate_per_s" << YAML::Value << c.limits.rate_per_s;
  e << YAML::Key << "rate_burst" << YAML::Value << c.limits.rate_burst;
  e << YAML::EndMap;
  e << YAML::Key << "domains" << YAML::Value << YAML::BeginMap;
  auto domain = [&](const char* name, const DomainLimits& d, const char* unit) {
    e << YAML::Key << name << YAML::Value << YAML::BeginMap;
    e << YAML::Key << "enabled" << YAML::Value << d.enabled;
    e << YAML::Key << fmt::format("min_{}", unit) << YAML::Value << d.min;
    e << YAML::Key << fmt::format("max_{}", unit) << YAML::Value << d.max;
    e << YAML::EndMap;
  };
  domain("cpu", c.cpu, "khz");
  domain("gpu", c.gpu, "hz");
  domain("emc", c.emc, "hz");
  e << YAML::EndMap;
  const auto& r = c.recalibration;
  e << YAML::Key << "recalibration" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "enabled" << YAML::Value << r.enabled;
  e << YAML::Key << "alpha" << YAML::Value << r.alpha;
  e << YAML::Key << "outlier_ratio" << YAML::Value << r.outlier_ratio;
  e << YAML::Key << "min_factor" << YAML::Value << r.min_factor;
  e << YAML::Key << "max_factor" << YAML::Value << r.max_factor;
  e << YAML::Key << "persist_interval_s" << YAML::Value << r.persist_interval_s;
  e << YAML::Key << "noise_z" << YAML::Value << r.noise_z;
  e << YAML::EndMap;
  e << YAML::Key << "metrics" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "textfile" << YAML::Value << c.metrics.textfile.string();
  e << YAML::Key << "interval_s" << YAML::Value << c.metrics.interval_s;
  e << YAML::EndMap;
  e << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

}  // namespace flamed
