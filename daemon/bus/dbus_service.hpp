#pragma once
// org.flame.Flamed1 on the system bus (docs/dbus.md): read-only state properties for everyone,
// privileged methods Reload(), SetEnabled(b), RestoreBaseline() (sd-bus's default check: the caller
// needs CAP_SYS_ADMIN), and PropertiesChanged coalesced to at most one signal per 100 ms. The
// connection runs on the daemon's io_context (bus_loop.hpp). D-Bus is optional: start() logs why it
// cannot connect or own the name and returns null, and a connection lost later only turns the
// service off; the daemon keeps serving its socket either way.
// clang-format off
#include <utility>  // Boost 1.74 asio/awaitable.hpp uses std::exchange without including it
#include <boost/asio.hpp>
// clang-format on
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "bus/bus_loop.hpp"
#include "bus/bus_state.hpp"
#include "bus/coalescer.hpp"
#include "bus/sd_bus_handle.hpp"

namespace flamed {

inline constexpr const char* kBusName = "org.flame.Flamed1";
inline constexpr const char* kBusPath = "/org/flame/Flamed1";
inline constexpr const char* kBusInterface = "org.flame.Flamed1";
inline constexpr const char* kBusErrorFailed = "org.flame.Flamed1.Error.Failed";

class DbusService {
 public:
  // What the object reads and does. Method handlers run on the loop and report failure by
  // throwing; the caller then gets org.flame.Flamed1.Error.Failed with the exception's message.
  // reload is asynchronous: it returns at once and calls `done` on the loop later, with an empty
  // string on success or the reason it failed; the method call is answered then.
  struct Handlers {
    using Done = std::function<void(const std::string& error)>;
    std::function<BusState()> state;
    std::function<void(Done done)> reload;
    std::function<void(bool)> set_enabled;
    std::function<void()> restore_baseline;
  };

  static constexpr std::chrono::milliseconds kDefaultMinInterval{100};  // <= 10 Hz

  // Connects with sd_bus_open_system() ($DBUS_SYSTEM_BUS_ADDRESS is honoured), exports the object
  // and asks for the name. Never throws: on failure logs and returns null.
  static std::unique_ptr<DbusService> start(boost::asio::io_context& io, Handlers handlers,
                                            std::chrono::milliseconds min_interval = kDefaultMinInterval);

  DbusService(boost::asio::io_context& io, Handlers handlers, std::chrono::milliseconds min_interval);
  ~DbusService();
  DbusService(const DbusService&) = delete;
  DbusService& operator=(const DbusService&) = delete;

  // The state may have changed: emit PropertiesChanged for what did, at most once per interval.
  void changed();
  // Closes the connection, which releases the name (shutdown); never blocks. Not from inside an
  // sd-bus callback.
  void stop();
  bool running() const { return bus_ != nullptr; }
  bool owns_name() const { return owns_name_; }

 private:
  static const sd_bus_vtable kVtable[];
  static int get_property(sd_bus* bus, const char* path, const char* interface, const char* property,
                          sd_bus_message* reply, void* userdata, sd_bus_error* error);
  static int method_reload(sd_bus_message* m, void* userdata, sd_bus_error* error);
  static int method_set_enabled(sd_bus_message* m, void* userdata, sd_bus_error* error);
  static int method_restore_baseline(sd_bus_message* m, void* userdata, sd_bus_error* error);
  static int name_reply(sd_bus_message* m, void* userdata, sd_bus_error* error);

  int run_method(sd_bus_message* m, sd_bus_error* error, const char* what, const std::function<void()>& body);
  void log_call(sd_bus_message* m, const char* what) const;
  void emit_changes();
  void lost(const std::string& why);  // log, then stop on the next loop turn

  boost::asio::io_context& io_;
  Handlers handlers_;
  SdBusHandle bus_;
  SdBusSlotHandle vtable_slot_, name_slot_;
  std::unique_ptr<BusLoop> loop_;
  Coalescer coalescer_;
  BusState last_;                       // what the last PropertiesChanged (or the start) announced
  const BusState* emitting_ = nullptr;  // the state being announced, read by the getters meanwhile
  bool owns_name_ = false;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace flamed
