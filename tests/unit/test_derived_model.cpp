// Models derived from one profiled point (lib/flame/features/curve_prior.hpp): shapes of fitted
// curves, the prior's mapping from features, and leave-one-model-out on the live layer boards
// (lib/flame/validate/derived_validation.hpp).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>

#include "flame/features/curve_prior.hpp"
#include "flame/model/coupling_dataset.hpp"
#include "flame/sim/layer_boards.hpp"
#include "flame/validate/derived_validation.hpp"

using namespace flame;

TEST_CASE("derived: a fitted segment's shape is its time shares at the reference clocks", "[derived]") {
  const Clocks ref{2000000, 0, 1e9, 2e9};
  const model::CpuCurve cpu{100, 300 * 2000000.0, 100 * 2e9};    // 100 fixed + 300 work + 100 memory ns
  const model::GpuCurve gpu{{1e9, 2e9}, {500, 200}, 800 * 1e9};  // 200 memory + 800 work ns at the top
  const auto s = features::shape_of(cpu, gpu, ref);
  CHECK(s.host_fixed == Approx(0.2));
  CHECK(s.host_work == Approx(0.6));
  CHECK(s.host_memory == Approx(0.2));
  CHECK(s.device_work == Approx(0.8));
  REQUIRE(s.device_memory.size() == 2);
  CHECK(s.device_memory[0] == Approx(0.5));
  CHECK(s.device_memory[1] == Approx(0.2));
}

TEST_CASE("derived: a prior predicts the shape of segments like the ones it learned", "[derived]") {
  auto seg = [](double macs, double bytes, int kernels) {
    model::Segment s;
    s.kind = model::SegmentKind::Call;
    s.n_kernels = kernels;
    s.features = model::SegmentFeatures{macs, 0, bytes, 0, 0};
    return s;
  };
  // Compute-heavy segments scale with the GPU clock, memory-heavy ones with the EMC level.
  std::vector<features::ShapeSample> samples;
  for (int i = 0; i < 10; ++i) {
    features::CurveShape compute;
    compute.device_work = 0.9;
    compute.device_memory = {0.3, 0.1};
    features::CurveShape memory;
    memory.device_work = 0.1;
    memory.device_memory = {1.8, 0.9};
    samples.push_back({seg(1e9 * (1 + i), 1e6, 1), compute, 1e5});
    samples.push_back({seg(1e3 * (1 + i), 1e8, 1), memory, 1e5});
  }
  const features::CurvePrior prior(samples, {1e9, 2e9});
  CHECK(prior.predict(seg(4e9, 2e6, 1)).device_work > 0.8);
  CHECK(prior.predict(seg(2e3, 3e8, 1)).device_work < 0.2);
  CHECK_THROWS_AS(features::CurvePrior({}, {1e9}), std::invalid_argument);
}

TEST_CASE("derived: leave-one-model-out on the live layer boards", "[derived]") {
  const auto d =
      model::load_coupling_dataset(std::string(FLAME_SOURCE_DIR) + "/data/h200-coupling/run2/coupling.json");
  for (const char* name : {"layer-tx2", "layer-orin"}) {
    const auto rows = validate::validate_derived(d, *sim::layer_board(name));
    REQUIRE(rows.size() == 11);
    for (const auto& r : rows) {
      // The prior never holds the model it predicts, at any batch or precision.
      const std::string arch = r.tag.substr(0, r.tag.find("_b"));
      CHECK(std::find(r.prior_models.begin(), r.prior_models.end(), arch) == r.prior_models.end());
      CHECK(r.prior_segments > 0);
      INFO(name << " " << r.tag << ": full " << r.full.mean_ape_pct << " %, derived "
                << r.derived.mean_ape_pct << " % (max " << r.derived.max_ape_pct << " %)");
      CHECK(r.derived.n == r.full.n);
      CHECK(std::isfinite(r.derived.mean_ape_pct));
    }
  }
}
