#include "builder/dynamic_build.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <set>

#include "backends/device.h"
#include "builder/build_plan.h"
#include "builder/passes/pass_manager.h"
#include "core/error.h"
#include "core/shape_util.h"
#include "runtime/specialization.h"

namespace kiln::builder {

namespace {

constexpr std::array kSelectors = {OptProfileSelector::kMIN, OptProfileSelector::kOPT,
                                   OptProfileSelector::kMAX};

std::string_view selectorName(OptProfileSelector which) {
  switch (which) {
    case OptProfileSelector::kMIN:
      return "min";
    case OptProfileSelector::kOPT:
      return "opt";
    case OptProfileSelector::kMAX:
      return "max";
  }
  return "?";
}

bool hasDynamicExtent(const Dims& dims) {
  for (int32_t i = 0; i < dims.nbDims; ++i) {
    if (dims[i] < 0) return true;
  }
  return false;
}

// Checks profile @p index against the network's inputs; throws naming what does not fit.
void checkProfile(const ir::Graph& network, const std::vector<plan::InputRange>& profile,
                  std::size_t index) {
  const auto where = [index](const std::string& input) {
    return "optimization profile " + std::to_string(index) + ", input '" + input + "': ";
  };
  for (const plan::InputRange& range : profile) {
    const ir::Value* input = nullptr;
    for (ir::ValueId v : network.inputs) {
      if (network.value(v).name == range.name) input = &network.value(v);
    }
    if (input == nullptr) {
      fail(ErrorCode::kINVALID_ARGUMENT, where(range.name), "the network has no such input");
    }
    if (range.shapeTensor) {
      const bool isFloat = input->dtype == DataType::kFLOAT;
      if ((input->dtype != DataType::kINT32 && input->dtype != DataType::kINT64 && !isFloat) ||
          input->dims.nbDims > 1 || hasDynamicExtent(input->dims)) {
        fail(ErrorCode::kINVALID_ARGUMENT, where(range.name),
             "values are given, but only an int32/int64/float32 input of fixed rank-0 or rank-1 "
             "shape can be a shape tensor (it is ",
             toString(input->dtype), " ", toString(input->dims), ")");
      }
      for (OptProfileSelector which : kSelectors) {
        const auto at = static_cast<std::size_t>(which);
        // Float values for an int input (or the reverse) would be converted silently otherwise.
        const std::size_t wrongKind =
            isFloat ? range.values[at].size() : range.floatValues[at].size();
        if (wrongKind != 0) {
          fail(ErrorCode::kINVALID_ARGUMENT, where(range.name), selectorName(which), " is given ",
               isFloat ? "int" : "float", " values; the input is ", toString(input->dtype),
               " (setShapeValues with ", isFloat ? "float" : "int64_t", " values)");
        }
        const std::size_t count = isFloat ? range.floatValues[at].size() : range.values[at].size();
        if (static_cast<int64_t>(count) != volume(input->dims)) {
          fail(ErrorCode::kINVALID_ARGUMENT, where(range.name), selectorName(which), " has ", count,
               " values; the input holds ", volume(input->dims));
        }
      }
      continue;
    }
    for (OptProfileSelector which : kSelectors) {
      const Dims& dims = range.dims[static_cast<std::size_t>(which)];
      if (dims.nbDims < 0) {
        fail(ErrorCode::kINVALID_ARGUMENT, where(range.name), "no ", selectorName(which),
             " shape is set (setDimensions with kMIN, kOPT and kMAX)");
      }
      if (dims.nbDims != input->dims.nbDims) {
        fail(ErrorCode::kINVALID_ARGUMENT, where(range.name), selectorName(which), " shape ",
             toString(dims), " has rank ", dims.nbDims, "; the input has shape ",
             toString(input->dims));
      }
      for (int32_t i = 0; i < dims.nbDims; ++i) {
        if (input->dims[i] >= 0 && dims[i] != input->dims[i]) {
          fail(ErrorCode::kINVALID_ARGUMENT, where(range.name), selectorName(which), " shape ",
               toString(dims), " does not keep the fixed extent ", input->dims[i], " of dimension ",
               i, " (the input has shape ", toString(input->dims), ")");
        }
      }
    }
  }
  for (ir::ValueId v : network.inputs) {
    const ir::Value& input = network.value(v);
    const bool covered = std::any_of(profile.begin(), profile.end(),
                                     [&](const auto& r) { return r.name == input.name; });
    if (hasDynamicExtent(input.dims) && !covered) {
      fail(ErrorCode::kINVALID_ARGUMENT, "optimization profile ", index,
           " has no shapes for input '", input.name, "' of shape ", toString(input.dims),
           " (OptimizationProfile::setDimensions; kiln --minShapes/--optShapes/--maxShapes)");
    }
  }
}

// The network with each input fixed: dynamic inputs take their shapes; shape-tensor inputs
// become constants of their values (of the same name), which is how the plan keeps them.
ir::Graph specializeNetwork(const ir::Graph& network,
                            const std::vector<detail::InputBinding>& bindings) {
  ir::Graph graph = network;
  for (const detail::InputBinding& binding : bindings) {
    for (auto it = graph.inputs.begin(); it != graph.inputs.end(); ++it) {
      ir::Value& value = graph.value(*it);
      if (value.name != binding.name) continue;
      if (!binding.shapeTensor) {
        value.dims = binding.dims;
        break;
      }
      value.constant = detail::shapeTensorBytes(binding, value.dtype);
      graph.inputs.erase(it);
      break;
    }
  }
  return graph;
}

// Where two optimized graphs differ other than in shapes (and the values of shape tensors);
// nullopt when they agree.
std::optional<std::string> firstDifference(const ir::Graph& a, const ir::Graph& b,
                                           const std::set<std::string>& shapeTensors) {
  if (a.nodes.size() != b.nodes.size()) {
    return std::to_string(a.nodes.size()) + " layers against " + std::to_string(b.nodes.size());
  }
  for (std::size_t n = 0; n < a.nodes.size(); ++n) {
    const ir::Node& x = a.nodes[n];
    const ir::Node& y = b.nodes[n];
    if (x.name != y.name || x.op != y.op || !(x.attrs == y.attrs) || x.inputs != y.inputs ||
        x.outputs != y.outputs) {
      return "layer '" + x.name + "' (" + x.op + ") against '" + y.name + "' (" + y.op + ")";
    }
  }
  if (a.values.size() != b.values.size() || a.inputs != b.inputs || a.outputs != b.outputs) {
    return "their tensors";
  }
  for (std::size_t v = 0; v < a.values.size(); ++v) {
    const ir::Value& x = a.values[v];
    const ir::Value& y = b.values[v];
    if (x.name != y.name || x.dtype != y.dtype || x.isConstant() != y.isConstant()) {
      return "tensor '" + x.name + "'";
    }
    if (x.isConstant() && !shapeTensors.contains(x.name) && *x.constant != *y.constant) {
      return "the values of constant '" + x.name + "'";
    }
  }
  return std::nullopt;
}

// Whether the stored graph infers at @p bindings (shape-tensor corners may not).
bool runsAt(const plan::EnginePlan& plan, const std::vector<detail::InputBinding>& bindings) {
  try {
    (void)detail::specializeGraph(plan.graph, bindings);
    return true;
  } catch (const Error&) {
    return false;
  }
}

}  // namespace

bool needsProfiles(const ir::Graph& network, const detail::BuilderConfigData& config) {
  for (ir::ValueId v : network.inputs) {
    if (hasDynamicExtent(network.value(v).dims)) return true;
  }
  for (const auto& profile : config.profiles) {
    for (const plan::InputRange& range : profile) {
      if (range.shapeTensor) return true;
    }
  }
  return false;
}

plan::EnginePlan buildDynamicPlan(const ir::Graph& network, const detail::BuilderConfigData& config,
                                  const Reporter& reporter) {
  if (config.profiles.empty()) {
    for (ir::ValueId v : network.inputs) {
      if (hasDynamicExtent(network.value(v).dims)) {
        fail(ErrorCode::kINVALID_ARGUMENT, "input '", network.value(v).name, "' has shape ",
             toString(network.value(v).dims),
             ": dimensions of -1 need an optimization profile (BuilderConfig::"
             "addOptimizationProfile; kiln --minShapes/--optShapes/--maxShapes)");
      }
    }
  }
  for (std::size_t p = 0; p < config.profiles.size(); ++p) {
    checkProfile(network, config.profiles[p], p);
    for (const auto& range : config.profiles[p]) {
      const bool inFirst = std::any_of(config.profiles[0].begin(), config.profiles[0].end(),
                                       [&](const auto& r) { return r.name == range.name; });
      if (!inFirst || config.profiles[p].size() != config.profiles[0].size()) {
        fail(ErrorCode::kINVALID_ARGUMENT, "optimization profile ", p,
             " must give the same inputs as profile 0 (it gives '", range.name, "')");
      }
    }
  }
  std::set<std::string> shapeTensors;
  for (const auto& range : config.profiles[0]) {
    if (range.shapeTensor) shapeTensors.insert(range.name);
  }

  // Optimized at every profile's min, opt and max; [p][selector].
  detail::BuilderConfigData passConfig = config;
  std::vector<std::array<ir::Graph, 3>> graphs;
  for (int attempt = 0; attempt < 2; ++attempt) {
    graphs.clear();
    std::optional<std::string> difference;
    for (std::size_t p = 0; p < config.profiles.size() && !difference; ++p) {
      std::array<std::optional<ir::Graph>, 3> at;
      for (OptProfileSelector which :
           {OptProfileSelector::kOPT, OptProfileSelector::kMIN, OptProfileSelector::kMAX}) {
        try {
          at[static_cast<std::size_t>(which)] = optimizeGraph(
              specializeNetwork(network, detail::bindingsAt(config.profiles[p], which)), passConfig,
              reporter);
        } catch (const Error& e) {
          // Shape-tensor values span a box whose corners need not be valid together (a
          // Reshape's min [1, 1] rarely fits the data): only opt must build.
          if (which == OptProfileSelector::kOPT || shapeTensors.empty()) {
            fail(e.code(), "optimization profile ", p, " at its ", selectorName(which),
                 " shapes: ", e.what());
          }
          reporter.verbose("optimization profile " + std::to_string(p) + " does not build at its " +
                           std::string(selectorName(which)) + " shape-tensor values (" + e.what() +
                           "); the engine runs the values that do");
        }
      }
      const ir::Graph& reference = p == 0 ? *at[1] : graphs[0][1];
      std::array<ir::Graph, 3> built;
      for (const auto& graph : at) {
        if (graph && !difference) difference = firstDifference(reference, *graph, shapeTensors);
      }
      for (std::size_t i = 0; i < at.size(); ++i) {
        if (at[i]) built[i] = std::move(*at[i]);
      }
      graphs.push_back(std::move(built));
    }
    if (!difference) break;
    if (attempt == 1 || passConfig.disabledPasses.size() == allPasses().size()) {
      fail(ErrorCode::kUNSUPPORTED_STATE,
           "the network's layers change with the input shapes of its optimization profiles ("
           "they differ in ",
           *difference, "), which one engine cannot hold; build one engine per shape instead");
    }
    reporter.warning(
        "the optimization passes rewrite the network differently for different "
        "profile shapes (" +
        *difference + "); building the dynamic engine without optimization passes");
    passConfig.disabledPasses.clear();
    for (const auto& pass : allPasses()) passConfig.disabledPasses.emplace_back(pass.name);
  }

  plan::EnginePlan plan = finishPlan(graphs[0][1], config, reporter);
  std::set<std::string> isa(plan.target.requiredIsa.begin(), plan.target.requiredIsa.end());
  for (std::size_t p = 0; p < config.profiles.size(); ++p) {
    plan::Profile profile;
    for (const plan::InputRange& range : config.profiles[p]) {
      const bool kept = !range.shapeTensor ||
                        std::any_of(plan.graph.values.begin(), plan.graph.values.end(),
                                    [&](const ir::Value& v) { return v.name == range.name; });
      if (kept) {
        profile.inputs.push_back(range);
        if (range.shapeTensor) {
          // The plan records the (fixed) shape of a shape tensor beside its values.
          for (ir::ValueId v : network.inputs) {
            if (network.value(v).name == range.name) {
              profile.inputs.back().dims.fill(network.value(v).dims);
            }
          }
        }
      } else {
        reporter.warning("shape-tensor input '" + range.name +
                         "' decides nothing in the optimized network; the engine does not take "
                         "it");
      }
    }
    if (p == 0) {
      profile.tactics = plan.tactics;
    } else {
      plan::EnginePlan atOpt = finishPlan(graphs[p][1], config, reporter, &plan.graph);
      profile.tactics = std::move(atOpt.tactics);
      isa.insert(atOpt.target.requiredIsa.begin(), atOpt.target.requiredIsa.end());
    }
    plan.profiles.push_back(std::move(profile));
  }
  // Shape tensors that the passes folded away entirely (a network computed from them alone)
  // leave profiles without inputs: the engine is static.
  if (std::all_of(plan.profiles.begin(), plan.profiles.end(),
                  [](const plan::Profile& profile) { return profile.inputs.empty(); })) {
    plan.profiles.clear();
  }
  // Memory and scratch at each profile's extremes, made exactly as the runtime will make them.
  detail::DeviceConstants constants(*backends::deviceRuntime(config.device));
  for (std::size_t p = 0; p < plan.profiles.size(); ++p) {
    plan::Profile& profile = plan.profiles[p];
    for (OptProfileSelector which : kSelectors) {
      const std::vector<detail::InputBinding> bindings = detail::bindingsAt(profile.inputs, which);
      try {
        if (which != OptProfileSelector::kOPT && detail::hasShapeTensor(profile.inputs) &&
            !runsAt(plan, bindings)) {
          continue;
        }
        const detail::Specialization at(plan, p, bindings, reporter, constants);
        if (at.memory().arenaBytes >= profile.arenaBytes) {
          profile.arenaBytes = at.memory().arenaBytes;
          profile.lowerBoundBytes = at.memory().lowerBoundBytes;
        }
        profile.workspaceBytes = std::max<uint64_t>(profile.workspaceBytes, at.workspaceBytes());
      } catch (const Error& e) {
        fail(e.code(), "optimization profile ", p, " at its ", selectorName(which),
             " shapes: ", e.what());
      }
    }
  }
  plan.target.requiredIsa.assign(isa.begin(), isa.end());
  return plan;
}

}  // namespace kiln::builder
