// fully_connected, matrix_multiply, scale.
#include <cmath>

#include "parsers/json/enum_names.h"
#include "parsers/json/layer_import.h"

namespace kiln::parsers::netjson {

namespace {
double fanInBound(std::optional<int64_t> fanIn) {
  return fanIn && *fanIn > 0 ? 1.0 / std::sqrt(static_cast<double>(*fanIn)) : 1.0;
}
}  // namespace

Layer importFullyConnected(LayerImport& l) {
  auto& f = l.fields;
  const auto numOutput = f.integer("num_output", Need::kRequired, 1);
  const auto weights = l.readWeights({{"kernel"}, {"bias", /*allowNone=*/true}});
  if (!l.ready()) return {};

  // TensorRT's rule: rank >= 3 flattens the last three dimensions, rank 2 is [N, C].
  const Dims in = l.inputDims(0);
  std::optional<int64_t> fanIn;
  if (in.nbDims >= 3) fanIn = checkedVolume(in, in.nbDims - 3, in.nbDims);
  if (in.nbDims == 2) fanIn = checkedVolume(in, 1, 2);
  const int64_t k = *numOutput;
  const std::string kernelShape = fanIn ? dimsText(Dims{k, *fanIn}) : dimsText(Dims{k}) + " x ?";
  const WeightsNeed kernelNeed{DataType::kFLOAT, fanIn ? checkedProduct({k, *fanIn}) : std::nullopt,
                               "the fully connected kernel " + kernelShape, fanInBound(fanIn)};
  const WeightsNeed biasNeed{DataType::kFLOAT, k, "the fully connected bias " + dimsText(Dims{k}),
                             fanInBound(fanIn)};
  const auto kernelValues = l.materialize(weights[0], kernelNeed, "kernel");
  const auto biasValues = l.materialize(weights[1], biasNeed, "bias");
  if (!kernelValues || !biasValues) return {};
  return l.added(
      l.network.addFullyConnected(l.inputs[0], k, kernelValues->view(), biasValues->view()));
}

Layer importMatrixMultiply(LayerImport& l) {
  auto& f = l.fields;
  const auto operations = f.enumerations("operation", matrixOperationNames());
  if (operations && operations->size() != 2) {
    f.error("operation",
            "needs one operation per input (2), got " + std::to_string(operations->size()));
  }
  if (!l.ready()) return {};
  const auto op0 = operations ? (*operations)[0] : MatrixOperation::kNONE;
  const auto op1 = operations ? (*operations)[1] : MatrixOperation::kNONE;
  return l.added(l.network.addMatrixMultiply(l.inputs[0], op0, l.inputs[1], op1));
}

Layer importScale(LayerImport& l) {
  auto& f = l.fields;
  const auto mode = f.enumeration("mode", scaleModeNames(), Need::kRequired);
  const auto channelAxis =
      f.integer("channel_axis", Need::kOptional, -Dims::kMaxRank, Dims::kMaxRank - 1);
  // A random power would turn negative inputs into NaN, so an absent power means none.
  const auto weights =
      l.readWeights({{"shift", true}, {"scale", true}, {"power", true, /*noneIfAbsent=*/true}});
  if (!l.ready()) return {};

  const Dims in = l.inputDims(0);
  int64_t axis = channelAxis.value_or(1);
  if (axis < 0) axis += in.nbDims;
  if (axis < 0 || axis >= in.nbDims) {
    f.error("channel_axis", "axis " + std::to_string(channelAxis.value_or(1)) +
                                " is outside the input's rank " + std::to_string(in.nbDims));
    return {};
  }
  const auto a = static_cast<int32_t>(axis);
  std::optional<int64_t> count = 1;
  std::string shape = "[1]";
  if (*mode == ScaleMode::kCHANNEL) {
    count = in[a] >= 0 ? std::optional<int64_t>(in[a]) : std::nullopt;
    shape = dimsText(Dims{in[a]}) + " (one per channel)";
  } else if (*mode == ScaleMode::kELEMENTWISE) {
    count = checkedVolume(in, a, in.nbDims);
    Dims tail;
    for (int32_t i = a; i < in.nbDims; ++i) tail[tail.nbDims++] = in[i];
    shape = dimsText(tail) + " (one per element)";
  }
  std::vector<WeightsBuffer> values;
  const char* slots[] = {"shift", "scale", "power"};
  for (std::size_t i = 0; i < 3; ++i) {
    const WeightsNeed need{DataType::kFLOAT, count,
                           std::string("the scale's ") + slots[i] + " " + shape, 1.0};
    auto buffer = l.materialize(weights[i], need, slots[i]);
    if (!buffer) return {};
    values.push_back(std::move(*buffer));
  }
  return l.added(l.network.addScaleNd(l.inputs[0], *mode, values[0].view(), values[1].view(),
                                      values[2].view(), a));
}

}  // namespace kiln::parsers::netjson
