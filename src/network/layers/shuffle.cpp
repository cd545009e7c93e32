// ShuffleLayer and NetworkDefinition::addShuffle.
#include <algorithm>
#include <vector>

#include "network/network_impl.h"
#include "ops/data_movement.h"

namespace kiln {

namespace {

std::vector<int32_t> identityOf(int64_t rank) {
  std::vector<int32_t> perm(static_cast<std::size_t>(std::clamp<int64_t>(rank, 0, Dims::kMaxRank)));
  for (std::size_t i = 0; i < perm.size(); ++i) perm[i] = static_cast<int32_t>(i);
  return perm;
}

void setPermutation(const ShuffleLayer& layer, std::string_view api, std::string_view attr,
                    std::span<const int32_t> permutation) {
  detail::writeLayer(layer, api, [&](ir::Node& node, ir::NodeId) {
    std::vector<int64_t> perm(permutation.begin(), permutation.end());
    if (const auto problem = ops::permutationProblem(perm); !problem.empty()) {
      fail(ErrorCode::kINVALID_ARGUMENT, "layer '", node.name, "': the transpose is not a ",
           "permutation: ", problem);
    }
    node.attrs.set(attr, std::move(perm));
  });
}

std::vector<int32_t> getPermutation(const ShuffleLayer& layer, std::string_view api,
                                    std::string_view attr, bool first) {
  detail::NetworkImpl* net = detail::HandleAccess::net(layer);
  return detail::readLayer<std::vector<int32_t>>(
      layer, api,
      [&](const ir::Node& node) {
        if (node.attrs.has(attr)) {
          const auto perm = node.attrs.getInts(attr);
          return std::vector<int32_t>(perm.begin(), perm.end());
        }
        const auto& graph = net->graph();
        const int32_t inputRank = graph.value(node.inputs[0]).dims.nbDims;
        if (first) return identityOf(inputRank);
        // The second transpose permutes the reshaped tensor.
        if (node.inputs.size() > 1 && node.inputs[1] != ir::kNoValue) {
          const Dims& shape = graph.value(node.inputs[1]).dims;
          return identityOf(shape.nbDims == 1 ? shape[0] : 0);
        }
        if (node.attrs.has("reshape")) {
          return identityOf(static_cast<int64_t>(node.attrs.getInts("reshape").size()));
        }
        return identityOf(inputRank);
      },
      {});
}

}  // namespace

ShuffleLayer NetworkDefinition::addShuffle(Tensor input) {
  return impl_->guarded<ShuffleLayer>("addShuffle", [&] {
    auto& net = *impl_;
    const auto x = net.valueOf(input, "input");
    const auto id = net.addLayer(LayerType::kSHUFFLE, {x}, 1);
    net.inferLayer(id);
    return id;
  });
}

void ShuffleLayer::setFirstTranspose(std::span<const int32_t> permutation) {
  setPermutation(*this, "ShuffleLayer::setFirstTranspose", "first_perm", permutation);
}

std::vector<int32_t> ShuffleLayer::firstTranspose() const {
  return getPermutation(*this, "ShuffleLayer::firstTranspose", "first_perm", true);
}

void ShuffleLayer::setReshapeDimensions(const Dims& dims) {
  detail::writeLayer(*this, "ShuffleLayer::setReshapeDimensions", [&](ir::Node& node, ir::NodeId) {
    if (dims.nbDims < 0 || dims.nbDims > Dims::kMaxRank) {
      fail(ErrorCode::kINVALID_ARGUMENT, "layer '", node.name, "': reshape rank ", dims.nbDims,
           " is outside [0, ", Dims::kMaxRank, "]");
    }
    int32_t inferred = 0;
    for (int32_t i = 0; i < dims.nbDims; ++i) {
      if (dims[i] < -1) {
        fail(ErrorCode::kINVALID_ARGUMENT, "layer '", node.name, "': reshape dimension ", i, " is ",
             dims[i], "; extents must be >= 0 (or -1 to infer)");
      }
      inferred += dims[i] == -1 ? 1 : 0;
    }
    if (inferred > 1) {
      fail(ErrorCode::kINVALID_ARGUMENT, "layer '", node.name, "': reshape dimensions ",
           toString(dims), " have more than one -1");
    }
    node.attrs.set("reshape", dims);
    // As in TensorRT, static reshape dimensions replace a shape input.
    node.inputs.resize(1);
  });
}

Dims ShuffleLayer::reshapeDimensions() const {
  Dims none;
  none.nbDims = -1;
  return detail::readLayer<Dims>(
      *this, "ShuffleLayer::reshapeDimensions",
      [&](const ir::Node& node) {
        const bool shapeInput = node.inputs.size() > 1 && node.inputs[1] != ir::kNoValue;
        return shapeInput || !node.attrs.has("reshape") ? none : node.attrs.getDims("reshape");
      },
      none);
}

bool ShuffleLayer::hasReshape() const {
  return detail::readLayer<bool>(
      *this, "ShuffleLayer::hasReshape",
      [](const ir::Node& node) {
        return node.attrs.has("reshape") ||
               (node.inputs.size() > 1 && node.inputs[1] != ir::kNoValue);
      },
      false);
}

void ShuffleLayer::setSecondTranspose(std::span<const int32_t> permutation) {
  setPermutation(*this, "ShuffleLayer::setSecondTranspose", "second_perm", permutation);
}

std::vector<int32_t> ShuffleLayer::secondTranspose() const {
  return getPermutation(*this, "ShuffleLayer::secondTranspose", "second_perm", false);
}

void ShuffleLayer::setZeroIsPlaceholder(bool placeholder) {
  detail::setAttr(*this, "ShuffleLayer::setZeroIsPlaceholder", "zero_is_placeholder", placeholder);
}

void ShuffleLayer::setAxesInput(bool squeeze) {
  detail::setAttr(*this, "ShuffleLayer::setAxesInput", "axes_mode", int64_t{squeeze ? 2 : 1});
}

bool ShuffleLayer::zeroIsPlaceholder() const {
  return detail::getIntAttr(*this, "ShuffleLayer::zeroIsPlaceholder", "zero_is_placeholder", 1) !=
         0;
}

}  // namespace kiln
