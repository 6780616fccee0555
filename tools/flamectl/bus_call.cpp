#include "bus_call.hpp"

#include <systemd/sd-bus.h>

#include <cstring>
#include <memory>

namespace flamectl {

namespace {

constexpr const char* kName = "org.flame.Flamed1";
constexpr const char* kPath = "/org/flame/Flamed1";
constexpr const char* kInterface = "org.flame.Flamed1";

struct BusUnref {
  void operator()(sd_bus* b) const { sd_bus_flush_close_unref(b); }
};
struct MessageUnref {
  void operator()(sd_bus_message* m) const { sd_bus_message_unref(m); }
};

}  // namespace

BusOutcome classify_bus_error(const std::string& method, const std::string& error_name,
                              const std::string& error_message) {
  const std::string detail = error_message.empty() ? error_name : error_message;
  if (error_name == "org.freedesktop.DBus.Error.ServiceUnknown" ||
      error_name == "org.freedesktop.DBus.Error.NameHasNoOwner")
    return {kUnreachable,
            "flamed is not on the system bus (not running, or running with 'dbus: false'); for a reload "
            "without D-Bus use 'systemctl reload flamed' or send it SIGHUP",
            "not-running"};
  if (error_name == "org.freedesktop.DBus.Error.AccessDenied" ||
      error_name == "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired")
    return {kUnreachable, method + "() is privileged: run flamectl as root (" + detail + ")",
            "access-denied"};
  if (error_name == "org.freedesktop.DBus.Error.NoReply" ||
      error_name == "org.freedesktop.DBus.Error.Timeout" ||
      error_name == "org.freedesktop.DBus.Error.TimedOut")
    return {kUnreachable, "flamed did not answer " + method + "() in time", "timeout"};
  if (error_name == "org.freedesktop.DBus.Error.UnknownMethod" ||
      error_name == "org.freedesktop.DBus.Error.UnknownObject" ||
      error_name == "org.freedesktop.DBus.Error.UnknownInterface")
    return {kNoDbus, "this flamed does not offer " + method + "() (" + detail + ")", "needs-dbus"};
  // org.flame.Flamed1.Error.Failed and anything else the daemon itself answered.
  return {kDaemonError, "flamed: " + method + "() failed: " + detail, "daemon-error"};
}

BusOutcome call_flamed_method(const Globals& g, const std::string& method, std::optional<bool> enabled) {
  sd_bus* raw = nullptr;
  int r = sd_bus_open_system(&raw);
  std::unique_ptr<sd_bus, BusUnref> bus(raw);
  if (r < 0)
    return {kNoDbus, std::string("cannot connect to the system bus: ") + std::strerror(-r), "no-bus"};

  sd_bus_message* call_raw = nullptr;
  r = sd_bus_message_new_method_call(bus.get(), &call_raw, kName, kPath, kInterface, method.c_str());
  std::unique_ptr<sd_bus_message, MessageUnref> call(call_raw);
  if (r >= 0 && enabled) r = sd_bus_message_append(call.get(), "b", *enabled ? 1 : 0);
  if (r < 0) return {kNoDbus, std::string("cannot build the D-Bus call: ") + std::strerror(-r), "no-bus"};

  sd_bus_error error = SD_BUS_ERROR_NULL;
  sd_bus_message* reply_raw = nullptr;
  const auto usec = static_cast<uint64_t>(g.timeout_s * 1e6);
  r = sd_bus_call(bus.get(), call.get(), usec, &error, &reply_raw);
  std::unique_ptr<sd_bus_message, MessageUnref> reply(reply_raw);
  BusOutcome out;
  if (r < 0) {
    if (sd_bus_error_is_set(&error))
      out = classify_bus_error(method, error.name, error.message ? error.message : "");
    else
      out = {kUnreachable, "D-Bus call " + method + "() failed: " + std::strerror(-r), "unreachable"};
  }
  sd_bus_error_free(&error);
  return out;
}

}  // namespace flamectl
