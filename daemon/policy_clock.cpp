#include "policy_clock.hpp"

#include <algorithm>

namespace flamed {

RequestTime PolicyClock::request(std::optional<double> client_ms) {
  if (!simulated_) return {now(), {}};
  if (!client_ms) return {std::nullopt, "missing \"t_ms\" (this daemon runs on the simulation clock)"};
  latest_ = std::max(latest_, *client_ms);
  return {latest_, {}};
}

flame::policy::TimeMs PolicyClock::now() const {
  if (simulated_) return latest_;
  return std::chrono::duration<double, std::milli>(Steady::now() - epoch_).count();
}

PolicyClock::Steady::time_point PolicyClock::steady(flame::policy::TimeMs t) const {
  return epoch_ + std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double, std::milli>(t));
}

}  // namespace flamed
