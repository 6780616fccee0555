#include "flame/io/data_path.hpp"

#include <cstdlib>

namespace flame::io {

std::filesystem::path find_data(const std::string& relative) {
  namespace fs = std::filesystem;
  fs::path p(relative);
  std::error_code ec;
  if (p.is_absolute() || fs::exists(p, ec)) return p;
  const char* roots[] = {std::getenv("FLAME_DATA_DIR"), FLAME_INSTALL_DATADIR, FLAME_SOURCE_DATADIR};
  for (const char* root : roots) {
    if (!root || !*root) continue;
    fs::path candidate = fs::path(root) / p;
    if (fs::exists(candidate, ec)) return candidate;
  }
  return p;
}

}  // namespace flame::io
