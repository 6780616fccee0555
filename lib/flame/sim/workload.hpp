#pragma once
// Replayable workloads (docs/workloads.md): a list of inference requests (arrival time, model,
// deadline), generated deterministically from a seed by a named generator, stored as YAML
// (config/workloads/*.yaml) with the generator's parameters so that the file can be regenerated
// byte for byte.
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace flame::sim {

struct WorkloadError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

inline constexpr int kWorkloadVersion = 1;

struct Request {
  double t_ms = 0;         // arrival, virtual milliseconds from the start of the run
  std::string model;       // a model the simulated board has a grid for, and flamed serves
  double deadline_ms = 0;  // relative to the arrival
  std::string stream;      // which source the request belongs to (informational)
  // SLM requests served by a context model (docs/workloads.md): the context length and the phase
  // ("decode" | "prefill"), sent to flamed with the request; 0 and "" for DNN requests.
  int ctx = 0;
  std::string phase;
};

// camera: a camera at `fps` delivers `frames` frames (capture jitter uniform in ±jitter_ms); the app
// runs the model on every `infer_every`-th frame (DeepStream's "interval" = infer_every - 1), and each
// inference must finish before the next inferred frame arrives: deadline = infer_every / fps.
struct CameraSpec {
  std::uint64_t seed = 1;
  double fps = 30;
  int frames = 900;
  int infer_every = 6;
  double jitter_ms = 0.5;
  std::string model = "inceptionv3-200";
};

// bursty: `bursts` bursts separated by idle gaps (exponential, mean idle_mean_ms, at least idle_min_ms);
// a burst has burst_min..burst_max requests arriving gap_min_ms..gap_max_ms apart (uniform); each
// request's deadline is uniform in [deadline_min_ms, deadline_max_ms]; models are drawn uniformly from
// `models`.
struct BurstySpec {
  std::uint64_t seed = 1;
  int bursts = 25;
  int burst_min = 3;
  int burst_max = 8;
  double gap_min_ms = 150;
  double gap_max_ms = 300;
  double idle_mean_ms = 1500;
  double idle_min_ms = 300;
  double deadline_min_ms = 220;
  double deadline_max_ms = 420;
  std::vector<std::string> models = {"inceptionv3-200"};
};

// slm: a chat with a small language model served token by token. `turns` user turns; each adds
// prompt_min..prompt_max tokens (uniform) to the context, prefilled in one request due within ttft_ms,
// then the reply streams reply_min..reply_max tokens, one decode request per token paced at
// tokens_per_s and due before the next display slot (1000 / tokens_per_s ms); every token grows the
// context by one. Think time between turns is exponential (mean think_mean_ms).
// Naming: without `model`, a request runs the grid of the smallest context bucket at or above its
// context ("<decode_model>-c<bucket>", "<prefill_model>-c<bucket>", as `flame sim layer` names them;
// beyond the largest bucket, the largest). With `model` (an SLM's base name, e.g. "qwen2-0.5b"), every
// request names the SLM and carries its phase and context: a decode step the whole context including
// its new token, a prefill the new prompt's length; the board resolves the configuration that runs it
// (request_truth.hpp) and flamed's context model predicts for it.
struct SlmSpec {
  std::uint64_t seed = 1;
  int turns = 4;
  int prompt_min = 64;
  int prompt_max = 256;
  int reply_min = 48;
  int reply_max = 96;
  double tokens_per_s = 6;
  double ttft_ms = 1500;
  double think_mean_ms = 3000;
  std::string decode_model = "qwen2-0.5b-decode";
  std::string prefill_model = "qwen2-0.5b-prefill";
  std::vector<int> decode_buckets = {128, 256, 512, 1024, 2048, 4096, 8192, 16384};
  std::vector<int> prefill_buckets = {32, 64, 128, 256, 512, 1024, 2048};
  std::string model;  // "" = bucket naming (the fields above); else the SLM's base name
};

// mix: two independent applications sharing the board (one GPU queue). App A is a camera stream
// (`camera`: periodic, one model, deadline per inferred frame), app B a bursty stream of another model
// (`bursty`: its own deadlines). Both are drawn from `seed` (B from a derived seed, so that changing
// one app's parameters does not move the other's requests); every request is tagged with its app's
// stream name, and the two are merged in arrival order (A first on a tie).
struct MixSpec {
  std::uint64_t seed = 1;
  CameraSpec camera;  // its seed is ignored (taken from `seed`)
  BurstySpec bursty;  // likewise
  std::string camera_stream = "camera";
  std::string bursty_stream = "burst";
  MixSpec();  // the preset's parameters (docs/workloads.md "mix")
};

struct Workload {
  std::string name;
  std::string description;
  std::string board = "tx2";
  std::string generator;  // "camera", "bursty", "slm" or "mix"
  CameraSpec camera;      // valid when generator == "camera"
  BurstySpec bursty;      // valid when generator == "bursty"
  SlmSpec slm;            // valid when generator == "slm"
  MixSpec mix;            // valid when generator == "mix"
  std::vector<Request> requests;

  std::vector<std::string> models() const;   // distinct, sorted
  std::vector<std::string> streams() const;  // distinct, in order of first appearance
  bool has_context() const;                  // some request carries ctx and phase (an SLM's)
};

Workload generate_camera(const CameraSpec& s, const std::string& name = "camera");
Workload generate_bursty(const BurstySpec& s, const std::string& name = "bursty");
Workload generate_slm(const SlmSpec& s, const std::string& name = "slm");
Workload generate_mix(const MixSpec& s, const std::string& name = "mix");
// The shipped presets: "camera30", "bursty", "slm-chat", "slm-chat-live", "mix" (with the given seed).
Workload generate_preset(const std::string& preset, std::uint64_t seed);
std::vector<std::string> preset_names();
// The spec of preset "slm-chat-live": slm-chat's chat naming the SLM qwen2-0.5b (seed 1).
SlmSpec slm_chat_live();
// Regenerate from the generator parameters stored in a workload.
Workload regenerate(const Workload& w);

std::string to_yaml(const Workload& w);
Workload parse_workload(const std::string& yaml, const std::string& source);
Workload load_workload(const std::filesystem::path& path);

}  // namespace flame::sim
