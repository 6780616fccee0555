// move_aside: an unreadable state file is renamed, never deleted and never over an earlier copy.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "flame/io/move_aside.hpp"
#include "flame/io/yaml_reader.hpp"

namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  return flame::io::file_text(p).value_or("<unreadable>");
}

}  // namespace

TEST_CASE("move aside: renamed with a free suffix, content kept, nothing replaced", "[io]") {
  const fs::path dir = fs::temp_directory_path() / ("flame-aside-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path f = dir / "calibration.json";
  std::ofstream(f) << "first {";
  CHECK(flame::io::move_aside(f) == dir / "calibration.json.unreadable");
  CHECK_FALSE(fs::exists(f));
  std::ofstream(f) << "second {";
  CHECK(flame::io::move_aside(f) == dir / "calibration.json.unreadable.1");
  CHECK(slurp(dir / "calibration.json.unreadable") == "first {");
  CHECK(slurp(dir / "calibration.json.unreadable.1") == "second {");
  CHECK_THROWS_AS(flame::io::move_aside(dir / "missing.json"), fs::filesystem_error);
  fs::remove_all(dir);
}
