// gather-slicing: a Gather (default mode) of one constant index along an axis takes one slab of
// its data: it becomes a Slice of extent 1 along that axis, and for a scalar index a Shuffle that
// drops the axis. A Slice is a strided copy where Gather walks indices; and older vision
// transformers take their fused QKV projection apart this way (`q, k, v = qkv[0], qkv[1],
// qkv[2]`), which attention-layout then recognizes as it does the unbind form (Split + Squeeze).
#include <cstring>
#include <optional>
#include <string>

#include "builder/passes/passes.h"
#include "core/shape_util.h"
#include "kiln/network.h"

namespace kiln::builder {

namespace {

// The one index of a constant int32/int64 index tensor of one element; nullopt otherwise.
std::optional<int64_t> singleIndex(const ir::Graph& graph, ir::ValueId v) {
  const ir::Value& value = graph.value(v);
  if (!value.isConstant() || value.dims.nbDims > 1 || volume(value.dims) != 1) return std::nullopt;
  if (value.dtype == DataType::kINT64 && value.constant->size() == sizeof(int64_t)) {
    int64_t index = 0;
    std::memcpy(&index, value.constant->data(), sizeof(index));
    return index;
  }
  if (value.dtype == DataType::kINT32 && value.constant->size() == sizeof(int32_t)) {
    int32_t index = 0;
    std::memcpy(&index, value.constant->data(), sizeof(index));
    return index;
  }
  return std::nullopt;
}

struct Slab {
  int32_t axis = 0;
  int64_t index = 0;  //!< in range, non-negative
  bool squeeze = false;
};

// What @p node takes when it is a Gather of one slab of data of known shape.
std::optional<Slab> slabOf(const ir::Graph& graph, const ir::Node& node) {
  if (node.op != "Gather" || node.inputs.size() != 2 || node.outputs.size() != 1 ||
      node.attrs.getEnum("mode", GatherMode::kDEFAULT) != GatherMode::kDEFAULT ||
      node.attrs.getInt("num_elementwise_dims", 0) != 0) {
    return std::nullopt;
  }
  const ir::Value& data = graph.value(node.inputs[0]);
  const std::optional<int64_t> index = singleIndex(graph, node.inputs[1]);
  const int32_t rank = data.dims.nbDims;
  int64_t axis = node.attrs.getInt("axis", 0);
  if (axis < 0) axis += rank;
  if (!index || rank == 0 || axis < 0 || axis >= rank || !isFullyKnown(data.dims) ||
      data.boundedExtents != 0) {
    return std::nullopt;
  }
  const int64_t extent = data.dims[static_cast<int32_t>(axis)];
  const int64_t at = *index < 0 ? *index + extent : *index;
  // Out of range: the Gather stays, to report it at run time as the model asked.
  if (at < 0 || at >= extent) return std::nullopt;
  return Slab{static_cast<int32_t>(axis), at, graph.value(node.inputs[1]).dims.nbDims == 0};
}

}  // namespace

int32_t sliceGathers(ir::Graph& graph, const PassContext& context) {
  int32_t changes = 0;
  const std::size_t count = graph.nodes.size();
  for (std::size_t n = 0; n < count; ++n) {
    const std::optional<Slab> slab = slabOf(graph, graph.nodes[n]);
    if (!slab) continue;
    ir::Node& node = graph.nodes[n];
    const ir::ValueId data = node.inputs[0];
    const ir::ValueId out = node.outputs[0];
    Dims start = graph.value(data).dims;
    Dims size = start;
    for (int32_t i = 0; i < start.nbDims; ++i) start[i] = 0;
    start[slab->axis] = slab->index;
    size[slab->axis] = 1;
    node.op = "Slice";
    node.attrs = {};
    node.attrs.set("start", start);
    node.attrs.set("size", size);
    node.inputs = {data};
    if (slab->squeeze) {
      // The Slice writes the slab; a Shuffle (reshape only) drops its axis into the Gather's
      // output.
      const Dims squeezed = graph.value(out).dims;
      const ir::NodeId squeeze =
          splitAfter(graph, static_cast<ir::NodeId>(n), "_slab", size, "Shuffle");
      graph.node(squeeze).attrs.set("reshape", squeezed);
    }
    context.log("Gather '" + graph.nodes[n].name + "' of index " + std::to_string(slab->index) +
                " along axis " + std::to_string(slab->axis) + " -> Slice");
    ++changes;
  }
  return changes;
}

}  // namespace kiln::builder
