#pragma once
// The one table of flamed.yaml's keys (docs/config.md): name, type, reloadable, one-line help and
// where the value lives in Config. Parsing, --dump-config, the reload check and the key list of
// flamed.yaml(5) all come from it. A key's default is the value a default-constructed Config
// holds, so defaults are stated once, in config.hpp (which takes the policy's and the
// calibrator's from their own option structs).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config/config.hpp"
#include "flame/io/yaml_reader.hpp"

namespace flamed {

// How a value is written in the file and checked.
enum class KeyType {
  AbsolutePath,  // "/..."
  OptionalPath,  // "/..." or "" (off)
  Text,          // any string
  Choice,        // one of ConfigKey::choices
  OctalMode,     // "0660"
  Number,        // a finite number in [lo, hi]
  Count,         // a number in [lo, hi], stored as an integer
  Flag,          // true or false
};

template <typename T>
using ConfigField = T& (*)(Config&);
using AnyConfigField = std::variant<ConfigField<std::filesystem::path>, ConfigField<std::string>,
                                    ConfigField<double>, ConfigField<bool>, ConfigField<std::size_t>,
                                    ConfigField<std::uint32_t>, ConfigField<IdlePolicy>>;

struct ConfigKey {
  std::string name;  // dotted: "recalibration.alpha"
  KeyType type;
  bool reloadable;
  std::string help;
  AnyConfigField field;
  double lo = 0, hi = 0;                  // Number, Count
  std::vector<std::string> choices = {};  // Choice
  std::size_t max_bytes = 0;              // paths: 0 = no limit
  bool dumped_at_default = true;          // false: --dump-config leaves the key out while at its default
};

// Every key, in the order --dump-config and flamed.yaml(5) list them.
const std::vector<ConfigKey>& config_keys();
// The key called `name` (dotted), or nullptr.
const ConfigKey* find_config_key(std::string_view name);

// The key's value in `c` as --dump-config writes it (numbers in their shortest round-trip form).
std::string value_text(const ConfigKey& key, const Config& c);
// The key's default as flamed.yaml(5) shows it: value_text of a default Config, "" when empty.
std::string default_text(const ConfigKey& key);
// The type and range in words ("number, 0 to 100"), for flamed.yaml(5).
std::string type_text(const ConfigKey& key);
using ConfigReader = flame::io::YamlReader<ConfigError>;
// Checks `v` against the key's type and stores it in `c`; errors name file:line:column and the key.
void read_value(const ConfigKey& key, const ConfigReader& r, const YAML::Node& v, Config& c);
// The key list of flamed.yaml(5) (docs/man/flamed.yaml.5.md, between its "config keys" markers):
// one Markdown definition per key with its default, help, type and whether a reload applies it.
std::string config_keys_markdown();
// Copies the key's value from `from` into `to`.
void copy_value(const ConfigKey& key, Config& to, const Config& from);

}  // namespace flamed
