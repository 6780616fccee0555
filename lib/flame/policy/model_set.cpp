#include "flame/policy/model_set.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "flame/model/model_file.hpp"

namespace flame::policy {

LoadedModels load_model_dir(const std::filesystem::path& dir) {
  LoadedModels out;
  auto& [models, errors] = out;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    errors.push_back(fmt::format("models directory {} does not exist: no models to serve", dir.string()));
    return out;
  }
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const auto ext = entry.path().extension();
    if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml")) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());  // deterministic: the first file with a name wins
  for (const auto& f : files) {
    try {
      auto m = load_model_file(f);
      if (models.count(m.name)) {
        errors.push_back(
            fmt::format("{}: model name '{}' already loaded from another file; skipped", f.string(), m.name));
        continue;
      }
      models[m.name] = m.model;
    } catch (const std::exception& e) {
      errors.push_back(fmt::format("skipping model file: {}", e.what()));
    }
  }
  return out;
}

}  // namespace flame::policy
