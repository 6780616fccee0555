#pragma once
// The H200 coupling dataset the live layer boards replay by default (data/h200-coupling/run2), loaded
// once per test binary.
#include "flame/model/coupling_dataset.hpp"

namespace flame::test {

inline const model::CouplingDataset& h200_run2() {
  static const auto d =
      model::load_coupling_dataset(FLAME_SOURCE_DIR "/data/h200-coupling/run2/coupling.json");
  return d;
}

}  // namespace flame::test
