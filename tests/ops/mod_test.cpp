// ElementWise kMOD and kFMOD (ONNX Mod): the remainder with the divisor's sign and with the
// dividend's sign, for int32 and float32, with broadcasting.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "support/test_util.h"

namespace kiln::test {
namespace {

std::vector<int32_t> runInt(ElementWiseOperation op, const std::vector<int32_t>& a,
                            const std::vector<int32_t>& b) {
  NetworkFixture f;
  const Dims d{static_cast<int64_t>(a.size())};
  Tensor x = f.net().addInput("a", DataType::kINT32, d);
  Tensor y = f.net().addInput("b", DataType::kINT32, Dims{static_cast<int64_t>(b.size())});
  ElementWiseLayer layer = f.net().addElementWise(x, y, op);
  f.net().markOutput(layer.output(0));
  const auto out =
      f.run({HostTensor::fromInts(d, a), HostTensor::fromInts(Dims{int64_t(b.size())}, b)});
  if (out.size() != 1) return {};
  const auto span = out[0].as<int32_t>();
  return {span.begin(), span.end()};
}

TEST(Mod, IntegerSignRules) {
  const std::vector<int32_t> a{-4, 7, 5, 4, -7, 8, INT32_MIN, 0};
  const std::vector<int32_t> b{2, -3, 8, -2, 3, 5, -1, -5};
  // Python's %: the divisor's sign.
  EXPECT_EQ(runInt(ElementWiseOperation::kMOD, a, b),
            (std::vector<int32_t>{0, -2, 5, 0, 2, 3, 0, 0}));
  // C's %: the dividend's sign.
  EXPECT_EQ(runInt(ElementWiseOperation::kFMOD, a, b),
            (std::vector<int32_t>{0, 1, 5, 0, -1, 3, 0, 0}));
}

TEST(Mod, FloatWithBroadcasting) {
  for (auto op : {ElementWiseOperation::kMOD, ElementWiseOperation::kFMOD}) {
    NetworkFixture f;
    Tensor x = f.net().addInput("a", DataType::kFLOAT, Dims{2, 3});
    Tensor y = f.net().addInput("b", DataType::kFLOAT, Dims{3});
    ElementWiseLayer layer = f.net().addElementWise(x, y, op);
    f.net().markOutput(layer.output(0));
    const std::vector<float> a{-4.3f, 7.2f, 5.0f, 4.3f, -7.2f, 0.f};
    const std::vector<float> b{2.1f, -3.4f, 0.f};
    const auto out =
        f.run({HostTensor::fromFloats(Dims{2, 3}, a), HostTensor::fromFloats(Dims{3}, b)});
    ASSERT_EQ(out.size(), 1u);
    const auto got = out[0].floats();
    for (std::size_t i = 0; i < a.size(); ++i) {
      const float d = b[i % 3];
      float expected = std::fmod(a[i], d);
      if (op == ElementWiseOperation::kMOD && expected != 0 && ((expected < 0) != (d < 0))) {
        expected += d;
      }
      if (std::isnan(expected)) {
        EXPECT_TRUE(std::isnan(got[i])) << i;
      } else {
        EXPECT_FLOAT_EQ(got[i], expected) << i;
      }
    }
  }
}

TEST(Mod, IntegerZeroDivisorFailsExecution) {
  NetworkFixture f;
  Tensor x = f.net().addInput("a", DataType::kINT32, Dims{2});
  Tensor y = f.net().addInput("b", DataType::kINT32, Dims{2});
  ElementWiseLayer layer = f.net().addElementWise(x, y, ElementWiseOperation::kMOD);
  f.net().markOutput(layer.output(0));
  auto config = f.builder.createBuilderConfig();
  const auto plan = f.builder.buildSerializedNetwork(f.net(), *config);
  ASSERT_FALSE(plan.empty()) << f.logger.errors();
  Runtime runtime(f.logger);
  auto engine = runtime.deserialize(plan);
  ASSERT_TRUE(engine);
  auto context = engine->createExecutionContext();
  std::vector<int32_t> a{1, 2}, b{1, 0}, out(2);
  ASSERT_TRUE(context->setTensorAddress("a", a.data()));
  ASSERT_TRUE(context->setTensorAddress("b", b.data()));
  ASSERT_TRUE(context->setTensorAddress(layer.output(0).name(), out.data()));
  EXPECT_FALSE(context->enqueueV3());
  EXPECT_TRUE(f.logger.hasError("MOD: int32 division by zero")) << f.logger.errors();
}

TEST(Mod, OutOfRangeOperationIsRefused) {
  NetworkFixture f;
  Tensor x = f.net().addInput("a", DataType::kINT32, Dims{2});
  EXPECT_FALSE(f.net().addElementWise(x, x, static_cast<ElementWiseOperation>(18)));
  EXPECT_TRUE(f.logger.hasError("unknown element-wise operation 18")) << f.logger.errors();
}

}  // namespace
}  // namespace kiln::test
