// gather-slicing: a Gather of one constant index becomes a Slice (and a reshape dropping the axis
// for a scalar index); other Gathers stay.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "builder/pass_test_util.h"

namespace kiln::test {
namespace {

const std::vector<std::string> kPasses = {"gather-slicing"};

// As expectSameWithPass, but the slice and its reshape (which takes the slab's bytes in place)
// are one layer more than the Gather.
PassRun expectSameSliced(Builder& builder, NetworkDefinition& network,
                         const std::vector<HostTensor>& inputs) {
  const PassRun off = runWithPasses(builder, network, inputs, kNoPasses);
  PassRun on = runWithPasses(builder, network, inputs, kPasses);
  EXPECT_EQ(off.outputs.size(), on.outputs.size());
  for (std::size_t i = 0; i < off.outputs.size() && i < on.outputs.size(); ++i) {
    EXPECT_EQ(on.outputs[i].dims, off.outputs[i].dims);
    EXPECT_EQ(on.outputs[i].floats(), off.outputs[i].floats()) << "output " << i;
  }
  return on;
}

// x [2, 3, 4] gathered along @p axis by the constant @p index (a scalar when @p indexDims has
// rank 0), then a ReLU so that the gather's output is not the network's output.
PassRun gatherConstant(int32_t axis, const Dims& indexDims, int32_t index) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor x = net->addInput("x", DataType::kFLOAT, {2, 3, 4});
  const std::vector<int32_t> values = {index};
  Tensor indices =
      net->addConstant(indexDims, Weights{DataType::kINT32, values.data(), 1}).output(0);
  auto gather = net->addGather(x, indices, axis);
  auto relu = net->addActivation(gather.output(0), ActivationType::kRELU);
  net->markOutput(relu.output(0));
  return expectSameSliced(builder, *net, {randomTensor({2, 3, 4}, 7)});
}

TEST(GatherSlicing, ScalarIndexBecomesSliceAndReshape) {
  for (int32_t axis = 0; axis < 3; ++axis) {
    SCOPED_TRACE(axis);
    const PassRun run = gatherConstant(axis, Dims{}, 1);
    EXPECT_EQ(run.count("Gather"), 0);
    EXPECT_EQ(run.count("Slice"), 1);
    EXPECT_EQ(run.count("Shuffle"), 1);
  }
}

TEST(GatherSlicing, NegativeIndexCountsFromTheEnd) {
  const PassRun run = gatherConstant(2, Dims{}, -1);
  EXPECT_EQ(run.count("Gather"), 0);
  EXPECT_EQ(run.count("Slice"), 1);
}

TEST(GatherSlicing, OneElementIndexKeepsTheAxis) {
  const PassRun run = gatherConstant(1, Dims{1}, 2);
  EXPECT_EQ(run.count("Gather"), 0);
  EXPECT_EQ(run.count("Slice"), 1);
  EXPECT_EQ(run.count("Shuffle"), 0);
}

TEST(GatherSlicing, OutOfRangeIndexStaysAGather) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor x = net->addInput("x", DataType::kFLOAT, {2, 3});
  const std::vector<int32_t> values = {5};
  Tensor indices = net->addConstant(Dims{}, Weights{DataType::kINT32, values.data(), 1}).output(0);
  auto gather = net->addGather(x, indices, 0);
  net->markOutput(gather.output(0));
  auto config = builder.createBuilderConfig();
  for (const auto& name : BuilderConfig::optimizationPassNames()) {
    EXPECT_TRUE(config->setPassEnabled(name, name == "gather-slicing"));
  }
  // The index is out of range: the pass leaves the Gather, whose own check then names it.
  EXPECT_TRUE(builder.buildSerializedNetwork(*net, *config).empty());
  EXPECT_TRUE(logger.hasError("out of range")) << logger.errors();
}

TEST(GatherSlicing, SeveralIndicesOrRuntimeIndicesStayGathers) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor x = net->addInput("x", DataType::kFLOAT, {4, 3});
  Tensor at = net->addInput("at", DataType::kINT32, {});
  const std::vector<int32_t> values = {3, 1};
  Tensor two = net->addConstant(Dims{2}, Weights{DataType::kINT32, values.data(), 2}).output(0);
  auto a = net->addGather(x, two, 0);
  auto b = net->addGather(x, at, 0);
  net->markOutput(a.output(0));
  net->markOutput(b.output(0));
  const std::vector<int32_t> row = {2};
  const HostTensor index = HostTensor::fromInts(Dims{}, row);
  const PassRun run = expectSameSliced(builder, *net, {randomTensor({4, 3}, 3), index});
  EXPECT_EQ(run.count("Gather"), 2);
  EXPECT_EQ(run.count("Slice"), 0);
}

}  // namespace
}  // namespace kiln::test
