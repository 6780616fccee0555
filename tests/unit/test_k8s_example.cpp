// packaging/k8s/flamed-daemonset.yaml is documentation, but it must stay a valid manifest that
// does what docs/packaging.md says: a privileged DaemonSet with the host's /sys, debugfs and
// /run/flame, and a ConfigMap config that flamed accepts.
#include <yaml-cpp/yaml.h>

#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "config/config.hpp"

TEST_CASE("packaging: the Kubernetes DaemonSet example") {
  const auto docs = YAML::LoadAllFromFile(FLAME_SOURCE_DIR "/packaging/k8s/flamed-daemonset.yaml");
  std::map<std::string, YAML::Node> by_kind;
  for (const auto& d : docs) by_kind[d["kind"].as<std::string>()] = d;
  REQUIRE(by_kind.count("DaemonSet"));
  REQUIRE(by_kind.count("ConfigMap"));

  const auto pod = by_kind["DaemonSet"]["spec"]["template"]["spec"];
  const auto c = pod["containers"][0];
  CHECK(c["securityContext"]["privileged"].as<bool>());
  CHECK(c["command"][0].as<std::string>() == "/usr/sbin/flamed");
  std::map<std::string, std::string> host_paths, mounts;
  for (const auto& v : pod["volumes"])
    if (v["hostPath"]) host_paths[v["name"].as<std::string>()] = v["hostPath"]["path"].as<std::string>();
  for (const auto& m : c["volumeMounts"])
    mounts[m["mountPath"].as<std::string>()] = m["name"].as<std::string>();
  CHECK(host_paths[mounts["/sys"]] == "/sys");
  CHECK(host_paths[mounts["/sys/kernel/debug"]] == "/sys/kernel/debug");
  CHECK(host_paths[mounts["/run/flame"]] == "/run/flame");
  CHECK(mounts.count("/etc/flame"));

  const auto yaml = by_kind["ConfigMap"]["data"]["flamed.yaml"].as<std::string>();
  const flamed::Config cfg = flamed::parse_config(yaml, "flamed-daemonset.yaml");
  CHECK_FALSE(cfg.dbus);
  CHECK(cfg.socket_path == "/run/flame/flamed.sock");
  CHECK(cfg.runtime_dir == "/run/flame");
}
