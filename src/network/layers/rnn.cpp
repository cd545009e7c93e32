// RNNLayer and NetworkDefinition::addRNN: ONNX LSTM, GRU and RNN as one layer type. The
// operation picks the node's op ("LSTM", "GRU", "RNN"), fixed at the add call because the ops
// have different outputs; the optional inputs are absent slots that setInput fills.
#include <string_view>
#include <vector>

#include "network/layers/layer_weights.h"
#include "network/network_impl.h"

namespace kiln {

namespace {

std::string_view recurrentOp(RNNOperation op) {
  switch (op) {
    case RNNOperation::kLSTM:
      return "LSTM";
    case RNNOperation::kGRU:
      return "GRU";
    case RNNOperation::kRNN:
      break;
  }
  return "RNN";
}

bool isKnownActivation(ActivationType type) {
  const auto v = static_cast<int32_t>(type);
  return v >= 0 && v <= static_cast<int32_t>(ActivationType::kHARD_SWISH);
}

}  // namespace

RNNLayer NetworkDefinition::addRNN(Tensor input, RNNOperation op, int64_t hiddenSize,
                                   Tensor weights, Tensor recurrence) {
  return impl_->guarded<RNNLayer>("addRNN", [&] {
    auto& net = *impl_;
    const auto x = net.valueOf(input, "input");
    const auto w = net.valueOf(weights, "weights");
    const auto r = net.valueOf(recurrence, "recurrence");
    // Out-of-range enums and sizes are argument errors no later setting can fix: refused at once.
    if (op != RNNOperation::kRNN && op != RNNOperation::kLSTM && op != RNNOperation::kGRU) {
      fail(ErrorCode::kINVALID_ARGUMENT, "unknown RNN operation ", static_cast<int32_t>(op));
    }
    if (hiddenSize <= 0) {
      fail(ErrorCode::kINVALID_ARGUMENT, "the hidden size must be positive, not ", hiddenSize);
    }
    const bool lstm = op == RNNOperation::kLSTM;
    // Slots for every optional input, so that setInput can give any of them.
    std::vector<ir::ValueId> inputs{x, w, r};
    inputs.resize(lstm ? 8 : 6, ir::kNoValue);
    const auto id = net.addLayer(LayerType::kRNN, std::move(inputs), lstm ? 3 : 2);
    ir::Node& node = net.graph().node(id);
    node.op = std::string(recurrentOp(op));
    node.attrs.set("hidden_size", hiddenSize);
    node.attrs.set("direction", RNNDirection::kFORWARD);
    net.inferLayer(id);
    return id;
  });
}

RNNOperation RNNLayer::operation() const {
  return detail::readLayer<RNNOperation>(
      *this, "RNNLayer::operation",
      [](const ir::Node& node) {
        return node.op == "LSTM"  ? RNNOperation::kLSTM
               : node.op == "GRU" ? RNNOperation::kGRU
                                  : RNNOperation::kRNN;
      },
      RNNOperation::kRNN);
}

int64_t RNNLayer::hiddenSize() const {
  return detail::getIntAttr(*this, "RNNLayer::hiddenSize", "hidden_size", 0);
}

void RNNLayer::setDirection(RNNDirection direction) {
  detail::writeLayer(*this, "RNNLayer::setDirection", [&](ir::Node& node, ir::NodeId) {
    if (direction != RNNDirection::kFORWARD && direction != RNNDirection::kREVERSE &&
        direction != RNNDirection::kBIDIRECTIONAL) {
      detail::failLayer(node, "unknown direction ", static_cast<int32_t>(direction));
    }
    node.attrs.set("direction", direction);
  });
}

RNNDirection RNNLayer::direction() const {
  return detail::getEnumAttr(*this, "RNNLayer::direction", "direction", RNNDirection::kFORWARD);
}

void RNNLayer::setBatchFirst(bool batchFirst) {
  detail::setAttr(*this, "RNNLayer::setBatchFirst", "batch_first", int64_t{batchFirst ? 1 : 0});
}

bool RNNLayer::batchFirst() const {
  return detail::getIntAttr(*this, "RNNLayer::batchFirst", "batch_first", 0) != 0;
}

void RNNLayer::setClip(float threshold) {
  detail::writeLayer(*this, "RNNLayer::setClip", [&](ir::Node& node, ir::NodeId) {
    if (!(threshold >= 0.f)) {
      detail::failLayer(node, "the clip threshold must be positive (or 0: none), not ", threshold);
    }
    node.attrs.set("clip", threshold);
  });
}

float RNNLayer::clip() const {
  return static_cast<float>(detail::getFloatAttr(*this, "RNNLayer::clip", "clip", 0.0));
}

void RNNLayer::setInputForget(bool coupled) {
  detail::writeLayer(*this, "RNNLayer::setInputForget", [&](ir::Node& node, ir::NodeId) {
    if (node.op != "LSTM") detail::failLayer(node, "input forget applies to LSTM layers only");
    node.attrs.set("input_forget", coupled);
  });
}

bool RNNLayer::inputForget() const {
  return detail::getIntAttr(*this, "RNNLayer::inputForget", "input_forget", 0) != 0;
}

void RNNLayer::setLinearBeforeReset(bool linear) {
  detail::writeLayer(*this, "RNNLayer::setLinearBeforeReset", [&](ir::Node& node, ir::NodeId) {
    if (node.op != "GRU") detail::failLayer(node, "linear before reset applies to GRU layers only");
    node.attrs.set("linear_before_reset", linear);
  });
}

bool RNNLayer::linearBeforeReset() const {
  return detail::getIntAttr(*this, "RNNLayer::linearBeforeReset", "linear_before_reset", 0) != 0;
}

void RNNLayer::setActivations(std::span<const ActivationType> types, std::span<const float> alphas,
                              std::span<const float> betas) {
  detail::writeLayer(*this, "RNNLayer::setActivations", [&](ir::Node& node, ir::NodeId) {
    if ((!alphas.empty() && alphas.size() != types.size()) ||
        (!betas.empty() && betas.size() != types.size())) {
      detail::failLayer(node, "alphas and betas need one value per activation (", types.size(),
                        "), or none");
    }
    std::vector<int64_t> kinds;
    for (const ActivationType type : types) {
      if (!isKnownActivation(type)) {
        detail::failLayer(node, "unknown activation type ", static_cast<int32_t>(type));
      }
      kinds.push_back(static_cast<int64_t>(type));
    }
    if (kinds.empty()) {
      node.attrs.erase("activations");
      node.attrs.erase("activation_alpha");
      node.attrs.erase("activation_beta");
      return;
    }
    node.attrs.set("activations", std::move(kinds));
    const auto store = [&](std::string_view attr, std::span<const float> values) {
      if (values.empty()) {
        node.attrs.erase(attr);
      } else {
        node.attrs.set(attr, std::vector<double>(values.begin(), values.end()));
      }
    };
    store("activation_alpha", alphas);
    store("activation_beta", betas);
  });
}

std::vector<ActivationType> RNNLayer::activations() const {
  return detail::readLayer<std::vector<ActivationType>>(
      *this, "RNNLayer::activations",
      [](const ir::Node& node) {
        std::vector<ActivationType> types;
        for (const int64_t v : node.attrs.getInts("activations")) {
          types.push_back(static_cast<ActivationType>(v));
        }
        return types;
      },
      {});
}

}  // namespace kiln
