// ElementWise: every operation on hand-picked values (zeros, negatives, inf, NaN, int32 limits),
// on random broadcast shapes, for float32, int32 and bool; and every rejected configuration.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string_view>
#include <vector>

#include "support/test_util.h"

namespace kiln::test {
namespace {

using Op = ElementWiseOperation;

constexpr Op kArithmetic[] = {Op::kSUM, Op::kPROD, Op::kMAX, Op::kMIN,
                              Op::kSUB, Op::kDIV,  Op::kPOW, Op::kFLOOR_DIV};
constexpr Op kComparisons[] = {Op::kEQUAL, Op::kGREATER, Op::kLESS};
constexpr Op kLogical[] = {Op::kAND, Op::kOR, Op::kXOR};

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNan = std::numeric_limits<float>::quiet_NaN();
constexpr int32_t kIntMin = std::numeric_limits<int32_t>::min();
constexpr int32_t kIntMax = std::numeric_limits<int32_t>::max();

bool isComparison(Op op) {
  return op == Op::kEQUAL || op == Op::kGREATER || op == Op::kLESS;
}

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

float refFloat(Op op, float a, float b) {
  switch (op) {
    case Op::kSUM:
      return a + b;
    case Op::kPROD:
      return a * b;
    case Op::kMAX:
      return std::isnan(a) || std::isnan(b) ? kNan : std::max(a, b);
    case Op::kMIN:
      return std::isnan(a) || std::isnan(b) ? kNan : std::min(a, b);
    case Op::kSUB:
      return a - b;
    case Op::kDIV:
      return a / b;
    case Op::kPOW:
      return static_cast<float>(std::pow(double{a}, double{b}));
    case Op::kFLOOR_DIV:
      return std::floor(a / b);
    case Op::kEQUAL:
      return a == b ? 1.f : 0.f;
    case Op::kGREATER:
      return a > b ? 1.f : 0.f;
    case Op::kLESS:
      return a < b ? 1.f : 0.f;
    default:
      ADD_FAILURE() << "no float reference";
      return 0;
  }
}

int32_t wrap(int64_t v) {
  return static_cast<int32_t>(static_cast<uint32_t>(v));
}

int32_t refInt(Op op, int32_t a, int32_t b) {
  const int64_t x = a;
  const int64_t y = b;
  switch (op) {
    case Op::kSUM:
      return wrap(x + y);
    case Op::kPROD:
      return wrap(x * y);
    case Op::kMAX:
      return std::max(a, b);
    case Op::kMIN:
      return std::min(a, b);
    case Op::kSUB:
      return wrap(x - y);
    case Op::kDIV:
      return wrap(x / y);
    case Op::kFLOOR_DIV: {
      int64_t q = x / y;
      if (q * y != x && ((x < 0) != (y < 0))) --q;
      return wrap(q);
    }
    case Op::kPOW: {
      if (b < 0) return a == 1 ? 1 : a == -1 ? (b % 2 == 0 ? 1 : -1) : 0;
      uint32_t r = 1;
      for (int32_t e = 0; e < b; ++e) r *= static_cast<uint32_t>(a);
      return static_cast<int32_t>(r);
    }
    case Op::kEQUAL:
      return a == b;
    case Op::kGREATER:
      return a > b;
    case Op::kLESS:
      return a < b;
    default:
      ADD_FAILURE() << "no int reference";
      return 0;
  }
}

bool refBool(Op op, bool a, bool b) {
  switch (op) {
    case Op::kAND:
      return a && b;
    case Op::kOR:
      return a || b;
    case Op::kXOR:
      return a != b;
    default:
      ADD_FAILURE() << "no bool reference";
      return false;
  }
}

// Builds a = input "a", b = input "b", y = a op b; runs once through a plan round trip.
HostTensor runBinary(const HostTensor& a, const HostTensor& b, Op op) {
  NetworkFixture f;
  auto ta = f.net().addInput("a", a.dtype, a.dims);
  auto tb = f.net().addInput("b", b.dtype, b.dims);
  auto layer = f.net().addElementWise(ta, tb, op);
  if (!layer) {
    ADD_FAILURE() << "addElementWise failed: " << f.logger.errors();
    return {};
  }
  EXPECT_EQ(layer.operation(), op);
  f.net().markOutput(layer.output(0));
  auto outputs = f.run({a, b});
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();
  if (outputs.size() != 1) return {};
  return outputs[0];
}

std::vector<int32_t> ints(const HostTensor& t) {
  const auto values = t.as<int32_t>();
  return {values.begin(), values.end()};
}

std::vector<float> boolsAsFloats(const HostTensor& t) {
  std::vector<float> out;
  for (auto v : t.as<uint8_t>()) out.push_back(static_cast<float>(v));
  return out;
}

// --- hand-picked values ----------------------------------------------------------------------

TEST(ElementWise, FloatEdgeValuesEveryOperation) {
  const std::vector<float> a = {0.f,  -0.f, 1.5f, -1.5f, 7.f, -7.f, 2.f,  kInf, -kInf,
                                kNan, 3.f,  0.f,  -2.f,  5.f, 1.f,  kInf, 0.5f};
  const std::vector<float> b = {0.f, 2.f,  -1.5f, 2.f,  2.f, 2.f,  -3.f, 1.f,  kInf,
                                1.f, kNan, -2.f,  0.5f, 0.f, kInf, kInf, -0.5f};
  const Dims dims{static_cast<int64_t>(a.size())};
  for (Op op : kArithmetic) {
    SCOPED_TRACE(static_cast<int>(op));
    auto y = runBinary(HostTensor::fromFloats(dims, a), HostTensor::fromFloats(dims, b), op);
    ASSERT_EQ(y.dtype, DataType::kFLOAT);
    std::vector<float> expected;
    for (std::size_t i = 0; i < a.size(); ++i) expected.push_back(refFloat(op, a[i], b[i]));
    expectClose(y.floats(), expected, 0, 1e-6);
  }
  for (Op op : kComparisons) {
    SCOPED_TRACE(static_cast<int>(op));
    auto y = runBinary(HostTensor::fromFloats(dims, a), HostTensor::fromFloats(dims, b), op);
    ASSERT_EQ(y.dtype, DataType::kBOOL);
    std::vector<float> expected;
    for (std::size_t i = 0; i < a.size(); ++i) expected.push_back(refFloat(op, a[i], b[i]));
    expectClose(boolsAsFloats(y), expected, 0, 0);
  }
}

TEST(ElementWise, FloatSpotChecks) {
  // Values whose results are obvious, so the reference functions above are checked too.
  const Dims dims{4};
  auto a = HostTensor::fromFloats(dims, std::vector<float>{7.f, -7.f, 1.f, kNan});
  auto b = HostTensor::fromFloats(dims, std::vector<float>{2.f, 2.f, 0.f, 1.f});
  expectClose(runBinary(a, b, Op::kFLOOR_DIV).floats(), std::vector<float>{3.f, -4.f, kInf, kNan});
  expectClose(runBinary(a, b, Op::kDIV).floats(), std::vector<float>{3.5f, -3.5f, kInf, kNan});
  expectClose(runBinary(a, b, Op::kPOW).floats(), std::vector<float>{49.f, 49.f, 1.f, kNan});
  expectClose(runBinary(a, b, Op::kMAX).floats(), std::vector<float>{7.f, 2.f, 1.f, kNan});
  const auto eq = runBinary(a, a, Op::kEQUAL);
  EXPECT_EQ(boolsAsFloats(eq), (std::vector<float>{1, 1, 1, 0}));  // NaN != NaN
}

TEST(ElementWise, IntEdgeValuesEveryOperation) {
  const std::vector<int32_t> a = {0, 7, -7, 7,  -7, 1,       kIntMin, kIntMax, 3, -1, -1,
                                  1, 2, 0,  -2, 5,  kIntMin, 123456,  -5,      2, 3};
  const std::vector<int32_t> b = {1,  2,  2, -2, -2, 3, -1,    1, 40, -3, 4,
                                  -5, -1, 5, 3,  -5, 1, 65536, 5, 31, -2};
  const Dims dims{static_cast<int64_t>(a.size())};
  for (Op op : kArithmetic) {
    SCOPED_TRACE(static_cast<int>(op));
    auto y = runBinary(HostTensor::fromInts(dims, a), HostTensor::fromInts(dims, b), op);
    ASSERT_EQ(y.dtype, DataType::kINT32);
    const auto got = y.as<int32_t>();
    ASSERT_EQ(got.size(), a.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(got[i], refInt(op, a[i], b[i])) << a[i] << " op " << b[i] << " at " << i;
    }
  }
  for (Op op : kComparisons) {
    SCOPED_TRACE(static_cast<int>(op));
    auto y = runBinary(HostTensor::fromInts(dims, a), HostTensor::fromInts(dims, b), op);
    ASSERT_EQ(y.dtype, DataType::kBOOL);
    const auto got = y.as<uint8_t>();
    for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(got[i], refInt(op, a[i], b[i])) << i;
  }
}

TEST(ElementWise, IntSpotChecks) {
  const Dims dims{6};
  auto a = HostTensor::fromInts(dims, std::vector<int32_t>{7, -7, 7, -7, kIntMin, 2});
  auto b = HostTensor::fromInts(dims, std::vector<int32_t>{2, 2, -2, -2, -1, 31});
  EXPECT_EQ(ints(runBinary(a, b, Op::kDIV)), (std::vector<int32_t>{3, -3, -3, 3, kIntMin, 0}));
  EXPECT_EQ(ints(runBinary(a, b, Op::kFLOOR_DIV)),
            (std::vector<int32_t>{3, -4, -4, 3, kIntMin, 0}));
  auto base = HostTensor::fromInts(dims, std::vector<int32_t>{2, -1, -1, 1, 5, 2});
  auto exponent = HostTensor::fromInts(dims, std::vector<int32_t>{10, -3, -4, -7, -1, 31});
  EXPECT_EQ(ints(runBinary(base, exponent, Op::kPOW)),
            (std::vector<int32_t>{1024, -1, 1, 1, 0, kIntMin}));
  const auto sum = runBinary(HostTensor::fromInts(Dims{1}, std::vector<int32_t>{kIntMax}),
                             HostTensor::fromInts(Dims{1}, std::vector<int32_t>{1}), Op::kSUM);
  EXPECT_EQ(sum.as<int32_t>()[0], kIntMin);  // wraps
}

TEST(ElementWise, BoolTruthTables) {
  const Dims dims{4};
  const bool a[] = {false, false, true, true};
  const bool b[] = {false, true, false, true};
  for (Op op : kLogical) {
    SCOPED_TRACE(static_cast<int>(op));
    auto y = runBinary(HostTensor::fromBools(dims, a), HostTensor::fromBools(dims, b), op);
    ASSERT_EQ(y.dtype, DataType::kBOOL);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(y.as<uint8_t>()[i], refBool(op, a[i], b[i])) << i;
  }
}

// --- random broadcast shapes -----------------------------------------------------------------

struct BroadcastCase {
  Dims a;
  Dims b;
  Dims out;
};

const std::vector<BroadcastCase>& broadcastCases() {
  static const std::vector<BroadcastCase> cases = {
      {Dims{2, 1, 5}, Dims{3, 1}, Dims{2, 3, 5}},
      {Dims{}, Dims{4, 3}, Dims{4, 3}},
      {Dims{4, 3}, Dims{}, Dims{4, 3}},
      {Dims{1}, Dims{4, 3}, Dims{4, 3}},
      {Dims{4, 1}, Dims{1, 3}, Dims{4, 3}},
      {Dims{3, 1, 1, 2}, Dims{1, 5, 7, 1}, Dims{3, 5, 7, 2}},
      {Dims{2, 3, 7}, Dims{2, 3, 7}, Dims{2, 3, 7}},
      {Dims{7}, Dims{2, 1, 7}, Dims{2, 1, 7}},
      {Dims{0, 3}, Dims{1, 3}, Dims{0, 3}},
      {Dims{}, Dims{}, Dims{}},
  };
  return cases;
}

std::vector<int32_t> randomInts(int64_t n, uint32_t seed, int32_t lo, int32_t hi) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> dist(lo, hi);
  std::vector<int32_t> v(static_cast<std::size_t>(n));
  for (auto& x : v) x = dist(rng);
  return v;
}

TEST(ElementWise, FloatBroadcastEveryOperation) {
  uint32_t seed = 1;
  for (const auto& c : broadcastCases()) {
    SCOPED_TRACE(toString(c.a) + " with " + toString(c.b));
    for (Op op : {Op::kSUM, Op::kPROD, Op::kMAX, Op::kMIN, Op::kSUB, Op::kDIV, Op::kPOW,
                  Op::kFLOOR_DIV, Op::kEQUAL, Op::kGREATER, Op::kLESS}) {
      SCOPED_TRACE(static_cast<int>(op));
      auto a = randomTensor(c.a, seed++, op == Op::kPOW ? 0.1f : -3.f, 3.f);
      auto b = randomTensor(c.b, seed++, -3.f, 3.f);
      if (isComparison(op)) {  // some exact ties
        for (auto& v : a.as<float>()) v = std::round(v);
        for (auto& v : b.as<float>()) v = std::round(v);
      }
      auto y = runBinary(a, b, op);
      ASSERT_EQ(y.dims, c.out);
      std::vector<float> expected;
      for (int64_t i = 0; i < volume(c.out); ++i) {
        expected.push_back(refFloat(op, a.as<float>()[broadcastOffset(c.out, c.a, i)],
                                    b.as<float>()[broadcastOffset(c.out, c.b, i)]));
      }
      expectClose(isComparison(op) ? boolsAsFloats(y) : y.floats(), expected, 0, 1e-6);
    }
  }
}

TEST(ElementWise, IntBroadcastEveryOperation) {
  uint32_t seed = 100;
  for (const auto& c : broadcastCases()) {
    SCOPED_TRACE(toString(c.a) + " with " + toString(c.b));
    for (Op op : {Op::kSUM, Op::kPROD, Op::kMAX, Op::kMIN, Op::kSUB, Op::kDIV, Op::kPOW,
                  Op::kFLOOR_DIV, Op::kEQUAL, Op::kGREATER, Op::kLESS}) {
      SCOPED_TRACE(static_cast<int>(op));
      const bool divides = op == Op::kDIV || op == Op::kFLOOR_DIV;
      auto av = randomInts(volume(c.a), seed++, -50, 50);
      auto bv = randomInts(volume(c.b), seed++, op == Op::kPOW ? -3 : -9, op == Op::kPOW ? 7 : 9);
      if (divides) {
        for (auto& v : bv) v = v == 0 ? 1 : v;
      }
      auto y = runBinary(HostTensor::fromInts(c.a, av), HostTensor::fromInts(c.b, bv), op);
      ASSERT_EQ(y.dims, c.out);
      for (int64_t i = 0; i < volume(c.out); ++i) {
        const int32_t x = av[static_cast<std::size_t>(broadcastOffset(c.out, c.a, i))];
        const int32_t w = bv[static_cast<std::size_t>(broadcastOffset(c.out, c.b, i))];
        const int32_t got = isComparison(op) ? y.as<uint8_t>()[static_cast<std::size_t>(i)]
                                             : y.as<int32_t>()[static_cast<std::size_t>(i)];
        ASSERT_EQ(got, refInt(op, x, w)) << x << " op " << w << " at " << i;
      }
    }
  }
}

TEST(ElementWise, BoolBroadcast) {
  uint32_t seed = 500;
  for (const auto& c : broadcastCases()) {
    SCOPED_TRACE(toString(c.a) + " with " + toString(c.b));
    for (Op op : kLogical) {
      const auto av = randomInts(volume(c.a), seed++, 0, 1);
      const auto bv = randomInts(volume(c.b), seed++, 0, 1);
      HostTensor a(DataType::kBOOL, c.a);
      HostTensor b(DataType::kBOOL, c.b);
      for (std::size_t i = 0; i < av.size(); ++i) a.as<uint8_t>()[i] = static_cast<uint8_t>(av[i]);
      for (std::size_t i = 0; i < bv.size(); ++i) b.as<uint8_t>()[i] = static_cast<uint8_t>(bv[i]);
      auto y = runBinary(a, b, op);
      ASSERT_EQ(y.dims, c.out);
      ASSERT_EQ(y.dtype, DataType::kBOOL);
      for (int64_t i = 0; i < volume(c.out); ++i) {
        const bool x = av[static_cast<std::size_t>(broadcastOffset(c.out, c.a, i))] != 0;
        const bool w = bv[static_cast<std::size_t>(broadcastOffset(c.out, c.b, i))] != 0;
        ASSERT_EQ(y.as<uint8_t>()[static_cast<std::size_t>(i)], refBool(op, x, w)) << i;
      }
    }
  }
}

TEST(ElementWise, SetOperationChangesTheBuiltLayer) {
  NetworkFixture f;
  auto a = f.net().addInput("a", DataType::kFLOAT, Dims{3});
  auto b = f.net().addInput("b", DataType::kFLOAT, Dims{3});
  auto layer = f.net().addElementWise(a, b, Op::kSUM);
  ASSERT_TRUE(layer);
  layer.setOperation(Op::kSUB);
  EXPECT_EQ(layer.operation(), Op::kSUB);
  EXPECT_EQ(f.net().layer(0).as<ElementWiseLayer>().operation(), Op::kSUB);
  f.net().markOutput(layer.output(0));
  auto out = f.run({HostTensor::fromFloats(Dims{3}, std::vector<float>{5, 6, 7}),
                    HostTensor::fromFloats(Dims{3}, std::vector<float>{1, 2, 3})});
  ASSERT_EQ(out.size(), 1u);
  expectClose(out[0].floats(), std::vector<float>{4, 4, 4});
}

TEST(ElementWise, SetOperationToAnInvalidOneFailsTheBuild) {
  NetworkFixture f;
  auto a = f.net().addInput("a", DataType::kFLOAT, Dims{3});
  auto layer = f.net().addElementWise(a, a, Op::kSUM);
  ASSERT_TRUE(layer);
  layer.setOperation(Op::kAND);  // valid enum, but not for float inputs
  f.net().markOutput(layer.output(0));
  auto config = f.builder.createBuilderConfig();
  EXPECT_TRUE(f.builder.buildSerializedNetwork(f.net(), *config).empty());
  EXPECT_TRUE(f.logger.hasError("AND needs bool inputs")) << f.logger.errors();
}

// --- errors ----------------------------------------------------------------------------------

// The inputs of the bad layers. Each bad layer gets a network of its own, so that the errors
// logged there are its alone.
struct BadInputs : NetworkFixture {
  Tensor x = net().addInput("x", DataType::kFLOAT, Dims{2, 3});
  Tensor i = net().addInput("i", DataType::kINT32, Dims{2, 3});
  Tensor z = net().addInput("z", DataType::kFLOAT, Dims{4});
  Tensor flag = net().addInput("flag", DataType::kBOOL, Dims{2, 3});
};

// Expects @p layer, the first layer of @p n, to be invalid with an error that names it and
// contains @p text.
void expectInvalid(NetworkFixture& n, const Layer& layer, std::string_view text) {
  expectInvalidLayer(n, layer, text);
  EXPECT_TRUE(n.logger.hasError("layer 'ElementWise_0' (ElementWise): ")) << n.logger.errors();
}

TEST(ElementWise, RejectsBadConfigurations) {
  // Input types and shapes that do not suit the operation: setOperation or new input shapes
  // could still fix them, so they are reported when the layer's shapes are needed.
  {
    BadInputs n;
    expectInvalid(n, n.net().addElementWise(n.x, n.i, Op::kSUM), "different types");
  }
  {
    BadInputs n;
    expectInvalid(n, n.net().addElementWise(n.x, n.z, Op::kPROD), "do not broadcast");
  }
  {
    BadInputs n;
    expectInvalid(n, n.net().addElementWise(n.x, n.x, Op::kAND), "AND needs bool inputs");
  }
  {
    BadInputs n;
    expectInvalid(n, n.net().addElementWise(n.flag, n.flag, Op::kSUM),
                  "SUM needs float32 or int32");
  }
  {
    BadInputs n;
    expectInvalid(n, n.net().addElementWise(n.flag, n.flag, Op::kLESS),
                  "LESS needs float32 or int32");
  }

  // Bad arguments are refused at once.
  BadInputs f;
  auto& x = f.x;
  EXPECT_FALSE(f.net().addElementWise(x, x, static_cast<Op>(18)));
  EXPECT_TRUE(
      f.logger.hasError("layer 'ElementWise_0' (ElementWise): unknown element-wise "
                        "operation 18"))
      << f.logger.errors();
  f.logger.clear();
  EXPECT_FALSE(f.net().addElementWise(x, x, static_cast<Op>(-1)));
  EXPECT_TRUE(f.logger.hasError("unknown element-wise operation -1")) << f.logger.errors();
  f.logger.clear();

  EXPECT_FALSE(f.net().addElementWise(Tensor(), x, Op::kSUM));
  EXPECT_TRUE(f.logger.hasError("input0 is a null tensor")) << f.logger.errors();
  f.logger.clear();

  NetworkFixture other;
  auto foreign = other.net().addInput("w", DataType::kFLOAT, Dims{2, 3});
  EXPECT_FALSE(f.net().addElementWise(x, foreign, Op::kSUM));
  EXPECT_TRUE(f.logger.hasError("input1 belongs to another network")) << f.logger.errors();
  f.logger.clear();

  // Nothing was left behind by the failed calls.
  EXPECT_EQ(f.net().nbLayers(), 0);

  auto good = f.net().addElementWise(x, x, Op::kSUM);
  ASSERT_TRUE(good);
  good.setOperation(static_cast<Op>(99));
  EXPECT_TRUE(f.logger.hasError("unknown element-wise operation 99")) << f.logger.errors();
  EXPECT_EQ(good.operation(), Op::kSUM);

  ElementWiseLayer null;
  EXPECT_EQ(null.operation(), Op::kSUM);
  null.setOperation(Op::kDIV);  // no crash
}

// Builds y = a op b for int32 inputs and runs it; returns enqueueV3's result.
bool runIntExpectingFailure(CapturingLogger& logger, Op op, std::vector<int32_t> a,
                            std::vector<int32_t> b) {
  Builder builder(logger);
  auto network = builder.createNetwork();
  const Dims dims{static_cast<int64_t>(a.size())};
  auto ta = network->addInput("a", DataType::kINT32, dims);
  auto tb = network->addInput("b", DataType::kINT32, dims);
  auto layer = network->addElementWise(ta, tb, op);
  EXPECT_TRUE(layer);
  layer.setName("risky");
  network->markOutput(layer.output(0));
  auto config = builder.createBuilderConfig();
  const auto plan = builder.buildSerializedNetwork(*network, *config);
  EXPECT_FALSE(plan.empty()) << logger.errors();
  Runtime runtime(logger);
  auto engine = runtime.deserialize(plan);
  if (!engine) {
    ADD_FAILURE() << logger.errors();
    return true;
  }
  auto context = engine->createExecutionContext();
  std::vector<int32_t> y(a.size());
  context->setTensorAddress("a", a.data());
  context->setTensorAddress("b", b.data());
  context->setTensorAddress(layer.output(0).name(), y.data());
  return context->enqueueV3();
}

TEST(ElementWise, IntDivisionByZeroFailsInferenceNamingTheLayer) {
  for (Op op : {Op::kDIV, Op::kFLOOR_DIV}) {
    CapturingLogger logger;
    EXPECT_FALSE(runIntExpectingFailure(logger, op, {4, 5, 6}, {1, 0, 2}));
    EXPECT_TRUE(logger.hasError("layer 'risky'")) << logger.errors();
    EXPECT_TRUE(logger.hasError("division by zero")) << logger.errors();
    EXPECT_TRUE(logger.hasError(op == Op::kDIV ? "DIV" : "FLOOR_DIV")) << logger.errors();
  }
  CapturingLogger logger;
  EXPECT_FALSE(runIntExpectingFailure(logger, Op::kPOW, {2, 0}, {1, -1}));
  EXPECT_TRUE(logger.hasError("layer 'risky'")) << logger.errors();
  EXPECT_TRUE(logger.hasError("negative int32 power")) << logger.errors();

  CapturingLogger fine;
  EXPECT_TRUE(runIntExpectingFailure(fine, Op::kDIV, {4, 5}, {1, 2})) << fine.errors();
}

}  // namespace
}  // namespace kiln::test
