// MatrixMultiplyLayer and NetworkDefinition::addMatrixMultiply.
#include <string>

#include "network/layers/layer_weights.h"
#include "network/network_impl.h"

namespace kiln {

namespace {

std::string opAttr(const ir::Node& node, int32_t index) {
  if (index != 0 && index != 1) {
    detail::failLayer(node, "operand index ", index, " is out of range (0 or 1)");
  }
  return "op" + std::to_string(index);
}

// No setting or input makes an out-of-range enum valid, so it is refused at once.
void checkOperation(const ir::Node& node, int32_t index, MatrixOperation op) {
  const auto raw = static_cast<int32_t>(op);
  if (raw < 0 || op > MatrixOperation::kVECTOR) {
    detail::failLayer(node, "op", index, " is not a MatrixOperation (", raw,
                      "; expected 0 for kNONE, 1 for kTRANSPOSE or 2 for kVECTOR)");
  }
}

}  // namespace

MatrixMultiplyLayer NetworkDefinition::addMatrixMultiply(Tensor input0, MatrixOperation op0,
                                                         Tensor input1, MatrixOperation op1) {
  return impl_->guarded<MatrixMultiplyLayer>("addMatrixMultiply", [&] {
    auto& net = *impl_;
    const auto a = net.valueOf(input0, "input0");
    const auto b = net.valueOf(input1, "input1");
    const auto id = net.addLayer(LayerType::kMATRIX_MULTIPLY, {a, b}, 1);
    checkOperation(net.graph().node(id), 0, op0);
    checkOperation(net.graph().node(id), 1, op1);
    auto& attrs = net.graph().node(id).attrs;
    attrs.set("op0", op0);
    attrs.set("op1", op1);
    net.inferLayer(id);
    return id;
  });
}

void MatrixMultiplyLayer::setOperation(int32_t index, MatrixOperation op) {
  detail::writeLayer(*this, "MatrixMultiplyLayer::setOperation", [&](ir::Node& node, ir::NodeId) {
    const std::string attr = opAttr(node, index);
    checkOperation(node, index, op);
    node.attrs.set(attr, op);
  });
}

MatrixOperation MatrixMultiplyLayer::operation(int32_t index) const {
  return detail::readLayer<MatrixOperation>(
      *this, "MatrixMultiplyLayer::operation",
      [&](const ir::Node& node) {
        return node.attrs.getEnum(opAttr(node, index), MatrixOperation::kNONE);
      },
      MatrixOperation::kNONE);
}

}  // namespace kiln
