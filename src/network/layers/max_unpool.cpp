// MaxUnpoolLayer and NetworkDefinition::addMaxUnpool (kiln's own layer: ONNX MaxUnpool).
#include "network/network_impl.h"
#include "ops/window_util.h"

namespace kiln {

MaxUnpoolLayer NetworkDefinition::addMaxUnpool(Tensor input, Tensor indices,
                                               const Dims& windowSize) {
  return impl_->guarded<MaxUnpoolLayer>("addMaxUnpool", [&] {
    auto& net = *impl_;
    const auto x = net.valueOf(input, "input");
    const auto i = net.valueOf(indices, "indices");
    if (auto problem = ops::checkWindowSize(windowSize, "window size"); !problem.empty()) {
      fail(ErrorCode::kINVALID_ARGUMENT, problem);
    }
    const auto id = net.addLayer(LayerType::kMAX_UNPOOL, {x, i}, 1);
    net.graph().node(id).attrs.set("window", windowSize);
    net.inferLayer(id);
    return id;
  });
}

Dims MaxUnpoolLayer::windowSize() const {
  return detail::getDimsAttr(*this, "MaxUnpoolLayer::windowSize", "window", Dims{});
}

void MaxUnpoolLayer::setStride(const Dims& stride) {
  detail::setAttr(*this, "MaxUnpoolLayer::setStride", "stride", stride);
}

Dims MaxUnpoolLayer::stride() const {
  return detail::getDimsAttr(*this, "MaxUnpoolLayer::stride", "stride", windowSize());
}

void MaxUnpoolLayer::setPrePadding(const Dims& padding) {
  detail::setAttr(*this, "MaxUnpoolLayer::setPrePadding", "pre_padding", padding);
}

Dims MaxUnpoolLayer::prePadding() const {
  return detail::getDimsAttr(*this, "MaxUnpoolLayer::prePadding", "pre_padding", Dims{});
}

void MaxUnpoolLayer::setPostPadding(const Dims& padding) {
  detail::setAttr(*this, "MaxUnpoolLayer::setPostPadding", "post_padding", padding);
}

Dims MaxUnpoolLayer::postPadding() const {
  return detail::getDimsAttr(*this, "MaxUnpoolLayer::postPadding", "post_padding", Dims{});
}

void MaxUnpoolLayer::setOutputDimensions(const Dims& dims) {
  detail::setAttr(*this, "MaxUnpoolLayer::setOutputDimensions", "output_dims", dims);
}

Dims MaxUnpoolLayer::outputDimensions() const {
  return detail::getDimsAttr(*this, "MaxUnpoolLayer::outputDimensions", "output_dims", Dims{});
}

}  // namespace kiln
