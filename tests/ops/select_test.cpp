// Select: condition ? then : else for float32, int32 and bool, with the three inputs broadcast
// together; and the rejected configurations.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string_view>
#include <vector>

#include "support/test_util.h"

namespace kiln::test {
namespace {

// Element of @p in (broadcast to @p out) read by flat output index @p i.
int64_t broadcastOffset(const Dims& out, const Dims& in, int64_t i) {
  int64_t offset = 0;
  int64_t stride = 1;
  for (int32_t d = out.nbDims - 1, k = in.nbDims - 1; d >= 0; --d, --k) {
    const int64_t coord = i % out[d];
    i /= out[d];
    if (k < 0) continue;
    if (in[k] != 1) offset += coord * stride;
    stride *= in[k];
  }
  return offset;
}

HostTensor runSelect(const HostTensor& c, const HostTensor& t, const HostTensor& e) {
  NetworkFixture f;
  auto tc = f.net().addInput("c", c.dtype, c.dims);
  auto tt = f.net().addInput("t", t.dtype, t.dims);
  auto te = f.net().addInput("e", e.dtype, e.dims);
  auto layer = f.net().addSelect(tc, tt, te);
  if (!layer) {
    ADD_FAILURE() << "addSelect failed: " << f.logger.errors();
    return {};
  }
  EXPECT_EQ(layer.type(), LayerType::kSELECT);
  EXPECT_EQ(layer.nbInputs(), 3);
  f.net().markOutput(layer.output(0));
  auto outputs = f.run({c, t, e});
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();
  if (outputs.size() != 1) return {};
  return outputs[0];
}

HostTensor randomBools(const Dims& dims, uint32_t seed) {
  std::mt19937 rng(seed);
  HostTensor t(DataType::kBOOL, dims);
  for (auto& b : t.as<uint8_t>()) b = static_cast<uint8_t>(rng() & 1u);
  return t;
}

HostTensor randomInts(const Dims& dims, uint32_t seed) {
  std::mt19937 rng(seed);
  HostTensor t(DataType::kINT32, dims);
  for (auto& v : t.as<int32_t>()) v = static_cast<int32_t>(rng());
  return t;
}

TEST(Select, HandPickedFloatValues) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Dims dims{6};
  const bool cond[] = {true, false, true, false, true, false};
  auto y = runSelect(HostTensor::fromBools(dims, cond),
                     HostTensor::fromFloats(dims, std::vector<float>{1, 2, inf, 4, nan, -0.f}),
                     HostTensor::fromFloats(dims, std::vector<float>{-1, -2, -3, nan, 5, -inf}));
  ASSERT_EQ(y.dtype, DataType::kFLOAT);
  expectClose(y.floats(), std::vector<float>{1, -2, inf, nan, nan, -inf}, 0, 0);
}

TEST(Select, ConditionBytesOtherThanOneAreTrue) {
  HostTensor c(DataType::kBOOL, Dims{3});
  c.as<uint8_t>()[0] = 0;
  c.as<uint8_t>()[1] = 1;
  c.as<uint8_t>()[2] = 7;
  auto y = runSelect(c, HostTensor::fromInts(Dims{3}, std::vector<int32_t>{1, 2, 3}),
                     HostTensor::fromInts(Dims{3}, std::vector<int32_t>{-1, -2, -3}));
  ASSERT_EQ(y.dtype, DataType::kINT32);
  EXPECT_EQ(y.as<int32_t>()[0], -1);
  EXPECT_EQ(y.as<int32_t>()[1], 2);
  EXPECT_EQ(y.as<int32_t>()[2], 3);
}

struct SelectCase {
  Dims c, t, e, out;
};

TEST(Select, BroadcastAllTypes) {
  const std::vector<SelectCase> cases = {
      {Dims{2, 1, 5}, Dims{3, 1}, Dims{5}, Dims{2, 3, 5}},
      {Dims{}, Dims{4, 3}, Dims{4, 3}, Dims{4, 3}},
      {Dims{4, 3}, Dims{}, Dims{1}, Dims{4, 3}},
      {Dims{1}, Dims{4, 3}, Dims{4, 1}, Dims{4, 3}},
      {Dims{3, 1, 1}, Dims{1, 5, 1}, Dims{1, 1, 7}, Dims{3, 5, 7}},
      {Dims{2, 3}, Dims{2, 3}, Dims{2, 3}, Dims{2, 3}},
      {Dims{0, 3}, Dims{3}, Dims{1, 1}, Dims{0, 3}},
      {Dims{}, Dims{}, Dims{}, Dims{}},
  };
  uint32_t seed = 1;
  for (const auto& k : cases) {
    SCOPED_TRACE(toString(k.c) + ", " + toString(k.t) + ", " + toString(k.e));
    const auto c = randomBools(k.c, seed++);
    auto pick = [&](int64_t i) {
      return c.as<uint8_t>()[static_cast<std::size_t>(broadcastOffset(k.out, k.c, i))] != 0;
    };
    {
      const auto t = randomTensor(k.t, seed++);
      const auto e = randomTensor(k.e, seed++);
      const auto y = runSelect(c, t, e);
      ASSERT_EQ(y.dims, k.out);
      ASSERT_EQ(y.dtype, DataType::kFLOAT);
      std::vector<float> expected;
      for (int64_t i = 0; i < volume(k.out); ++i) {
        expected.push_back(pick(i) ? t.as<float>()[broadcastOffset(k.out, k.t, i)]
                                   : e.as<float>()[broadcastOffset(k.out, k.e, i)]);
      }
      expectClose(y.floats(), expected, 0, 0);
    }
    {
      const auto t = randomInts(k.t, seed++);
      const auto e = randomInts(k.e, seed++);
      const auto y = runSelect(c, t, e);
      ASSERT_EQ(y.dims, k.out);
      ASSERT_EQ(y.dtype, DataType::kINT32);
      for (int64_t i = 0; i < volume(k.out); ++i) {
        const int32_t expected = pick(i) ? t.as<int32_t>()[broadcastOffset(k.out, k.t, i)]
                                         : e.as<int32_t>()[broadcastOffset(k.out, k.e, i)];
        ASSERT_EQ(y.as<int32_t>()[static_cast<std::size_t>(i)], expected) << i;
      }
    }
    {
      const auto t = randomBools(k.t, seed++);
      const auto e = randomBools(k.e, seed++);
      const auto y = runSelect(c, t, e);
      ASSERT_EQ(y.dims, k.out);
      ASSERT_EQ(y.dtype, DataType::kBOOL);
      for (int64_t i = 0; i < volume(k.out); ++i) {
        const uint8_t expected = pick(i) ? t.as<uint8_t>()[broadcastOffset(k.out, k.t, i)]
                                         : e.as<uint8_t>()[broadcastOffset(k.out, k.e, i)];
        ASSERT_EQ(y.as<uint8_t>()[static_cast<std::size_t>(i)], expected) << i;
      }
    }
  }
}

// The inputs of the bad layers. Each bad layer gets a network of its own, so that the errors
// logged there are its alone.
struct BadInputs : NetworkFixture {
  Tensor flag = net().addInput("flag", DataType::kBOOL, Dims{2, 3});
  Tensor x = net().addInput("x", DataType::kFLOAT, Dims{2, 3});
  Tensor i = net().addInput("i", DataType::kINT32, Dims{2, 3});
  Tensor wide = net().addInput("wide", DataType::kFLOAT, Dims{4});
  Tensor half = net().addInput("half", DataType::kHALF, Dims{2, 3});
};

// Expects @p layer, the first layer of @p n, to be invalid with an error that names it and
// contains @p text.
void expectInvalid(NetworkFixture& n, const Layer& layer, std::string_view text) {
  expectInvalidLayer(n, layer, text);
  EXPECT_TRUE(n.logger.hasError("layer 'Select_0' (Select): ")) << n.logger.errors();
}

TEST(Select, RejectsBadConfigurations) {
  // Input types and shapes that do not fit together: new input shapes or types could still fix
  // them, so they are reported when the layer's shapes are needed.
  {
    BadInputs n;
    expectInvalid(n, n.net().addSelect(n.x, n.x, n.x), "condition (input 0) must be bool");
  }
  {
    BadInputs n;
    expectInvalid(n, n.net().addSelect(n.flag, n.x, n.i), "different types");
  }
  {
    BadInputs n;
    expectInvalid(n, n.net().addSelect(n.flag, n.x, n.wide), "do not broadcast");
  }
  {
    BadInputs n;
    expectInvalid(n, n.net().addSelect(n.flag, n.half, n.half), "float32, int32 or bool");
  }

  // Bad arguments are refused at once.
  BadInputs f;
  EXPECT_FALSE(f.net().addSelect(f.flag, Tensor(), f.x));
  EXPECT_TRUE(f.logger.hasError("thenInput is a null tensor")) << f.logger.errors();
  f.logger.clear();

  NetworkFixture other;
  auto foreign = other.net().addInput("c", DataType::kBOOL, Dims{2, 3});
  EXPECT_FALSE(f.net().addSelect(foreign, f.x, f.x));
  EXPECT_TRUE(f.logger.hasError("condition belongs to another network")) << f.logger.errors();

  EXPECT_EQ(f.net().nbLayers(), 0);
}

}  // namespace
}  // namespace kiln::test
