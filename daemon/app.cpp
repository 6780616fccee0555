#include "app.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <fstream>
#include <mutex>
#include <thread>

#include "bus/dbus_service.hpp"
#include "flame/io/move_aside.hpp"
#include "flame/version.hpp"
#include "state/metrics.hpp"
#include "state/reload_record.hpp"
#include "state/state_file.hpp"
#include "transport/descriptor_limit.hpp"

namespace flamed {

namespace {

// The model directory under this board's admission rule; refusals and skipped files are logged.
// Touches nothing of the App: the reload worker runs it.
flame::policy::LoadedModels load_models(const Config& config, const std::string& board, const char* context) {
  const flame::policy::ModelAdmission admission{board, config.allow_foreign_models};
  auto loaded = flame::policy::load_model_dir(config.models_dir, admission);
  for (const auto& e : loaded.errors) spdlog::warn("{}{}", context, e);
  for (const auto& [name, why] : loaded.refused) spdlog::warn("{}model {} refused: {}", context, name, why);
  return loaded;
}

}  // namespace

struct App::LoopMailbox {
  std::mutex mutex;
  boost::asio::io_context* io = nullptr;  // null once the App is gone
};

// What the worker read for one reload round: the next configuration and its models, or why not.
struct App::PreparedReload {
  std::optional<Config> next;
  flame::policy::LoadedModels loaded;
  std::string error;
};

App::App(Config config, std::optional<std::filesystem::path> config_path)
    : config_(std::move(config)),
      config_path_(std::move(config_path)),
      signals_(io_, SIGTERM, SIGINT, SIGHUP),
      watchdog_(io_),
      persist_(io_),
      metrics_(io_),
      wake_(io_),
      clock_(config_.simulation_clock),
      mailbox_(std::make_shared<LoopMailbox>()) {
  mailbox_->io = &io_;
}

App::~App() {
  const std::lock_guard lock(mailbox_->mutex);
  mailbox_->io = nullptr;
}

void App::notify(const std::string& state) {
  sd_notify(0, state.c_str());
}

void App::start() {
  // Restores a stale baseline left by a crash first.
  actuator_ = std::make_unique<BoardActuator>(BoardActuatorOptions::from(config_));
  policy_ =
      std::make_unique<flame::policy::Policy>(config_.policy, *actuator_, config_.recalibration.calibrator);
  if (config_.simulation_clock) spdlog::warn("simulation clock: request times come from the clients");
  const auto cal_path = config_.state_dir / "calibration.json";
  if (config_.policy.recalibrate && std::filesystem::exists(cal_path)) {
    try {
      for (const auto& problem : policy_->calibrator().load_json(nlohmann::json::parse(read_file(cal_path))))
        spdlog::warn("{}: {} (kept in the file)", cal_path.string(), problem);
      spdlog::info("loaded calibration for {} buckets from {}", policy_->calibrator().states().size(),
                   cal_path.string());
    } catch (const std::exception& e) {
      // Unreadable as a whole: kept for inspection, and the next save starts a new file.
      try {
        const auto aside = flame::io::move_aside(cal_path);
        spdlog::warn("calibration state {} is unreadable ({}); moved to {}, starting uncalibrated",
                     cal_path.string(), e.what(), aside.string());
      } catch (const std::exception& m) {
        spdlog::warn(
            "calibration state {} is unreadable ({}) and cannot be moved aside ({}); starting "
            "uncalibrated",
            cal_path.string(), e.what(), m.what());
      }
    }
  }
  auto loaded = load_models(config_, actuator_->board_name(), "");
  policy_->set_models(std::move(loaded.models), std::move(loaded.refused));
  spdlog::info("{} model(s) loaded from {}", policy_->models().size(), config_.models_dir.string());

  check_descriptors(config_.limits.max_connections);
  server_ = std::make_unique<Server>(
      io_, config_.limits, *policy_, clock_,
      [this] {
        calibration_dirty_ = true;
        changed();
      },
      [this] { return state().degraded_reasons; });
  server_->set_admin_group(config_.admin_group);
  socket_activated_ = sd_listen_fds(1) >= 1;
  if (socket_activated_)
    server_->adopt(SD_LISTEN_FDS_START);
  else
    server_->listen(config_.socket_path, config_.socket_mode, config_.socket_group);
  start_bus();
}

BusState App::state() const {
  return snapshot(config_, policy_->status(clock_.now()), &actuator_->board(), actuator_->grid(),
                  actuator_->held());
}

void App::warn_degraded(const char* when) {
  auto reasons = state().degraded_reasons;
  if (reasons == degraded_logged_) return;
  for (const auto& r : reasons) spdlog::warn("{}: degraded: {}", when, r);
  if (reasons.empty() && !degraded_logged_.empty()) spdlog::info("{}: no longer degraded", when);
  degraded_logged_ = std::move(reasons);
}

void App::changed() {
  schedule_wake();
  bus_changed();
}

void App::schedule_wake() {
  // Under the simulation clock time moves only with the clients' requests: nothing to wait for.
  const auto next = clock_.simulated() ? std::nullopt : policy_->next_wake();
  if (!next) {
    wake_.cancel();
    return;
  }
  wake_.expires_at(clock_.steady(*next));
  wake_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    policy_->advance(clock_.now());
    changed();
  });
}

void App::wait_signals() {
  signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      request_reload([](const ReloadResult&) {});  // the outcome is logged and recorded
      wait_signals();
    } else {
      shutdown(sig == SIGTERM ? "SIGTERM" : "SIGINT");
    }
  });
}

void App::record_reload(const ReloadResult& r, bool running) {
  try {
    write_reload_record(config_.runtime_dir,
                        {static_cast<long>(::getpid()), reloads_, r.ok, r.error, r.restart_needed, running});
  } catch (const std::exception& e) {
    spdlog::warn("cannot write the reload record (flamed --reload waits for it): {}", e.what());
  }
}

void App::request_reload(ReloadDone done) {
  reload_waiters_.push_back(std::move(done));
  if (!reload_running_) start_reload_round();
}

void App::start_reload_round() {
  reload_running_ = true;
  ++reloads_;
  // Written before the worker reads anything, so a `flamed --reload` that sees this round running
  // waits for the next one, which reads its edits (reload_record.hpp).
  record_reload(ReloadResult{true, "", {}, {}}, /*running=*/true);
  notify("RELOADING=1");
  if (!config_path_) spdlog::info("reload: no configuration file; reloading models only");
  auto waiters = std::exchange(reload_waiters_, {});
  std::thread([this, mailbox = mailbox_, path = config_path_, current = config_,
               board = actuator_->board_name(), waiters = std::move(waiters)]() mutable {
    auto prepared = std::make_shared<PreparedReload>();
    try {
      prepared->next = path ? load_config(*path) : current;
      prepared->loaded = load_models(*prepared->next, board, "reload: ");
    } catch (const std::exception& e) {
      prepared->error = e.what();
    }
    const std::lock_guard lock(mailbox->mutex);
    if (!mailbox->io) return;
    boost::asio::post(*mailbox->io, [this, prepared, waiters = std::move(waiters)] {
      if (stopping_) return;
      const ReloadResult r = commit_reload(std::move(*prepared));
      for (const auto& w : waiters) w(r);
      reload_running_ = false;
      if (!reload_waiters_.empty()) start_reload_round();
    });
  }).detach();
}

ReloadResult App::commit_reload(PreparedReload prepared) {
  ReloadResult out;
  try {
    if (!prepared.next) throw std::runtime_error(prepared.error);
    Config next = std::move(*prepared.next);
    out.restart_needed = restart_only_changes(config_, next);
    keep_restart_only(next, config_);
    if (socket_activated_ &&
        (next.socket_mode != config_.socket_mode || next.socket_group != config_.socket_group))
      out.notes.emplace_back(
          "socket_mode and socket_group belong to the socket unit (flamed.socket: SocketMode=, "
          "SocketGroup=)");
    auto& loaded = prepared.loaded;
    // Swap only after everything parsed and loaded.
    const Config previous = std::exchange(config_, std::move(next));
    policy_->set_options(config_.policy);
    policy_->calibrator().set_options(config_.recalibration.calibrator);  // the learned buckets stay
    policy_->set_models(std::move(loaded.models), std::move(loaded.refused));
    if (actuator_->set_domains(BoardActuatorOptions::from(config_))) policy_->reapply_now(clock_.now());
    if (config_.limits.max_connections != previous.limits.max_connections)
      check_descriptors(config_.limits.max_connections);
    server_->set_limits(config_.limits);
    server_->set_admin_group(config_.admin_group);
    if (!socket_activated_ &&
        (config_.socket_mode != previous.socket_mode || config_.socket_group != previous.socket_group))
      server_->set_access(config_.socket_mode, config_.socket_group);
    if (config_.metrics.interval_s != previous.metrics.interval_s ||
        config_.metrics.textfile != previous.metrics.textfile)
      arm_metrics();
    if (config_.recalibration.persist_interval_s != previous.recalibration.persist_interval_s) arm_persist();
    if (config_.state_dir != previous.state_dir) calibration_dirty_ = true;  // the new place gets the state
    spdlog::set_level(spdlog::level::from_str(config_.log_level));
    for (const auto& k : out.restart_needed)
      spdlog::warn("reload: {} changed but needs a restart; the running value is kept", k);
    for (const auto& n : out.notes) spdlog::warn("reload: {}", n);
    spdlog::info("reloaded: {} model(s)", policy_->models().size());
    warn_degraded("reload");
    std::string status = fmt::format("serving {} model(s)", policy_->models().size());
    if (!degraded_logged_.empty()) status += "; degraded (flamectl status)";
    if (!out.restart_needed.empty())
      status += fmt::format("; restart needed for {}", fmt::join(out.restart_needed, ", "));
    notify(fmt::format("READY=1\nSTATUS={}", status));
    out.ok = true;
    record_reload(out);
    changed();
    return out;
  } catch (const std::exception& e) {
    spdlog::error("reload failed, keeping the previous configuration: {}", e.what());
    notify(fmt::format("READY=1\nSTATUS=reload failed: {}", e.what()));
    out.error = e.what();
    record_reload(out);
    return out;
  }
}

void App::shutdown(const char* why) {
  if (stopping_) return;
  stopping_ = true;
  spdlog::info("{}: restoring clocks and stopping", why);
  notify("STOPPING=1");
  if (server_) server_->stop();
  stop_bus();
  wake_.cancel();
  if (policy_) {
    try {
      policy_->release_all(/*restore_baseline=*/true);
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
  if (!config_.policy.recalibrate || !calibration_dirty_ || !policy_) return;
  try {
    write_file_atomic(config_.state_dir / "calibration.json", policy_->calibrator().to_json().dump(2) + "\n");
    calibration_dirty_ = false;
  } catch (const std::exception& e) {
    spdlog::warn("cannot persist calibration: {}", e.what());
  }
}

void App::check_descriptors(std::size_t max_connections) {
  const DescriptorCheck d = fit_descriptor_limit(max_connections);
  if (d.raised())
    spdlog::info("open-file limit raised from {} to {} for limits.max_connections {}", d.before, d.limit,
                 max_connections);
  if (!d.enough())
    spdlog::warn(
        "limits.max_connections {} needs about {} descriptors but the process may open {} "
        "(LimitNOFILE= in the unit); beyond that, accepts pause until connections close",
        max_connections, d.needed, d.limit);
}

void App::write_metrics() {
  if (config_.metrics.textfile.empty() || !policy_) return;
  try {
    write_file_atomic(
        config_.metrics.textfile,
        prometheus_text(policy_->status(clock_.now()), server_ ? server_->counters() : TransportCounters{},
                        state().degraded_reasons));
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
    if (policy_) policy_->release_all(true);
    return 1;
  }
  wait_signals();
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) arm_watchdog(usec);
  arm_persist();
  arm_metrics();
  record_reload(ReloadResult{true, "", {}, {}});
  warn_degraded("start");
  notify(fmt::format("READY=1\nSTATUS=serving {} model(s){}", policy_->models().size(),
                     degraded_logged_.empty() ? "" : "; degraded (flamectl status)"));
  spdlog::info("flamed {} ready{}", flame::kVersion, degraded_logged_.empty() ? "" : ", degraded");
  try {
    io_.run();
  } catch (const std::exception& e) {
    // Never leave the board in our state: restore, then report the failure.
    spdlog::critical("event loop failed: {}", e.what());
    try {
      policy_->release_all(true);
    } catch (...) {
    }
    return 1;
  }
  return 0;
}

}  // namespace flamed
