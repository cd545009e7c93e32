// The public OptimizationProfile API.
#include <algorithm>

#include "builder/profile_data.h"
#include "kiln/builder.h"

namespace kiln {

namespace detail {

plan::InputRange& ProfileData::input(std::string_view name) {
  for (auto& range : inputs) {
    if (range.name == name) return range;
  }
  plan::InputRange range;
  range.name = std::string(name);
  for (Dims& dims : range.dims) dims.nbDims = -1;
  inputs.push_back(std::move(range));
  return inputs.back();
}

const plan::InputRange* ProfileData::find(std::string_view name) const {
  for (const auto& range : inputs) {
    if (range.name == name) return &range;
  }
  return nullptr;
}

}  // namespace detail

OptimizationProfile::OptimizationProfile() : data_(std::make_unique<detail::ProfileData>()) {}
OptimizationProfile::~OptimizationProfile() = default;

bool OptimizationProfile::setDimensions(std::string_view input, OptProfileSelector which,
                                        const Dims& dims) {
  if (input.empty() || static_cast<uint32_t>(which) > 2 || dims.nbDims < 0 ||
      dims.nbDims > Dims::kMaxRank) {
    return false;
  }
  for (int32_t i = 0; i < dims.nbDims; ++i) {
    if (dims[i] < 0) return false;
  }
  data_->input(input).dims[static_cast<std::size_t>(which)] = dims;
  return true;
}

Dims OptimizationProfile::getDimensions(std::string_view input, OptProfileSelector which) const {
  const plan::InputRange* range = data_->find(input);
  if (range == nullptr || static_cast<uint32_t>(which) > 2) {
    Dims unset;
    unset.nbDims = -1;
    return unset;
  }
  return range->dims[static_cast<std::size_t>(which)];
}

bool OptimizationProfile::setShapeValues(std::string_view input, OptProfileSelector which,
                                         std::span<const int64_t> values) {
  if (input.empty() || static_cast<uint32_t>(which) > 2 ||
      values.size() > static_cast<std::size_t>(Dims::kMaxRank)) {
    return false;
  }
  plan::InputRange& range = data_->input(input);
  range.shapeTensor = true;
  range.values[static_cast<std::size_t>(which)].assign(values.begin(), values.end());
  return true;
}

bool OptimizationProfile::setShapeValues(std::string_view input, OptProfileSelector which,
                                         std::span<const float> values) {
  if (input.empty() || static_cast<uint32_t>(which) > 2 ||
      values.size() > static_cast<std::size_t>(Dims::kMaxRank)) {
    return false;
  }
  plan::InputRange& range = data_->input(input);
  range.shapeTensor = true;
  range.floatValues[static_cast<std::size_t>(which)].assign(values.begin(), values.end());
  return true;
}

std::vector<int64_t> OptimizationProfile::getShapeValues(std::string_view input,
                                                         OptProfileSelector which) const {
  const plan::InputRange* range = data_->find(input);
  if (range == nullptr || static_cast<uint32_t>(which) > 2) return {};
  return range->values[static_cast<std::size_t>(which)];
}

std::vector<float> OptimizationProfile::getFloatShapeValues(std::string_view input,
                                                            OptProfileSelector which) const {
  const plan::InputRange* range = data_->find(input);
  if (range == nullptr || static_cast<uint32_t>(which) > 2) return {};
  const auto& values = range->floatValues[static_cast<std::size_t>(which)];
  return {values.begin(), values.end()};
}

namespace {

// min <= opt <= max in every position, of as many values each (NaN is never ordered).
template <typename T>
bool orderedValues(const std::array<std::vector<T>, 3>& values) {
  const auto& [min, opt, max] = values;
  if (min.size() != opt.size() || opt.size() != max.size()) return false;
  for (std::size_t i = 0; i < min.size(); ++i) {
    if (!(min[i] <= opt[i] && opt[i] <= max[i])) return false;
  }
  return true;
}

}  // namespace

bool OptimizationProfile::isValid() const {
  if (data_->inputs.empty()) return false;
  for (const plan::InputRange& range : data_->inputs) {
    if (range.shapeTensor) {
      if (!orderedValues(range.values) || !orderedValues(range.floatValues)) return false;
      continue;
    }
    const auto& [min, opt, max] = range.dims;
    if (min.nbDims < 0 || min.nbDims != opt.nbDims || opt.nbDims != max.nbDims) return false;
    for (int32_t i = 0; i < min.nbDims; ++i) {
      if (min[i] > opt[i] || opt[i] > max[i]) return false;
    }
  }
  return true;
}

}  // namespace kiln
