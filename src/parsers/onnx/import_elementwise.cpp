// Element-wise ops: arithmetic (binary and variadic), comparisons, logic, Where and the unary
// functions. On known constants they are folded (shape arithmetic).
#include <array>
#include <vector>

#include "parsers/onnx/fold.h"
#include "parsers/onnx/node_import.h"

namespace kiln::parsers::onnx_import {

namespace {

struct BinarySpec {
  std::string_view op;
  ElementWiseOperation layer;
  FoldOp fold;
};

constexpr std::array kBinary = {
    BinarySpec{"Add", ElementWiseOperation::kSUM, FoldOp::kAdd},
    BinarySpec{"Sum", ElementWiseOperation::kSUM, FoldOp::kAdd},
    BinarySpec{"Mean", ElementWiseOperation::kSUM, FoldOp::kAdd},
    BinarySpec{"Sub", ElementWiseOperation::kSUB, FoldOp::kSub},
    BinarySpec{"Mul", ElementWiseOperation::kPROD, FoldOp::kMul},
    BinarySpec{"Div", ElementWiseOperation::kDIV, FoldOp::kDiv},
    BinarySpec{"Pow", ElementWiseOperation::kPOW, FoldOp::kPow},
    BinarySpec{"Max", ElementWiseOperation::kMAX, FoldOp::kMax},
    BinarySpec{"Min", ElementWiseOperation::kMIN, FoldOp::kMin},
    BinarySpec{"And", ElementWiseOperation::kAND, FoldOp::kAnd},
    BinarySpec{"Or", ElementWiseOperation::kOR, FoldOp::kOr},
    BinarySpec{"Xor", ElementWiseOperation::kXOR, FoldOp::kXor},
    BinarySpec{"Equal", ElementWiseOperation::kEQUAL, FoldOp::kEqual},
    BinarySpec{"Greater", ElementWiseOperation::kGREATER, FoldOp::kGreater},
    BinarySpec{"Less", ElementWiseOperation::kLESS, FoldOp::kLess},
};

const BinarySpec& binarySpec(const NodeImport& n) {
  for (const auto& spec : kBinary) {
    if (spec.op == n.opType()) return spec;
  }
  n.unsupported("no element-wise importer for " + n.opType());
}

void needInputs(const NodeImport& n, int32_t count) {
  for (int32_t i = 0; i < count; ++i) {
    if (!n.hasInput(i)) n.invalid("input " + std::to_string(i) + " is missing");
  }
}

bool foldAll(NodeImport& n, FoldOp op) {
  if (!n.allInputsConstant()) return false;
  const auto folded = tryFold([&] {
    ConstTensor acc = *n.constantInput(0);
    for (int32_t i = 1; i < n.nbInputs(); ++i) {
      if (n.hasInput(i)) acc = foldBinary(acc, *n.constantInput(i), op, n.foldLimit());
    }
    return acc;
  });
  if (!folded) return false;
  n.setOutput(0, *folded);
  return true;
}

}  // namespace

void importBinary(NodeImport& n) {
  needInputs(n, 2);
  const BinarySpec& spec = binarySpec(n);
  if (foldAll(n, spec.fold)) return;
  Tensor a = n.input(0);
  Tensor b = n.input(1);
  // Pow may raise to an exponent of another type; the layer takes one type.
  if (spec.layer == ElementWiseOperation::kPOW && b.type() != a.type()) {
    b = n.cast(b, a.type(), "exponent_type");
  }
  n.setOutput(0, n.elementWise(a, b, spec.layer, {}));
}

void importVariadic(NodeImport& n) {
  if (n.nbInputs() < 1) n.invalid("needs at least one input");
  needInputs(n, n.nbInputs());
  const BinarySpec& spec = binarySpec(n);
  if (n.opType() == "Mean") {
    if (n.allInputsConstant()) {
      const auto folded = tryFold([&] {
        ConstTensor acc = *n.constantInput(0);
        for (int32_t i = 1; i < n.nbInputs(); ++i)
          acc = foldBinary(acc, *n.constantInput(i), FoldOp::kAdd, n.foldLimit());
        return foldBinary(acc, ConstTensor::floats({}, {static_cast<float>(n.nbInputs())}),
                          FoldOp::kDiv, n.foldLimit());
      });
      if (folded) {
        n.setOutput(0, *folded);
        return;
      }
    }
  } else if (foldAll(n, spec.fold)) {
    return;
  }
  if (n.nbInputs() == 1) {
    n.forward(0, 0);
    return;
  }
  Tensor acc = n.input(0);
  for (int32_t i = 1; i < n.nbInputs(); ++i) {
    acc = n.elementWise(acc, n.input(i), spec.layer,
                        i == 1 ? std::string() : "input" + std::to_string(i));
  }
  if (n.opType() == "Mean") {
    Tensor count = n.scalar(static_cast<float>(n.nbInputs()), acc.dimensions().nbDims, "count");
    acc = n.elementWise(acc, count, ElementWiseOperation::kDIV, "mean");
  }
  n.setOutput(0, acc);
}

void importComparison(NodeImport& n) {
  needInputs(n, 2);
  const std::string& op = n.opType();
  FoldOp fold = FoldOp::kEqual;
  if (op == "Greater") fold = FoldOp::kGreater;
  if (op == "Less") fold = FoldOp::kLess;
  if (op == "GreaterOrEqual") fold = FoldOp::kGreaterOrEqual;
  if (op == "LessOrEqual") fold = FoldOp::kLessOrEqual;
  if (foldAll(n, fold)) return;
  Tensor a = n.input(0);
  Tensor b = n.input(1);
  if (op == "Equal" && a.type() == DataType::kBOOL) {
    Tensor differ = n.elementWise(a, b, ElementWiseOperation::kXOR, "differ");
    n.setOutput(0, n.unary(differ, UnaryOperation::kNOT, "not"));
    return;
  }
  if (op == "GreaterOrEqual" || op == "LessOrEqual") {
    // a >= b as (a > b) or (a == b): false for NaN, as IEEE comparisons are.
    const auto strict =
        op == "GreaterOrEqual" ? ElementWiseOperation::kGREATER : ElementWiseOperation::kLESS;
    Tensor s = n.elementWise(a, b, strict, "strict");
    Tensor e = n.elementWise(a, b, ElementWiseOperation::kEQUAL, "equal");
    n.setOutput(0, n.elementWise(s, e, ElementWiseOperation::kOR, "or"));
    return;
  }
  n.setOutput(0, n.elementWise(a, b, binarySpec(n).layer, {}));
}

void importLogical(NodeImport& n) {
  needInputs(n, 2);
  const BinarySpec& spec = binarySpec(n);
  if (foldAll(n, spec.fold)) return;
  n.setOutput(0, n.elementWise(n.input(0), n.input(1), spec.layer, {}));
}

void importWhere(NodeImport& n) {
  needInputs(n, 3);
  if (n.allInputsConstant()) {
    const auto folded = tryFold([&] {
      return foldWhere(*n.constantInput(0), *n.constantInput(1), *n.constantInput(2),
                       n.foldLimit());
    });
    if (folded) {
      n.setOutput(0, *folded);
      return;
    }
  }
  SelectLayer select = n.network.addSelect(n.input(0), n.input(1), n.input(2));
  n.setOutput(0, n.add(select).output(0));
}

namespace {

struct UnarySpec {
  std::string_view op;
  UnaryOperation layer;
  std::optional<FoldUnary> fold;
};

constexpr std::array kUnary = {
    UnarySpec{"Abs", UnaryOperation::kABS, FoldUnary::kAbs},
    UnarySpec{"Neg", UnaryOperation::kNEG, FoldUnary::kNeg},
    UnarySpec{"Exp", UnaryOperation::kEXP, FoldUnary::kExp},
    UnarySpec{"Log", UnaryOperation::kLOG, FoldUnary::kLog},
    UnarySpec{"Sqrt", UnaryOperation::kSQRT, FoldUnary::kSqrt},
    UnarySpec{"Reciprocal", UnaryOperation::kRECIP, FoldUnary::kReciprocal},
    UnarySpec{"Sin", UnaryOperation::kSIN, std::nullopt},
    UnarySpec{"Cos", UnaryOperation::kCOS, std::nullopt},
    UnarySpec{"Tan", UnaryOperation::kTAN, std::nullopt},
    UnarySpec{"Asin", UnaryOperation::kASIN, std::nullopt},
    UnarySpec{"Acos", UnaryOperation::kACOS, std::nullopt},
    UnarySpec{"Atan", UnaryOperation::kATAN, std::nullopt},
    UnarySpec{"Sinh", UnaryOperation::kSINH, std::nullopt},
    UnarySpec{"Cosh", UnaryOperation::kCOSH, std::nullopt},
    UnarySpec{"Asinh", UnaryOperation::kASINH, std::nullopt},
    UnarySpec{"Acosh", UnaryOperation::kACOSH, std::nullopt},
    UnarySpec{"Atanh", UnaryOperation::kATANH, std::nullopt},
    UnarySpec{"Floor", UnaryOperation::kFLOOR, FoldUnary::kFloor},
    UnarySpec{"Ceil", UnaryOperation::kCEIL, FoldUnary::kCeil},
    UnarySpec{"Sign", UnaryOperation::kSIGN, FoldUnary::kSign},
    UnarySpec{"Round", UnaryOperation::kROUND, std::nullopt},
    UnarySpec{"Erf", UnaryOperation::kERF, std::nullopt},
    UnarySpec{"Not", UnaryOperation::kNOT, FoldUnary::kNot},
    UnarySpec{"IsNaN", UnaryOperation::kISNAN, std::nullopt},
    UnarySpec{"IsInf", UnaryOperation::kISINF, std::nullopt},
};

}  // namespace

void importUnary(NodeImport& n) {
  needInputs(n, 1);
  const UnarySpec* spec = nullptr;
  for (const auto& s : kUnary) {
    if (s.op == n.opType()) spec = &s;
  }
  if (spec == nullptr) n.unsupported("no unary importer for " + n.opType());
  if (spec->fold && n.allInputsConstant()) {
    const auto folded =
        tryFold([&] { return foldUnary(*n.constantInput(0), *spec->fold, n.foldLimit()); });
    if (folded) {
      n.setOutput(0, *folded);
      return;
    }
  }
  Tensor y = n.unary(n.input(0), spec->layer, {});
  if (n.opType() == "IsInf") {
    const bool negative = n.attrInt("detect_negative", 1) != 0;
    const bool positive = n.attrInt("detect_positive", 1) != 0;
    if (!negative || !positive) {
      Tensor zero = n.scalar(0.f, n.inputRank(0), "zero");
      Tensor side = n.elementWise(
          n.input(0), zero, positive ? ElementWiseOperation::kGREATER : ElementWiseOperation::kLESS,
          "sign");
      y = n.elementWise(y, side, ElementWiseOperation::kAND, "detect");
      if (!negative && !positive) {
        y = n.elementWise(y, n.unary(y, UnaryOperation::kNOT, "none"), ElementWiseOperation::kAND,
                          "nothing");
      }
    }
  }
  n.setOutput(0, y);
}

}  // namespace kiln::parsers::onnx_import
