#include "flame/profile/daemon_settings.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <stdexcept>

namespace flame::profile {

DaemonSettings read_daemon_settings(const std::filesystem::path& config) {
  DaemonSettings s;
  if (!std::filesystem::exists(config)) return s;
  YAML::Node root;
  try {
    root = YAML::LoadFile(config.string());
  } catch (const YAML::Exception& e) {
    throw std::runtime_error(fmt::format("{}: {}", config.string(), e.what()));
  }
  if (!root.IsMap()) return s;
  auto take = [&](const char* key, std::string& into) {
    const YAML::Node n = root[key];
    if (!n) return;
    if (!n.IsScalar()) throw std::runtime_error(fmt::format("{}: '{}' must be a path", config.string(), key));
    into = n.as<std::string>();
  };
  take("sysfs_root", s.sysfs_root);
  take("runtime_dir", s.runtime_dir);
  take("models_dir", s.models_dir);
  take("board_file", s.board_file);
  return s;
}

}  // namespace flame::profile
