// App <-> org.flame.Flamed1 (dbus_service.hpp): what the bus object reads and what its privileged
// methods do. Kept out of app.cpp so that the lifecycle stays readable; App::start() calls
// start_bus() last, a finished reload and every state change call bus_changed(), shutdown() stops it.
#include <spdlog/spdlog.h>

#include "app.hpp"
#include "bus/bus_state.hpp"
#include "bus/dbus_service.hpp"

namespace flamed {

void App::start_bus() {
  if (!config_.dbus) {
    spdlog::info("D-Bus: off (dbus: false)");
    return;
  }
  DbusService::Handlers h;
  h.state = [this] { return state(); };
  h.reload = [this](DbusService::Handlers::Done done) {
    request_reload([done = std::move(done)](const ReloadResult& r) {
      done(r.ok ? std::string() : "reload failed, the previous configuration is kept: " + r.error);
    });
  };
  h.set_enabled = [this](bool enabled) {
    policy_->set_enabled(enabled);
    schedule_wake();
  };
  h.restore_baseline = [this] {
    spdlog::info("releasing every request and restoring the clock baseline");
    policy_->release_all(/*restore_baseline=*/true);
    schedule_wake();
  };
  bus_ = DbusService::start(io_, std::move(h));
}

void App::bus_changed() {
  if (bus_) bus_->changed();
}

void App::stop_bus() {
  if (bus_) bus_->stop();
}

}  // namespace flamed
