#pragma once
// The outcome of each reload, for the command systemd runs as ExecReload= (flamed --reload PID):
// it signals the daemon and returns only once the reload is done, non-zero when it failed. That is
// what Type=notify-reload gives from systemd 253 on; Ubuntu 22.04 has 249 (docs/systemd.md, Reload).
// The record is a file in runtime_dir, so it works with dbus: false and without a system bus.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace flamed {

struct ReloadRecord {
  long pid = 0;             // the daemon that wrote it
  uint64_t generation = 0;  // 0 at start, then one more per reload
  bool ok = true;
  std::string error;                        // why the reload failed (the old configuration is kept)
  std::vector<std::string> restart_needed;  // keys whose new value waits for a restart
  // Written when a round starts, before it reads any file; ok, error and restart_needed are then
  // not yet known.
  bool running = false;
};

std::filesystem::path reload_record_path(const std::filesystem::path& runtime_dir);
void write_reload_record(const std::filesystem::path& runtime_dir, const ReloadRecord& record);
// Nothing when absent or unreadable (a waiter then treats it as generation 0).
std::optional<ReloadRecord> read_reload_record(const std::filesystem::path& runtime_dir);

// Sends SIGHUP to `pid` and waits for a finished record of a later generation than the one read
// before the signal: 0 when the reload succeeded, 1 when it failed or no record came within
// `timeout` (messages on stderr). A round that was already running then is not enough: it may have
// read the files before the caller's edits, so the caller waits for the round after it.
int request_reload(pid_t pid, const std::filesystem::path& runtime_dir, std::chrono::milliseconds timeout);

}  // namespace flamed
