// The plan file: serialize an EnginePlan to bytes and back. See docs/plan-format.md.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "kiln/limits.h"
#include "plan/engine_plan.h"

namespace kiln::plan {

//! Plan bytes of @p plan (header, section table, checksummed sections, aligned weights).
std::vector<std::byte> writePlan(const EnginePlan& plan);

//! Validates @p bytes completely (magic, versions, section bounds, checksums, graph
//! consistency) and restores the plan. Throws Error(kINVALID_PLAN) with a one-line message
//! that names the problem (truncated, corrupted section, wrong magic, newer version, ...).
//! Does not check that the target matches this machine: see checkTarget.
//! Sizes over a cap of @p limits are refused before anything is allocated from them.
EnginePlan readPlan(std::span<const std::byte> bytes, const ModelLimits& limits = {});

//! Throws Error(kINVALID_PLAN) when @p target cannot run here, naming both targets.
void checkTarget(const Target& target);

//! The target of this machine for @p device (CPU model name and features, ...).
Target hostTarget(DeviceType device);

}  // namespace kiln::plan
