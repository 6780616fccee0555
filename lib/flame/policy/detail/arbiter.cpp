#include "flame/policy/detail/arbiter.hpp"

#include <algorithm>
#include <vector>

#include "flame/search/queued_work.hpp"

namespace flame::policy {

void Arbiter::add(Hold hold) {
  for (auto& h : holds_)
    if (h.client == hold.client && h.id == hold.id) {
      h = std::move(hold);
      return;
    }
  holds_.push_back(std::move(hold));
}

std::optional<Hold> Arbiter::remove(uint64_t client, int64_t id) {
  for (auto it = holds_.begin(); it != holds_.end(); ++it)
    if (it->client == client && it->id == id) {
      Hold h = std::move(*it);
      holds_.erase(it);
      return h;
    }
  return std::nullopt;
}

std::vector<Hold> Arbiter::remove_client(uint64_t client) {
  std::vector<Hold> out;
  std::erase_if(holds_, [&](Hold& h) {
    if (h.client != client) return false;
    out.push_back(std::move(h));
    return true;
  });
  return out;
}

std::vector<Hold> Arbiter::expire(TimeMs now) {
  std::vector<Hold> out;
  std::erase_if(holds_, [&](Hold& h) {
    if (h.expires > now) return false;
    out.push_back(std::move(h));
    return true;
  });
  return out;
}

std::optional<Clocks> Arbiter::combined() const {
  if (holds_.empty()) return std::nullopt;
  Clocks c = holds_.front().clocks;
  for (const auto& h : holds_) {
    c.cpu_khz = std::max(c.cpu_khz, h.clocks.cpu_khz);
    c.cpu_cores = std::max(c.cpu_cores, h.clocks.cpu_cores);
    c.gpu_hz = std::max(c.gpu_hz, h.clocks.gpu_hz);
    c.emc_hz = std::max(c.emc_hz, h.clocks.emc_hz);
  }
  return c;
}

std::optional<TimeMs> Arbiter::next_expiry() const {
  std::optional<TimeMs> t;
  for (const auto& h : holds_)
    if (!t || h.expires < *t) t = h.expires;
  return t;
}

size_t Arbiter::count(uint64_t client) const {
  return static_cast<size_t>(
      std::count_if(holds_.begin(), holds_.end(), [&](const Hold& h) { return h.client == client; }));
}

void Arbiter::mark_arbitrated(const Clocks& combined) {
  for (auto& h : holds_)
    if (!(h.clocks == combined)) h.arbitrated = true;
}

const Hold* Arbiter::find(uint64_t client, int64_t id) const {
  for (const auto& h : holds_)
    if (h.client == client && h.id == id) return &h;
  return nullptr;
}

double Arbiter::queued_ms(uint64_t client, int64_t id, TimeMs arrived, TimeMs now) const {
  std::vector<search::QueuedRequest> ahead;
  for (const auto& h : holds_)
    if (!(h.client == client && h.id == id) && h.arrived <= arrived)
      ahead.push_back({h.predicted_ms, now - h.began});
  return queued_work_ms(ahead);
}

}  // namespace flame::policy
