#include "flame/sim/workload.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <sstream>

#include "flame/io/yaml_reader.hpp"
#include "flame/sim/rng.hpp"

namespace flame::sim {
namespace {

// Times and deadlines are stored to the microsecond, so that a file regenerates byte for byte.
double round3(double v) {
  return std::round(v * 1000.0) / 1000.0;
}

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

void check(bool ok, const std::string& what) {
  if (!ok) throw WorkloadError(what);
}

void validate(const CameraSpec& s) {
  check(s.fps > 0 && std::isfinite(s.fps), "camera: fps must be > 0");
  check(s.frames >= 1, "camera: frames must be >= 1");
  check(s.infer_every >= 1, "camera: infer_every must be >= 1");
  check(s.jitter_ms >= 0 && s.jitter_ms < 500.0 / s.fps, "camera: jitter_ms must be in [0, half a frame)");
  check(!s.model.empty(), "camera: model must be set");
}

void validate(const BurstySpec& s) {
  check(s.bursts >= 1, "bursty: bursts must be >= 1");
  check(s.burst_min >= 1 && s.burst_max >= s.burst_min, "bursty: need 1 <= burst_min <= burst_max");
  check(s.gap_min_ms >= 0 && s.gap_max_ms >= s.gap_min_ms, "bursty: need 0 <= gap_min_ms <= gap_max_ms");
  check(s.idle_mean_ms >= 0 && s.idle_min_ms >= 0, "bursty: idle times must be >= 0");
  check(s.deadline_min_ms > 0 && s.deadline_max_ms >= s.deadline_min_ms,
        "bursty: need 0 < deadline_min_ms <= deadline_max_ms");
  check(!s.models.empty(), "bursty: models must not be empty");
  for (const auto& m : s.models) check(!m.empty(), "bursty: empty model name");
}

void validate(const SlmSpec& s) {
  check(s.turns >= 1, "slm: turns must be >= 1");
  check(s.prompt_min >= 1 && s.prompt_max >= s.prompt_min, "slm: need 1 <= prompt_min <= prompt_max");
  check(s.reply_min >= 1 && s.reply_max >= s.reply_min, "slm: need 1 <= reply_min <= reply_max");
  check(s.tokens_per_s > 0 && std::isfinite(s.tokens_per_s), "slm: tokens_per_s must be > 0");
  check(s.ttft_ms > 0 && s.think_mean_ms >= 0, "slm: ttft_ms must be > 0 and think_mean_ms >= 0");
  check(!s.decode_model.empty() && !s.prefill_model.empty(),
        "slm: decode_model and prefill_model must be set");
  check(s.model.find_first_of(" \t\n\"") == std::string::npos, "slm: model must be a plain name");
  for (const auto* b : {&s.decode_buckets, &s.prefill_buckets}) {
    check(!b->empty(), "slm: context buckets must not be empty");
    check(std::is_sorted(b->begin(), b->end()) && b->front() >= 1 &&
              std::adjacent_find(b->begin(), b->end()) == b->end(),
          "slm: context buckets must be positive and strictly ascending");
  }
}

void validate(const MixSpec& s) {
  validate(s.camera);
  validate(s.bursty);
  check(!s.camera_stream.empty() && !s.bursty_stream.empty() && s.camera_stream != s.bursty_stream,
        "mix: the two apps need distinct, non-empty stream names");
}

// App B's seed: a fixed odd offset (the golden-ratio constant of SplitMix64) from the mix's seed, so
// that the two apps draw independent streams from one seed.
std::uint64_t second_seed(std::uint64_t seed) {
  return seed + 0x9E3779B97F4A7C15ull;
}

// The grid serving a context: the smallest bucket at or above it, else the largest.
int bucket_for(const std::vector<int>& buckets, int ctx) {
  const auto it = std::lower_bound(buckets.begin(), buckets.end(), ctx);
  return it == buckets.end() ? buckets.back() : *it;
}

std::string int_list(const std::vector<int>& v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + std::to_string(v[i]);
  return out + "]";
}

// The camera generator's keys after its seed (also app A's in a mix, named with the prefix "camera_"),
// as read_camera reads them.
std::string camera_keys(const CameraSpec& c, const std::string& prefix) {
  return fmt::format(
      "  {0}fps: {1}\n  {0}frames: {2}\n  {0}infer_every: {3}\n  {0}jitter_ms: {4}\n  {0}model: {5}\n",
      prefix, c.fps, c.frames, c.infer_every, c.jitter_ms, quoted(c.model));
}

// The bursty generator's keys after its seed (also app B's in a mix), as read_bursty reads them.
std::string bursty_keys(const BurstySpec& b) {
  std::string out = fmt::format(
      "  bursts: {}\n  burst_min: {}\n  burst_max: {}\n  gap_min_ms: {}\n  gap_max_ms: {}\n"
      "  idle_mean_ms: {}\n  idle_min_ms: {}\n  deadline_min_ms: {}\n  deadline_max_ms: {}\n",
      b.bursts, b.burst_min, b.burst_max, b.gap_min_ms, b.gap_max_ms, b.idle_mean_ms, b.idle_min_ms,
      b.deadline_min_ms, b.deadline_max_ms);
  out += "  models: [";
  for (std::size_t i = 0; i < b.models.size(); ++i) out += (i ? ", " : "") + quoted(b.models[i]);
  return out + "]\n";
}

using Reader = io::YamlReader<WorkloadError>;

}  // namespace

MixSpec::MixSpec() {
  // App A: a 30 FPS camera classifying every 10th frame (3 inferences/s), each due before the next
  // inferred frame (333 ms = 2.4 x the fastest 4-core InceptionV3 latency). 60 s.
  camera.fps = 30;
  camera.frames = 1800;
  camera.infer_every = 10;
  camera.model = "inceptionv3-200";
  // App B: event-driven Xception classification, bursts of 2-6 requests 200-400 ms apart after idle
  // gaps of 2.5 s on average; 300-500 ms each (2.4-4.0 x its fastest latency), so that a request
  // still makes it at the top clocks when it waits for one of A's inferences (136.8 + 124.2 ms).
  bursty.bursts = 17;
  bursty.burst_min = 2;
  bursty.burst_max = 6;
  bursty.gap_min_ms = 200;
  bursty.gap_max_ms = 400;
  bursty.idle_mean_ms = 2500;
  bursty.idle_min_ms = 500;
  bursty.deadline_min_ms = 300;
  bursty.deadline_max_ms = 500;
  bursty.models = {"xception-200"};
}

std::vector<std::string> Workload::streams() const {
  std::vector<std::string> out;
  for (const auto& r : requests)
    if (std::find(out.begin(), out.end(), r.stream) == out.end()) out.push_back(r.stream);
  return out;
}

bool Workload::has_context() const {
  return std::any_of(requests.begin(), requests.end(), [](const Request& r) { return r.ctx > 0; });
}

std::vector<std::string> Workload::models() const {
  std::set<std::string> s;
  for (const auto& r : requests) s.insert(r.model);
  return {s.begin(), s.end()};
}

namespace {
double frame_period_ms(const CameraSpec& s) {
  return 1000.0 / s.fps;
}

double token_slot_ms(const SlmSpec& s) {
  return 1000.0 / s.tokens_per_s;
}

// The description a generated workload carries (docs/workloads.md): its generator's parameters in words.
std::string describe(const CameraSpec& s) {
  return fmt::format(
      "{:g} FPS camera, {} frames; {} runs on every {}th frame and must finish before the next one it runs "
      "on ({:.3f} ms)",
      s.fps, s.frames, s.model, s.infer_every, s.infer_every * frame_period_ms(s));
}

std::string describe(const BurstySpec& s) {
  return fmt::format(
      "{} bursts of {}-{} requests {:g}-{:g} ms apart, idle gaps of {:g} ms on average; deadlines {:g}-{:g} "
      "ms",
      s.bursts, s.burst_min, s.burst_max, s.gap_min_ms, s.gap_max_ms, s.idle_mean_ms, s.deadline_min_ms,
      s.deadline_max_ms);
}

std::string describe(const SlmSpec& s) {
  std::string d = fmt::format(
      "chat with {} turns of {}-{} prompt tokens (prefill due in {:g} ms) and {}-{} reply tokens streamed at "
      "{:g} tokens/s (each decode step due in {:.3f} ms); the context grows with every token",
      s.turns, s.prompt_min, s.prompt_max, s.ttft_ms, s.reply_min, s.reply_max, s.tokens_per_s,
      token_slot_ms(s));
  if (!s.model.empty()) d += fmt::format("; {} with per-request context and phase", s.model);
  return d;
}

std::string describe(const MixSpec& s) {
  return fmt::format("two apps on one GPU queue: {} ({}); {} ({}; models {})", s.camera_stream,
                     describe(s.camera), s.bursty_stream, describe(s.bursty),
                     fmt::join(s.bursty.models, ", "));
}

// A generated workload's name, generator, validated spec (in its slot) and description, before its
// requests.
template <class Spec>
Workload started(const std::string& name, const char* generator, Spec Workload::*slot, const Spec& s) {
  validate(s);
  Workload w;
  w.name = name;
  w.generator = generator;
  w.*slot = s;
  w.description = describe(s);
  return w;
}
}  // namespace

Workload generate_camera(const CameraSpec& s, const std::string& name) {
  Workload w = started(name, "camera", &Workload::camera, s);
  const double period = frame_period_ms(s);
  Rng rng(s.seed);
  for (int k = 0; k < s.frames; ++k) {
    const double jitter = rng.uniform(-s.jitter_ms, s.jitter_ms);  // drawn for every frame
    if (k % s.infer_every != 0) continue;
    w.requests.push_back({round3(std::max(0.0, k * period + jitter)), s.model, round3(s.infer_every * period),
                          "camera", 0, ""});
  }
  return w;
}

Workload generate_bursty(const BurstySpec& s, const std::string& name) {
  Workload w = started(name, "bursty", &Workload::bursty, s);
  Rng rng(s.seed);
  double t = 0;
  for (int b = 0; b < s.bursts; ++b) {
    t += std::max(s.idle_min_ms, rng.exponential(s.idle_mean_ms));
    const long n = rng.integer(s.burst_min, s.burst_max);
    for (long j = 0; j < n; ++j) {
      if (j > 0) t += rng.uniform(s.gap_min_ms, s.gap_max_ms);
      // Deadline before model: the order of the draws is part of the workload's definition.
      const double deadline = round3(rng.uniform(s.deadline_min_ms, s.deadline_max_ms));
      const auto pick = static_cast<std::size_t>(rng.integer(0, static_cast<long>(s.models.size()) - 1));
      w.requests.push_back({round3(t), s.models[pick], deadline, fmt::format("burst{}", b), 0, ""});
    }
  }
  return w;
}

Workload generate_slm(const SlmSpec& s, const std::string& name) {
  Workload w = started(name, "slm", &Workload::slm, s);
  const double slot = token_slot_ms(s);
  // A request of `phase` over `tokens` of context (the new prompt, or the cache plus the new token).
  const auto request = [&](double t, double deadline, const char* phase, int tokens, const std::string& model,
                           const std::vector<int>& buckets, const std::string& stream) {
    if (s.model.empty())
      return Request{
          round3(t), fmt::format("{}-c{}", model, bucket_for(buckets, tokens)), round3(deadline), stream, 0,
          ""};
    return Request{round3(t), s.model, round3(deadline), stream, tokens, phase};
  };
  Rng rng(s.seed);
  double t = 0;
  int ctx = 0;  // tokens in the KV cache
  for (int turn = 0; turn < s.turns; ++turn) {
    if (turn > 0) t += rng.exponential(s.think_mean_ms);
    const int prompt = static_cast<int>(rng.integer(s.prompt_min, s.prompt_max));
    const int reply = static_cast<int>(rng.integer(s.reply_min, s.reply_max));
    w.requests.push_back(request(t, s.ttft_ms, "prefill", prompt, s.prefill_model, s.prefill_buckets,
                                 fmt::format("turn{}-prefill", turn)));
    ctx += prompt;
    // The first token is shown at the time-to-first-token; the following ones one slot apart. The
    // bucket names keep their historical context (the cache before the token); a live request counts
    // the token it adds.
    for (int k = 0; k < reply; ++k) {
      const int tokens = s.model.empty() ? ctx : ctx + 1;
      w.requests.push_back(request(t + s.ttft_ms + k * slot, slot, "decode", tokens, s.decode_model,
                                   s.decode_buckets, fmt::format("turn{}-decode", turn)));
      ++ctx;
    }
    t += s.ttft_ms + reply * slot;
  }
  return w;
}

Workload generate_mix(const MixSpec& s, const std::string& name) {
  Workload w = started(name, "mix", &Workload::mix, s);
  CameraSpec a = s.camera;
  a.seed = s.seed;
  BurstySpec b = s.bursty;
  b.seed = second_seed(s.seed);
  const Workload wa = generate_camera(a, name), wb = generate_bursty(b, name);
  // Merge in arrival order; on a tie app A's request comes first.
  std::size_t i = 0, j = 0;
  while (i < wa.requests.size() || j < wb.requests.size()) {
    const bool take_a =
        j == wb.requests.size() || (i < wa.requests.size() && wa.requests[i].t_ms <= wb.requests[j].t_ms);
    Request r = take_a ? wa.requests[i++] : wb.requests[j++];
    r.stream = take_a ? s.camera_stream : s.bursty_stream;
    w.requests.push_back(std::move(r));
  }
  return w;
}

SlmSpec slm_chat_live() {
  // slm-chat's chat, naming the SLM (docs/workloads.md "slm-chat-live").
  SlmSpec s;
  s.model = "qwen2-0.5b";
  return s;
}

std::vector<std::string> preset_names() {
  return {"camera30", "bursty", "slm-chat", "slm-chat-live", "mix"};
}

Workload generate_preset(const std::string& preset, std::uint64_t seed) {
  // A preset is a generator's default spec with the given seed.
  const auto seeded = [&](auto spec, auto generate) {
    spec.seed = seed;
    return generate(spec, preset);
  };
  if (preset == "camera30") return seeded(CameraSpec{}, generate_camera);
  if (preset == "bursty") return seeded(BurstySpec{}, generate_bursty);
  if (preset == "slm-chat") return seeded(SlmSpec{}, generate_slm);
  if (preset == "slm-chat-live") {  // runs on the live layer boards, which resolve its contexts
    Workload w = seeded(slm_chat_live(), generate_slm);
    w.board = "layer-orin";
    return w;
  }
  if (preset == "mix") return seeded(MixSpec{}, generate_mix);
  throw WorkloadError(
      fmt::format("unknown workload preset '{}' (known: {})", preset, fmt::join(preset_names(), ", ")));
}

Workload regenerate(const Workload& w) {
  Workload out;
  if (w.generator == "camera")
    out = generate_camera(w.camera, w.name);
  else if (w.generator == "bursty")
    out = generate_bursty(w.bursty, w.name);
  else if (w.generator == "slm")
    out = generate_slm(w.slm, w.name);
  else if (w.generator == "mix")
    out = generate_mix(w.mix, w.name);
  else
    throw WorkloadError(fmt::format("workload {}: generator '{}' cannot regenerate", w.name, w.generator));
  out.board = w.board;
  return out;
}

std::string to_yaml(const Workload& w) {
  std::ostringstream o;
  o << "# flame workload (docs/workloads.md). Generated by `flame sim workload`; regenerate, do not edit.\n";
  o << "format: flame-workload\n";
  o << "version: " << kWorkloadVersion << "\n";
  o << "name: " << quoted(w.name) << "\n";
  o << "board: " << quoted(w.board) << "\n";
  o << "description: " << quoted(w.description) << "\n";
  o << "generator:\n";
  o << "  kind: " << w.generator << "\n";
  if (w.generator == "camera") {
    o << fmt::format("  seed: {}\n", w.camera.seed) << camera_keys(w.camera, "");
  } else if (w.generator == "bursty") {
    o << fmt::format("  seed: {}\n", w.bursty.seed) << bursty_keys(w.bursty);
  } else if (w.generator == "slm") {
    const auto& s = w.slm;
    o << fmt::format(
        "  seed: {}\n  turns: {}\n  prompt_min: {}\n  prompt_max: {}\n  reply_min: {}\n  reply_max: {}\n"
        "  tokens_per_s: {}\n  ttft_ms: {}\n  think_mean_ms: {}\n",
        s.seed, s.turns, s.prompt_min, s.prompt_max, s.reply_min, s.reply_max, s.tokens_per_s, s.ttft_ms,
        s.think_mean_ms);
    // Naming by the SLM leaves the buckets unused: the board resolves the configuration.
    if (s.model.empty())
      o << fmt::format(
          "  decode_model: {}\n  prefill_model: {}\n  decode_buckets: {}\n  prefill_buckets: {}\n",
          quoted(s.decode_model), quoted(s.prefill_model), int_list(s.decode_buckets),
          int_list(s.prefill_buckets));
    else
      o << fmt::format("  model: {}\n", quoted(s.model));
  } else if (w.generator == "mix") {
    const auto& s = w.mix;
    o << fmt::format("  seed: {}\n  camera_stream: {}\n", s.seed, quoted(s.camera_stream))
      << camera_keys(s.camera, "camera_");
    o << fmt::format("  bursty_stream: {}\n", quoted(s.bursty_stream)) << bursty_keys(s.bursty);
  }
  o << "requests:\n";
  for (const auto& r : w.requests) {
    o << fmt::format("  - {{t_ms: {:.3f}, model: {}, deadline_ms: {:.3f}, stream: {}", r.t_ms,
                     quoted(r.model), r.deadline_ms, quoted(r.stream));
    if (r.ctx > 0) o << fmt::format(", ctx: {}, phase: {}", r.ctx, r.phase);
    o << "}\n";
  }
  return o.str();
}

Workload parse_workload(const std::string& yaml, const std::string& source) {
  const Reader r{source};
  const YAML::Node root = r.document(yaml, "flame-workload", "workload file");
  const long version = r.integer(r.need(root, "version"), "version");
  if (version != kWorkloadVersion)
    r.fail(root["version"],
           fmt::format("version {} is not supported (this build reads {})", version, kWorkloadVersion));
  Workload w;
  w.name = r.text(r.need(root, "name"), "name");
  if (root["board"]) w.board = r.text(root["board"], "board");
  if (root["description"]) w.description = r.text(root["description"], "description");
  if (const YAML::Node g = root["generator"]) {
    w.generator = r.text(r.need(g, "kind"), "generator.kind");
    // The camera generator's keys (also app A's in a mix, named with `prefix`).
    auto read_camera = [&](const YAML::Node& n, const std::string& prefix, CameraSpec& c) {
      r.take(n, prefix + "fps", c.fps);
      r.take(n, prefix + "frames", c.frames);
      r.take(n, prefix + "infer_every", c.infer_every);
      r.take(n, prefix + "jitter_ms", c.jitter_ms);
      r.take(n, prefix + "model", c.model);
    };
    // The bursty generator's keys (also app B's in a mix).
    auto read_bursty = [&](const YAML::Node& n, BurstySpec& b) {
      r.take(n, "bursts", b.bursts);
      r.take(n, "burst_min", b.burst_min);
      r.take(n, "burst_max", b.burst_max);
      r.take(n, "gap_min_ms", b.gap_min_ms);
      r.take(n, "gap_max_ms", b.gap_max_ms);
      r.take(n, "idle_mean_ms", b.idle_mean_ms);
      r.take(n, "idle_min_ms", b.idle_min_ms);
      r.take(n, "deadline_min_ms", b.deadline_min_ms);
      r.take(n, "deadline_max_ms", b.deadline_max_ms);
      if (n["models"]) {
        if (!n["models"].IsSequence()) r.fail(n["models"], "generator.models: expected a list");
        b.models.clear();
        for (const auto& m : n["models"]) b.models.push_back(r.text(m, "generator.models"));
      }
    };
    try {
      if (w.generator == "camera") {
        r.take(g, "seed", w.camera.seed);
        read_camera(g, "", w.camera);
        validate(w.camera);
      } else if (w.generator == "bursty") {
        r.take(g, "seed", w.bursty.seed);
        read_bursty(g, w.bursty);
        validate(w.bursty);
      } else if (w.generator == "mix") {
        auto& s = w.mix;
        r.take(g, "seed", s.seed);
        r.take(g, "camera_stream", s.camera_stream);
        read_camera(g, "camera_", s.camera);
        r.take(g, "bursty_stream", s.bursty_stream);
        read_bursty(g, s.bursty);
        validate(s);
      } else if (w.generator == "slm") {
        auto& s = w.slm;
        r.take(g, "seed", s.seed);
        r.take(g, "turns", s.turns);
        r.take(g, "prompt_min", s.prompt_min);
        r.take(g, "prompt_max", s.prompt_max);
        r.take(g, "reply_min", s.reply_min);
        r.take(g, "reply_max", s.reply_max);
        r.take(g, "tokens_per_s", s.tokens_per_s);
        r.take(g, "ttft_ms", s.ttft_ms);
        r.take(g, "think_mean_ms", s.think_mean_ms);
        r.take(g, "decode_model", s.decode_model);
        r.take(g, "prefill_model", s.prefill_model);
        r.take(g, "model", s.model);
        for (auto [key, into] : {std::pair{"decode_buckets", &s.decode_buckets},
                                 std::pair{"prefill_buckets", &s.prefill_buckets}}) {
          if (!g[key]) continue;
          if (!g[key].IsSequence()) r.fail(g[key], fmt::format("generator.{}: expected a list", key));
          into->clear();
          for (const auto& v : g[key]) into->push_back(static_cast<int>(r.integer(v, key)));
        }
        validate(s);
      } else if (w.generator != "manual") {
        r.fail(g["kind"], fmt::format("generator.kind: '{}' is not known (camera, bursty, slm, mix, manual)",
                                      w.generator));
      }
    } catch (const WorkloadError& e) {
      r.fail(g, e.what());
    }
  } else {
    w.generator = "manual";
  }
  const YAML::Node reqs = r.need(root, "requests");
  if (!reqs.IsSequence() || reqs.size() == 0) r.fail(reqs, "requests: expected a non-empty list");
  double last = 0;
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    const YAML::Node q = reqs[i];
    const std::string where = fmt::format("requests[{}]", i);
    Request x;
    x.t_ms = r.number(r.need(q, "t_ms"), where + ".t_ms", -Reader::kInf);
    x.model = r.text(r.need(q, "model"), where + ".model");
    x.deadline_ms = r.number(r.need(q, "deadline_ms"), where + ".deadline_ms", -Reader::kInf);
    if (q["stream"]) x.stream = r.text(q["stream"], where + ".stream");
    // An SLM request's context and phase: both or neither.
    if (q["ctx"] || q["phase"]) {
      if (!q["ctx"] || !q["phase"])
        r.fail(q[q["ctx"] ? "ctx" : "phase"],
               where + ": ctx and phase go together (an SLM request has both)");
      const long ctx = r.integer(q["ctx"], where + ".ctx");
      if (ctx < 1 || ctx > std::numeric_limits<int>::max())
        r.fail(q["ctx"], where + ".ctx: must be an integer > 0");
      x.ctx = static_cast<int>(ctx);
      x.phase = r.text(q["phase"], where + ".phase");
      if (x.phase != "decode" && x.phase != "prefill")
        r.fail(q["phase"], fmt::format("{}.phase: '{}' is not decode or prefill", where, x.phase));
    }
    if (x.t_ms < 0) r.fail(q["t_ms"], where + ".t_ms: must be >= 0");
    if (x.t_ms < last) r.fail(q["t_ms"], where + ".t_ms: requests must be in arrival order");
    if (!(x.deadline_ms > 0)) r.fail(q["deadline_ms"], where + ".deadline_ms: must be > 0");
    if (x.model.empty()) r.fail(q["model"], where + ".model: must not be empty");
    last = x.t_ms;
    w.requests.push_back(std::move(x));
  }
  return w;
}

Workload load_workload(const std::filesystem::path& path) {
  return parse_workload(io::read_file<WorkloadError>(path, "workload file"), path.string());
}

}  // namespace flame::sim
