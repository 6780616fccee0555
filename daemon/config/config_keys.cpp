#include "config/config_keys.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <type_traits>

namespace flamed {
namespace {

using Path = std::filesystem::path;

ConfigKey path_key(std::string name, bool reloadable, std::string help, ConfigField<Path> field,
                   KeyType type = KeyType::AbsolutePath) {
  return {std::move(name), type, reloadable, std::move(help), field};
}

ConfigKey number_key(std::string name, double lo, double hi, std::string help, ConfigField<double> field) {
  ConfigKey k{std::move(name), KeyType::Number, true, std::move(help), field};
  k.lo = lo;
  k.hi = hi;
  return k;
}

ConfigKey count_key(std::string name, double lo, double hi, std::string help,
                    ConfigField<std::size_t> field) {
  ConfigKey k{std::move(name), KeyType::Count, true, std::move(help), field};
  k.lo = lo;
  k.hi = hi;
  return k;
}

ConfigKey flag_key(std::string name, bool reloadable, std::string help, ConfigField<bool> field) {
  return {std::move(name), KeyType::Flag, reloadable, std::move(help), field};
}

// The three clock domains share their keys; `unit` is khz for the CPU and hz for GPU and EMC.
void domain_keys(std::vector<ConfigKey>& keys, const std::string& name, const std::string& unit,
                 ConfigField<bool> enabled, ConfigField<double> min, ConfigField<double> max) {
  const std::string d = "domains." + name;
  const std::string what = name == "cpu" ? "CPU" : name == "gpu" ? "GPU" : "EMC";
  keys.push_back(
      flag_key(d + ".enabled", true, fmt::format("false: flamed never writes the {} clock.", what), enabled));
  keys.push_back(
      number_key(d + ".min_" + unit, 0, 1e13,
                 fmt::format("Lowest {} clock the search may choose; 0: the board's own limit.", what), min));
  keys.push_back(number_key(
      d + ".max_" + unit, 0, 1e13,
      fmt::format("Highest {} clock the search may choose; 0: the board's own limit.", what), max));
}

std::vector<ConfigKey> make_keys() {
  std::vector<ConfigKey> k;
  k.push_back(
      path_key("sysfs_root", false,
               "Root of the sysfs and debugfs tree flamed reads and writes; tests point it at a fake tree.",
               [](Config& c) -> Path& { return c.sysfs_root; }));
  {
    auto socket = path_key("socket_path", false,
                           "The client socket when flamed binds it itself (under systemd, flamed.socket's).",
                           [](Config& c) -> Path& { return c.socket_path; });
    socket.max_bytes = 107;  // sockaddr_un.sun_path holds 108 bytes with the terminating NUL
    k.push_back(socket);
  }
  k.push_back({"socket_group", KeyType::Text, true, "Group given to the socket flamed binds; \"\" leaves it.",
               [](Config& c) -> std::string& { return c.socket_group; }});
  k.push_back({"socket_mode", KeyType::OctalMode, true,
               "Permissions of the socket flamed binds: owner and group bits only.",
               [](Config& c) -> std::uint32_t& { return c.socket_mode; }});
  k.push_back(path_key("models_dir", true, "Fitted model files, one per model, served by name.",
                       [](Config& c) -> Path& { return c.models_dir; }));
  k.push_back(path_key("state_dir", true, "Persistent state: the calibration factors.",
                       [](Config& c) -> Path& { return c.state_dir; }));
  k.push_back(path_key("runtime_dir", false,
                       "Runtime state: the clock baseline that a restore puts back, and its lock (the board "
                       "lock is in /run/flame whatever this says).",
                       [](Config& c) -> Path& { return c.runtime_dir; }));
  {
    auto board = path_key(
        "board_file", false,
        "The board description (EMC rates, caps, the board's name); unset: the shipped one that matches.",
        [](Config& c) -> Path& { return c.board_file; }, KeyType::OptionalPath);
    board.dumped_at_default = false;
    k.push_back(board);
  }
  {
    ConfigKey level{"log_level", KeyType::Choice, true, "How much flamed logs.",
                    [](Config& c) -> std::string& { return c.log_level; }};
    level.choices = {"trace", "debug", "info", "warn", "error", "critical", "off"};
    k.push_back(level);
  }
  k.push_back(number_key("safety_margin_pct", 0, 100,
                         "The deadline is divided by 1 + safety_margin_pct/100 before the clock search.",
                         [](Config& c) -> double& { return c.policy.safety_margin_pct; }));
  k.push_back(
      number_key("derived_margin_pct", 0, 100,
                 "The margin of a model derived from a prior (flame profile --prior) until calibration has "
                 "measured as many of its latencies as the noise-aware margin needs.",
                 [](Config& c) -> double& { return c.policy.derived_margin_pct; }));
  {
    ConfigKey idle{"idle_policy", KeyType::Choice, true,
                   "Clocks with no active request: the board's own settings, the lowest or the highest.",
                   [](Config& c) -> IdlePolicy& { return c.policy.idle; }};
    for (auto p : {IdlePolicy::Restore, IdlePolicy::Lowest, IdlePolicy::Max})
      idle.choices.emplace_back(to_string(p));
    k.push_back(idle);
  }
  k.push_back(number_key("request_expiry_ms", 1, 86'400'000,
                         "A request that is not ended is released after this long.",
                         [](Config& c) -> double& { return c.policy.expiry_ms; }));
  k.push_back(number_key("idle_delay_ms", 0, 3'600'000,
                         "The idle policy applies this long after the last request ends; 0: at once.",
                         [](Config& c) -> double& { return c.policy.idle_delay_ms; }));
  k.push_back(
      flag_key("queue_aware", true,
               "A request is planned for its deadline minus the predicted remaining work of the active ones.",
               [](Config& c) -> bool& { return c.policy.queue_aware; }));
  k.push_back(flag_key("allow_foreign_models", true,
                       "Serve model files fitted on another board (their board: names a different one).",
                       [](Config& c) -> bool& { return c.allow_foreign_models; }));
  k.push_back({"admin_group", KeyType::Text, true,
               "Members of this group see every client's requests in status, as root does; \"\": root only.",
               [](Config& c) -> std::string& { return c.admin_group; }});
  k.push_back(flag_key("dry_run", true, "Log the clock writes and make none.",
                       [](Config& c) -> bool& { return c.dry_run; }));
  k.push_back(flag_key("dbus", false, "Publish org.flame.Flamed1 on the system bus.",
                       [](Config& c) -> bool& { return c.dbus; }));
  {
    auto sim = flag_key("simulation_clock", false,
                        "Tests and simulation only: take request times from the clients' t_ms field.",
                        [](Config& c) -> bool& { return c.simulation_clock; });
    sim.dumped_at_default = false;
    k.push_back(sim);
  }
  k.push_back(count_key("limits.max_line_bytes", 256, 16 << 20,
                        "Longest request line; a longer one closes the connection.",
                        [](Config& c) -> std::size_t& { return c.limits.max_line_bytes; }));
  k.push_back(count_key("limits.max_connections", 1, 65536,
                        "Further connections are answered with an error and closed.",
                        [](Config& c) -> std::size_t& { return c.limits.max_connections; }));
  k.push_back(
      count_key("limits.max_connections_per_uid", 1, 65536,
                "Connections of one user (peer uid); further ones are answered with an error and closed.",
                [](Config& c) -> std::size_t& { return c.limits.max_connections_per_uid; }));
  k.push_back(number_key("limits.idle_timeout_ms", 10, 86'400'000,
                         "A connection that sends no request for this long after connecting or after its "
                         "last reply is closed, unless it holds an active request.",
                         [](Config& c) -> double& { return c.limits.idle_timeout_ms; }));
  k.push_back(number_key("limits.line_timeout_ms", 10, 3'600'000,
                         "A request line must arrive whole, and a reply be read, within this long of its "
                         "first byte; else the connection is closed.",
                         [](Config& c) -> double& { return c.limits.line_timeout_ms; }));
  k.push_back(count_key("limits.max_requests_per_client", 1, 65536, "Active requests per connection.",
                        [](Config& c) -> std::size_t& { return c.policy.max_requests_per_client; }));
  k.push_back(number_key("limits.rate_per_s", 1, 1e7, "Per-connection token bucket: requests per second.",
                         [](Config& c) -> double& { return c.limits.rate_per_s; }));
  k.push_back(number_key("limits.rate_burst", 1, 1e7, "Per-connection token bucket: burst size.",
                         [](Config& c) -> double& { return c.limits.rate_burst; }));
  domain_keys(
      k, "cpu", "khz", [](Config& c) -> bool& { return c.cpu.enabled; },
      [](Config& c) -> double& { return c.cpu.min; }, [](Config& c) -> double& { return c.cpu.max; });
  domain_keys(
      k, "gpu", "hz", [](Config& c) -> bool& { return c.gpu.enabled; },
      [](Config& c) -> double& { return c.gpu.min; }, [](Config& c) -> double& { return c.gpu.max; });
  domain_keys(
      k, "emc", "hz", [](Config& c) -> bool& { return c.emc.enabled; },
      [](Config& c) -> double& { return c.emc.min; }, [](Config& c) -> double& { return c.emc.max; });
  k.push_back(flag_key("recalibration.enabled", true, "Learn a per-model correction from reported latencies.",
                       [](Config& c) -> bool& { return c.policy.recalibrate; }));
  k.push_back(number_key("recalibration.alpha", 0.001, 1, "Weight of each new measured/predicted ratio.",
                         [](Config& c) -> double& { return c.recalibration.calibrator.alpha; }));
  k.push_back(number_key("recalibration.outlier_ratio", 1.01, 100,
                         "Ratios beyond this factor of the current correction, either way, are ignored.",
                         [](Config& c) -> double& { return c.recalibration.calibrator.outlier_ratio; }));
  k.push_back(number_key("recalibration.min_factor", 0.01, 1, "Lower bound of the correction.",
                         [](Config& c) -> double& { return c.recalibration.calibrator.min_factor; }));
  k.push_back(number_key("recalibration.max_factor", 1, 100, "Upper bound of the correction.",
                         [](Config& c) -> double& { return c.recalibration.calibrator.max_factor; }));
  k.push_back(number_key("recalibration.persist_interval_s", 1, 86400,
                         "How often the corrections are saved to state_dir.",
                         [](Config& c) -> double& { return c.recalibration.persist_interval_s; }));
  k.push_back(
      number_key("recalibration.noise_z", 0, 10,
                 "The margin is at least this many times the measured scatter; 0: safety_margin_pct alone.",
                 [](Config& c) -> double& { return c.recalibration.calibrator.noise_z; }));
  k.push_back(path_key(
      "metrics.textfile", true,
      "Prometheus metrics file for the node_exporter textfile collector; \"\": off.",
      [](Config& c) -> Path& { return c.metrics.textfile; }, KeyType::OptionalPath));
  k.push_back(number_key("metrics.interval_s", 1, 86400, "How often the metrics file is written.",
                         [](Config& c) -> double& { return c.metrics.interval_s; }));
  return k;
}

// Reading through a field never writes: the accessors only select a member.
template <typename T>
const T& get(ConfigField<T> field, const Config& c) {
  return field(const_cast<Config&>(c));
}

IdlePolicy idle_policy_named(const ConfigKey& key, const std::string& s) {
  for (auto p : {IdlePolicy::Restore, IdlePolicy::Lowest, IdlePolicy::Max})
    if (s == to_string(p)) return p;
  throw ConfigError(key.name + ": unknown idle policy");  // unreachable: the choice was checked
}

}  // namespace

const std::vector<ConfigKey>& config_keys() {
  static const std::vector<ConfigKey> keys = make_keys();
  return keys;
}

const ConfigKey* find_config_key(std::string_view name) {
  const auto& keys = config_keys();
  auto it = std::find_if(keys.begin(), keys.end(), [&](const ConfigKey& k) { return k.name == name; });
  return it == keys.end() ? nullptr : &*it;
}

std::string value_text(const ConfigKey& key, const Config& c) {
  return std::visit(
      [&](auto field) -> std::string {
        const auto& v = get(field, c);
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, Path>)
          return v.string();
        else if constexpr (std::is_same_v<T, std::string>)
          return v;
        else if constexpr (std::is_same_v<T, bool>)
          return v ? "true" : "false";
        else if constexpr (std::is_same_v<T, IdlePolicy>)
          return to_string(v);
        else if constexpr (std::is_same_v<T, std::uint32_t>)
          return fmt::format("{:04o}", v);
        else
          return fmt::format("{}", v);  // shortest round-trip form: 0.2, not 0.20000000000000001
      },
      key.field);
}

std::string default_text(const ConfigKey& key) {
  const std::string s = value_text(key, Config{});
  return s.empty() ? "\"\"" : s;
}

std::string type_text(const ConfigKey& key) {
  switch (key.type) {
    case KeyType::AbsolutePath:
      return key.max_bytes ? fmt::format("absolute path, at most {} bytes", key.max_bytes) : "absolute path";
    case KeyType::OptionalPath:
      return "absolute path or \"\"";
    case KeyType::Text:
      return "string";
    case KeyType::Choice:
      return fmt::format("{}", fmt::join(key.choices, ", "));
    case KeyType::OctalMode:
      return "octal mode";
    case KeyType::Number:
      return fmt::format("number, {} to {}", key.lo, key.hi);
    case KeyType::Count:
      return fmt::format("integer, {} to {}", key.lo, key.hi);
    case KeyType::Flag:
      return "true or false";
  }
  return "";
}

std::string config_keys_markdown() {
  std::string out;
  for (const auto& k : config_keys())
    out += fmt::format("**{}** ({})\n:   {} Type: {}.{}\n\n", k.name, default_text(k), k.help, type_text(k),
                       k.reloadable ? "" : " Needs a restart.");
  return out;
}

void copy_value(const ConfigKey& key, Config& to, const Config& from) {
  std::visit([&](auto field) { field(to) = get(field, from); }, key.field);
}

void read_value(const ConfigKey& key, const ConfigReader& r, const YAML::Node& v, Config& c) {
  const std::string& k = key.name;
  switch (key.type) {
    case KeyType::AbsolutePath:
    case KeyType::OptionalPath: {
      const std::string s = r.text(v, k);
      if (key.type == KeyType::OptionalPath && s.empty()) {
      } else if (s.empty() || s.front() != '/') {
        r.fail(v, fmt::format("{}: expected an absolute path{}, got '{}'", k,
                              key.type == KeyType::OptionalPath ? " or \"\"" : "", s));
      }
      if (key.max_bytes && s.size() > key.max_bytes)
        r.fail(v, fmt::format("{}: longer than {} bytes", k, key.max_bytes));
      std::get<ConfigField<Path>>(key.field)(c) = s;
      return;
    }
    case KeyType::Text:
      std::get<ConfigField<std::string>>(key.field)(c) = r.text(v, k);
      return;
    case KeyType::Choice: {
      const std::string s = r.text(v, k);
      if (std::find(key.choices.begin(), key.choices.end(), s) == key.choices.end())
        r.fail(v, fmt::format("{}: '{}' is not one of {}", k, s, fmt::join(key.choices, ", ")));
      if (auto* f = std::get_if<ConfigField<IdlePolicy>>(&key.field))
        (*f)(c) = idle_policy_named(key, s);
      else
        std::get<ConfigField<std::string>>(key.field)(c) = s;
      return;
    }
    case KeyType::OctalMode: {
      // Taken as text: YAML reads 0660 as decimal 660 or octal 432 depending on the writer.
      const std::string s = r.text(v, k);
      if (s.empty() || s.size() > 4 || s.find_first_not_of("01234567") != std::string::npos)
        r.fail(v, fmt::format("{}: expected an octal mode such as 0660, got '{}'", k, s));
      const auto mode = static_cast<std::uint32_t>(std::stoul(s, nullptr, 8));
      // A socket's access is its owner's and group's: no bits for everyone, and setuid, setgid
      // and sticky mean nothing on a socket (docs/config.md).
      if (mode & 07000)
        r.fail(v, fmt::format("{}: setuid, setgid and sticky bits mean nothing on a socket", k));
      if (mode & 0007)
        r.fail(v, fmt::format("{}: {:04o} lets every user on the machine drive the clocks; grant access "
                              "through socket_group instead (e.g. 0660)",
                              k, mode));
      std::get<ConfigField<std::uint32_t>>(key.field)(c) = mode;
      return;
    }
    case KeyType::Number:
      std::get<ConfigField<double>>(key.field)(c) = r.number(v, k, key.lo, key.hi);
      return;
    case KeyType::Count:
      std::get<ConfigField<std::size_t>>(key.field)(c) =
          static_cast<std::size_t>(r.number(v, k, key.lo, key.hi));
      return;
    case KeyType::Flag:
      std::get<ConfigField<bool>>(key.field)(c) = r.boolean(v, k);
      return;
  }
}

}  // namespace flamed
