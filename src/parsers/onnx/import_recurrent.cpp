// LSTM, GRU and RNN: one RNNLayer each, with the node's inputs in ONNX order.
#include <optional>
#include <string>
#include <vector>

#include "parsers/onnx/node_import.h"

namespace kiln::parsers::onnx_import {

namespace {

struct OnnxActivation {
  std::string_view name;
  ActivationType type;
  bool takesAlpha;
  bool takesBeta;
  float alpha;  //!< ONNX's default (that of the activation op of the same name)
  float beta;
};

// The activations ONNX lists for recurrent ops, with kiln's equivalent. Softplus is kiln's
// alpha * log(exp(beta * x) + 1) at alpha = beta = 1.
constexpr OnnxActivation kActivations[] = {
    {"Relu", ActivationType::kRELU, false, false, 0.f, 0.f},
    {"Tanh", ActivationType::kTANH, false, false, 0.f, 0.f},
    {"Sigmoid", ActivationType::kSIGMOID, false, false, 0.f, 0.f},
    {"LeakyRelu", ActivationType::kLEAKY_RELU, true, false, 0.01f, 0.f},
    {"ThresholdedRelu", ActivationType::kTHRESHOLDED_RELU, true, false, 1.f, 0.f},
    {"ScaledTanh", ActivationType::kSCALED_TANH, true, true, 1.f, 1.f},
    {"HardSigmoid", ActivationType::kHARD_SIGMOID, true, true, 0.2f, 0.5f},
    {"Elu", ActivationType::kELU, true, false, 1.f, 0.f},
    {"Softsign", ActivationType::kSOFTSIGN, false, false, 0.f, 0.f},
    {"Softplus", ActivationType::kSOFTPLUS, false, false, 1.f, 1.f},
};

// ONNX Runtime matches activation names without regard to case; so does kiln.
bool sameName(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char ch) { return ch >= 'A' && ch <= 'Z' ? char(ch - 'A' + 'a') : ch; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// The node's activations with their parameters. activation_alpha / activation_beta are consumed
// in order by the activations that take such a parameter (as ONNX Runtime reads them); one left
// without a value takes its ONNX default.
void setActivations(NodeImport& n, RNNLayer& layer) {
  const ::onnx::AttributeProto* names = n.attr("activations");
  if (names == nullptr || names->strings_size() == 0) return;
  const std::vector<float> alphas = n.attrFloats("activation_alpha");
  const std::vector<float> betas = n.attrFloats("activation_beta");
  std::size_t nextAlpha = 0, nextBeta = 0;
  std::vector<ActivationType> types;
  std::vector<float> a, b;
  for (const std::string& name : names->strings()) {
    const OnnxActivation* found = nullptr;
    for (const auto& candidate : kActivations) {
      if (sameName(candidate.name, name)) found = &candidate;
    }
    if (found == nullptr) {
      if (sameName(name, "Affine")) {
        n.unsupported(
            "activation 'Affine' is not supported (kiln supports Relu, Tanh, Sigmoid, "
            "LeakyRelu, ThresholdedRelu, ScaledTanh, HardSigmoid, Elu, Softsign and "
            "Softplus)");
      }
      n.invalid("unknown activation '" + name + "'");
    }
    float alpha = found->alpha, beta = found->beta;
    if (found->takesAlpha && nextAlpha < alphas.size()) alpha = alphas[nextAlpha++];
    if (found->takesBeta && nextBeta < betas.size()) beta = betas[nextBeta++];
    types.push_back(found->type);
    a.push_back(alpha);
    b.push_back(beta);
  }
  layer.setActivations(types, a, b);
}

}  // namespace

void importRecurrent(NodeImport& n) {
  const std::string& op = n.opType();
  const RNNOperation operation = op == "LSTM"  ? RNNOperation::kLSTM
                                 : op == "GRU" ? RNNOperation::kGRU
                                               : RNNOperation::kRNN;
  const std::string direction = n.attrString("direction", "forward");
  RNNDirection dir = RNNDirection::kFORWARD;
  if (direction == "reverse") {
    dir = RNNDirection::kREVERSE;
  } else if (direction == "bidirectional") {
    dir = RNNDirection::kBIDIRECTIONAL;
  } else if (direction != "forward") {
    n.invalid("direction '" + direction + "' is none of forward, reverse and bidirectional");
  }
  // hidden_size may be left out: R [D, G*H, H] gives it.
  int64_t hidden = n.attrInt("hidden_size", 0);
  if (!n.hasAttr("hidden_size")) {
    const Dims r = n.inputDims(2);
    if (r.nbDims != 3) n.invalid("R has shape " + toString(r) + "; it needs rank 3");
    hidden = r[2];
  }
  if (hidden <= 0) n.invalid("hidden_size must be positive, not " + std::to_string(hidden));
  if (n.hasAttr("output_sequence")) {
    n.unsupported("the output_sequence attribute (opsets before 7) is not supported");
  }

  RNNLayer layer = n.network.addRNN(n.input(0), operation, hidden, n.input(1), n.input(2));
  if (layer) {
    layer.setDirection(dir);
    layer.setBatchFirst(n.attrInt("layout", 0) != 0);
    if (n.hasAttr("clip")) {
      const float clip = n.attrFloat("clip", 0.f);
      if (!(clip > 0.f)) n.invalid("clip must be positive, not " + std::to_string(clip));
      layer.setClip(clip);
    }
    if (operation == RNNOperation::kLSTM) layer.setInputForget(n.attrInt("input_forget", 0) != 0);
    if (operation == RNNOperation::kGRU) {
      layer.setLinearBeforeReset(n.attrInt("linear_before_reset", 0) != 0);
    }
    setActivations(n, layer);
    const int32_t optionalInputs = operation == RNNOperation::kLSTM ? 8 : 6;
    for (int32_t i = 3; i < optionalInputs; ++i) {
      if (n.hasInput(i)) layer.setInput(i, n.input(i));
    }
  }
  n.add(layer);
  for (int32_t i = 0; i < layer.nbOutputs(); ++i) n.setOutput(i, layer.output(i));
}

}  // namespace kiln::parsers::onnx_import
