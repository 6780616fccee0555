// find_data(): where the product's own data (data/ in the repository, share/flame/data when installed)
// is found at run time. Never ../shared: the product carries what it needs.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>

#include "flame/sim/grid_table.hpp"
#include "flame/sim/table_sim.hpp"

#ifndef FLAME_SOURCE_DATA_DIR
#define FLAME_SOURCE_DATA_DIR ""
#endif

namespace flame::sim {

std::string find_data(const std::string& relative) {
  namespace fs = std::filesystem;
  std::vector<fs::path> bases;
  if (const char* d = std::getenv("FLAME_DATA_DIR"); d && *d) bases.emplace_back(d);
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) bases.push_back(exe.parent_path().parent_path() / "share" / "flame" / "data");
  if (*FLAME_SOURCE_DATA_DIR) bases.emplace_back(FLAME_SOURCE_DATA_DIR);
  std::string tried;
  for (const auto& b : bases) {
    const fs::path p = b / relative;
    if (fs::exists(p, ec)) return p.string();
    tried += (tried.empty() ? "" : ", ") + p.string();
  }
  throw GridError(fmt::format("data '{}' not found (tried {}); set FLAME_DATA_DIR", relative, tried));
}

}  // namespace flame::sim
