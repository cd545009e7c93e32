#include "builder/lowering.h"

#include <set>
#include <string>

#include "core/error.h"
#include "core/shape_util.h"
#include "ir/op_registry.h"

namespace kiln::builder {

namespace {

// Inputs that decide shapes (OpSchema::shapeInputs) must have known values: the engine's shapes
// are fixed at build time (shape-tensor network inputs are constants of their profile values
// by now). Checked before shape inference, which gives unknown extents otherwise.
void checkShapeInputsKnown(const ir::Graph& graph) {
  const ir::OpRegistry& registry = ir::OpRegistry::instance();
  for (const ir::Node& node : graph.nodes) {
    const ir::OpSchema* schema = registry.find(node.op);
    if (schema == nullptr) continue;
    for (int32_t slot : schema->shapeInputs) {
      if (slot >= static_cast<int32_t>(node.inputs.size())) continue;
      const ir::ValueId v = node.inputs[static_cast<std::size_t>(slot)];
      if (v == ir::kNoValue || ir::knownConstantData(graph, v) != nullptr) continue;
      const ir::Value& value = graph.value(v);
      const bool valuesType = value.dtype == DataType::kINT32 || value.dtype == DataType::kINT64 ||
                              value.dtype == DataType::kFLOAT;
      if (graph.isGraphInput(v) && valuesType) {
        fail(ErrorCode::kINVALID_ARGUMENT, "network input '", value.name,
             "' decides the output shape of layer '", node.name, "' (", node.op, ") at its input ",
             slot,
             ", so its values must be known when the engine is built: give them with an "
             "optimization profile (OptimizationProfile::setShapeValues for kMIN, kOPT and kMAX; "
             "kiln --minShapes/--optShapes/--maxShapes); without values it must be a constant");
      }
      fail(ErrorCode::kINVALID_ARGUMENT, "layer '", node.name, "' (", node.op, "): input ", slot,
           " ('", value.name, "') decides the output shape, so it must be a constant",
           valuesType ? " or a shape-tensor network input (one with optimization profile values)"
                      : " (only int32/int64/float32 network inputs can be shape tensors)",
           "; it is computed at run time here");
    }
  }
}

}  // namespace

void checkBuildable(const ir::Graph& graph) {
  graph.validate();
  if (graph.outputs.empty()) {
    fail(ErrorCode::kINVALID_ARGUMENT,
         "the network has no outputs: mark at least one tensor with markOutput");
  }
  std::set<std::string> names;
  for (ir::ValueId v : graph.inputs) {
    const ir::Value& value = graph.value(v);
    if (!names.insert(value.name).second) {
      fail(ErrorCode::kINVALID_ARGUMENT, "two network inputs are named '", value.name, "'");
    }
    if (!isFullyKnown(value.dims)) {
      fail(ErrorCode::kINVALID_ARGUMENT, "input '", value.name, "' has shape ",
           toString(value.dims), ": dimensions of -1 need an optimization profile (BuilderConfig::",
           "addOptimizationProfile; kiln --minShapes/--optShapes/--maxShapes)");
    }
  }
  checkShapeInputsKnown(graph);
  for (ir::ValueId v : graph.outputs) {
    const ir::Value& value = graph.value(v);
    if (graph.isGraphInput(v)) {
      fail(ErrorCode::kINVALID_ARGUMENT, "tensor '", value.name,
           "' is both a network input and an output; add an identity layer between them");
    }
    if (value.producer == ir::kNoNode) {
      fail(ErrorCode::kINVALID_ARGUMENT, "output '", value.name,
           "' is not written by any layer (mark a layer's output, or add a constant layer)");
    }
    if (!names.insert(value.name).second) {
      fail(ErrorCode::kINVALID_ARGUMENT, "the name '", value.name,
           "' is used by two network inputs/outputs; IO tensor names must be unique");
    }
  }
}

void insertRequestedCasts(ir::Graph& graph) {
  const std::size_t nodeCount = graph.nodes.size();
  for (std::size_t n = 0; n < nodeCount; ++n) {
    if (graph.nodes[n].op == "Identity") continue;  // Identity honours the request itself
    for (std::size_t o = 0; o < graph.nodes[n].outputs.size(); ++o) {
      const auto requested = graph.nodes[n].outputTypes[o];
      const ir::ValueId out = graph.nodes[n].outputs[o];
      if (!requested || *requested == graph.value(out).dtype) continue;
      // The cast takes over the original value (its name, consumers and output role); the
      // layer now writes a fresh value.
      const std::string castName = graph.nodes[n].name + "_cast_" + std::to_string(o);
      const ir::NodeId cast = graph.addNode(castName, "Identity", {}, 1);
      const ir::ValueId fresh = graph.node(cast).outputs[0];
      std::swap(graph.value(fresh).name, graph.value(out).name);
      graph.value(out).name = castName + "_input";
      for (auto& node : graph.nodes) {
        for (auto& in : node.inputs) {
          if (in == out) in = fresh;
        }
      }
      for (auto& v : graph.outputs) {
        if (v == out) v = fresh;
      }
      graph.node(cast).inputs = {out};
      graph.node(cast).outputTypes[0] = requested;
      graph.value(fresh).dtype = *requested;
      graph.value(fresh).dims = graph.value(out).dims;
      graph.nodes[n].outputTypes[o].reset();
    }
  }
}

void foldConstantLayers(ir::Graph& graph) {
  for (auto& node : graph.nodes) {
    if (node.op != "Constant" || node.inputs.empty()) continue;
    const ir::ValueId out = node.outputs[0];
    if (graph.isGraphOutput(out)) continue;
    const ir::ValueId constant = node.inputs[0];
    for (auto& user : graph.nodes) {
      if (&user == &node) continue;
      for (auto& in : user.inputs) {
        if (in == out) in = constant;
      }
    }
  }
}

void pruneAndOrder(ir::Graph& graph) {
  std::vector<bool> needed(graph.nodes.size(), false);
  std::vector<ir::ValueId> work(graph.outputs.begin(), graph.outputs.end());
  std::vector<bool> seen(graph.values.size(), false);
  while (!work.empty()) {
    const ir::ValueId v = work.back();
    work.pop_back();
    if (v == ir::kNoValue || seen[static_cast<std::size_t>(v)]) continue;
    seen[static_cast<std::size_t>(v)] = true;
    const ir::NodeId producer = graph.value(v).producer;
    if (producer == ir::kNoNode || needed[static_cast<std::size_t>(producer)]) continue;
    needed[static_cast<std::size_t>(producer)] = true;
    for (ir::ValueId in : graph.node(producer).inputs) work.push_back(in);
  }
  std::vector<ir::NodeId> order;
  for (ir::NodeId n : graph.topologicalOrder()) {
    if (needed[static_cast<std::size_t>(n)]) order.push_back(n);
  }
  graph.rebuild(order);
}

}  // namespace kiln::builder
