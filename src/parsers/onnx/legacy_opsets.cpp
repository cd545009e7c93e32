#include "parsers/onnx/legacy_opsets.h"

#include <array>

#include "parsers/onnx/node_import.h"

namespace kiln::parsers::onnx_import {

namespace {

enum class LegacyCheck {
  kNone,           //!< the old definition is the new one (old attributes aside)
  kBroadcastAxis,  //!< binary ops: "broadcast" + "axis" instead of numpy broadcasting
  kIsTest,         //!< BatchNormalization: is_test 0 is training mode
};

struct LegacyOp {
  std::string_view opType;
  int64_t oldest;  //!< the oldest opset whose definition kiln imports
  LegacyCheck check = LegacyCheck::kNone;
  //! Why opsets before `oldest` are refused.
  std::string_view olderDiffers = {};
};

// Ops of ai.onnx that exist before opset 7, and from which opset kiln reads them. Opsets 1 to
// 6 differ from 7 mainly by consumed_inputs (memory reuse hints, ignored here), is_test
// (ignored where inference is the only mode), and the legacy broadcasting of binary ops.
constexpr auto kLegacyOps = std::to_array<LegacyOp>({
    {"Abs", 1},
    {"Add", 1, LegacyCheck::kBroadcastAxis},
    {"And", 1, LegacyCheck::kBroadcastAxis},
    {"ArgMax", 1},
    {"ArgMin", 1},
    {"AveragePool", 1},
    {"BatchNormalization", 1, LegacyCheck::kIsTest},
    {"Cast", 6, LegacyCheck::kNone, "its 'to' attribute is a type name string before opset 6"},
    {"Ceil", 1},
    {"Clip", 1},
    {"Concat", 4, LegacyCheck::kNone, "its axis is optional (default 1) before opset 4"},
    {"Constant", 1},
    {"Conv", 1},
    {"ConvTranspose", 1},
    {"DepthToSpace", 1},
    {"Div", 1, LegacyCheck::kBroadcastAxis},
    {"Dropout", 1},
    {"Elu", 1},
    {"Equal", 1, LegacyCheck::kBroadcastAxis},
    {"Exp", 1},
    {"Flatten", 1},
    {"Floor", 1},
    {"Gather", 1},
    {"Gemm", 1},
    {"GlobalAveragePool", 1},
    {"GlobalMaxPool", 1},
    {"Greater", 1, LegacyCheck::kBroadcastAxis},
    {"HardSigmoid", 1},
    {"Hardmax", 1},
    {"Identity", 1},
    {"InstanceNormalization", 1},
    {"LRN", 1},
    {"LeakyRelu", 1},
    {"Less", 1, LegacyCheck::kBroadcastAxis},
    {"Log", 1},
    {"LogSoftmax", 1},
    {"MatMul", 1},
    {"Max", 1},
    {"MaxPool", 1},
    {"Mean", 1},
    {"Min", 1},
    {"Mul", 1, LegacyCheck::kBroadcastAxis},
    {"Neg", 1},
    {"Not", 1},
    {"Or", 1, LegacyCheck::kBroadcastAxis},
    {"PRelu", 1},
    {"Pad", 1},
    {"Pow", 1, LegacyCheck::kBroadcastAxis},
    {"Reciprocal", 1},
    {"ReduceL1", 1},
    {"ReduceL2", 1},
    {"ReduceLogSum", 1},
    {"ReduceLogSumExp", 1},
    {"ReduceMax", 1},
    {"ReduceMean", 1},
    {"ReduceMin", 1},
    {"ReduceProd", 1},
    {"ReduceSum", 1},
    {"ReduceSumSquare", 1},
    {"Relu", 1},
    {"Reshape", 1},
    {"Selu", 1},
    {"Shape", 1},
    {"Sigmoid", 1},
    {"Size", 1},
    {"Slice", 1},
    {"Softmax", 1},
    {"Softplus", 1},
    {"Softsign", 1},
    {"SpaceToDepth", 1},
    {"Split", 2, LegacyCheck::kNone, "its split sizes may be a second input before opset 2"},
    {"Sqrt", 1},
    {"Squeeze", 1},
    {"Sub", 1, LegacyCheck::kBroadcastAxis},
    {"Sum", 1},
    {"Tanh", 1},
    {"Tile", 6, LegacyCheck::kNone, "it takes 'tiles' and 'axis' inputs before opset 6"},
    {"TopK", 1},
    {"Transpose", 1},
    {"Unsqueeze", 1},
    {"Xor", 1, LegacyCheck::kBroadcastAxis},
});

const LegacyOp* findLegacy(std::string_view opType) {
  for (const auto& op : kLegacyOps) {
    if (op.opType == opType) return &op;
  }
  return nullptr;
}

}  // namespace

std::string legacyOpsetProblem(std::string_view opType, int64_t opset) {
  if (opset >= kLegacyOpsetEnd) return {};
  const LegacyOp* op = findLegacy(opType);
  const std::string name(opType);
  if (op == nullptr) {
    return "kiln imports " + name + " from opset " + std::to_string(kLegacyOpsetEnd) +
           " (convert the model with onnx.version_converter)";
  }
  if (opset < op->oldest) {
    return "kiln imports " + name + " from opset " + std::to_string(op->oldest) + "; " +
           std::string(op->olderDiffers) + " (convert the model with onnx.version_converter)";
  }
  return {};
}

int64_t legacyOldestOpset(std::string_view opType) {
  const LegacyOp* op = findLegacy(opType);
  return op == nullptr ? 0 : op->oldest;
}

void checkLegacyNode(const NodeImport& n) {
  if (n.opset >= kLegacyOpsetEnd) return;
  const LegacyOp* op = findLegacy(n.opType());
  if (op == nullptr) return;
  switch (op->check) {
    case LegacyCheck::kNone:
      return;
    case LegacyCheck::kBroadcastAxis: {
      // broadcast 0 asks for equal shapes and broadcast 1 without axis aligns B with the end of
      // A: numpy broadcasting gives the same result for both. An axis elsewhere aligns B with
      // the middle of A, which numpy broadcasting cannot express.
      if (n.attrInt("broadcast", 0) == 0 || !n.hasAttr("axis") || n.nbInputs() < 2) return;
      const int32_t rankA = n.inputRank(0);
      const int32_t rankB = n.inputRank(1);
      int64_t axis = n.attrInt("axis", 0);
      if (axis < 0) axis += rankA;
      if (axis != rankA - rankB) {
        n.unsupported("legacy broadcasting along axis " + std::to_string(n.attrInt("axis", 0)) +
                      " (B of rank " + std::to_string(rankB) + " aligned inside A of rank " +
                      std::to_string(rankA) + ") is not supported; from opset 7 on, reshape B");
      }
      return;
    }
    case LegacyCheck::kIsTest:
      if (n.attrInt("is_test", 0) == 0) {
        n.unsupported("is_test 0 asks for training mode (batch statistics) in opset " +
                      std::to_string(n.opset) + "; kiln imports inference mode (is_test 1)");
      }
      return;
  }
}

}  // namespace kiln::parsers::onnx_import
