#pragma once
// The board-layer tests' view of the library's fake Jetson trees (lib/flame/sim/profiles.hpp).
// all_profiles() here is the three profiles the parametrised board tests were written for; the TX2
// profile (offline Denver cluster, two INA3221 devices, TX2 thermal names) has its own tests.
#include <vector>

#include "fake_tree.hpp"
#include "flame/sim/profiles.hpp"

namespace flame::test {

using flame::sim::build;
using flame::sim::facts;
using flame::sim::parse_profile;
using flame::sim::Profile;
using flame::sim::profile_name;
using flame::sim::ProfileFacts;
using FixtureOptions = flame::sim::TreeOptions;

inline std::vector<Profile> all_profiles() {
  return {Profile::OrinNanoJp6, Profile::XavierNxJp4, Profile::XavierNxJp5};
}

// Shorthands (designated initializers trip GCC 12's -Wmissing-field-initializers).
inline FixtureOptions offline(std::vector<int> cpus) {
  FixtureOptions o;
  o.offline_cpus = std::move(cpus);
  return o;
}
inline FixtureOptions option(bool FixtureOptions::*flag) {
  FixtureOptions o;
  o.*flag = true;
  return o;
}

}  // namespace flame::test
