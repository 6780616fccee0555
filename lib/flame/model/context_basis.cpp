#include "flame/model/context_basis.hpp"

namespace flame::model {

std::string_view phase_name(ContextPhase phase) {
  return phase == ContextPhase::Decode ? "decode" : "prefill";
}

std::optional<ContextPhase> parse_context_phase(std::string_view mode) {
  if (mode == "decode") return ContextPhase::Decode;
  if (mode == "prefill") return ContextPhase::Prefill;
  return std::nullopt;
}

int basis_size(ContextPhase phase) {
  return phase == ContextPhase::Decode ? 2 : 3;
}

std::vector<double> context_basis(ContextPhase phase, double ctx) {
  if (phase == ContextPhase::Decode) return {1.0, ctx};
  return {1.0, ctx, ctx * ctx};
}

std::vector<std::string> basis_names(ContextPhase phase) {
  if (phase == ContextPhase::Decode) return {"1", "ctx"};
  return {"1", "ctx", "ctx^2"};
}

}  // namespace flame::model
