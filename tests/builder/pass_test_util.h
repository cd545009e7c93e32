// Helpers of the pass tests: build a network with some passes off, run it, and look at the
// engine's layers (the optimized graph of the plan).
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kiln/kiln.h"
#include "runtime/engine_impl.h"
#include "support/test_util.h"

namespace kiln::test {

struct PassRun {
  std::vector<HostTensor> outputs;
  std::vector<std::string> ops;                     //!< per engine layer
  std::vector<std::vector<std::string>> fusedFrom;  //!< per engine layer
  int32_t layers = 0;

  int32_t count(std::string_view op) const {
    int32_t n = 0;
    for (const auto& o : ops) n += o == op ? 1 : 0;
    return n;
  }
};

//! Every pass but those in @p enabled is disabled; kAllPasses keeps them all.
inline const std::vector<std::string> kAllPasses = {"*"};
inline const std::vector<std::string> kNoPasses = {};

//! Builds @p network (plan round trip) with only the passes in @p enabled, runs it on @p inputs.
inline PassRun runWithPasses(Builder& builder, NetworkDefinition& network,
                             const std::vector<HostTensor>& inputs,
                             const std::vector<std::string>& enabled) {
  PassRun result;
  auto config = builder.createBuilderConfig();
  if (enabled != kAllPasses) {
    for (const auto& name : BuilderConfig::optimizationPassNames()) {
      const bool on = std::find(enabled.begin(), enabled.end(), name) != enabled.end();
      EXPECT_TRUE(config->setPassEnabled(name, on));
    }
  }
  const auto plan = builder.buildSerializedNetwork(network, *config);
  if (plan.empty()) {
    ADD_FAILURE() << "build failed";
    return result;
  }
  Runtime runtime(builder.logger());
  auto engine = runtime.deserialize(plan);
  if (!engine) {
    ADD_FAILURE() << "deserialize failed";
    return result;
  }
  result.layers = engine->nbLayers();
  for (const auto& node : engine->impl().plan().graph.nodes) {
    result.ops.push_back(node.op);
    result.fusedFrom.push_back(node.fusedFrom);
  }
  auto context = engine->createExecutionContext();
  std::vector<HostTensor> in = inputs;
  for (int32_t i = 0; i < network.nbInputs(); ++i) {
    auto& bytes = in[static_cast<std::size_t>(i)].bytes;
    if (bytes.empty()) bytes.resize(1);
    context->setTensorAddress(network.input(i).name(), bytes.data());
  }
  for (int32_t i = 0; i < network.nbOutputs(); ++i) {
    const auto name = network.output(i).name();
    result.outputs.emplace_back(engine->tensorDataType(name), engine->tensorShape(name));
  }
  for (int32_t i = 0; i < network.nbOutputs(); ++i) {
    auto& out = result.outputs[static_cast<std::size_t>(i)];
    if (out.bytes.empty()) out.bytes.resize(1);
    context->setTensorAddress(network.output(i).name(), out.bytes.data());
  }
  if (!context->enqueueV3()) ADD_FAILURE() << "inference failed";
  for (auto& out : result.outputs) {
    out.bytes.resize(static_cast<std::size_t>(out.count()) * elementSize(out.dtype));
  }
  return result;
}

//! Runs @p network with no passes and with only @p pass; expects equal outputs (FP32 rounding)
//! and returns the run with the pass.
inline PassRun expectSameWithPass(Builder& builder, NetworkDefinition& network,
                                  const std::vector<HostTensor>& inputs,
                                  const std::vector<std::string>& passes) {
  const PassRun off = runWithPasses(builder, network, inputs, kNoPasses);
  PassRun on = runWithPasses(builder, network, inputs, passes);
  EXPECT_EQ(off.outputs.size(), on.outputs.size());
  for (std::size_t i = 0; i < off.outputs.size() && i < on.outputs.size(); ++i) {
    expectClose(on.outputs[i].floats(), off.outputs[i].floats(), 1e-5, 1e-4,
                "output " + std::to_string(i));
  }
  EXPECT_LE(on.layers, off.layers);
  return on;
}

//! A float constant layer's output; @p values must outlive the build.
inline Tensor constantTensor(NetworkDefinition& network, const Dims& dims,
                             const std::vector<float>& values) {
  return network.addConstant(dims, floatWeights(values)).output(0);
}

}  // namespace kiln::test
