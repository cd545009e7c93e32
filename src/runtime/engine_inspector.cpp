// The engine inspector (TensorRT's IEngineInspector) and the per-layer profiler hook: what each
// engine layer is, and how long it takes.
#include <cstdio>
#include <string>
#include <vector>

#include "builder/memory_planner.h"
#include "core/error.h"
#include "ir/attributes.h"
#include "ir/math_mode.h"
#include "kiln/runtime.h"
#include "ops/activation.h"
#include "ops/epilogue.h"
#include "ops/pointwise_chain.h"
#include "runtime/context_impl.h"

namespace kiln {

namespace {

std::string jsonString(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buffer[8];
          std::snprintf(buffer, sizeof(buffer), "\\u%04x", static_cast<unsigned>(c));
          out += buffer;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string jsonDims(const Dims& dims) {
  std::string out = "[";
  for (int32_t i = 0; i < dims.nbDims; ++i) {
    if (i > 0) out += ",";
    out += std::to_string(dims[i]);
  }
  return out + "]";
}

std::string tensorJson(const ir::Value& value) {
  return "{\"name\":" + jsonString(value.name) + ",\"dtype\":" + jsonString(toString(value.dtype)) +
         ",\"shape\":" + jsonDims(value.dims) +
         ",\"format\":\"linear\",\"constant\":" + (value.isConstant() ? "true" : "false") + "}";
}

// What the layer runs in: the builder's reduced precision, else the layer's request, else the
// type of its first output.
std::string precisionOf(const ir::Graph& graph, const ir::Node& node) {
  if (const auto reduced = ir::reducedPrecision(node.attrs)) return toString(*reduced);
  if (node.precision) return toString(*node.precision);
  return node.outputs.empty() ? toString(DataType::kFLOAT)
                              : toString(graph.value(node.outputs[0]).dtype);
}

// What a fused node does beyond its kind, in a few words: the epilogue of a convolution or GEMM
// ("residual+relu"), the steps of a pointwise chain ("ElementWise>gelu_erf"); empty otherwise.
std::string fusedWork(const ir::Node& node) {
  std::string out;
  if (node.op == "PointwiseChain") {
    for (const ops::PointwiseStep& step : ops::pointwiseSteps(node.attrs)) {
      if (!out.empty()) out += ">";
      out += step.node.op == "Activation" ? std::string(ops::activationName(step.node.attrs.getEnum(
                                                "type", ActivationType::kRELU)))
                                          : step.node.op;
    }
    return out;
  }
  const ops::Epilogue epilogue = ops::Epilogue::of(node.attrs);
  if (epilogue.biasInput) out = "bias";
  if (epilogue.residualInput) out += out.empty() ? "residual" : "+residual";
  if (epilogue.activation) {
    if (!out.empty()) out += "+";
    out += ops::activationName(*epilogue.activation);
  }
  return out;
}

// @p elided: the layer moves no bytes at the stored memory plan (builder::elidedNodes: a
// reshape on its input's bytes, a concatenation whose inputs were written into their slices), so
// the runtime skips it.
std::string describe(const plan::EnginePlan& plan, std::size_t index, LayerInformationFormat format,
                     bool elided) {
  const ir::Graph& graph = plan.graph;
  const ir::Node& node = graph.nodes[index];
  const std::string tactic = index < plan.tactics.size() ? plan.tactics[index] : std::string();
  if (format == LayerInformationFormat::kJSON) {
    std::string out = "{\"name\":" + jsonString(node.name) + ",\"kind\":" + jsonString(node.op) +
                      ",\"fused_from\":[";
    for (std::size_t i = 0; i < node.fusedFrom.size(); ++i) {
      if (i > 0) out += ",";
      out += jsonString(node.fusedFrom[i]);
    }
    out += "],\"tactic\":" + jsonString(tactic) + ",\"elided\":" + (elided ? "true" : "false") +
           ",\"precision\":" + jsonString(precisionOf(graph, node)) + ",\"inputs\":[";
    bool first = true;
    for (ir::ValueId v : node.inputs) {
      if (v == ir::kNoValue) continue;
      if (!first) out += ",";
      first = false;
      out += tensorJson(graph.value(v));
    }
    out += "],\"outputs\":[";
    for (std::size_t i = 0; i < node.outputs.size(); ++i) {
      if (i > 0) out += ",";
      out += tensorJson(graph.value(node.outputs[i]));
    }
    const std::string fused = fusedWork(node);
    if (!fused.empty()) {
      out += "],\"";
      out += node.op == "PointwiseChain" ? "steps" : "epilogue";
      out += "\":" + jsonString(fused) + ",\"attributes\":";
    } else {
      out += "],\"attributes\":";
    }
    return out + jsonString(ir::toString(node.attrs)) + "}";
  }
  std::string out = node.name + " [" + node.op + "] tactic=" + tactic +
                    (elided ? " elided(in place, skipped)" : "") +
                    " precision=" + precisionOf(graph, node) + " in=";
  bool first = true;
  for (ir::ValueId v : node.inputs) {
    if (v == ir::kNoValue || graph.value(v).isConstant()) continue;
    if (!first) out += ",";
    first = false;
    out += toString(graph.value(v).dims);
  }
  out += " out=";
  for (std::size_t i = 0; i < node.outputs.size(); ++i) {
    if (i > 0) out += ",";
    out += toString(graph.value(node.outputs[i]).dims);
  }
  if (const std::string fused = fusedWork(node); !fused.empty()) {
    out += node.op == "PointwiseChain" ? " steps=" : " epilogue=";
    out += fused;
  }
  if (node.fusedFrom.size() != 1 || node.fusedFrom[0] != node.name) {
    out += " fused_from=";
    for (std::size_t i = 0; i < node.fusedFrom.size(); ++i) {
      if (i > 0) out += ",";
      out += node.fusedFrom[i];
    }
  }
  return out;
}

// The planned arena beside the most bytes ever alive at once, so that how much the planner
// wastes can be read off any engine.
std::string memoryJson(const plan::EnginePlan& plan) {
  std::string out = "{\"arena_bytes\":" + std::to_string(plan.memory.arenaBytes) +
                    ",\"lower_bound_bytes\":" + std::to_string(plan.memory.lowerBoundBytes);
  // A dynamic engine: the above at profile 0's opt shapes, and each profile at its max shapes.
  if (plan.isDynamic()) {
    out += ",\"profiles\":[";
    for (std::size_t p = 0; p < plan.profiles.size(); ++p) {
      if (p > 0) out += ",";
      out += "{\"arena_bytes\":" + std::to_string(plan.profiles[p].arenaBytes) +
             ",\"lower_bound_bytes\":" + std::to_string(plan.profiles[p].lowerBoundBytes) + "}";
    }
    out += "]";
  }
  return out + "}";
}

}  // namespace

std::string Engine::layerInformation(int32_t layerIndex, LayerInformationFormat format) const {
  const plan::EnginePlan& plan = impl_->plan();
  if (layerIndex < 0 || static_cast<std::size_t>(layerIndex) >= plan.graph.nodes.size()) return {};
  try {
    const auto index = static_cast<std::size_t>(layerIndex);
    return describe(plan, index, format, builder::elidedNodes(plan.graph, plan.memory)[index]);
  } catch (const std::exception& e) {
    impl_->reporter().error(ErrorCode::kINTERNAL_ERROR,
                            std::string("Engine::layerInformation: ") + e.what());
  }
  return {};
}

std::string Engine::engineInformation(LayerInformationFormat format) const {
  const plan::EnginePlan& plan = impl_->plan();
  try {
    std::string out = format == LayerInformationFormat::kJSON ? "{\"layers\":[" : "";
    const std::vector<bool> elided = builder::elidedNodes(plan.graph, plan.memory);
    for (std::size_t i = 0; i < plan.graph.nodes.size(); ++i) {
      if (format == LayerInformationFormat::kJSON) {
        if (i > 0) out += ",\n";
        out += describe(plan, i, format, elided[i]);
      } else {
        out += describe(plan, i, format, elided[i]) + "\n";
      }
    }
    if (format == LayerInformationFormat::kJSON) {
      out += "],\n\"memory\":" + memoryJson(plan) + "}\n";
    }
    return out;
  } catch (const std::exception& e) {
    impl_->reporter().error(ErrorCode::kINTERNAL_ERROR,
                            std::string("Engine::engineInformation: ") + e.what());
  }
  return {};
}

void ExecutionContext::setProfiler(Profiler* profiler) noexcept {
  impl_->setProfiler(profiler);
}

Profiler* ExecutionContext::profiler() const noexcept {
  return impl_->profiler();
}

}  // namespace kiln
