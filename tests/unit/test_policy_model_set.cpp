// load_model_dir: the models of a directory, and one message per file it skipped.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "flame/policy/model_set.hpp"

using namespace flame::policy;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / fs::path("flame-models-" + std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

void write(const fs::path& p, const std::string& text) {
  std::ofstream(p) << text;
}

}  // namespace

TEST_CASE("model set: good files load, a broken file and a repeated name are skipped with a reason",
          "[policy]") {
  TempDir d;
  const fs::path shipped = fs::path(FLAME_SOURCE_DIR) / "config/models";
  fs::copy_file(shipped / "resnet50.yaml", d.path / "a-resnet50.yaml");
  fs::copy_file(shipped / "resnet50.yaml", d.path / "b-resnet50-again.yml");  // same name: skipped
  fs::copy_file(shipped / "mobilenet_v3_small.yaml", d.path / "c-mobilenet.yaml");
  write(d.path / "d-broken.yaml", "format: flame-model\nversion: [\n");
  write(d.path / "notes.txt", "not a model");

  const LoadedModels loaded = load_model_dir(d.path);
  CHECK(loaded.models.size() == 2);
  CHECK(loaded.models.count("resnet50") == 1);
  REQUIRE(loaded.errors.size() == 2);
  CHECK_THAT(loaded.errors[0], Catch::Contains("b-resnet50-again.yml") && Catch::Contains("already loaded"));
  CHECK_THAT(loaded.errors[1], Catch::Contains("d-broken.yaml"));
}

TEST_CASE("model set: a missing directory is one error and no models", "[policy]") {
  const LoadedModels loaded = load_model_dir("/nonexistent/flame-models");
  CHECK(loaded.models.empty());
  REQUIRE(loaded.errors.size() == 1);
  CHECK_THAT(loaded.errors[0], Catch::Contains("does not exist"));
}
