#include "ir/op_registry.h"

#include <array>

#include "core/shape_util.h"
#include "ir/math_mode.h"
#include "ops/op_families.h"

namespace kiln::ir {

const OpRegistry& OpRegistry::instance() {
  static const OpRegistry registry = [] {
    OpRegistry r;
    ops::registerAllOps(r);
    return r;
  }();
  return registry;
}

void OpRegistry::add(OpSchema schema) {
  KILN_ASSERT(!schema.name.empty() && schema.infer);
  KILN_ASSERT(schemas_.find(schema.name) == schemas_.end());
  std::string key = schema.name;
  schemas_.emplace(std::move(key), std::move(schema));
}

const OpSchema* OpRegistry::find(std::string_view op) const {
  auto it = schemas_.find(op);
  return it == schemas_.end() ? nullptr : &it->second;
}

const OpSchema& OpRegistry::get(std::string_view op) const {
  const OpSchema* schema = find(op);
  if (schema == nullptr) fail(ErrorCode::kUNSUPPORTED_NODE, "unknown op '", op, "'");
  return *schema;
}

std::vector<std::string> OpRegistry::names() const {
  std::vector<std::string> result;
  for (const auto& [name, schema] : schemas_) result.push_back(name);
  return result;
}

namespace {
std::vector<TensorInfo> inferInFloat(const Node& node, std::span<const TensorInfo> inputs);
}  // namespace

std::vector<TensorInfo> inferNode(const Node& node, std::span<const TensorInfo> inputs) {
  const std::optional<DataType> reduced = reducedPrecision(node.attrs);
  if (!reduced) return inferInFloat(node, inputs);
  // A node in reduced precision stores its float tensors as *reduced; its op's shape rule is
  // written for FP32, so it sees them as FP32 (their values are not read: the rule never
  // needs the bytes of a float weight), and its FP32 outputs are stored as *reduced again.
  std::vector<TensorInfo> asFloat(inputs.begin(), inputs.end());
  for (TensorInfo& in : asFloat) {
    if (in.present && in.dtype == *reduced) {
      in.dtype = DataType::kFLOAT;
      in.constData = nullptr;
    }
  }
  std::vector<TensorInfo> outputs = inferInFloat(node, asFloat);
  for (TensorInfo& out : outputs) {
    if (out.dtype == DataType::kFLOAT) out.dtype = *reduced;
  }
  return outputs;
}

namespace {
std::vector<TensorInfo> inferInFloat(const Node& node, std::span<const TensorInfo> inputs) {
  const OpSchema& schema = OpRegistry::instance().get(node.op);
  const auto nbInputs = static_cast<int32_t>(inputs.size());
  if (nbInputs < schema.minInputs || nbInputs > schema.maxInputs) {
    fail(ErrorCode::kINVALID_ARGUMENT, "layer '", node.name, "' (", node.op, "): has ", nbInputs,
         " inputs; expected ",
         schema.minInputs == schema.maxInputs
             ? std::to_string(schema.minInputs)
             : std::to_string(schema.minInputs) + " to " + std::to_string(schema.maxInputs));
  }
  for (int32_t i = 0; i < schema.minInputs; ++i) {
    if (!inputs[static_cast<std::size_t>(i)].present) {
      fail(ErrorCode::kINVALID_ARGUMENT, "layer '", node.name, "' (", node.op, "): input ", i,
           " is required");
    }
  }
  std::vector<TensorInfo> outputs(node.outputs.size());
  if (static_cast<int32_t>(outputs.size()) != schema.nbOutputs) {
    fail(ErrorCode::kINVALID_ARGUMENT, "layer '", node.name, "' (", node.op, "): has ",
         outputs.size(), " outputs; expected ", schema.nbOutputs);
  }
  // Dimensions known only at run time (-1) are resolved per optimization profile; until then
  // the outputs of a layer that reads them are unknown too (rank -1).
  for (const TensorInfo& in : inputs) {
    if (in.present && (in.dims.nbDims < 0 || !isFullyKnown(in.dims))) {
      for (auto& out : outputs) {
        out.dtype = inputs[0].dtype;
        out.dims.nbDims = -1;
      }
      return outputs;
    }
  }
  InferContext ctx(node, inputs, outputs);
  schema.infer(ctx);
  if (schema.takesDataDependentShapes && !inputs.empty()) {
    for (auto& out : outputs) {
      if (out.dims.nbDims == inputs[0].dims.nbDims) out.boundedExtents |= inputs[0].boundedExtents;
    }
  }
  // Shape inputs whose values come only when the engine is built (shape-tensor network inputs)
  // leave the extents they decide unknown (-1) until then.
  bool shapeValuesPending = false;
  for (int32_t slot : schema.shapeInputs) {
    const auto at = static_cast<std::size_t>(slot);
    shapeValuesPending = shapeValuesPending || (at < inputs.size() && inputs[at].present &&
                                                inputs[at].constData == nullptr);
  }
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const Dims& d = outputs[i].dims;
    for (int32_t k = 0; k < d.nbDims; ++k) {
      if (d[k] < 0 && !(shapeValuesPending && d[k] == -1)) {
        fail(ErrorCode::kINVALID_ARGUMENT, "layer '", node.name, "' (", node.op, "): output ", i,
             " would have shape ", toString(d), ", which has a negative extent");
      }
    }
    // Every tensor kiln holds has at most 2^40 elements (the plan reader refuses more), so a
    // shape rule's result over that is refused here, naming the layer, not when a plan loads.
    if (d.nbDims >= 0 && !(shapeValuesPending && !isFullyKnown(d))) {
      checkedVolume(d, "layer '" + node.name + "' (" + node.op + "): output " + std::to_string(i));
    }
  }
  return outputs;
}
}  // namespace

namespace {
// What an empty constant's data reads as: known (no values), unlike null (not known). Zeros
// wide enough for any element type, should a rule read one before checking the count.
alignas(8) constexpr std::array<std::byte, 8> kNoBytes{};

const void* bytesOf(const std::vector<std::byte>& bytes) {
  return bytes.empty() ? kNoBytes.data() : bytes.data();
}
}  // namespace

const void* knownConstantData(const Graph& graph, ValueId v) {
  const Value& value = graph.value(v);
  if (value.absorbed) return nullptr;
  if (value.isConstant()) return bytesOf(*value.constant);
  if (value.producer == kNoNode) return nullptr;
  const Node& producer = graph.node(value.producer);
  if (producer.op != "Constant" || producer.inputs.size() != 1 || producer.inputs[0] == kNoValue) {
    return nullptr;
  }
  const Value& source = graph.value(producer.inputs[0]);
  // Only while the output still holds the constant's bytes as they are (no requested cast).
  const bool cast = !producer.outputTypes.empty() && producer.outputTypes[0] &&
                    *producer.outputTypes[0] != source.dtype;
  return source.isConstant() && !cast ? bytesOf(*source.constant) : nullptr;
}

std::pair<NodeId, int32_t> shapeInputUse(const Graph& graph, ValueId v) {
  const OpRegistry& registry = OpRegistry::instance();
  for (std::size_t n = 0; n < graph.nodes.size(); ++n) {
    const Node& node = graph.nodes[n];
    const OpSchema* schema = registry.find(node.op);
    if (schema == nullptr) continue;
    for (int32_t slot : schema->shapeInputs) {
      if (slot < static_cast<int32_t>(node.inputs.size()) &&
          node.inputs[static_cast<std::size_t>(slot)] == v) {
        return {static_cast<NodeId>(n), slot};
      }
    }
  }
  return {kNoNode, -1};
}

void inferShapes(Graph& graph) {
  for (NodeId n : graph.topologicalOrder()) {
    Node& node = graph.node(n);
    std::vector<TensorInfo> inputs;
    inputs.reserve(node.inputs.size());
    for (ValueId v : node.inputs) {
      TensorInfo info;
      if (v == kNoValue) {
        info.present = false;
      } else {
        const Value& value = graph.value(v);
        info.dtype = value.dtype;
        info.dims = value.dims;
        info.constData = knownConstantData(graph, v);
        info.absorbed = value.absorbed;
        info.boundedExtents = value.boundedExtents;
        if (value.boundedExtents != 0 &&
            !OpRegistry::instance().get(node.op).takesDataDependentShapes) {
          const std::string producer =
              value.producer == kNoNode ? std::string("?") : graph.node(value.producer).name;
          fail(ErrorCode::kUNSUPPORTED_STATE, "layer '", node.name, "' (", node.op, "): input '",
               value.name, "' has a data-dependent shape (from layer '", producer,
               "'); kiln supports data-dependent tensors only as network outputs (optionally "
               "through a cast), not as inputs of ",
               node.op, " layers");
        }
      }
      inputs.push_back(info);
    }
    const auto outputs = inferNode(node, inputs);
    for (std::size_t i = 0; i < outputs.size(); ++i) {
      Value& out = graph.value(node.outputs[i]);
      out.dtype = outputs[i].dtype;
      out.dims = outputs[i].dims;
      out.boundedExtents = outputs[i].boundedExtents;
    }
  }
}

}  // namespace kiln::ir
