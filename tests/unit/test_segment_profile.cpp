#include <catch2/catch.hpp>

#include "flame/model/segment_profile.hpp"

TEST_CASE("SegmentProfile totals add up both sides and kernels") {
  flame::model::SegmentProfile p;
  p.segments = {{flame::model::SegmentKind::Glue, "", "", 10, 0, 0, {}},
                {flame::model::SegmentKind::Call, "conv1", "Conv2d", 20, 35, 2, {}},
                {flame::model::SegmentKind::Glue, "", "", 5, 1, 1, {}}};
  CHECK(p.total_cpu_ns() == Approx(35));
  CHECK(p.total_gpu_ns() == Approx(36));
  CHECK(p.total_kernels() == 3);
}
