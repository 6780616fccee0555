#pragma once
// The policy's time: milliseconds on one monotonic axis chosen by the caller (flamed: steady_clock
// since it started, or the client's virtual time under the simulation clock; `flame eval`: the
// simulation's virtual time). The policy never reads a clock itself.
namespace flame::policy {

using TimeMs = double;

}  // namespace flame::policy
