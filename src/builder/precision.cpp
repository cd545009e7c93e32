#include "builder/precision.h"

#include <cmath>
#include <cstring>
#include <map>
#include <optional>
#include <utility>

#include "backends/tactic.h"
#include "core/half.h"
#include "ir/math_mode.h"
#include "runtime/engine_impl.h"

namespace kiln::builder {

namespace {

constexpr float kHalfMax = 65504.f;

const char* suffixOf(DataType type) {
  return type == DataType::kHALF ? "fp16" : type == DataType::kBF16 ? "bf16" : "fp32";
}

// A float constant in a reduced type, and how many of its values FP16 cannot hold.
struct ConvertedConstant {
  std::vector<std::byte> bytes;
  int64_t overflowed = 0;
  float largest = 0;
};

ConvertedConstant convertConstant(const ir::Value& value, DataType to) {
  const std::vector<std::byte>& source = *value.constant;
  const std::size_t count = source.size() / sizeof(float);
  ConvertedConstant c;
  c.bytes.resize(count * sizeof(uint16_t));
  for (std::size_t i = 0; i < count; ++i) {
    float x = 0;
    std::memcpy(&x, source.data() + i * sizeof(float), sizeof(float));
    const uint16_t bits = to == DataType::kHALF ? floatToHalf(x) : floatToBFloat16(x);
    std::memcpy(c.bytes.data() + i * sizeof(uint16_t), &bits, sizeof(uint16_t));
    if (to == DataType::kHALF && std::isfinite(x) && std::fabs(x) > kHalfMax) {
      ++c.overflowed;
      c.largest = std::max(c.largest, std::fabs(x));
    }
  }
  return c;
}

// The type a layer asks for, within what the flags allow; nullopt keeps it FP32.
std::optional<DataType> wantedType(const ir::Node& node, const detail::BuilderConfigData& config) {
  const bool fp16 = config.flag(BuilderFlag::kFP16);
  const bool bf16 = config.flag(BuilderFlag::kBF16);
  if (node.precision) {
    if (*node.precision == DataType::kHALF && fp16) return DataType::kHALF;
    if (*node.precision == DataType::kBF16 && bf16) return DataType::kBF16;
    if (*node.precision == DataType::kFLOAT) return std::nullopt;
  }
  if (fp16) return DataType::kHALF;
  if (bf16) return DataType::kBF16;
  return std::nullopt;
}

bool requestsOutputType(const ir::Node& node) {
  for (const auto& type : node.outputTypes) {
    if (type) return true;
  }
  return false;
}

// Decides, per node, the reduced type it runs in (nullopt: FP32).
class Decider {
 public:
  Decider(const ir::Graph& graph, const detail::BuilderConfigData& config,
          const ReducedSupport& supported, const Reporter& reporter)
      : graph_(graph), config_(config), supported_(supported), reporter_(reporter) {}

  std::optional<DataType> decide(const ir::Node& node) {
    if (requestsOutputType(node)) return std::nullopt;
    const std::optional<DataType> type = wantedType(node, config_);
    if (!type) return std::nullopt;
    detail::NodeShapes shapes = detail::nodeShapes(graph_, node);
    bool hasFloat = false;
    std::vector<std::string> overflowing;
    for (std::size_t i = 0; i < shapes.inputs.size(); ++i) {
      ir::TensorInfo& info = shapes.inputs[i];
      if (!info.present || info.dtype != DataType::kFLOAT) continue;
      if (info.boundedExtents != 0) return std::nullopt;
      hasFloat = true;
      info.dtype = *type;
      const ir::Value& value = graph_.value(node.inputs[i]);
      if (!value.isConstant()) continue;
      const ConvertedConstant& converted = constant(node.inputs[i], *type);
      info.constData = converted.bytes.empty() ? nullptr : converted.bytes.data();
      if (converted.overflowed > 0) {
        overflowing.push_back("'" + value.name + "' (" + std::to_string(converted.overflowed) +
                              " values, largest magnitude " + std::to_string(converted.largest) +
                              ")");
      }
    }
    for (ir::TensorInfo& info : shapes.outputs) {
      if (info.dtype != DataType::kFLOAT) continue;
      if (info.boundedExtents != 0) return std::nullopt;
      hasFloat = true;
      info.dtype = *type;
    }
    if (!hasFloat) return std::nullopt;
    ir::Node probe = node;
    probe.attrs.set(ir::kReducedPrecision, *type);
    if (!supported_(probe, shapes.inputs, shapes.outputs)) {
      reporter_.verbose("layer '" + node.name + "' (" + node.op + ") stays FP32: no kernel of " +
                        "this target runs it in " + suffixOf(*type) + " at these shapes");
      return std::nullopt;
    }
    if (!overflowing.empty()) {
      std::string names;
      for (const auto& n : overflowing) names += (names.empty() ? "" : ", ") + n;
      reporter_.warning("layer '" + node.name + "' (" + node.op + ") stays FP32: its weights " +
                        names +
                        " exceed FP16's range (65504) and would become infinite; scale them, "
                        "or allow BF16 (BuilderFlag::kBF16, --bf16) for this layer");
      return std::nullopt;
    }
    return type;
  }

  //! @p value's bytes in @p type, converted once per pair.
  const ConvertedConstant& constant(ir::ValueId value, DataType type) {
    const auto key = std::make_pair(value, type);
    auto it = constants_.find(key);
    if (it == constants_.end()) {
      it = constants_.emplace(key, convertConstant(graph_.value(value), type)).first;
    }
    return it->second;
  }

 private:
  const ir::Graph& graph_;
  const detail::BuilderConfigData& config_;
  const ReducedSupport& supported_;
  const Reporter& reporter_;
  std::map<std::pair<ir::ValueId, DataType>, ConvertedConstant> constants_;
};

// Rewrites the graph for the decisions: reduced nodes' float values change type, constants are
// converted, and casts join the reduced and the FP32 parts.
class Rewriter {
 public:
  Rewriter(ir::Graph& graph, std::vector<std::optional<DataType>> decided, Decider& decider)
      : graph_(graph), decided_(std::move(decided)), decider_(decider) {}

  int32_t run() {
    const std::size_t nodeCount = graph_.nodes.size();
    const std::vector<std::vector<ir::NodeId>> consumers = graph_.consumers();
    std::vector<bool> wasFloat(graph_.values.size());
    for (std::size_t v = 0; v < graph_.values.size(); ++v) {
      wasFloat[v] = graph_.values[v].dtype == DataType::kFLOAT;
    }
    // Outputs of reduced nodes are stored in their type from now on.
    for (std::size_t n = 0; n < nodeCount; ++n) {
      if (!decided_[n]) continue;
      graph_.nodes[n].attrs.set(ir::kReducedPrecision, *decided_[n]);
      for (ir::ValueId out : graph_.nodes[n].outputs) {
        if (wasFloat[static_cast<std::size_t>(out)]) graph_.value(out).dtype = *decided_[n];
      }
    }
    // Inputs of reduced nodes: in their type, converted or cast where they are not.
    for (std::size_t n = 0; n < nodeCount; ++n) {
      if (!decided_[n]) continue;
      for (std::size_t slot = 0; slot < graph_.nodes[n].inputs.size(); ++slot) {
        const ir::ValueId v = graph_.nodes[n].inputs[slot];
        if (v == ir::kNoValue || !wasFloat[static_cast<std::size_t>(v)]) continue;
        if (storedType(v) == *decided_[n]) continue;
        const ir::ValueId converted = inType(v, *decided_[n]);
        graph_.nodes[n].inputs[slot] = converted;
      }
    }
    // FP32 readers and graph outputs of values now stored reduced read an FP32 cast.
    for (std::size_t v = 0; v < wasFloat.size(); ++v) {
      const auto id = static_cast<ir::ValueId>(v);
      if (!wasFloat[v] || storedType(id) == DataType::kFLOAT) continue;
      for (ir::NodeId c : consumers[v]) {
        if (decided_[static_cast<std::size_t>(c)]) continue;
        for (ir::ValueId& in : graph_.node(c).inputs) {
          if (in == id) in = inType(id, DataType::kFLOAT);
        }
      }
      for (ir::ValueId& out : graph_.outputs) {
        if (out == id) out = graphOutputInFloat(id);
      }
    }
    graph_.rebuild(graph_.topologicalOrder());
    return casts_;
  }

 private:
  DataType storedType(ir::ValueId v) const { return graph_.value(v).dtype; }

  // @p v (a float value, stored in any float type) as @p type: a converted constant or a cast.
  ir::ValueId inType(ir::ValueId v, DataType type) {
    const auto key = std::make_pair(v, type);
    if (const auto it = copies_.find(key); it != copies_.end()) return it->second;
    ir::ValueId copy = ir::kNoValue;
    const ir::Value& value = graph_.value(v);
    if (value.isConstant()) {
      std::vector<std::byte> bytes = decider_.constant(v, type).bytes;
      copy =
          graph_.addConstant(value.name + "_" + suffixOf(type), type, value.dims, std::move(bytes));
    } else {
      copy = addCast(v, type, graph_.value(v).name + "_" + suffixOf(type));
    }
    copies_.emplace(key, copy);
    return copy;
  }

  ir::ValueId addCast(ir::ValueId from, DataType to, const std::string& outputName) {
    const std::string castName = graph_.value(from).name + "_to_" + suffixOf(to);
    const ir::NodeId cast = graph_.addNode(castName, "Identity", {from}, 1);
    ir::Node& node = graph_.node(cast);
    node.outputTypes[0] = to;
    const ir::ValueId out = node.outputs[0];
    graph_.value(out).name = outputName;
    graph_.value(out).dtype = to;
    graph_.value(out).dims = graph_.value(from).dims;
    decided_.push_back(std::nullopt);
    ++casts_;
    return out;
  }

  // A graph output keeps its name and declared type: the cast takes both over, and the reduced
  // value gets a derived name.
  ir::ValueId graphOutputInFloat(ir::ValueId v) {
    const ir::ValueId fresh = inType(v, DataType::kFLOAT);
    const std::string userName = graph_.value(v).name;
    graph_.value(v).name = userName + "_" + suffixOf(storedType(v));
    graph_.value(fresh).name = userName;
    return fresh;
  }

  ir::Graph& graph_;
  std::vector<std::optional<DataType>> decided_;
  Decider& decider_;
  std::map<std::pair<ir::ValueId, DataType>, ir::ValueId> copies_;
  int32_t casts_ = 0;
};

}  // namespace

PrecisionSummary assignReducedPrecision(ir::Graph& graph, const detail::BuilderConfigData& config,
                                        const ReducedSupport& supported, const Reporter& reporter,
                                        const ir::Graph* decisionsOf) {
  PrecisionSummary summary;
  if (!config.flag(BuilderFlag::kFP16) && !config.flag(BuilderFlag::kBF16)) return summary;
  Decider decider(graph, config, supported, reporter);
  std::map<std::string, DataType, std::less<>> given;
  if (decisionsOf != nullptr) {
    for (const ir::Node& node : decisionsOf->nodes) {
      if (const auto type = ir::reducedPrecision(node.attrs)) given.emplace(node.name, *type);
    }
  }
  std::vector<std::optional<DataType>> decided(graph.nodes.size());
  for (std::size_t n = 0; n < graph.nodes.size(); ++n) {
    if (decisionsOf != nullptr) {
      const auto it = given.find(graph.nodes[n].name);
      if (it != given.end()) decided[n] = it->second;
    } else {
      decided[n] = decider.decide(graph.nodes[n]);
    }
    if (decided[n]) ++summary.reducedLayers;
  }
  if (summary.reducedLayers == 0) {
    reporter.info(
        "reduced precision: no layer has a kernel in FP16/BF16 on this target; the "
        "engine runs in FP32");
    return summary;
  }
  Rewriter rewriter(graph, std::move(decided), decider);
  summary.casts = rewriter.run();
  reporter.info("reduced precision: " + std::to_string(summary.reducedLayers) + " of " +
                std::to_string(graph.nodes.size() - static_cast<std::size_t>(summary.casts)) +
                " layers run in FP16/BF16; " + std::to_string(summary.casts) +
                " casts join them to the FP32 layers, inputs and outputs");
  return summary;
}

ReducedSupport gpuReducedSupport() {
  return [](const ir::Node& node, std::span<const ir::TensorInfo> inputs,
            std::span<const ir::TensorInfo> outputs) {
    const backends::NodeSpec spec{node, inputs, outputs};
    for (const backends::Tactic* tactic :
         backends::TacticRegistry::instance().candidates(node.op, DeviceType::kGPU)) {
      if (tactic->name() == "cuda.host") continue;
      if (backends::runsHere(*tactic) && tactic->supports(spec)) return true;
    }
    return false;
  };
}

}  // namespace kiln::builder
