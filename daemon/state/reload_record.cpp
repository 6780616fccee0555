#include "state/reload_record.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "state/state_file.hpp"

namespace flamed {

std::filesystem::path reload_record_path(const std::filesystem::path& runtime_dir) {
  return runtime_dir / "reload.json";
}

void write_reload_record(const std::filesystem::path& runtime_dir, const ReloadRecord& r) {
  const nlohmann::json j = {{"pid", r.pid},     {"generation", r.generation},         {"ok", r.ok},
                            {"error", r.error}, {"restart_needed", r.restart_needed}, {"running", r.running}};
  write_file_atomic(reload_record_path(runtime_dir), j.dump() + "\n");
}

std::optional<ReloadRecord> read_reload_record(const std::filesystem::path& runtime_dir) {
  try {
    const auto j = nlohmann::json::parse(read_file(reload_record_path(runtime_dir)));
    ReloadRecord r;
    r.pid = j.at("pid").get<long>();
    r.generation = j.at("generation").get<uint64_t>();
    r.ok = j.at("ok").get<bool>();
    r.error = j.value("error", std::string());
    r.restart_needed = j.value("restart_needed", std::vector<std::string>());
    r.running = j.value("running", false);
    return r;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

int request_reload(pid_t pid, const std::filesystem::path& runtime_dir, std::chrono::milliseconds timeout) {
  const auto before = read_reload_record(runtime_dir);
  if (!before || before->pid != pid) {
    std::cerr << fmt::format(
        "flamed --reload: no record of flamed {} in {}: is it running, with this runtime_dir?\n", pid,
        reload_record_path(runtime_dir).string());
    return 1;
  }
  if (::kill(pid, SIGHUP) != 0) {
    std::cerr << fmt::format("flamed --reload: cannot signal {}: {}\n", pid, std::strerror(errno));
    return 1;
  }
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (const auto r = read_reload_record(runtime_dir);
        r && r->pid == pid && r->generation > before->generation && !r->running) {
      if (!r->ok) {
        std::cerr << "flamed: reload failed, the previous configuration is kept: " << r->error << "\n";
        return 1;
      }
      for (const auto& k : r->restart_needed)
        std::cerr << "flamed: " << k << " changed but needs a restart; the running value is kept\n";
      return 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::cerr << fmt::format("flamed --reload: flamed {} did not report its reload within {} ms\n", pid,
                           timeout.count());
  return 1;
}

}  // namespace flamed
