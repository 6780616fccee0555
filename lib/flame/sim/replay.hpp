#pragma once
// Replay: drives a workload through the simulated board, asking a running flamed for clocks over its
// socket before each inference (begin → the simulated inference at the clocks now in the tree → end
// with the measured latency_ms), and records what happened per request (docs/simulator.md).
//
// Execution model: one inference at a time, in arrival order (a single GPU queue). A request starts
// at max(arrival, previous finish); the deadline it sends is what is left of its own deadline then,
// and it meets its deadline when finish - arrival <= deadline_ms. Time is virtual: nothing sleeps.
//
// Each stream (app) has its own connection, as separate applications would. A request that arrives
// while another inference runs is announced at its arrival (begin with its whole deadline: flamed then
// holds both requests and the board runs their per-domain maximum), and renewed when the GPU takes it
// up (a begin with the same id replaces the hold) with what is left of its deadline. Every message
// carries its virtual time ("t_ms"), which a flamed on the simulation clock takes as its time.
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "flame/sim/request_truth.hpp"
#include "flame/sim/table_sim.hpp"
#include "flame/sim/workload.hpp"

namespace flame::sim {

// A blocking newline-delimited JSON client of flamed's socket (docs/protocol.md).
class DaemonClient {
 public:
  explicit DaemonClient(const std::string& socket_path, double timeout_s = 10);
  ~DaemonClient();
  DaemonClient(const DaemonClient&) = delete;
  DaemonClient& operator=(const DaemonClient&) = delete;
  // Sends one request line, returns the reply line parsed; throws on I/O errors and timeouts.
  nlohmann::json call(const nlohmann::json& request);

 private:
  int fd_ = -1;
  std::string buffer_;
  std::string path_;
};

struct FrameRecord {
  std::size_t index = 0;
  std::string model;
  std::string stream;
  int ctx = 0;  // an SLM request's context length and phase (0 / "" otherwise)
  std::string phase;
  double arrival_ms = 0;
  double start_ms = 0;
  double finish_ms = 0;
  double latency_ms = 0;   // service time: finish - start (reported to flamed)
  double response_ms = 0;  // finish - arrival (what the deadline is about)
  double deadline_ms = 0;
  double budget_ms = 0;  // the deadline sent to flamed: what was left at the start
  bool met = false;
  double energy_j = 0;
  double avg_power_w = 0;
  SimClocks requested;  // read from the tree after begin
  SimClocks effective;  // in effect at the start (delays, cap)
  int pieces = 1;
  bool throttled = false;
  // From flamed's begin reply (absent without a daemon).
  std::optional<double> predicted_ms;
  std::optional<bool> feasible;
};
nlohmann::json to_json(const FrameRecord& r);
// The record of request `index` starting when it arrives or when the GPU queue is free (`free_at`),
// whichever is later; its budget is the deadline minus the time spent queued. Shared by the replay
// and `flame eval`.
FrameRecord start_record(std::size_t index, const Request& q, double free_at);
// Fills what the simulator measured (latency, finish, response, met, energy, power, clocks) into a
// record whose arrival, start and deadline are set. Shared by the replay and `flame eval`.
void record_inference(FrameRecord& r, const InferenceResult& x);

// What an app sends flamed as a request's deadline for `budget_ms` left: a request already late still
// asks (for the fastest clocks; the protocol needs deadline_ms > 0), rounded to the microsecond.
double sent_deadline_ms(double budget_ms);
// The latency an app reports at `end` for a measured `latency_ms` (microseconds, > 0).
double reported_latency_ms(double latency_ms);

struct Summary {
  std::size_t requests = 0;
  std::size_t met = 0;
  double met_pct = 0;
  double energy_j = 0;  // sum over inferences (idle power is not in the grid and not counted)
  double energy_per_inference_j = 0;
  double mean_power_w = 0;  // energy / busy time
  double mean_latency_ms = 0;
  double p50_latency_ms = 0;
  double p99_latency_ms = 0;  // service time
  double p99_response_over_deadline = 0;
  double max_response_over_deadline = 0;
  double virtual_s = 0;           // last finish (virtual time)
  std::size_t clock_changes = 0;  // requests whose tree clocks differ from the previous request's
  std::size_t throttled = 0;
  std::size_t infeasible = 0;  // flamed answered feasible: false
};
// Percentiles are nearest-rank: the value at rank ceil(p/100 · n) of the sorted sample.
double percentile(std::vector<double> v, double p);
Summary summarize(const std::vector<FrameRecord>& records);
nlohmann::json to_json(const Summary& s);

struct ReplayOptions {
  std::optional<std::string> socket;  // flamed's socket; unset = no daemon (clocks as they are)
  std::size_t limit = 0;              // replay only the first N requests (0 = all)
  std::string app = "flame-sim";
  bool per_stream = true;  // one connection per stream, opened at its first request, closed after its last
  // Pace the messages to flamed in wall-clock time (simulated ms = wall ms), so that what flamed
  // measures with its own clock (the queue's served time, the idle delay, expiry) matches the
  // simulation. Off: as fast as possible, and flamed sees every request's simulated time as ~0.
  bool realtime = false;
  // Which of the simulator's truths runs each request (SLM requests on a live layer board: the
  // dataset's configurations by context; default: the truth the model names).
  RequestTruths truths;
};

struct ReplayResult {
  std::vector<FrameRecord> records;
  Summary summary;
  double wall_s = 0;
  std::size_t connections = 0;  // opened to flamed
  std::size_t begins = 0;       // begin messages sent (announcements + starts)
  std::size_t overlapping = 0;  // begins sent while another request was active in flamed
  std::size_t arbitrated = 0;   // begin replies whose applied clocks differ from the request's own
};
nlohmann::json to_json(const ReplayResult& r);  // the counters above

ReplayResult replay(const Workload& w, TableSimulator& sim, const ReplayOptions& o);

}  // namespace flame::sim
