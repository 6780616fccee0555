#include "flame/sim/replay.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <map>
#include <stdexcept>
#include <thread>

namespace flame::sim {
namespace {

nlohmann::json clocks_json(const SimClocks& c) {
  return {{"cores", c.cores}, {"cpu_khz", c.cpu_khz}, {"gpu_hz", c.gpu_hz}, {"emc_hz", c.emc_hz}};
}

}  // namespace

DaemonClient::DaemonClient(const std::string& socket_path, double timeout_s) : path_(socket_path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof(addr.sun_path))
    throw std::runtime_error(fmt::format("socket path too long: {}", socket_path));
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error(fmt::format("socket: {}", std::strerror(errno)));
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int e = errno;
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error(
        fmt::format("cannot connect to flamed at {}: {}", socket_path, std::strerror(e)));
  }
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout_s);
  tv.tv_usec = static_cast<suseconds_t>((timeout_s - std::floor(timeout_s)) * 1e6);
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

DaemonClient::~DaemonClient() {
  if (fd_ >= 0) ::close(fd_);
}

nlohmann::json DaemonClient::call(const nlohmann::json& request) {
  const std::string line = request.dump() + "\n";
  std::size_t sent = 0;
  while (sent < line.size()) {
    const ssize_t n = ::send(fd_, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(fmt::format("flamed at {}: send: {}", path_, std::strerror(errno)));
    }
    sent += static_cast<std::size_t>(n);
  }
  for (;;) {
    const auto nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      const std::string reply = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      try {
        return nlohmann::json::parse(reply);
      } catch (const nlohmann::json::exception& e) {
        throw std::runtime_error(
            fmt::format("flamed at {}: unparsable reply '{}': {}", path_, reply, e.what()));
      }
    }
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        throw std::runtime_error(fmt::format("flamed at {}: no reply (timeout)", path_));
      throw std::runtime_error(fmt::format("flamed at {}: recv: {}", path_, std::strerror(errno)));
    }
    if (n == 0) throw std::runtime_error(fmt::format("flamed at {} closed the connection", path_));
    buffer_.append(buf, static_cast<std::size_t>(n));
  }
}

double sent_deadline_ms(double budget_ms) {
  return std::round(std::max(budget_ms, 0.1) * 1000) / 1000;
}

double reported_latency_ms(double latency_ms) {
  return std::max(0.001, std::round(latency_ms * 1000) / 1000);
}

nlohmann::json to_json(const FrameRecord& r) {
  nlohmann::json j = {{"index", r.index},
                      {"model", r.model},
                      {"stream", r.stream},
                      {"arrival_ms", r.arrival_ms},
                      {"start_ms", r.start_ms},
                      {"finish_ms", r.finish_ms},
                      {"latency_ms", r.latency_ms},
                      {"response_ms", r.response_ms},
                      {"deadline_ms", r.deadline_ms},
                      {"budget_ms", r.budget_ms},
                      {"met", r.met},
                      {"energy_j", r.energy_j},
                      {"avg_power_w", r.avg_power_w},
                      {"requested", clocks_json(r.requested)},
                      {"effective", clocks_json(r.effective)},
                      {"pieces", r.pieces},
                      {"throttled", r.throttled}};
  if (r.ctx > 0) {
    j["ctx"] = r.ctx;
    j["phase"] = r.phase;
  }
  if (r.predicted_ms) j["predicted_ms"] = *r.predicted_ms;
  if (r.feasible) j["feasible"] = *r.feasible;
  return j;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
}

Summary summarize(const std::vector<FrameRecord>& records) {
  Summary s;
  s.requests = records.size();
  if (records.empty()) return s;
  std::vector<double> lat, ratio;
  double busy_ms = 0;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto& r = records[i];
    if (r.met) ++s.met;
    s.energy_j += r.energy_j;
    busy_ms += r.latency_ms;
    lat.push_back(r.latency_ms);
    ratio.push_back(r.response_ms / r.deadline_ms);
    s.virtual_s = std::max(s.virtual_s, r.finish_ms / 1000.0);
    if (i > 0 && !(r.requested == records[i - 1].requested)) ++s.clock_changes;
    if (r.throttled) ++s.throttled;
    if (r.feasible && !*r.feasible) ++s.infeasible;
  }
  const double n = static_cast<double>(records.size());
  s.met_pct = 100.0 * static_cast<double>(s.met) / n;
  s.energy_per_inference_j = s.energy_j / n;
  s.mean_power_w = busy_ms > 0 ? s.energy_j / (busy_ms / 1000.0) : 0;
  s.mean_latency_ms = busy_ms / n;
  s.p50_latency_ms = percentile(lat, 50);
  s.p99_latency_ms = percentile(lat, 99);
  s.p99_response_over_deadline = percentile(ratio, 99);
  s.max_response_over_deadline = *std::max_element(ratio.begin(), ratio.end());
  return s;
}

// Keys are the member names (docs/evaluation.md and docs/simulator.md show the reports).
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Summary, requests, met, met_pct, energy_j, energy_per_inference_j,
                                   mean_power_w, mean_latency_ms, p50_latency_ms, p99_latency_ms,
                                   p99_response_over_deadline, max_response_over_deadline, virtual_s,
                                   clock_changes, throttled, infeasible)

nlohmann::json to_json(const Summary& s) {
  return s;
}

FrameRecord start_record(std::size_t index, const Request& q, double free_at) {
  FrameRecord r;
  r.index = index;
  r.model = q.model;
  r.stream = q.stream;
  r.ctx = q.ctx;
  r.phase = q.phase;
  r.arrival_ms = q.t_ms;
  r.deadline_ms = q.deadline_ms;
  r.start_ms = std::max(q.t_ms, free_at);
  r.budget_ms = q.deadline_ms - (r.start_ms - q.t_ms);
  return r;
}

void record_inference(FrameRecord& r, const InferenceResult& x) {
  r.latency_ms = x.latency_ms;
  r.finish_ms = r.start_ms + x.latency_ms;
  r.response_ms = r.finish_ms - r.arrival_ms;
  r.met = r.response_ms <= r.deadline_ms;
  r.energy_j = x.energy_j;
  r.avg_power_w = x.avg_power_w;
  r.requested = x.requested;
  r.effective = x.effective;
  r.pieces = x.pieces;
  r.throttled = x.throttled;
}

nlohmann::json to_json(const ReplayResult& r) {
  return {{"connections", r.connections},
          {"begins", r.begins},
          {"overlapping_begins", r.overlapping},
          {"arbitrated", r.arbitrated}};
}

ReplayResult replay(const Workload& w, TableSimulator& sim, const ReplayOptions& o) {
  const std::size_t n = o.limit ? std::min(o.limit, w.requests.size()) : w.requests.size();
  // Fail early on a request the board has no truth for.
  for (const auto& t : o.truths.truth_names(w, n)) (void)sim.truth(t);
  const auto wall0 = std::chrono::steady_clock::now();
  ReplayResult out;

  // Connections by stream (one shared key without per_stream), each closed after its last request
  // so that flamed sees a lease end as it would when an app exits.
  auto key = [&](std::size_t i) { return o.per_stream ? w.requests[i].stream : std::string(); };
  std::map<std::string, std::size_t> last_of;
  for (std::size_t i = 0; i < n; ++i) last_of[key(i)] = i;
  std::map<std::string, std::unique_ptr<DaemonClient>> clients;
  auto client = [&](std::size_t i) -> DaemonClient& {
    auto& c = clients[key(i)];
    if (!c) {
      c = std::make_unique<DaemonClient>(*o.socket);
      const std::string app = o.per_stream && !key(i).empty() ? o.app + "/" + key(i) : o.app;
      const auto hello = c->call({{"op", "hello"}, {"proto", 1}, {"app", app}});
      if (!hello.value("ok", false)) throw std::runtime_error("flamed refused hello: " + hello.dump());
      ++out.connections;
    }
    return *c;
  };
  // Wall-clock pacing: a message at simulated time t waits for wall0 + t.
  auto at = [&](double t_ms) {
    if (o.realtime)
      std::this_thread::sleep_until(wall0 + std::chrono::microseconds(static_cast<int64_t>(t_ms * 1000)));
  };
  std::size_t active = 0;  // requests flamed holds (begun, not ended)
  std::vector<bool> announced(n, false);
  auto begin = [&](std::size_t i, double budget_ms, double t_ms, FrameRecord* r) {
    const Request& q = w.requests[i];
    if (active > (announced[i] ? 1u : 0u)) ++out.overlapping;
    nlohmann::json msg = {{"op", "begin"},
                          {"id", i},
                          {"model", q.model},
                          {"deadline_ms", sent_deadline_ms(budget_ms)},
                          {"t_ms", t_ms}};
    if (q.ctx > 0) {  // an SLM request: flamed's context model plans for it
      msg["ctx"] = q.ctx;
      msg["phase"] = q.phase;
    }
    const auto reply = client(i).call(msg);
    if (!reply.value("ok", false))
      throw std::runtime_error(
          fmt::format("flamed refused request {} ({}): {}", i, q.model, reply.value("error", reply.dump())));
    ++out.begins;
    if (!announced[i]) ++active;
    announced[i] = true;
    if (reply.contains("clocks") && reply.contains("applied") && reply["clocks"] != reply["applied"])
      ++out.arbitrated;
    if (r) {
      if (reply.contains("predicted_ms")) r->predicted_ms = reply["predicted_ms"].get<double>();
      if (reply.contains("feasible")) r->feasible = reply["feasible"].get<bool>();
    }
  };

  double free_at = 0;  // when the GPU queue is free again
  sim.observe(0);
  for (std::size_t i = 0; i < n; ++i) {
    const Request& q = w.requests[i];
    FrameRecord r = start_record(i, q, free_at);
    if (o.socket) {
      at(r.start_ms);
      begin(i, r.budget_ms, r.start_ms, &r);  // a start, or the renewal of an announced request
    }

    // Requests arriving while this one runs are announced at their arrival.
    Ticker ticker;
    if (o.socket) {
      for (std::size_t k = i + 1; k < n; ++k)
        if (w.requests[k].t_ms > r.start_ms) ticker.instants.push_back(w.requests[k].t_ms);
      ticker.at = [&](double t) {
        for (std::size_t k = i + 1; k < n && w.requests[k].t_ms <= t; ++k)
          if (!announced[k]) {
            at(w.requests[k].t_ms);
            begin(k, w.requests[k].deadline_ms, w.requests[k].t_ms, nullptr);
          }
      };
    }
    const InferenceResult x = sim.run(o.truths.truth_name(q), r.start_ms, ticker);
    record_inference(r, x);
    if (o.socket) {
      auto& c = client(i);
      at(r.finish_ms);
      const auto reply = c.call({{"op", "end"},
                                 {"id", i},
                                 {"latency_ms", reported_latency_ms(x.latency_ms)},
                                 {"t_ms", r.finish_ms}});
      if (!reply.value("ok", false))
        throw std::runtime_error(fmt::format("flamed refused end of request {}: {}", i, reply.dump()));
      --active;
      if (last_of[key(i)] == i) clients.erase(key(i));  // the app is done: closing releases its lease
    }
    sim.observe(r.finish_ms);  // what the daemon did at `end` (idle policy) starts to take effect
    free_at = r.finish_ms;
    out.records.push_back(std::move(r));
  }
  out.summary = summarize(out.records);
  out.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  return out;
}

}  // namespace flame::sim
