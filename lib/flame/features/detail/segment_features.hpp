#pragma once
// What is known about a segment without profiling it: counter-like features and the groups its
// GPU-time model is keyed by (see docs/feature-model.md).
//
// Calls carry their own features (MACs, activation bytes, parameter bytes) and are grouped by
// layer type. Glue segments have none: their GPU work is mostly what the code between two calls
// does with the previous call's output (a residual add, an attention core, a scale), so their
// proxy is the previous call's bytes_out, plus bytes_out x context length for the attention
// score work of SLMs; they are grouped by the neighbouring calls' leaf names.
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "flame/model/segment_profile.hpp"

namespace flame::features {

// The configuration-level facts a feature needs: element type, SLM phase and context length.
struct FeatureContext {
  std::string dtype;  // e.g. "torch.float32"; throughput per MAC differs by element type
  std::string phase;  // "decode" / "prefill" for SLMs, empty otherwise
  double ctx = 0;     // context length (SLMs), 0 otherwise
};

struct FeatureRow {
  model::SegmentKind kind = model::SegmentKind::Glue;
  std::string group;   // call: layer type; glue: neighbours' leaf names, dtype and phase
  std::string coarse;  // glue: neighbours' layer types; empty for calls
  std::string dtype;
  // Calls.
  double macs = 0;
  double act_bytes = 0;  // bytes_in + bytes_out
  double param_bytes = 0;
  // Glue.
  double prev_bytes_out = 0;  // output of the call before this glue
  double attention = 0;       // prev_bytes_out x ctx: attention score work over the context
};

// The last module-path component that is not an index, with trailing indices as '#':
// "model.layers.3.self_attn.v_proj" -> "v_proj", "features.1.block.0.0" -> "block.#.#".
std::string leaf_name(std::string_view module_path);

// One row per segment, in order. Calls without features get zero features.
std::vector<FeatureRow> feature_rows(const FeatureContext& context, std::span<const model::Segment> segments);

}  // namespace flame::features
