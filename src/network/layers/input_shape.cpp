#include "network/layers/input_shape.h"

namespace kiln::detail {

std::optional<Dims> currentDims(NetworkImpl& net, ir::ValueId value, std::string* why) {
  try {
    const Dims dims = net.dimsOf(value);
    if (dims.nbDims >= 0) return dims;
    if (why != nullptr) *why = "its shape is not known yet";
  } catch (const Error& e) {
    if (why != nullptr) *why = e.what();
  }
  return std::nullopt;
}

}  // namespace kiln::detail
