# A private system bus for the D-Bus tests: like `dbus-daemon --session`, but any uid may connect
# (the session config only admits the bus owner), so that `nobody` can be shown AccessDenied by
# flamed itself. Source it; start_private_bus DIR starts it with its socket in DIR, exports
# DBUS_SYSTEM_BUS_ADDRESS and sets bus_pid (the caller kills it at exit). Returns 1 on failure.
start_private_bus() {
  local d=$1
  cat >"$d/bus.conf" <<XML
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=$d/bus.sock</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
XML
  dbus-daemon --config-file="$d/bus.conf" --fork --nopidfile --print-address=1 --print-pid=3 \
    >"$d/bus.address" 3>"$d/bus.pid" 2>"$d/bus.log" || return 1
  bus_pid=$(head -n1 "$d/bus.pid")
  export DBUS_SYSTEM_BUS_ADDRESS
  DBUS_SYSTEM_BUS_ADDRESS=$(head -n1 "$d/bus.address")
  unset DBUS_SESSION_BUS_ADDRESS
}
