#include "app.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <fstream>

#include "dbus_service.hpp"
#include "flame/version.hpp"
#include "metrics.hpp"
#include "state_file.hpp"

namespace flamed {

GovernorOptions governor_options(const Config& c) {
  GovernorOptions o;
  o.safety_margin_pct = c.safety_margin_pct;
  o.expiry_ms = c.request_expiry_ms;
  o.idle = c.idle_policy;
  o.max_requests_per_client = c.limits.max_requests_per_client;
  o.recalibrate = c.recalibration.enabled;
  o.idle_delay_ms = c.idle_delay_ms;
  o.queue_aware = c.queue_aware;
  return o;
}

flame::CalibratorOptions calibrator_options(const Config& c) {
  flame::CalibratorOptions o;
  o.alpha = c.recalibration.alpha;
  o.outlier_ratio = c.recalibration.outlier_ratio;
  o.min_factor = c.recalibration.min_factor;
  o.max_factor = c.recalibration.max_factor;
  o.noise_z = c.recalibration.noise_z;
  return o;
}

App::App(Config config, std::optional<std::filesystem::path> config_path)
    : config_(std::move(config)),
      config_path_(std::move(config_path)),
      signals_(io_, SIGTERM, SIGINT, SIGHUP),
      watchdog_(io_),
      persist_(io_),
      metrics_(io_),
      calibrator_(calibrator_options(config_)) {}

App::~App() = default;

void App::notify(const std::string& state) {
  sd_notify(0, state.c_str());
}

void App::start() {
  actuator_ = make_actuator(config_);  // restores a stale baseline left by a crash first
  const auto cal_path = config_.state_dir / "calibration.json";
  if (config_.recalibration.enabled && std::filesystem::exists(cal_path)) {
    try {
      calibrator_.load_json(nlohmann::json::parse(read_file(cal_path)));
      spdlog::info("loaded calibration for {} buckets from {}", calibrator_.states().size(),
                   cal_path.string());
    } catch (const std::exception& e) {
      spdlog::warn("ignoring calibration state {}: {}", cal_path.string(), e.what());
    }
  }
  governor_ = std::make_unique<Governor>(governor_options(config_), *actuator_, make_planner(), calibrator_);
  std::vector<std::string> errors;
  governor_->set_models(load_models(config_.models_dir, errors));
  for (const auto& e : errors) spdlog::warn("{}", e);
  spdlog::info("{} model(s) loaded from {}", governor_->models().size(), config_.models_dir.string());

  server_ = std::make_unique<Server>(io_, config_.limits, *governor_, [this] {
    calibration_dirty_ = true;
    bus_changed();
  });
  if (sd_listen_fds(1) >= 1)
    server_->adopt(SD_LISTEN_FDS_START);
  else
    server_->listen(config_.socket_path, config_.socket_mode, config_.socket_group);
  start_bus();
}

void App::wait_signals() {
  signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      reload();
      wait_signals();
    } else {
      shutdown(sig == SIGTERM ? "SIGTERM" : "SIGINT");
    }
  });
}

bool App::reload(std::string* error) {
  notify("RELOADING=1");
  if (!config_path_) {
    spdlog::info("reload: no configuration file; reloading models only");
  }
  try {
    Config next = config_path_ ? load_config(*config_path_) : config_;
    if (next.sysfs_root != config_.sysfs_root || next.socket_path != config_.socket_path ||
        next.runtime_dir != config_.runtime_dir || next.board_file != config_.board_file ||
        next.dbus != config_.dbus)
      spdlog::warn(
          "reload: sysfs_root, socket_path, runtime_dir, board_file and dbus need a restart; keeping the old "
          "ones");
    next.sysfs_root = config_.sysfs_root;
    next.socket_path = config_.socket_path;
    next.runtime_dir = config_.runtime_dir;
    next.board_file = config_.board_file;
    next.dbus = config_.dbus;
    std::vector<std::string> errors;
    ModelSet models = load_models(next.models_dir, errors);
    for (const auto& e : errors) spdlog::warn("reload: {}", e);
    // Swap only after everything parsed and loaded.
    config_ = std::move(next);
    governor_->set_options(governor_options(config_));
    governor_->set_models(std::move(models));
    server_->set_limits(config_.limits);
    spdlog::set_level(spdlog::level::from_str(config_.log_level));
    spdlog::info("reloaded: {} model(s)", governor_->models().size());
    notify(fmt::format("READY=1\nSTATUS=serving {} model(s)", governor_->models().size()));
    bus_changed();
    return true;
  } catch (const std::exception& e) {
    spdlog::error("reload failed, keeping the previous configuration: {}", e.what());
    notify(fmt::format("READY=1\nSTATUS=reload failed: {}", e.what()));
    if (error) *error = e.what();
    return false;
  }
}

void App::shutdown(const char* why) {
  if (stopping_) return;
  stopping_ = true;
  spdlog::info("{}: restoring clocks and stopping", why);
  notify("STOPPING=1");
  if (server_) server_->stop();
  stop_bus();
  if (governor_) {
    try {
      governor_->release_all(/*restore_baseline=*/true);
    } catch (const std::exception& e) {
      spdlog::error("restore at shutdown failed: {}", e.what());
    }
  }
  persist_calibration();
  write_metrics();
  signals_.cancel();
  watchdog_.cancel();
  persist_.cancel();
  metrics_.cancel();
  io_.stop();
}

void App::persist_calibration() {
  if (!config_.recalibration.enabled || !calibration_dirty_) return;
  try {
    write_file_atomic(config_.state_dir / "calibration.json", calibrator_.to_json().dump(2) + "\n");
    calibration_dirty_ = false;
  } catch (const std::exception& e) {
    spdlog::warn("cannot persist calibration: {}", e.what());
  }
}

void App::write_metrics() {
  if (config_.metrics.textfile.empty() || !governor_) return;
  try {
    write_file_atomic(config_.metrics.textfile, prometheus_text(*governor_));
  } catch (const std::exception& e) {
    spdlog::warn("cannot write metrics: {}", e.what());
  }
}

void App::arm_watchdog(uint64_t usec) {
  watchdog_.expires_after(std::chrono::microseconds(usec / 2));
  watchdog_.async_wait([this, usec](const boost::system::error_code& ec) {
    if (ec) return;
    notify("WATCHDOG=1");
    arm_watchdog(usec);
  });
}

void App::arm_persist() {
  persist_.expires_after(
      std::chrono::milliseconds(static_cast<int64_t>(config_.recalibration.persist_interval_s * 1000)));
  persist_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    persist_calibration();
    arm_persist();
  });
}

void App::arm_metrics() {
  metrics_.expires_after(std::chrono::milliseconds(static_cast<int64_t>(config_.metrics.interval_s * 1000)));
  metrics_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    write_metrics();
    arm_metrics();
  });
}

int App::run() {
  try {
    start();
  } catch (const std::exception& e) {
    spdlog::critical("cannot start: {}", e.what());
    notify(fmt::format("STATUS=cannot start: {}", e.what()));
    if (governor_) governor_->release_all(true);
    return 1;
  }
  wait_signals();
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) arm_watchdog(usec);
  arm_persist();
  arm_metrics();
  notify(fmt::format("READY=1\nSTATUS=serving {} model(s)", governor_->models().size()));
  spdlog::info("flamed {} ready", flame::kVersion);
  try {
    io_.run();
  } catch (const std::exception& e) {
    // Never leave the board in our state: restore, then report the failure.
    spdlog::critical("event loop failed: {}", e.what());
    try {
      governor_->release_all(true);
    } catch (...) {
    }
    return 1;
  }
  return 0;
}

}  // namespace flamed
