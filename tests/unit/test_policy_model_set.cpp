// load_model_dir: the models of a directory, and one message per file it skipped.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
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

TEST_CASE("model set: a model fitted on another board is refused unless foreign models are allowed",
          "[policy]") {
  TempDir d;
  const fs::path shipped = fs::path(FLAME_SOURCE_DIR) / "config/models";
  fs::copy_file(shipped / "resnet50.yaml", d.path / "resnet50.yaml");  // board: orin-nano-8gb-super
  std::string text;
  {
    std::ifstream in(shipped / "mobilenet_v3_small.yaml");
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  const auto at = text.find("\nboard: ");
  REQUIRE(at != std::string::npos);
  write(d.path / "tx2.yaml",
        text.substr(0, at) + "\nboard: tx2-flexibo" + text.substr(text.find('\n', at + 1)));
  // No board at all: served anywhere.
  std::string unnamed = text.substr(0, at) + text.substr(text.find('\n', at + 1));
  const auto name_at = unnamed.find("name: mobilenet_v3_small");
  REQUIRE(name_at != std::string::npos);
  unnamed.replace(name_at, 24, "name: unnamed");
  write(d.path / "unnamed.yaml", unnamed);

  const auto orin = load_model_dir(d.path, {"orin-nano-8gb-super", false});
  CHECK(orin.errors.empty());
  CHECK(orin.models.count("resnet50") == 1);
  CHECK(orin.models.count("unnamed") == 1);
  REQUIRE(orin.refused.count("mobilenet_v3_small") == 1);
  CHECK(orin.refused.at("mobilenet_v3_small") ==
        "tx2.yaml: fitted on board tx2-flexibo, not on this orin-nano-8gb-super (allow_foreign_models: true "
        "serves it anyway)");
  CHECK(orin.models.at("resnet50").board == "orin-nano-8gb-super");
  CHECK(orin.models.at("resnet50").digest.size() == 8);

  const auto unknown = load_model_dir(d.path, {"", false});  // a board no description names
  CHECK(unknown.models.size() == 1);                         // only the model that names no board
  CHECK_THAT(unknown.refused.at("resnet50"), Catch::Contains("this board is not identified"));

  const auto any = load_model_dir(d.path, {"orin-nano-8gb-super", true});
  CHECK(any.models.size() == 3);
  CHECK(any.refused.empty());
  CHECK(load_model_dir(d.path).models.size() == 3);  // the default (flame eval): any board
}

TEST_CASE("model set: the digest follows the file's content", "[policy]") {
  TempDir d;
  const fs::path shipped = fs::path(FLAME_SOURCE_DIR) / "config/models";
  fs::copy_file(shipped / "resnet50.yaml", d.path / "a.yaml");
  const auto first = load_model_dir(d.path).models.at("resnet50").digest;
  CHECK(load_model_dir(d.path).models.at("resnet50").digest == first);  // stable
  std::ofstream(d.path / "a.yaml", std::ios::app) << "# re-profiled\n";
  CHECK(load_model_dir(d.path).models.at("resnet50").digest != first);
}
