#include "bus/dbus_service.hpp"

#include <spdlog/spdlog.h>

#include <cstring>
#include <stdexcept>

namespace flamed {

namespace {

std::string errno_text(int negative_errno) {
  return std::strerror(-negative_errno);
}

void check(int r, const char* what) {
  if (r < 0) throw std::runtime_error(std::string(what) + ": " + errno_text(r));
}

void append_string_double_map(sd_bus_message* m, const std::map<std::string, double>& values) {
  check(sd_bus_message_open_container(m, 'a', "{sd}"), "open a{sd}");
  for (const auto& [key, value] : values)
    check(sd_bus_message_append(m, "{sd}", key.c_str(), value), "append {sd}");
  check(sd_bus_message_close_container(m), "close a{sd}");
}

void append_domains(sd_bus_message* m, const std::vector<DomainInfo>& domains) {
  check(sd_bus_message_open_container(m, 'a', "(ssssbat)"), "open a(ssssbat)");
  for (const auto& d : domains) {
    check(sd_bus_message_open_container(m, 'r', "ssssbat"), "open (ssssbat)");
    check(sd_bus_message_append(m, "ssssb", d.name.c_str(), d.unit.c_str(), d.status.c_str(),
                                d.reason.c_str(), static_cast<int>(d.controlled)),
          "append domain");
    check(sd_bus_message_append_array(m, 't', d.frequencies.data(), d.frequencies.size() * sizeof(uint64_t)),
          "append at");
    check(sd_bus_message_close_container(m), "close (ssssbat)");
  }
  check(sd_bus_message_close_container(m), "close a(ssssbat)");
}

void append_strings(sd_bus_message* m, const std::vector<std::string>& values) {
  check(sd_bus_message_open_container(m, 'a', "s"), "open as");
  for (const auto& v : values) check(sd_bus_message_append_basic(m, 's', v.c_str()), "append s");
  check(sd_bus_message_close_container(m), "close as");
}

void append_property(sd_bus_message* m, std::string_view name, const BusState& s) {
  if (name == kPropVersion)
    check(sd_bus_message_append(m, "s", s.version.c_str()), "append Version");
  else if (name == kPropBoard)
    check(sd_bus_message_append(m, "s", s.board.c_str()), "append Board");
  else if (name == kPropDomains)
    append_domains(m, s.domains);
  else if (name == kPropCurrentClocks)
    append_string_double_map(m, s.clocks);
  else if (name == kPropActiveRequests)
    check(sd_bus_message_append(m, "u", s.active_requests), "append ActiveRequests");
  else if (name == kPropModels)
    append_strings(m, s.models);
  else if (name == kPropDegraded)
    check(sd_bus_message_append(m, "s", s.degraded.c_str()), "append Degraded");
  else if (name == kPropCalibration)
    append_string_double_map(m, s.calibration);
  else if (name == kPropEnabled)
    check(sd_bus_message_append(m, "b", static_cast<int>(s.enabled)), "append Enabled");
  else
    throw std::runtime_error("unknown property " + std::string(name));
}

}  // namespace

// Read-only properties carry no SD_BUS_VTABLE_UNPRIVILEGED: sd-bus refuses that flag on them
// (it only means something for methods and writable properties) and never checks privileges on
// Get/GetAll, so every caller the bus policy lets through can read them. The methods keep the
// default check: the caller needs CAP_SYS_ADMIN (sd_bus_query_sender_privilege()).
namespace {
constexpr uint64_t kChanges = SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE;
constexpr uint64_t kConst = SD_BUS_VTABLE_PROPERTY_CONST;
}  // namespace

const sd_bus_vtable DbusService::kVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Version", "s", DbusService::get_property, 0, kConst),
    SD_BUS_PROPERTY("Board", "s", DbusService::get_property, 0, kConst),
    SD_BUS_PROPERTY("Domains", "a(ssssbat)", DbusService::get_property, 0, kChanges),
    SD_BUS_PROPERTY("CurrentClocks", "a{sd}", DbusService::get_property, 0, kChanges),
    SD_BUS_PROPERTY("ActiveRequests", "u", DbusService::get_property, 0, kChanges),
    SD_BUS_PROPERTY("Models", "as", DbusService::get_property, 0, kChanges),
    SD_BUS_PROPERTY("Degraded", "s", DbusService::get_property, 0, kChanges),
    SD_BUS_PROPERTY("Calibration", "a{sd}", DbusService::get_property, 0, kChanges),
    SD_BUS_PROPERTY("Enabled", "b", DbusService::get_property, 0, kChanges),
    SD_BUS_METHOD("Reload", "", "", DbusService::method_reload, 0),
    SD_BUS_METHOD_WITH_NAMES("SetEnabled", "b", SD_BUS_PARAM(enabled), "", "",
                             DbusService::method_set_enabled, 0),
    SD_BUS_METHOD("RestoreBaseline", "", "", DbusService::method_restore_baseline, 0),
    SD_BUS_VTABLE_END,
};

std::unique_ptr<DbusService> DbusService::start(boost::asio::io_context& io, Handlers handlers,
                                                std::chrono::milliseconds min_interval) {
  try {
    return std::make_unique<DbusService>(io, std::move(handlers), min_interval);
  } catch (const std::exception& e) {
    spdlog::error("D-Bus: {}; continuing without D-Bus", e.what());
    return nullptr;
  }
}

DbusService::DbusService(boost::asio::io_context& io, Handlers handlers,
                         std::chrono::milliseconds min_interval)
    : io_(io), handlers_(std::move(handlers)), coalescer_(io, min_interval, [this] { emit_changes(); }) {
  sd_bus* raw = nullptr;
  int r = sd_bus_open_system(&raw);
  if (r < 0) throw std::runtime_error("cannot connect to the system bus: " + errno_text(r));
  bus_.reset(raw);
  sd_bus_slot* slot = nullptr;
  r = sd_bus_add_object_vtable(bus_.get(), &slot, kBusPath, kBusInterface, kVtable, this);
  if (r < 0) throw std::runtime_error(std::string("cannot export ") + kBusPath + ": " + errno_text(r));
  vtable_slot_.reset(slot);
  last_ = handlers_.state();
  // Asynchronous, so that a slow or hung bus never delays the daemon; the answer arrives on the loop.
  r = sd_bus_request_name_async(bus_.get(), &slot, kBusName, 0, &DbusService::name_reply, this);
  if (r < 0) throw std::runtime_error(std::string("cannot request ") + kBusName + ": " + errno_text(r));
  name_slot_.reset(slot);
  loop_ = std::make_unique<BusLoop>(
      io_, bus_.get(), [this](int err) { lost("connection to the system bus lost: " + errno_text(err)); });
}

DbusService::~DbusService() {
  stop();
}

void DbusService::stop() {
  coalescer_.cancel();
  loop_.reset();
  name_slot_.reset();
  vtable_slot_.reset();
  owns_name_ = false;
  bus_.reset();  // closing the connection releases the name; nothing here can block
}

void DbusService::lost(const std::string& why) {
  spdlog::error("D-Bus: {}; continuing without D-Bus", why);
  owns_name_ = false;
  coalescer_.cancel();
  // Closing the connection from inside sd_bus_process() would pull it from under sd-bus.
  boost::asio::post(io_, [this, alive = std::weak_ptr<int>(alive_)] {
    if (!alive.expired()) stop();
  });
}

int DbusService::name_reply(sd_bus_message* m, void* userdata, sd_bus_error*) {
  auto* self = static_cast<DbusService*>(userdata);
  if (sd_bus_message_is_method_error(m, nullptr)) {
    const sd_bus_error* e = sd_bus_message_get_error(m);
    self->lost(std::string("cannot own ") + kBusName + ": " + (e && e->message ? e->message : "error"));
    return 0;
  }
  uint32_t result = 0;
  if (sd_bus_message_read(m, "u", &result) < 0) {
    self->lost(std::string("cannot own ") + kBusName + ": malformed RequestName reply");
    return 0;
  }
  if (result == 1 || result == 4) {  // DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER, _ALREADY_OWNER
    self->owns_name_ = true;
    spdlog::info("D-Bus: serving {} at {} on the system bus", kBusName, kBusPath);
  } else {
    self->lost(std::string("cannot own ") + kBusName + ": already owned by another process");
  }
  return 0;
}

void DbusService::changed() {
  if (running()) coalescer_.poke();
}

void DbusService::emit_changes() {
  if (!running()) return;
  BusState now;
  try {
    now = handlers_.state();
  } catch (const std::exception& e) {
    spdlog::warn("D-Bus: cannot read the daemon state: {}", e.what());
    return;
  }
  const auto names = changed_properties(last_, now);
  if (names.empty()) return;
  std::vector<char*> strv;
  for (const char* n : names) strv.push_back(const_cast<char*>(n));
  strv.push_back(nullptr);
  emitting_ = &now;
  const int r = sd_bus_emit_properties_changed_strv(bus_.get(), kBusPath, kBusInterface, strv.data());
  emitting_ = nullptr;
  if (r < 0) spdlog::warn("D-Bus: cannot emit PropertiesChanged: {}", errno_text(r));
  last_ = std::move(now);
  if (loop_) loop_->kick();  // a partly written queue needs its POLLOUT wait
}

int DbusService::get_property(sd_bus*, const char*, const char*, const char* property, sd_bus_message* reply,
                              void* userdata, sd_bus_error* error) {
  auto* self = static_cast<DbusService*>(userdata);
  try {
    if (self->emitting_) {
      append_property(reply, property, *self->emitting_);
    } else {
      append_property(reply, property, self->handlers_.state());
    }
    return 1;
  } catch (const std::exception& e) {
    return sd_bus_error_set(error, kBusErrorFailed, e.what());
  }
}

void DbusService::log_call(sd_bus_message* m, const char* what) const {
  sd_bus_creds* creds = nullptr;
  uid_t uid = static_cast<uid_t>(-1);
  if (sd_bus_query_sender_creds(m, SD_BUS_CREDS_UID | SD_BUS_CREDS_PID, &creds) >= 0) {
    sd_bus_creds_get_uid(creds, &uid);
    sd_bus_creds_unref(creds);
  }
  spdlog::info("D-Bus: {} called by {} (uid {})", what,
               sd_bus_message_get_sender(m) ? sd_bus_message_get_sender(m) : "?", static_cast<long>(uid));
}

int DbusService::run_method(sd_bus_message* m, sd_bus_error* error, const char* what,
                            const std::function<void()>& body) {
  log_call(m, what);
  try {
    body();
  } catch (const std::exception& e) {
    spdlog::error("D-Bus: {} failed: {}", what, e.what());
    changed();
    return sd_bus_error_set(error, kBusErrorFailed, e.what());
  }
  changed();
  return sd_bus_reply_method_return(m, "");
}

int DbusService::method_reload(sd_bus_message* m, void* userdata, sd_bus_error* error) {
  auto* self = static_cast<DbusService*>(userdata);
  self->log_call(m, "Reload()");
  // Answered when the reload is done (it reads files on a worker thread); the message is kept
  // until then, and released if the answer never comes (shutdown). Returning 1 without a reply
  // tells sd-bus the call is being handled.
  std::shared_ptr<sd_bus_message> call(sd_bus_message_ref(m), sd_bus_message_unref);
  try {
    self->handlers_.reload([self, call, alive = std::weak_ptr<int>(self->alive_)](const std::string& why) {
      if (alive.expired() || !self->bus_) return;
      const int r = why.empty() ? sd_bus_reply_method_return(call.get(), "")
                                : sd_bus_reply_method_errorf(call.get(), kBusErrorFailed, "%s", why.c_str());
      if (r < 0) spdlog::warn("D-Bus: cannot answer Reload(): {}", errno_text(r));
      if (!why.empty()) spdlog::error("D-Bus: Reload() failed: {}", why);
      self->changed();
      if (self->loop_) self->loop_->kick();  // a reply queued outside a callback
    });
  } catch (const std::exception& e) {
    return sd_bus_error_set(error, kBusErrorFailed, e.what());
  }
  return 1;
}

int DbusService::method_set_enabled(sd_bus_message* m, void* userdata, sd_bus_error* error) {
  auto* self = static_cast<DbusService*>(userdata);
  int enabled = 0;
  const int r = sd_bus_message_read(m, "b", &enabled);
  if (r < 0) return r;
  return self->run_method(m, error, enabled ? "SetEnabled(true)" : "SetEnabled(false)",
                          [self, enabled] { self->handlers_.set_enabled(enabled != 0); });
}

int DbusService::method_restore_baseline(sd_bus_message* m, void* userdata, sd_bus_error* error) {
  auto* self = static_cast<DbusService*>(userdata);
  return self->run_method(m, error, "RestoreBaseline()", [self] { self->handlers_.restore_baseline(); });
}

}  // namespace flamed
