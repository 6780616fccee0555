#pragma once
// The tests' name for the library's fake sysfs tree (lib/flame/sim/fake_tree.hpp).
#include "flame/sim/fake_tree.hpp"

namespace flame::test {

using flame::sim::FakeTree;
using flame::sim::temp_base;

}  // namespace flame::test
