#pragma once
// flamed's lifecycle: one Asio loop drives the socket server, timers, signals and systemd
// notifications. SIGTERM/SIGINT restore the baseline and exit 0; SIGHUP reloads the config and
// models (parse -> validate -> load -> atomic swap; a bad reload keeps the old state).
// clang-format off
#include <utility>  // Boost 1.74 asio/awaitable.hpp uses std::exchange without including it
#include <boost/asio.hpp>
// clang-format on
#include <filesystem>
#include <memory>
#include <optional>

#include "config.hpp"
#include "flame/calibrate/calibrator.hpp"
#include "governor.hpp"
#include "server.hpp"

namespace flamed {

class DbusService;

// Provided by the board glue (hardware.cpp) and the model registry (model_registry.cpp).
std::unique_ptr<ClockActuator> make_actuator(const Config& config);
ModelSet load_models(const std::filesystem::path& dir, std::vector<std::string>& errors);
Planner make_planner();

class App {
 public:
  App(Config config, std::optional<std::filesystem::path> config_path);
  ~App();
  int run();  // returns the process exit code

 private:
  void start();
  bool reload(std::string* error = nullptr);  // false (and why) when the old state was kept
  void shutdown(const char* why);
  void persist_calibration();
  void write_metrics();
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
  boost::asio::steady_timer watchdog_, persist_, metrics_;
  std::unique_ptr<ClockActuator> actuator_;
  flame::Calibrator calibrator_;
  std::unique_ptr<Governor> governor_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<DbusService> bus_;  // null when dbus: false or the bus is unavailable
  bool stopping_ = false;
  bool calibration_dirty_ = false;
};

GovernorOptions governor_options(const Config& c);
flame::CalibratorOptions calibrator_options(const Config& c);

}  // namespace flamed
