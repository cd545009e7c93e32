// scale-lowering: a Scale that no convolution absorbed (conv-scale-fusion runs first) — DenseNet's
// pre-activation BatchNorm after a concatenation, a normalization on a network input — becomes a
// multiply and an add by constants shaped to broadcast against its input, which pointwise-fusion
// then chains with the activation that usually follows: one vectorized pass over the tensor
// instead of a Scale on the reference kernel and a second pass for the activation.
#include <optional>
#include <string>

#include "builder/passes/passes.h"
#include "core/shape_util.h"
#include "kiln/network.h"

namespace kiln::builder {

namespace {

constexpr std::size_t kShift = 1;
constexpr std::size_t kScale = 2;
constexpr std::size_t kPower = 3;

bool present(const ir::Node& node, std::size_t input) {
  return input < node.inputs.size() && node.inputs[input] != ir::kNoValue;
}

// How a Scale lowers: the shape its coefficients broadcast from against its input x (1
// everywhere but the channel axis, kCHANNEL, or the axes from it on, kELEMENTWISE), and which of
// scale and shift it applies (an absent or empty coefficient is the default).
struct Lowering {
  Dims dims;
  bool scales = false;
  bool shifts = false;
};

// How @p node lowers; nullopt when it is no Scale that does (a power other than 1, coefficients
// that are not float constants of the mode's count, a non-float input, or neither coefficient).
std::optional<Lowering> loweringOf(const ir::Graph& graph, const ir::Node& node) {
  if (node.op != "Scale" || node.inputs.empty() || node.outputs.size() != 1) return std::nullopt;
  const ir::Value& x = graph.value(node.inputs[0]);
  const int32_t rank = x.dims.nbDims;
  if (x.dtype != DataType::kFLOAT || rank == 0 || x.boundedExtents != 0) return std::nullopt;
  if (present(node, kPower)) {
    if (!graph.value(node.inputs[kPower]).isConstant()) return std::nullopt;
    for (const float p : floatConstant(graph, node.inputs[kPower])) {
      if (p != 1.f) return std::nullopt;
    }
  }
  const auto mode = node.attrs.getEnum("mode", ScaleMode::kUNIFORM);
  int64_t axis = node.attrs.getInt("channel_axis", 1);
  if (axis < 0) axis += rank;
  Lowering l;
  l.dims.nbDims = rank;
  for (int32_t i = 0; i < rank; ++i) l.dims[i] = 1;
  if (mode != ScaleMode::kUNIFORM) {
    if (axis < 0 || axis >= rank) return std::nullopt;
    const auto first = static_cast<int32_t>(axis);
    const int32_t last = mode == ScaleMode::kCHANNEL ? first + 1 : rank;
    for (int32_t i = first; i < last; ++i) {
      if (x.dims[i] < 0) return std::nullopt;
      l.dims[i] = x.dims[i];
    }
  }
  for (const std::size_t input : {kShift, kScale}) {
    if (!present(node, input)) continue;
    const ir::Value& c = graph.value(node.inputs[input]);
    if (!c.isConstant()) return std::nullopt;
    if (volume(c.dims) == 0) continue;  // empty: the default
    if (c.dtype != DataType::kFLOAT || volume(c.dims) != volume(l.dims)) return std::nullopt;
    (input == kScale ? l.scales : l.shifts) = true;
  }
  // Neither: the identity, dead-layer-elimination's, or a cast.
  if (!l.scales && !l.shifts) return std::nullopt;
  return l;
}

// A constant of @p dims sharing the bytes of constant @p from.
ir::ValueId reshapedConstant(ir::Graph& graph, ir::ValueId from, const Dims& dims) {
  const ir::ValueId c =
      graph.addValue(graph.value(from).name + "_broadcast", DataType::kFLOAT, dims);
  graph.value(c).constant = graph.value(from).constant;
  return c;
}

}  // namespace

int32_t lowerScales(ir::Graph& graph, const PassContext& context) {
  int32_t changes = 0;
  const std::size_t count = graph.nodes.size();
  for (std::size_t n = 0; n < count; ++n) {
    const std::optional<Lowering> lowering = loweringOf(graph, graph.nodes[n]);
    if (!lowering) continue;
    const bool scales = lowering->scales;
    const bool shifts = lowering->shifts;
    const ir::ValueId scale =
        scales ? reshapedConstant(graph, graph.nodes[n].inputs[kScale], lowering->dims)
               : ir::kNoValue;
    const ir::ValueId shift =
        shifts ? reshapedConstant(graph, graph.nodes[n].inputs[kShift], lowering->dims)
               : ir::kNoValue;
    ir::Node& node = graph.nodes[n];
    const ir::ValueId x = node.inputs[0];
    const std::string name = node.name;
    node.op = "ElementWise";
    node.attrs = {};
    if (scales && shifts) {
      // This node multiplies; a new one adds the shift into the Scale's output.
      node.attrs.set("op", ElementWiseOperation::kPROD);
      node.inputs = {x, scale};
      const Dims dims = graph.value(x).dims;
      const ir::NodeId add =
          splitAfter(graph, static_cast<ir::NodeId>(n), "_scaled", dims, "ElementWise", {shift});
      graph.node(add).attrs.set("op", ElementWiseOperation::kSUM);
    } else {
      node.attrs.set("op", scales ? ElementWiseOperation::kPROD : ElementWiseOperation::kSUM);
      node.inputs = {x, scales ? scale : shift};
    }
    context.log("Scale '" + name + "' -> element-wise " +
                (scales && shifts ? "multiply and add"
                 : scales         ? "multiply"
                                  : "add"));
    ++changes;
  }
  return changes;
}

}  // namespace kiln::builder
