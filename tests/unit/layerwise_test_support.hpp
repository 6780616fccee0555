#pragma once
// Helpers shared by the layer-wise model and model-file unit tests.
#include <catch2/catch.hpp>
#include <string>

#include "flame/board/description_grid.hpp"
#include "flame/model/model_file.hpp"
#include "trace_test_support.hpp"

namespace layerwise_test {

// The Orin Nano Super's 22 x 8 x 3 grid from its board description.
inline flame::ClockGrid orin() {
  return flame::board::clock_grid(flame::board::load_board_description(
      std::string(FLAME_SOURCE_DIR) + "/config/boards/orin-nano-8gb-super.yaml"));
}

// The loader's message for a model file text, or "" when it loads.
inline std::string error_of(const std::string& yaml) {
  return trace_test::error_of<flame::model::ModelFileError>(
      [&] { flame::model::parse_model_file(yaml, "m.yaml"); });
}

// The text with the first `from` replaced by `to` (which must occur).
inline std::string replaced(std::string s, const std::string& from, const std::string& to) {
  const auto at = s.find(from);
  REQUIRE(at != std::string::npos);
  return s.replace(at, from.size(), to);
}

}  // namespace layerwise_test
