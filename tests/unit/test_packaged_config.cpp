// The configuration the package installs as /etc/flame/flamed.yaml must load, and must say
// exactly what the compiled-in defaults say (its comments promise that).
#include <catch2/catch.hpp>
#include <filesystem>

#include "config.hpp"

TEST_CASE("packaging: the shipped flamed.yaml loads and equals the defaults") {
  std::filesystem::path file = FLAME_SOURCE_DIR "/config/flamed.yaml";
  if (!std::filesystem::exists(file)) file = FLAME_SOURCE_DIR "/packaging/flamed.yaml";
  const flamed::Config c = flamed::load_config(file);
  if (file.parent_path().filename() == "packaging") CHECK(flamed::dump_config(c) == flamed::dump_config({}));
  CHECK(c.socket_path == "/run/flame/flamed.sock");  // what flamed.socket listens on
  CHECK(c.socket_group == "flame");
  CHECK(c.socket_mode == 0660);
  CHECK(c.runtime_dir == "/run/flame");    // the unit's RuntimeDirectory=
  CHECK(c.state_dir == "/var/lib/flame");  // StateDirectory=
}
