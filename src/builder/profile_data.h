// The settings behind an OptimizationProfile: per input, its min/opt/max shapes or values.
#pragma once

#include <vector>

#include "plan/engine_plan.h"

namespace kiln::detail {

struct ProfileData {
  std::vector<plan::InputRange> inputs;  //!< in the order first set; unset dims have nbDims -1

  plan::InputRange& input(std::string_view name);
  const plan::InputRange* find(std::string_view name) const;
};

}  // namespace kiln::detail
