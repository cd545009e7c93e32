// FullyConnectedLayer and NetworkDefinition::addFullyConnected.
#include <string_view>

#include "network/layers/layer_weights.h"
#include "network/network_impl.h"

namespace kiln {

namespace {

// The kernel is [K, C*H*W]; a count that K does not divide is kept flat so that shape
// inference can report it against the input's flattened size.
Dims kernelDims(int64_t count, int64_t nbOutputs) {
  if (count >= 0 && nbOutputs > 0 && count % nbOutputs == 0)
    return Dims{nbOutputs, count / nbOutputs};
  return Dims{count};
}

void checkBiasCount(const ir::Node& node, const Weights& bias, int64_t nbOutputs) {
  if (bias.count != 0 && bias.count != nbOutputs) {
    detail::failLayer(node, "bias has ", bias.count, " values; it needs one per output (",
                      nbOutputs, "), or none");
  }
}

}  // namespace

FullyConnectedLayer NetworkDefinition::addFullyConnected(Tensor input, int64_t nbOutputs,
                                                         Weights kernel, Weights bias) {
  return impl_->guarded<FullyConnectedLayer>("addFullyConnected", [&] {
    auto& net = *impl_;
    const auto x = net.valueOf(input, "input");
    const auto id = net.addLayer(LayerType::kFULLY_CONNECTED, {x}, 1);
    const ir::Node& node = net.graph().node(id);
    if (nbOutputs <= 0) {
      detail::failLayer(node, "the number of outputs must be positive, not ", nbOutputs);
    }
    checkBiasCount(node, bias, nbOutputs);
    detail::checkFloatWeights(node, kernel, "kernel");
    detail::checkFloatWeights(node, bias, "bias");
    net.graph().node(id).attrs.set("num_output", nbOutputs);
    detail::setLayerWeights(net, id, 1, kernelDims(kernel.count, nbOutputs), kernel, "kernel");
    if (bias.count != 0) detail::setLayerWeights(net, id, 2, Dims{nbOutputs}, bias, "bias");
    net.inferLayer(id);
    return id;
  });
}

int64_t FullyConnectedLayer::nbOutputChannels() const {
  return detail::getIntAttr(*this, "FullyConnectedLayer::nbOutputChannels", "num_output", 0);
}

void FullyConnectedLayer::setKernelWeights(Weights weights) {
  detail::writeLayer(
      *this, "FullyConnectedLayer::setKernelWeights", [&](ir::Node& node, ir::NodeId id) {
        const int64_t k = node.attrs.getInt("num_output", 0);
        detail::checkFloatWeights(node, weights, "kernel");
        detail::setLayerWeights(*net_, id, 1, kernelDims(weights.count, k), weights, "kernel");
      });
}

void FullyConnectedLayer::setBiasWeights(Weights weights) {
  detail::writeLayer(*this, "FullyConnectedLayer::setBiasWeights",
                     [&](ir::Node& node, ir::NodeId id) {
                       const int64_t k = node.attrs.getInt("num_output", 0);
                       checkBiasCount(node, weights, k);
                       detail::checkFloatWeights(node, weights, "bias");
                       if (weights.count == 0) {
                         node.inputs.resize(2);
                       } else {
                         detail::setLayerWeights(*net_, id, 2, Dims{k}, weights, "bias");
                       }
                     });
}

}  // namespace kiln
