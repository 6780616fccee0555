#include "flame/policy/model_set.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "flame/model/model_file.hpp"

namespace flame::policy {

std::string refusal(const std::string& model_board, const ModelAdmission& a) {
  if (a.allow_foreign || model_board.empty() || model_board == a.board) return "";
  if (a.board.empty())
    return fmt::format(
        "fitted on board {}, and this board is not identified (set board_file, or allow_foreign_models: "
        "true to serve it anyway)",
        model_board);
  return fmt::format("fitted on board {}, not on this {} (allow_foreign_models: true serves it anyway)",
                     model_board, a.board);
}

LoadedModels load_model_dir(const std::filesystem::path& dir, const ModelAdmission& admission) {
  LoadedModels out;
  auto& models = out.models;
  auto& errors = out.errors;
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
      auto m = model::load_model_file(f);
      if (models.count(m.name) || out.refused.count(m.name)) {
        errors.push_back(
            fmt::format("{}: model name '{}' already loaded from another file; skipped", f.string(), m.name));
        continue;
      }
      if (auto why = refusal(m.board, admission); !why.empty()) {
        out.refused.emplace(m.name, fmt::format("{}: {}", f.filename().string(), why));
        continue;
      }
      models[m.name] = ServedModel(m.model, m.board, m.digest, m.extras.derived.has_value());
    } catch (const std::exception& e) {
      errors.push_back(fmt::format("skipping model file: {}", e.what()));
    }
  }
  return out;
}

}  // namespace flame::policy
