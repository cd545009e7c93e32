// The lowercase names the JSON format uses for kiln's enums ("relu", "max", "same_upper", ...).
#pragma once

#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "kiln/network.h"
#include "kiln/types.h"

namespace kiln::parsers::netjson {

template <typename E>
struct EnumName {
  std::string_view name;
  E value;
};

template <typename E>
std::optional<E> lookup(std::span<const EnumName<E>> table, std::string_view name) {
  for (const auto& entry : table) {
    if (entry.name == name) return entry.value;
  }
  return std::nullopt;
}

template <typename E>
std::vector<std::string_view> names(std::span<const EnumName<E>> table) {
  std::vector<std::string_view> out;
  for (const auto& entry : table) out.push_back(entry.name);
  return out;
}

std::span<const EnumName<DataType>> dataTypeNames();
//! The data types a constant layer can be given values for.
std::span<const EnumName<DataType>> constantTypeNames();
std::span<const EnumName<PaddingMode>> paddingModeNames();
std::span<const EnumName<PoolingType>> poolingTypeNames();
std::span<const EnumName<MatrixOperation>> matrixOperationNames();
std::span<const EnumName<ActivationType>> activationTypeNames();
std::span<const EnumName<ElementWiseOperation>> elementWiseOperationNames();
std::span<const EnumName<UnaryOperation>> unaryOperationNames();
std::span<const EnumName<ScaleMode>> scaleModeNames();
std::span<const EnumName<PaddingFill>> paddingFillNames();
std::span<const EnumName<ReduceOperation>> reduceOperationNames();
std::span<const EnumName<TopKOperation>> topKOperationNames();
std::span<const EnumName<GatherMode>> gatherModeNames();

}  // namespace kiln::parsers::netjson
