#pragma once
// How a segment's GPU time grows with the context length, per phase of SLM inference
// (docs/context-model.md): the vocabulary of the context model (lib/flame/context) and of the SLM
// model files that flamed serves (slm_model.hpp).
//
//  decode:  one new token attends to ctx cached ones; projections and MLP are fixed-size, the
//           attention core reads a KV cache that grows linearly: {1, ctx}.
//  prefill: ctx tokens in one pass; token-parallel work (projections, MLP, norms, lm_head) grows
//           with ctx, attention scores with ctx^2, and small prompts sit on a floor of fixed
//           kernel latency: {1, ctx, ctx^2}.
// Coefficients are fitted non-negative, so every segment's time is non-decreasing in ctx and
// extrapolation beyond the profiled range stays physical.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flame::model {

enum class ContextPhase { Decode, Prefill };

std::string_view phase_name(ContextPhase phase);

// "decode" / "prefill" (as in the coupling dataset's config.mode); nullopt for anything else.
std::optional<ContextPhase> parse_context_phase(std::string_view mode);

// Number of basis functions, and so the fewest profiled contexts a fit needs.
int basis_size(ContextPhase phase);

// The basis functions evaluated at ctx: {1, ctx} or {1, ctx, ctx^2}.
std::vector<double> context_basis(ContextPhase phase, double ctx);

// Printable names of the basis functions, in the same order.
std::vector<std::string> basis_names(ContextPhase phase);

}  // namespace flame::model
