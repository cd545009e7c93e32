// ReverseSequence through the public API and the whole pipeline: both axis layouts, inner
// dimensions, other element types, and bad inputs.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "support/test_util.h"

namespace kiln::test {
namespace {

TEST(ReverseSequence, SequenceMajorWithInnerDimension) {
  // [T = 3, B = 2, 2]: batch entry 0 reverses 3 steps, entry 1 reverses 2.
  NetworkFixture f;
  Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{3, 2, 2});
  Tensor len = f.net().addInput("len", DataType::kINT32, Dims{2});
  ReverseSequenceLayer layer = f.net().addReverseSequence(x, len);
  ASSERT_TRUE(layer) << f.logger.errors();
  EXPECT_EQ(layer.batchAxis(), 1);
  EXPECT_EQ(layer.sequenceAxis(), 0);
  f.net().markOutput(layer.output(0));
  std::vector<float> xs(12);
  for (int i = 0; i < 12; ++i) xs[static_cast<std::size_t>(i)] = static_cast<float>(i);
  const auto out = f.run({HostTensor::fromFloats(Dims{3, 2, 2}, xs),
                          HostTensor::fromInts(Dims{2}, std::vector{3, 2})});
  ASSERT_EQ(out.size(), 1u);
  // x[t, b, :] = (t * 2 + b) * 2 + {0, 1}.
  EXPECT_EQ(out[0].floats(), (std::vector<float>{8, 9, 6, 7, 4, 5, 2, 3, 0, 1, 10, 11}));
}

TEST(ReverseSequence, BatchMajorIntegersAndZeroLength) {
  NetworkFixture f;
  Tensor x = f.net().addInput("x", DataType::kINT32, Dims{3, 4});
  Tensor len = f.net().addInput("len", DataType::kINT32, Dims{3});
  ReverseSequenceLayer layer = f.net().addReverseSequence(x, len);
  layer.setBatchAxis(0);
  layer.setSequenceAxis(1);
  f.net().markOutput(layer.output(0));
  const std::vector<int32_t> xs{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  const auto out = f.run(
      {HostTensor::fromInts(Dims{3, 4}, xs), HostTensor::fromInts(Dims{3}, std::vector{4, 0, 1})});
  ASSERT_EQ(out.size(), 1u);
  const auto ys = out[0].as<int32_t>();
  EXPECT_EQ(std::vector<int32_t>(ys.begin(), ys.end()),
            (std::vector<int32_t>{3, 2, 1, 0, 4, 5, 6, 7, 8, 9, 10, 11}));
}

TEST(ReverseSequence, BadInputs) {
  NetworkFixture f;
  Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{3, 2});
  Tensor len3 = f.net().addInput("len3", DataType::kINT32, Dims{3});
  Tensor lenF = f.net().addInput("lenF", DataType::kFLOAT, Dims{2});
  ReverseSequenceLayer wrongCount = f.net().addReverseSequence(x, len3);
  wrongCount.setName("rev");
  expectInvalidLayer(f, wrongCount,
                     "layer 'rev' (ReverseSequence): the sequence lengths have shape 3; the input "
                     "(shape 3x2) has 2 batch entries along axis 1, so they need shape 2");
  expectInvalidLayer(f, f.net().addReverseSequence(x, lenF),
                     "the sequence lengths must be int32 or int64, not float32");
  ReverseSequenceLayer sameAxes = f.net().addReverseSequence(x, len3);
  sameAxes.setSequenceAxis(1);
  expectInvalidLayer(f, sameAxes,
                     "the batch axis (1) and the sequence axis (1) must be 0 and 1, one each");
}

TEST(ReverseSequence, LengthBeyondTheSequenceFailsExecution) {
  NetworkFixture f;
  Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{2, 1});
  Tensor len = f.net().addInput("len", DataType::kINT32, Dims{1});
  ReverseSequenceLayer layer = f.net().addReverseSequence(x, len);
  layer.setName("rev");
  f.net().markOutput(layer.output(0));
  auto config = f.builder.createBuilderConfig();
  const auto plan = f.builder.buildSerializedNetwork(f.net(), *config);
  ASSERT_FALSE(plan.empty()) << f.logger.errors();
  Runtime runtime(f.logger);
  auto engine = runtime.deserialize(plan);
  ASSERT_TRUE(engine);
  auto context = engine->createExecutionContext();
  std::vector<float> xs{1, 2}, ys(2);
  std::vector<int32_t> bad{3};
  ASSERT_TRUE(context->setTensorAddress("x", xs.data()));
  ASSERT_TRUE(context->setTensorAddress("len", bad.data()));
  ASSERT_TRUE(context->setTensorAddress(layer.output(0).name(), ys.data()));
  EXPECT_FALSE(context->enqueueV3());
  EXPECT_TRUE(f.logger.hasError(
      "layer 'rev' (ReverseSequence): sequence length 3 (entry 0) is outside [0, 2]"))
      << f.logger.errors();
}

}  // namespace
}  // namespace kiln::test
