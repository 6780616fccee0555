// config/flamed.yaml is installed as the conffile /etc/flame/flamed.yaml: it must load, say what
// the compiled-in defaults say (its header promises that), and agree with the systemd units on
// the socket and the directories.
#include <catch2/catch.hpp>

#include "config/config.hpp"

TEST_CASE("packaging: the shipped flamed.yaml loads, equals the defaults and matches the units") {
  const flamed::Config c = flamed::load_config(FLAME_SOURCE_DIR "/config/flamed.yaml");
  CHECK(flamed::dump_config(c) == flamed::dump_config({}));
  CHECK(c.socket_path == "/run/flame/flamed.sock");  // flamed.socket ListenStream=
  CHECK(c.socket_group == "flame");                  // SocketGroup=, sysusers.d
  CHECK(c.socket_mode == 0660);                      // SocketMode=
  CHECK(c.runtime_dir == "/run/flame");              // RuntimeDirectory=
  CHECK(c.state_dir == "/var/lib/flame");            // StateDirectory=
}
