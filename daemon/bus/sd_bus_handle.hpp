#pragma once
// Owning handles for sd-bus objects: a connection (closed and unreferenced on release, without a
// flush: sd_bus_flush() could wait forever on a stuck bus, and nothing queued matters once we
// leave; closing also drops every name the connection owned) and a slot (an object vtable, a
// pending call, a match; unreferencing it unregisters it).
#include <systemd/sd-bus.h>

#include <memory>

namespace flamed {

struct SdBusCloser {
  void operator()(sd_bus* bus) const noexcept { sd_bus_close_unref(bus); }
};
struct SdBusSlotUnref {
  void operator()(sd_bus_slot* slot) const noexcept { sd_bus_slot_unref(slot); }
};

using SdBusHandle = std::unique_ptr<sd_bus, SdBusCloser>;
using SdBusSlotHandle = std::unique_ptr<sd_bus_slot, SdBusSlotUnref>;

}  // namespace flamed
