// matmul-bias: y = A·W + c, where W is a constant matrix and c a float constant that varies
// along the last dimension only ([N], [1, N], [1, 1, N], a scalar ...; either operand order of
// the add), becomes the MatrixMultiply's epilogue bias (ops/epilogue.h) — the Linear layers of
// transformer exports, whose bias add cuBLASLt and the CPU GEMM then apply as they store C.
//
// It runs before residual-fusion and activation-fusion (so the residual add and the GELU that
// follow fold in as well) and before pointwise-fusion (which would otherwise take the add into
// a chain). W must be a constant: a product of two activations is left alone, so that the
// attention pattern (Q·K^T then a mask add) stays whole for attention-fusion.
#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "builder/passes/fusable_layers.h"
#include "builder/passes/passes.h"
#include "builder/passes/pattern_util.h"
#include "kiln/network.h"
#include "ops/epilogue.h"

namespace kiln::builder {

namespace {

// The MatrixMultiply whose output @p x is and that can take a bias: B a constant matrix (not a
// vector: the bias runs along its columns), no activation or bias in its epilogue yet.
bool takesBias(const ir::Graph& graph, const ir::Node& layer) {
  if (layer.op != "MatrixMultiply" || layer.outputs.size() != 1 || layer.inputs.size() < 2) {
    return false;
  }
  const ir::ValueId w = layer.inputs[1];
  if (w == ir::kNoValue || !graph.value(w).isConstant()) return false;
  const Dims& wd = graph.value(w).dims;
  const auto op1 = layer.attrs.getEnum("op1", MatrixOperation::kNONE);
  if (wd.nbDims < 2 || op1 == MatrixOperation::kVECTOR) return false;
  const ops::Epilogue e = ops::Epilogue::of(layer.attrs);
  return !e.activation && !e.biasInput;
}

// The bias of @p c added to an output of shape @p out: N values when @p c is a float constant
// whose every dimension but the last is 1 and whose last is N or 1 (then repeated); nullopt
// otherwise.
std::optional<std::vector<float>> biasValues(const ir::Graph& graph, ir::ValueId c,
                                             const Dims& out) {
  const ir::Value& value = graph.value(c);
  if (!value.isConstant() || value.dtype != DataType::kFLOAT || out.nbDims < 1) {
    return std::nullopt;
  }
  const int64_t n = out[out.nbDims - 1];
  const Dims& d = value.dims;
  if (n < 1 || d.nbDims > out.nbDims) return std::nullopt;
  for (int32_t i = 0; i + 1 < d.nbDims; ++i) {
    if (d[i] != 1) return std::nullopt;
  }
  const int64_t last = d.nbDims > 0 ? d[d.nbDims - 1] : 1;
  if (last != n && last != 1) return std::nullopt;
  const std::vector<float> values = floatConstant(graph, c);
  if (static_cast<int64_t>(values.size()) != last) return std::nullopt;
  if (last == n) return values;
  return std::vector<float>(static_cast<std::size_t>(n), values.front());
}

}  // namespace

int32_t fuseMatMulBias(ir::Graph& graph, const PassContext& context) {
  int32_t changes = 0;
  Uses uses(graph);
  for (std::size_t n = 0; n < graph.nodes.size(); ++n) {
    const ir::Node& add = graph.nodes[n];
    if (!isElementWise(add, ElementWiseOperation::kSUM)) continue;
    if (graph.value(add.outputs[0]).dtype != DataType::kFLOAT) continue;
    const Dims outDims = graph.value(add.outputs[0]).dims;  // copied: constants may be added
    for (int32_t side = 0; side < 2; ++side) {
      const ir::ValueId x = add.inputs[static_cast<std::size_t>(side)];
      const ir::ValueId c = add.inputs[static_cast<std::size_t>(1 - side)];
      // The add must not widen the product (a bias of more dimensions broadcasts it).
      if (x == c || !(graph.value(x).dims == outDims)) continue;
      const ir::NodeId p = producerId(graph, x);
      if (p == ir::kNoNode) continue;
      const ir::Node& layer = graph.node(p);
      if (!takesBias(graph, layer) || !uses.onlyUser(x, static_cast<ir::NodeId>(n)) ||
          layer.precision != add.precision) {
        continue;
      }
      std::optional<std::vector<float>> values = biasValues(graph, c, outDims);
      if (!values) continue;
      const Dims biasDims{static_cast<int64_t>(values->size())};
      ir::ValueId bias = c;
      if (!(graph.value(c).dims == biasDims)) {
        std::optional<std::vector<std::byte>> storage =
            context.newConstant(graph, biasDims, DataType::kFLOAT, c);
        if (!storage) continue;
        std::memcpy(storage->data(), values->data(), storage->size());
        bias =
            addFloatConstant(graph, graph.value(c).name + "_bias", biasDims, std::move(*storage));
      }
      const std::string what = "fused the bias add " + joinNames(add.fusedFrom) +
                               " into the epilogue of '" + layer.name + "' (MatrixMultiply)";
      ir::Node& target = graph.node(p);
      addEpilogueInput(target, "epilogue.bias", bias,
                       std::max<std::size_t>(target.inputs.size(), 2));
      absorb(graph, p, static_cast<ir::NodeId>(n));
      context.log(what);
      ++changes;
      uses.refresh();
      break;
    }
  }
  return changes;
}

}  // namespace kiln::builder
