// EinsumLayer and NetworkDefinition::addEinsum.
#include <string>
#include <vector>

#include "network/network_impl.h"

namespace kiln {

namespace {
constexpr int32_t kMaxEinsumInputs = 16;  // the op's limit (src/ops/einsum.cpp)
}

EinsumLayer NetworkDefinition::addEinsum(const Tensor* inputs, int32_t nbInputs,
                                         std::string_view equation) {
  return impl_->guarded<EinsumLayer>("addEinsum", [&] {
    auto& net = *impl_;
    if (nbInputs < 1 || nbInputs > kMaxEinsumInputs) {
      fail(ErrorCode::kINVALID_ARGUMENT, nbInputs, " inputs given; Einsum takes 1 to ",
           kMaxEinsumInputs);
    }
    if (inputs == nullptr) fail(ErrorCode::kINVALID_ARGUMENT, "the input array is null");
    std::vector<ir::ValueId> values;
    for (int32_t i = 0; i < nbInputs; ++i) {
      values.push_back(net.valueOf(inputs[i], "input " + std::to_string(i)));
    }
    const auto id = net.addLayer(LayerType::kEINSUM, std::move(values), 1);
    net.graph().node(id).attrs.set("equation", std::string(equation));
    net.inferLayer(id);
    return id;
  });
}

void EinsumLayer::setEquation(std::string_view equation) {
  detail::setAttr(*this, "EinsumLayer::setEquation", "equation", std::string(equation));
}

std::string EinsumLayer::equation() const {
  return detail::readLayer<std::string>(
      *this, "EinsumLayer::equation",
      [](const ir::Node& node) { return node.attrs.getString("equation"); }, {});
}

}  // namespace kiln
