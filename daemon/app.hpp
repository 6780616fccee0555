#pragma once
// flamed's lifecycle: one Asio loop drives the socket server, timers, signals and systemd
// notifications. SIGTERM/SIGINT restore the baseline and exit 0; SIGHUP and D-Bus Reload() reload
// the config and models: a worker thread reads and validates them while the loop keeps serving (and
// feeding the watchdog), then the loop swaps them in at once; a bad reload keeps the old state.
// clang-format off
#include <utility>  // Boost 1.74 asio/awaitable.hpp uses std::exchange without including it
#include <boost/asio.hpp>
// clang-format on
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bus/bus_state.hpp"
#include "config/config.hpp"
#include "flame/calibrate/calibrator.hpp"
#include "flame/policy/policy.hpp"
#include "hardware.hpp"
#include "policy_clock.hpp"
#include "transport/server.hpp"

namespace flamed {

class DbusService;

// What a reload did: on failure the previous state is kept and `error` says why; on success
// `restart_needed` lists the restart-only keys whose new value was not applied and `notes` what was
// applied in another way than the file says (e.g. socket_mode under socket activation).
struct ReloadResult {
  bool ok = false;
  std::string error;
  std::vector<std::string> restart_needed;
  std::vector<std::string> notes;
};

class App {
 public:
  App(Config config, std::optional<std::filesystem::path> config_path);
  ~App();
  int run();  // returns the process exit code

 private:
  void start();
  // Queues a reload; `done` runs on the loop with its result. Requests that arrive while one is
  // being read are served together by the next round, which reads the files again.
  using ReloadDone = std::function<void(const ReloadResult&)>;
  void request_reload(ReloadDone done);
  struct PreparedReload;  // what the worker read (app.cpp)
  void start_reload_round();
  ReloadResult commit_reload(PreparedReload prepared);
  // The daemon's state as D-Bus, the socket's status and the metrics show it (with why it is degraded).
  BusState state() const;
  void warn_degraded(const char* when);
  // After every event that reached the policy: arm the wake timer, mark calibration, tell D-Bus.
  void changed();
  void schedule_wake();
  void shutdown(const char* why);
  void persist_calibration();
  void write_metrics();
  void check_descriptors(std::size_t max_connections);
  void notify(const std::string& state);
  void arm_watchdog(uint64_t usec);
  void arm_persist();
  void arm_metrics();
  void wait_signals();
  // D-Bus (app_bus.cpp): optional, never fatal.
  void start_bus();
  void bus_changed();
  void stop_bus();

  Config config_;
  std::optional<std::filesystem::path> config_path_;
  boost::asio::io_context io_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer watchdog_, persist_, metrics_, wake_;
  PolicyClock clock_;
  std::unique_ptr<BoardActuator> actuator_;
  std::unique_ptr<flame::policy::Policy> policy_;
  bool socket_activated_ = false;
  std::unique_ptr<Server> server_;
  std::unique_ptr<DbusService> bus_;  // null when dbus: false or the bus is unavailable
  bool stopping_ = false;
  bool calibration_dirty_ = false;
  std::vector<std::string> degraded_logged_;
  uint64_t reloads_ = 0;  // the generation of the reload record (reload_record.hpp)
  void record_reload(const ReloadResult& r, bool running = false);
  std::vector<ReloadDone> reload_waiters_;  // queued for the next round
  bool reload_running_ = false;
  // How a reload worker hands its result back: the loop while the App lives, nothing after. The
  // worker is detached, so a read that hangs (a stuck mount, a FIFO) never holds the shutdown.
  struct LoopMailbox;
  std::shared_ptr<LoopMailbox> mailbox_;
};

}  // namespace flamed
