#include <catch2/catch.hpp>

#include "flame/policy/detail/arbiter.hpp"

using namespace flame::policy;

namespace {
Hold hold(uint64_t client, int64_t id, flame::Clocks c, TimeMs exp) {
  Hold h;
  h.client = client;
  h.id = id;
  h.clocks = c;
  h.expires = exp;
  return h;
}
}  // namespace

TEST_CASE("arbiter: per-domain maximum of the active holds") {
  Arbiter a;
  const TimeMs t0 = 0;
  CHECK_FALSE(a.combined());
  a.add(hold(1, 1, {1000, 2, 5e8, 1e9}, t0 + 10000));
  a.add(hold(2, 1, {500, 4, 9e8, 8e8}, t0 + 5000));
  const auto c = *a.combined();
  CHECK(c.cpu_khz == 1000);
  CHECK(c.cpu_cores == 4);
  CHECK(c.gpu_hz == 9e8);
  CHECK(c.emc_hz == 1e9);
  // Same client and id replaces.
  a.add(hold(1, 1, {200, 1, 1e8, 1e8}, t0 + 10000));
  CHECK(a.holds().size() == 2);
  CHECK(a.combined()->cpu_khz == 500);
  CHECK(a.next_expiry() == t0 + 5000);
  CHECK(a.expire(t0 + 6000).size() == 1);
  CHECK(a.combined()->gpu_hz == 1e8);
  CHECK(a.remove_client(1).size() == 1);
  CHECK_FALSE(a.combined());
  CHECK_FALSE(a.remove(1, 1));
}

TEST_CASE("arbiter: the work queued ahead of a request") {
  Arbiter a;
  const TimeMs t0 = 0;
  auto with = [&](uint64_t client, int64_t id, double predicted, TimeMs arrived, TimeMs began) {
    Hold h = hold(client, id, {1000, 0, 5e8, 1e9}, t0 + 10000);
    h.predicted_ms = predicted;
    h.arrived = arrived;
    h.began = began;
    a.add(h);
  };
  CHECK(a.queued_ms(1, 1, t0, t0) == 0);  // nothing active
  with(1, 1, 40, t0, t0);
  CHECK(a.queued_ms(2, 7, t0 + 10, t0 + 10) == Approx(30));  // 40 ms of work, 10 served
  CHECK(a.queued_ms(1, 1, t0, t0 + 10) == 0);                // a renewal does not wait for itself
  CHECK(a.queued_ms(2, 7, t0 + 50, t0 + 50) == 0);           // finished, end not yet reported
  // Request 2/7 arrives at 20 ms behind 1/1: both drain from the oldest start.
  with(2, 7, 25, t0 + 20, t0 + 20);
  CHECK(a.queued_ms(3, 1, t0 + 30, t0 + 30) == Approx(40 + 25 - 30));
  // First come, first served: 2/7 renewing at 30 ms waits for 1/1 only, not for a later arrival.
  with(3, 1, 100, t0 + 30, t0 + 30);
  CHECK(a.queued_ms(2, 7, t0 + 20, t0 + 30) == Approx(10));
  // 1/1 ends at 40 ms; 2/7 starts (renews, began = 40 ms); 3/1's wait counts from that start.
  a.remove(1, 1);
  with(2, 7, 25, t0 + 20, t0 + 40);
  CHECK(a.queued_ms(2, 7, t0 + 20, t0 + 40) == 0);
  CHECK(a.queued_ms(3, 1, t0 + 30, t0 + 50) == Approx(15));
  CHECK(a.find(2, 7) != nullptr);
  CHECK(a.find(1, 1) == nullptr);
}

TEST_CASE("arbiter: holds whose clocks the maximum raised are marked arbitrated") {
  Arbiter a;
  const TimeMs t0 = 0;
  a.add(hold(1, 1, {1000, 2, 5e8, 1e9}, t0 + 10000));
  a.mark_arbitrated(*a.combined());
  CHECK_FALSE(a.find(1, 1)->arbitrated);  // alone: runs its own choice
  a.add(hold(2, 1, {500, 2, 9e8, 1e9}, t0 + 10000));
  a.mark_arbitrated(*a.combined());
  CHECK(a.find(1, 1)->arbitrated);
  CHECK(a.find(2, 1)->arbitrated);
  a.remove(2, 1);
  a.mark_arbitrated(*a.combined());
  CHECK(a.find(1, 1)->arbitrated);  // once raised, its measurement stays unusable
}
