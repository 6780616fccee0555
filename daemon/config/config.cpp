#include "config/config.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "config/config_keys.hpp"

namespace flamed {
namespace {

// Reads the keys of the table below `path` ("" for the top level) from the mapping `map`: each
// value is checked by its key's type, then every key of the mapping must be known. A null or
// absent mapping keeps the defaults.
void read_section(const ConfigReader& r, const YAML::Node& map, const std::string& path, Config& c) {
  if (!map || map.IsNull()) return;
  r.mapping(map, path);
  const std::string prefix = path.empty() ? "" : path + ".";
  std::vector<std::string> known;
  for (const auto& key : config_keys()) {
    if (key.name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string child =
        key.name.substr(prefix.size(), key.name.find('.', prefix.size()) - prefix.size());
    if (std::find(known.begin(), known.end(), child) == known.end()) known.push_back(child);
  }
  for (const auto& child : known) {
    const YAML::Node v = map[child];
    if (!v || v.IsNull()) continue;
    const std::string name = prefix + child;
    if (const ConfigKey* key = find_config_key(name))
      read_value(*key, r, v, c);
    else
      read_section(r, v, name, c);
  }
  r.only_keys(map, path, known);
}

// A domain's lower limit may not exceed its upper one (0 is no limit).
void check_domain(const ConfigReader& r, const YAML::Node& root, const char* name, const DomainLimits& d,
                  const char* unit) {
  if (d.min > 0 && d.max > 0 && d.min > d.max)
    r.fail(root["domains"][name],
           fmt::format("domains.{}: min_{} ({}) is above max_{} ({})", name, unit, d.min, unit, d.max));
}

}  // namespace

const std::vector<std::string>& restart_only_keys() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> out;
    for (const auto& k : config_keys())
      if (!k.reloadable) out.push_back(k.name);
    return out;
  }();
  return keys;
}

std::vector<std::string> restart_only_changes(const Config& a, const Config& b) {
  std::vector<std::string> out;
  for (const auto& k : config_keys())
    if (!k.reloadable && value_text(k, a) != value_text(k, b)) out.push_back(k.name);
  return out;
}

void keep_restart_only(Config& next, const Config& running) {
  for (const auto& k : config_keys())
    if (!k.reloadable) copy_value(k, next, running);
}

Config parse_config(const std::string& yaml, const std::string& source) {
  const ConfigReader r(source);
  const YAML::Node root = r.load(yaml);
  Config c;
  read_section(r, root, "", c);
  check_domain(r, root, "cpu", c.cpu, "khz");
  check_domain(r, root, "gpu", c.gpu, "hz");
  check_domain(r, root, "emc", c.emc, "hz");
  return c;
}

Config load_config(const std::filesystem::path& path) {
  return parse_config(flame::io::read_file<ConfigError>(path, "configuration file"), path.string());
}

Config load_config_keys(const std::filesystem::path& path, const std::vector<std::string>& names,
                        std::vector<std::string>* taken) {
  Config c;
  const auto text = flame::io::file_text(path);
  if (!text) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return c;  // no file: the defaults
    throw ConfigError(flame::io::cannot_open(path, "configuration file"));
  }
  const ConfigReader r(path.string());
  const YAML::Node root = r.load(*text);
  for (const auto& name : names) {
    const ConfigKey* key = find_config_key(name);
    if (!key) throw std::logic_error("not a configuration key: " + name);
    // reset() rebinds: assigning a Node would overwrite the node it refers to (here the root).
    YAML::Node v;
    v.reset(root);
    for (std::size_t at = 0, dot = 0; v && dot != std::string::npos; at = dot + 1) {
      dot = name.find('.', at);
      v.reset(v.IsMap() ? v[name.substr(at, dot - at)] : YAML::Node());
    }
    if (!v || v.IsNull()) continue;
    read_value(*key, r, v, c);
    if (taken) taken->push_back(fmt::format("{}={}", name, value_text(*key, c)));
  }
  return c;
}

Config salvage_restore_paths(const std::filesystem::path& path, std::string* why) {
  Config c;
  std::vector<std::string> taken;
  // Key by key, so that a bad one does not cost the other; not even YAML: the defaults.
  for (const char* name : {"sysfs_root", "runtime_dir"}) {
    try {
      copy_value(*find_config_key(name), c, load_config_keys(path, {name}, &taken));
    } catch (const ConfigError&) {
    }
  }
  if (why)
    *why = taken.empty() ? "compiled-in defaults" : fmt::format("defaults with {}", fmt::join(taken, ", "));
  return c;
}

std::string dump_config(const Config& c) {
  YAML::Emitter e;
  e << YAML::BeginMap;
  std::vector<std::string> open;  // the mappings the emitter is inside, outermost first
  for (const auto& key : config_keys()) {
    const std::string text = value_text(key, c);
    if (!key.dumped_at_default && text == value_text(key, Config{})) continue;
    std::vector<std::string> path;
    for (std::size_t at = 0, dot; (dot = key.name.find('.', at)) != std::string::npos; at = dot + 1)
      path.push_back(key.name.substr(at, dot - at));
    std::size_t shared = 0;
    while (shared < open.size() && shared < path.size() && open[shared] == path[shared]) ++shared;
    for (; open.size() > shared; open.pop_back()) e << YAML::EndMap;
    for (; open.size() < path.size(); open.push_back(path[open.size()]))
      e << YAML::Key << path[open.size()] << YAML::Value << YAML::BeginMap;
    e << YAML::Key << key.name.substr(key.name.rfind('.') + 1) << YAML::Value;
    if (key.type == KeyType::Flag)
      e << (text == "true");
    else if (key.type == KeyType::OctalMode)
      e << YAML::DoubleQuoted << text;
    else
      e << text;
  }
  for (; !open.empty(); open.pop_back()) e << YAML::EndMap;
  e << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

}  // namespace flamed
