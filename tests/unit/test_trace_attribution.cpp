// Exact attribution on small hand-written traces: every number below is computed by hand.
#include <catch2/catch.hpp>

#include "flame/trace/detail/trace_error.hpp"
#include "flame/trace/trace_events.hpp"
#include "flame/trace/trace_profile.hpp"
#include "trace_test_support.hpp"

using flame::model::SegmentKind;
using trace_test::kineto_trace;
using trace_test::x_event;

namespace {

flame::trace::TraceSummary summarize(const std::string& json) {
  return flame::trace::build_trace_summary(flame::trace::parse_trace_events(json, "hand.json"));
}

}  // namespace

TEST_CASE("trace: kernels go to the glue or call segment whose host span launched them") {
  const std::string json = kineto_trace({
      x_event("user_annotation", "iter0", "1000", "1000"),  // [1000, 2000] us
      x_event("user_annotation", "u0:features.conv", "1100", "200"),
      x_event("cpu_op", "aten::conv2d", "1110", "150"),
      x_event("user_annotation", "u1:features.relu", "1500", "100"),
      // launches; times in us
      x_event("cuda_runtime", "cudaLaunchKernel", "1050", "5", 1),  // glue0
      x_event("cuda_runtime", "cudaLaunchKernel", "1200", "5", 2),  // call0
      x_event("cuda_runtime", "cudaLaunchKernel", "1300", "1", 3),  // call0: ends are inclusive
      x_event("cuda_runtime", "cudaMemcpyAsync", "1400", "5", 4),   // glue1
      x_event("cuda_driver", "cuLaunchKernel", "1550", "5", 6),     // call1
      x_event("cuda_runtime", "cudaMemsetAsync", "1700", "5", 5),   // glue2 (trailing)
      x_event("cuda_runtime", "cudaLaunchKernel", "2500", "5", 7),  // after the iteration
      x_event("cuda_runtime", "cudaGetDevice", "1060", "1"),        // no correlation: launches nothing
      R"({"ph": "s", "id": 1, "pid": 1, "tid": 1, "ts": 1050, "cat": "ac2g", "name": "ac2g"})",
      R"({"name": "process_name", "ph": "M", "ts": 900, "pid": 1, "tid": 0, "args": {"name": "python3"}})",
      // device side
      x_event("kernel", "void conv<\\\"3x3\\\">(float const*)", "1070", "10", 1),
      x_event("kernel", "conv_main", "1210", "20", 2), x_event("kernel", "conv_epilogue", "1310", "5", 3),
      x_event("gpu_memcpy", "Memcpy HtoD (Pageable -> Device)", "1410", "7", 4),
      x_event("kernel", "relu", "1560", "3", 6), x_event("gpu_memset", "Memset (Device)", "1710", "2", 5),
      x_event("kernel", "late", "2510", "100", 7),
      x_event("kernel", "orphan", "1800", "50", 99),  // no launch with this correlation
      x_event("gpu_user_annotation", "u0:features.conv", "1070", "250"),
      // args before cat must work too
      R"({"ph": "X", "args": {"correlation": 8}, "cat": "kernel", "name": "k8", "ts": 1720, "dur": 1, "pid": 0, "tid": 7})",
      x_event("cuda_runtime", "cudaLaunchKernel", "1710", "2", 8),  // glue2
  });
  const auto s = summarize(json);
  REQUIRE(s.iterations() == 1);
  CHECK(s.marker == flame::trace::IterationMarker::IterAnnotation);
  const auto& seg = s.profile.segments;
  REQUIRE(seg.size() == 5);

  CHECK(seg[0].kind == SegmentKind::Glue);
  CHECK(seg[0].cpu_ns == 100000);
  CHECK(seg[0].gpu_ns == 10000);
  CHECK(seg[0].n_kernels == 1);

  CHECK(seg[1].kind == SegmentKind::Call);
  CHECK(seg[1].name == "features.conv");
  CHECK(seg[1].type.empty());
  CHECK(seg[1].cpu_ns == 200000);
  CHECK(seg[1].gpu_ns == 25000);
  CHECK(seg[1].n_kernels == 2);

  CHECK(seg[2].cpu_ns == 200000);
  CHECK(seg[2].gpu_ns == 7000);  // the memcpy
  CHECK(seg[2].n_kernels == 1);

  CHECK(seg[3].name == "features.relu");
  CHECK(seg[3].cpu_ns == 100000);
  CHECK(seg[3].gpu_ns == 3000);  // launched through the driver API
  CHECK(seg[3].n_kernels == 1);

  CHECK(seg[4].cpu_ns == 400000);
  CHECK(seg[4].gpu_ns == 3000);  // memset + k8
  CHECK(seg[4].n_kernels == 2);

  CHECK(s.total_cpu_ns == 1000000);
  CHECK(s.total_gpu_ns == 48000);
  CHECK(s.profile.total_cpu_ns() == s.total_cpu_ns);
  CHECK(s.profile.total_gpu_ns() == s.total_gpu_ns);
  CHECK(s.gpu_ops_total == 9);
  CHECK(s.kernels_unattributed == 1);
  CHECK(s.kernels_outside_iterations == 1);
  CHECK(s.profile.tag == "hand");
}

TEST_CASE("trace: per-segment values and totals are medians over iterations") {
  // Three iterations at realistic Kineto timestamps (16 significant digits), one call each.
  // Kernel durations 10/30/20 us, kernel counts 1/3/2, call spans 100/300/200 us.
  const std::string b = "4816217186";
  const std::string json = kineto_trace({
      x_event("user_annotation", "iter0", b + "000.500", "1000.000"),
      x_event("user_annotation", "u0:fc", b + "100.500", "100.000"),
      x_event("cuda_runtime", "cudaLaunchKernel", b + "100.500", "1", 10),  // on the call's first ns
      x_event("kernel", "gemm", b + "150.000", "10.000", 10),

      x_event("user_annotation", "iter1", b + "2000.000", "1500.001"),
      x_event("user_annotation", "u0:fc", b + "2100.000", "300.000"),
      x_event("cuda_runtime", "cudaLaunchKernel", b + "2200.000", "1", 20),
      x_event("cuda_runtime", "cudaLaunchKernel", b + "2201.000", "1", 21),
      x_event("cuda_runtime", "cudaLaunchKernel", b + "2202.000", "1", 22),
      x_event("kernel", "gemm", b + "2300.000", "10.000", 20),
      x_event("kernel", "gemm", b + "2320.000", "10.000", 21),
      x_event("kernel", "gemm", b + "2340.000", "10.000", 22),

      x_event("user_annotation", "iter2", b + "4000.000", "1200.000"),
      x_event("user_annotation", "u0:fc", b + "4100.000", "200.000"),
      x_event("cuda_runtime", "cudaLaunchKernel", b + "4299.999", "1", 30),
      x_event("cuda_runtime", "cudaLaunchKernel", b + "4300.001", "1", 31),  // 1 ns after the call: glue1
      x_event("kernel", "gemm", b + "4400.000", "20.000", 30),
      x_event("kernel", "bias", b + "4500.000", "0.001", 31),
  });
  const auto s = summarize(json);
  REQUIRE(s.iterations() == 3);
  const auto& seg = s.profile.segments;
  REQUIRE(seg.size() == 3);
  CHECK(seg[0].cpu_ns == 100000);
  CHECK(seg[1].cpu_ns == 200000);
  CHECK(seg[1].gpu_ns == 20000);
  CHECK(seg[1].n_kernels == 1);    // counts 1, 3, 1
  CHECK(seg[2].cpu_ns == 900000);  // 800 us, 1100.001 us, 900 us
  CHECK(seg[2].gpu_ns == 0);       // 0, 0, 1 ns
  REQUIRE(s.per_iteration.size() == 3);
  CHECK(s.per_iteration[0].gpu_ns == 10000);
  CHECK(s.per_iteration[1].gpu_ns == 30000);
  CHECK(s.per_iteration[1].cpu_ns == 1500001);
  CHECK(s.per_iteration[2].gpu_ns == 20001);
  CHECK(s.total_gpu_ns == 20001);
  CHECK(s.total_cpu_ns == 1200000);
}

TEST_CASE("trace: ProfilerStep#N ranges delimit iterations when there are no iter<k> ranges") {
  const std::string json = kineto_trace({
      x_event("user_annotation", "ProfilerStep#5", "0", "100"),
      x_event("user_annotation", "u0:m", "10", "10"),
      x_event("cuda_runtime", "cudaLaunchKernel", "15", "1", 1),
      x_event("kernel", "k", "30", "4", 1),
      x_event("user_annotation", "ProfilerStep#6", "200", "150"),
      x_event("user_annotation", "u0:m", "210", "10"),
      x_event("cuda_runtime", "cudaLaunchKernel", "215", "1", 2),
      x_event("cuda_runtime", "cudaLaunchKernel", "216", "1", 3),
      x_event("kernel", "k", "230", "4", 2),
      x_event("kernel", "k", "240", "4", 3),
      x_event("gpu_user_annotation", "ProfilerStep#6", "230", "20"),
  });
  const auto s = summarize(json);
  CHECK(s.marker == flame::trace::IterationMarker::ProfilerStep);
  REQUIRE(s.iterations() == 2);
  CHECK(s.total_cpu_ns == 125000);  // median of an even count: the mean of the middle two
  CHECK(s.total_gpu_ns == 6000);
  CHECK(s.profile.segments[1].gpu_ns == 6000);
  CHECK(s.profile.segments[1].n_kernels == 1);  // median 1.5, truncated like the reference script
}

TEST_CASE("trace: a call starting where one step ends and the next begins belongs to the next step") {
  const std::string json = kineto_trace({
      x_event("user_annotation", "ProfilerStep#0", "0", "100"),
      x_event("user_annotation", "ProfilerStep#1", "100", "100"),
      x_event("user_annotation", "u0:m", "10", "10"),
      x_event("user_annotation", "u0:m", "100", "10"),  // on the boundary
      x_event("cuda_runtime", "cudaLaunchKernel", "105", "1", 1),
      x_event("kernel", "k", "120", "4", 1),
  });
  const auto s = summarize(json);
  REQUIRE(s.iterations() == 2);
  CHECK(s.per_iteration[0].gpu_ns == 0);
  CHECK(s.per_iteration[1].gpu_ns == 4000);
  REQUIRE(s.profile.segments.size() == 3);
  CHECK(s.profile.segments[1].cpu_ns == 10000);
}

TEST_CASE("trace: iter<k> ranges win over ProfilerStep#N") {
  const std::string json = kineto_trace({
      x_event("user_annotation", "ProfilerStep#0", "0", "1000"),
      x_event("user_annotation", "iter0", "100", "200"),
      x_event("cuda_runtime", "cudaLaunchKernel", "150", "1", 1),
      x_event("cuda_runtime", "cudaLaunchKernel", "500", "1", 2),
      x_event("kernel", "k", "160", "5", 1),
      x_event("kernel", "k", "510", "5", 2),
  });
  const auto s = summarize(json);
  CHECK(s.marker == flame::trace::IterationMarker::IterAnnotation);
  CHECK(s.iterations() == 1);
  CHECK(s.total_cpu_ns == 200000);
  CHECK(s.total_gpu_ns == 5000);
  CHECK(s.kernels_outside_iterations == 1);
}

TEST_CASE("trace: without iteration ranges the whole host extent is one iteration (bare array form)") {
  const std::string json = "[" + x_event("cpu_op", "aten::mm", "100", "50") + "," +
                           x_event("user_annotation", "u0:lin", "120", "20") + "," +
                           x_event("cuda_runtime", "cudaLaunchKernel", "125", "2", 1) + "," +
                           x_event("cuda_runtime", "cudaLaunchKernel", "145", "10", 2) + "," +
                           x_event("kernel", "gemm", "130", "8", 1) + "," +
                           x_event("kernel", "add", "160", "1", 2) + "]";
  const auto s = summarize(json);
  CHECK(s.marker == flame::trace::IterationMarker::WholeTrace);
  REQUIRE(s.iterations() == 1);
  REQUIRE(s.profile.segments.size() == 3);
  CHECK(s.total_cpu_ns == 55000);  // 100 us .. 155 us
  CHECK(s.profile.segments[0].cpu_ns == 20000);
  CHECK(s.profile.segments[1].gpu_ns == 8000);
  CHECK(s.profile.segments[2].gpu_ns == 1000);
  CHECK(s.profile.segments[2].cpu_ns == 15000);
}

TEST_CASE("trace: layer calls that do not partition an iteration are rejected with a reason") {
  using trace_test::error_of;
  const auto fails = [](const std::vector<std::string>& extra) {
    std::vector<std::string> ev = {x_event("user_annotation", "iter0", "0", "100"),
                                   x_event("cuda_runtime", "cudaLaunchKernel", "1", "1", 1),
                                   x_event("kernel", "k", "2", "1", 1)};
    ev.insert(ev.end(), extra.begin(), extra.end());
    return error_of<flame::trace::TraceError>([&] { summarize(kineto_trace(ev)); });
  };
  CHECK_THAT(
      fails({x_event("user_annotation", "u0:a", "10", "5"), x_event("user_annotation", "u0:a", "20", "5")}),
      Catch::Contains("hand.json") && Catch::Contains("appears twice"));
  CHECK_THAT(
      fails({x_event("user_annotation", "u0:a", "10", "10"), x_event("user_annotation", "u1:b", "15", "5")}),
      Catch::Contains("overlap"));
  CHECK_THAT(
      fails({x_event("user_annotation", "u1:a", "10", "5"), x_event("user_annotation", "u0:b", "20", "5")}),
      Catch::Contains("out of index order"));
  CHECK_THAT(fails({x_event("user_annotation", "u0:a", "90", "20")}),
             Catch::Contains("ends after its iteration"));
  CHECK_THAT(
      fails({x_event("user_annotation", "iter1", "200", "100"), x_event("user_annotation", "u0:a", "10", "5"),
             x_event("user_annotation", "u0:b", "210", "5")}),
      Catch::Contains("'a'") && Catch::Contains("'b'"));
}
