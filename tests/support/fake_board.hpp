#pragma once
// The board-layer tests' view of the library's fake Jetson trees (lib/flame/sim/profiles.hpp).
// all_profiles() is every profile of the library, so that a new profile is tested by every
// parametrised board test; what differs between profiles comes from facts().
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

using flame::sim::all_profiles;

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
