#include "backends/cuda/matrix_tactics.h"

#include "backends/cuda/cuda_tactics.h"

namespace kiln::backends::cuda {

static_assert(static_cast<int32_t>(ActivationType::kRELU) == 0 &&
                  static_cast<int32_t>(ActivationType::kCLIP) == 8 &&
                  static_cast<int32_t>(ActivationType::kGELU_TANH) == 13 &&
                  static_cast<int32_t>(ActivationType::kSILU) == 14 &&
                  static_cast<int32_t>(ActivationType::kHARD_SWISH) == 15,
              "pointwise_kernels.cu numbers the activation types as kiln/network.h does");

DeviceActivation deviceActivation(const ops::Epilogue& epilogue) {
  if (!epilogue.activation) return {};
  return {static_cast<int32_t>(*epilogue.activation), epilogue.alpha, epilogue.beta};
}

std::optional<FloatType> uniformFloatType(const NodeSpec& spec) {
  std::optional<DataType> common;
  auto ok = [&](const ir::TensorInfo& info) {
    if (!info.present) return true;
    if (info.boundedExtents != 0 || (common && info.dtype != *common)) return false;
    common = info.dtype;
    for (int32_t i = 0; i < info.dims.nbDims; ++i) {
      if (info.dims[i] < 0) return false;
    }
    return true;
  };
  for (const auto& info : spec.inputs) {
    if (!ok(info)) return std::nullopt;
  }
  for (const auto& info : spec.outputs) {
    if (!ok(info)) return std::nullopt;
  }
  switch (common.value_or(DataType::kFLOAT)) {
    case DataType::kFLOAT:
      return FloatType::kFloat;
    case DataType::kHALF:
      return FloatType::kHalf;
    case DataType::kBF16:
      return FloatType::kBFloat16;
    default:
      return std::nullopt;
  }
}

void registerCudaMatrixTactics(TacticRegistry& registry) {
  registerGemmTactics(registry);
  registerConv1x1Tactics(registry);  // before cuDNN: the first fit wins without timing
  registerConvolutionTactics(registry);
  registerAttentionTactics(registry);
}

}  // namespace kiln::backends::cuda
