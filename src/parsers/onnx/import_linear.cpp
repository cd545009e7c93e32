// Gemm and MatMul.
#include <vector>

#include "parsers/onnx/node_import.h"

namespace kiln::parsers::onnx_import {

namespace {

// The per-column bias of a Gemm whose C broadcasts along the rows: [N], [1, N] or a single
// value; nullopt for any other C.
std::optional<std::vector<float>> columnBias(const ConstTensor& c, int64_t columns, float beta) {
  const Dims& d = c.dims();
  const bool single = c.count() == 1 && d.nbDims <= 2;
  const bool row =
      (d.nbDims == 1 && d[0] == columns) || (d.nbDims == 2 && d[0] == 1 && d[1] == columns);
  if (!single && !row) return std::nullopt;
  const std::vector<float> values = c.toFloats();
  std::vector<float> bias(static_cast<std::size_t>(columns));
  for (std::size_t k = 0; k < bias.size(); ++k) bias[k] = beta * values[single ? 0 : k];
  return bias;
}

}  // namespace

// Y = alpha * A' * B' + beta * C. With constant B and C of one value per column this is a
// FullyConnected layer (weights alpha * B as [N, K]); otherwise a MatrixMultiply followed by
// the scaling and the broadcast addition of C.
void importGemm(NodeImport& n) {
  const float alpha = n.attrFloat("alpha", 1.0f);
  const float beta = n.attrFloat("beta", 1.0f);
  const bool transA = n.attrInt("transA", 0) != 0;
  const bool transB = n.attrInt("transB", 0) != 0;
  const Dims a = n.inputDims(0);
  const Dims b = n.inputDims(1);
  if (a.nbDims != 2 || b.nbDims != 2) {
    n.invalid("A and B must be matrices; they have shapes " + toString(a) + " and " + toString(b));
  }
  const int64_t inner = transA ? a[0] : a[1];
  const int64_t innerB = transB ? b[1] : b[0];
  const int64_t columns = transB ? b[0] : b[1];
  if (inner != innerB) {
    n.invalid("A" + std::string(transA ? "'" : "") + " has " + std::to_string(inner) +
              " columns but B" + (transB ? "'" : "") + " has " + std::to_string(innerB) + " rows");
  }

  const ConstTensor* constB = n.constantInput(1);
  const ConstTensor* constC = n.hasInput(2) ? n.constantInput(2) : nullptr;
  std::optional<std::vector<float>> bias;
  if (constC != nullptr) bias = columnBias(*constC, columns, beta);
  const bool fullyConnected = constB != nullptr && !transA && n.constantInput(0) == nullptr &&
                              (!n.hasInput(2) || bias.has_value());
  if (fullyConnected) {
    const std::vector<float> bv = constB->toFloats();
    std::vector<float> kernel(static_cast<std::size_t>(columns * inner));
    for (int64_t k = 0; k < columns; ++k) {
      for (int64_t i = 0; i < inner; ++i) {
        const float v = transB ? bv[static_cast<std::size_t>(k * inner + i)]
                               : bv[static_cast<std::size_t>(i * columns + k)];
        kernel[static_cast<std::size_t>(k * inner + i)] = alpha * v;
      }
    }
    const Weights kw{DataType::kFLOAT, kernel.data(), static_cast<int64_t>(kernel.size())};
    Weights bw;
    if (bias) bw = Weights{DataType::kFLOAT, bias->data(), static_cast<int64_t>(bias->size())};
    FullyConnectedLayer fc = n.network.addFullyConnected(n.input(0), columns, kw, bw);
    n.setOutput(0, n.add(fc).output(0));
    return;
  }

  MatrixMultiplyLayer mm = n.network.addMatrixMultiply(
      n.input(0), transA ? MatrixOperation::kTRANSPOSE : MatrixOperation::kNONE, n.input(1),
      transB ? MatrixOperation::kTRANSPOSE : MatrixOperation::kNONE);
  Tensor y = n.add(mm).output(0);
  if (alpha != 1.0f)
    y = n.elementWise(y, n.scalar(alpha, 2, "alpha"), ElementWiseOperation::kPROD, "scale_alpha");
  if (n.hasInput(2) && beta != 0.0f) {
    Tensor c = n.input(2);
    if (beta != 1.0f) {
      c = n.elementWise(c, n.scalar(beta, n.inputRank(2), "beta"), ElementWiseOperation::kPROD,
                        "scale_beta");
    }
    y = n.elementWise(y, c, ElementWiseOperation::kSUM, "add_c");
  }
  n.setOutput(0, y);
}

void importMatMul(NodeImport& n) {
  MatrixMultiplyLayer mm = n.network.addMatrixMultiply(n.input(0), MatrixOperation::kNONE,
                                                       n.input(1), MatrixOperation::kNONE);
  n.setOutput(0, n.add(mm).output(0));
}

}  // namespace kiln::parsers::onnx_import
