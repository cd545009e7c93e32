// Unary: every operation on hand-picked values (zeros, signs, halves, inf, NaN, domain edges),
// the int32 and bool paths, odd and empty shapes, and the rejected configurations.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>
#include <vector>

#include "support/test_util.h"

namespace kiln::test {
namespace {

using Op = UnaryOperation;

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNan = std::numeric_limits<float>::quiet_NaN();
constexpr int32_t kIntMin = std::numeric_limits<int32_t>::min();
constexpr int32_t kIntMax = std::numeric_limits<int32_t>::max();

constexpr Op kFloatOps[] = {Op::kEXP,   Op::kLOG,  Op::kSQRT,  Op::kRECIP, Op::kABS,   Op::kNEG,
                            Op::kSIN,   Op::kCOS,  Op::kTAN,   Op::kSINH,  Op::kCOSH,  Op::kASIN,
                            Op::kACOS,  Op::kATAN, Op::kASINH, Op::kACOSH, Op::kATANH, Op::kCEIL,
                            Op::kFLOOR, Op::kERF,  Op::kSIGN,  Op::kROUND};

double reference(Op op, double x) {
  switch (op) {
    case Op::kEXP:
      return std::exp(x);
    case Op::kLOG:
      return std::log(x);
    case Op::kSQRT:
      return std::sqrt(x);
    case Op::kRECIP:
      return 1.0 / x;
    case Op::kABS:
      return std::fabs(x);
    case Op::kNEG:
      return -x;
    case Op::kSIN:
      return std::sin(x);
    case Op::kCOS:
      return std::cos(x);
    case Op::kTAN:
      return std::tan(x);
    case Op::kSINH:
      return std::sinh(x);
    case Op::kCOSH:
      return std::cosh(x);
    case Op::kASIN:
      return std::asin(x);
    case Op::kACOS:
      return std::acos(x);
    case Op::kATAN:
      return std::atan(x);
    case Op::kASINH:
      return std::asinh(x);
    case Op::kACOSH:
      return std::acosh(x);
    case Op::kATANH:
      return std::atanh(x);
    case Op::kCEIL:
      return std::ceil(x);
    case Op::kFLOOR:
      return std::floor(x);
    case Op::kERF:
      return std::erf(x);
    case Op::kSIGN:
      return std::isnan(x) ? x : (x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0);
    case Op::kROUND:
      return std::nearbyint(x);
    default:
      ADD_FAILURE() << "no reference";
      return 0;
  }
}

HostTensor runUnary(const HostTensor& x, Op op) {
  NetworkFixture f;
  auto input = f.net().addInput("x", x.dtype, x.dims);
  auto layer = f.net().addUnary(input, op);
  if (!layer) {
    ADD_FAILURE() << "addUnary failed: " << f.logger.errors();
    return {};
  }
  EXPECT_EQ(layer.operation(), op);
  f.net().markOutput(layer.output(0));
  auto outputs = f.run({x});
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();
  if (outputs.size() != 1) return {};
  return outputs[0];
}

const std::vector<float> kEdgeValues = {0.f,   -0.f,  0.5f, -0.5f, 1.5f,  2.5f, -2.5f,
                                        3.5f,  1.f,   -1.f, 0.9f,  -0.9f, 3.f,  -3.f,
                                        100.f, 1e-3f, kInf, -kInf, kNan,  2.f,  -7.25f};

TEST(Unary, EveryFloatOperationOnEdgeValues) {
  const Dims dims{static_cast<int64_t>(kEdgeValues.size())};
  for (Op op : kFloatOps) {
    SCOPED_TRACE(static_cast<int>(op));
    auto y = runUnary(HostTensor::fromFloats(dims, kEdgeValues), op);
    ASSERT_EQ(y.dtype, DataType::kFLOAT);
    ASSERT_EQ(y.dims, dims);
    std::vector<float> expected;
    for (float v : kEdgeValues) expected.push_back(static_cast<float>(reference(op, v)));
    expectClose(y.floats(), expected, 0, 1e-6);
  }
}

TEST(Unary, SpotChecks) {
  const Dims dims{7};
  const std::vector<float> x = {0.5f, 1.5f, 2.5f, -2.5f, -0.5f, 3.7f, -3.7f};
  expectClose(runUnary(HostTensor::fromFloats(dims, x), Op::kROUND).floats(),
              std::vector<float>{0, 2, 2, -2, -0.f, 4, -4}, 0, 0, "round half to even");
  expectClose(runUnary(HostTensor::fromFloats(dims, x), Op::kCEIL).floats(),
              std::vector<float>{1, 2, 3, -2, -0.f, 4, -3}, 0, 0, "ceil");
  expectClose(runUnary(HostTensor::fromFloats(dims, x), Op::kFLOOR).floats(),
              std::vector<float>{0, 1, 2, -3, -1, 3, -4}, 0, 0, "floor");
  const Dims four{4};
  const std::vector<float> domain = {-1.f, 0.f, 2.f, kNan};
  expectClose(runUnary(HostTensor::fromFloats(four, domain), Op::kLOG).floats(),
              std::vector<float>{kNan, -kInf, std::log(2.f), kNan}, 0, 1e-6, "log");
  expectClose(runUnary(HostTensor::fromFloats(four, domain), Op::kRECIP).floats(),
              std::vector<float>{-1.f, kInf, 0.5f, kNan}, 0, 0, "recip");
  expectClose(runUnary(HostTensor::fromFloats(four, domain), Op::kSIGN).floats(),
              std::vector<float>{-1.f, 0.f, 1.f, kNan}, 0, 0, "sign");
}

TEST(Unary, IsInfIsNanGiveBool) {
  const Dims dims{static_cast<int64_t>(kEdgeValues.size())};
  for (Op op : {Op::kISINF, Op::kISNAN}) {
    auto y = runUnary(HostTensor::fromFloats(dims, kEdgeValues), op);
    ASSERT_EQ(y.dtype, DataType::kBOOL);
    for (std::size_t i = 0; i < kEdgeValues.size(); ++i) {
      const bool expected =
          op == Op::kISINF ? std::isinf(kEdgeValues[i]) : std::isnan(kEdgeValues[i]);
      EXPECT_EQ(y.as<uint8_t>()[i], expected ? 1 : 0) << i;
    }
  }
}

TEST(Unary, IntAbsNegSign) {
  const std::vector<int32_t> x = {0, 1, -1, 7, -7, kIntMax, kIntMin, kIntMin + 1};
  const Dims dims{static_cast<int64_t>(x.size())};
  const std::vector<std::pair<Op, std::vector<int32_t>>> cases = {
      {Op::kABS, {0, 1, 1, 7, 7, kIntMax, kIntMin, kIntMax}},  // |INT32_MIN| wraps
      {Op::kNEG, {0, -1, 1, -7, 7, kIntMin + 1, kIntMin, kIntMax}},
      {Op::kSIGN, {0, 1, -1, 1, -1, 1, -1, -1}},
  };
  for (const auto& [op, expected] : cases) {
    SCOPED_TRACE(static_cast<int>(op));
    auto y = runUnary(HostTensor::fromInts(dims, x), op);
    ASSERT_EQ(y.dtype, DataType::kINT32);
    const auto got = y.as<int32_t>();
    EXPECT_EQ(std::vector<int32_t>(got.begin(), got.end()), expected);
  }
}

TEST(Unary, NotOnBool) {
  HostTensor x(DataType::kBOOL, Dims{2, 3});
  const uint8_t bytes[] = {0, 1, 1, 0, 5, 0};
  for (int i = 0; i < 6; ++i) x.as<uint8_t>()[i] = bytes[i];
  auto y = runUnary(x, Op::kNOT);
  ASSERT_EQ(y.dtype, DataType::kBOOL);
  ASSERT_EQ(y.dims, (Dims{2, 3}));
  const auto got = y.as<uint8_t>();
  EXPECT_EQ(std::vector<uint8_t>(got.begin(), got.end()), (std::vector<uint8_t>{1, 0, 0, 1, 0, 1}));
}

TEST(Unary, OddScalarAndEmptyShapes) {
  for (const Dims& dims : {Dims{}, Dims{3, 1, 5}, Dims{0, 3}, Dims{1}, Dims{2, 0}}) {
    SCOPED_TRACE(toString(dims));
    const auto x = randomTensor(dims, 7, -2.f, 2.f);
    for (Op op : {Op::kEXP, Op::kSIN, Op::kABS, Op::kROUND}) {
      auto y = runUnary(x, op);
      ASSERT_EQ(y.dims, dims);
      std::vector<float> expected;
      for (float v : x.as<float>()) expected.push_back(static_cast<float>(reference(op, v)));
      expectClose(y.floats(), expected, 0, 1e-6);
    }
    auto b = runUnary(x, Op::kISNAN);
    ASSERT_EQ(b.dims, dims);
    ASSERT_EQ(b.dtype, DataType::kBOOL);
  }
}

TEST(Unary, SetOperation) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{3});
  auto layer = f.net().addUnary(x, Op::kEXP);
  ASSERT_TRUE(layer);
  layer.setOperation(Op::kNEG);
  EXPECT_EQ(layer.operation(), Op::kNEG);
  layer.setOperation(static_cast<Op>(25));
  EXPECT_TRUE(f.logger.hasError("unknown unary operation 25")) << f.logger.errors();
  EXPECT_EQ(layer.operation(), Op::kNEG);
  f.logger.clear();
  f.net().markOutput(layer.output(0));
  auto out = f.run({HostTensor::fromFloats(Dims{3}, std::vector<float>{1, -2, 0})});
  ASSERT_EQ(out.size(), 1u);
  expectClose(out[0].floats(), std::vector<float>{-1, 2, -0.f});
  UnaryLayer null;
  EXPECT_EQ(null.operation(), Op::kEXP);
  null.setOperation(Op::kABS);  // no crash
}

// The inputs of the bad layers. Each bad layer gets a network of its own, so that the errors
// logged there are its alone.
struct BadInputs : NetworkFixture {
  Tensor x = net().addInput("x", DataType::kFLOAT, Dims{2, 3});
  Tensor i = net().addInput("i", DataType::kINT32, Dims{2, 3});
  Tensor flag = net().addInput("flag", DataType::kBOOL, Dims{2, 3});
};

// Expects @p layer, the first layer of @p n, to be invalid with an error that names it and
// contains @p text.
void expectInvalid(NetworkFixture& n, const Layer& layer, std::string_view text) {
  expectInvalidLayer(n, layer, text);
  EXPECT_TRUE(n.logger.hasError("layer 'Unary_0' (Unary): ")) << n.logger.errors();
}

TEST(Unary, RejectsBadConfigurations) {
  // Input types the operation does not take: setOperation or a new input type could still fix
  // them, so they are reported when the layer's shapes are needed.
  {
    BadInputs n;
    expectInvalid(n, n.net().addUnary(n.x, Op::kNOT), "NOT needs a bool input, not float32");
  }
  for (Op op : {Op::kEXP, Op::kSQRT, Op::kROUND, Op::kISNAN, Op::kISINF, Op::kFLOOR}) {
    BadInputs n;
    expectInvalid(n, n.net().addUnary(n.i, op), "needs a float32 input, not int32");
  }
  for (Op op : {Op::kABS, Op::kNEG, Op::kSIGN}) {
    BadInputs n;
    expectInvalid(n, n.net().addUnary(n.flag, op), "needs a float32 or int32 input, not bool");
  }
  {
    BadInputs n;
    expectInvalid(n, n.net().addUnary(n.flag, Op::kEXP), "needs a float32 input, not bool");
  }

  // Bad arguments are refused at once.
  BadInputs f;
  auto& x = f.x;
  EXPECT_FALSE(f.net().addUnary(x, static_cast<Op>(25)));
  EXPECT_TRUE(f.logger.hasError("layer 'Unary_0' (Unary): unknown unary operation 25"))
      << f.logger.errors();
  f.logger.clear();
  EXPECT_FALSE(f.net().addUnary(x, static_cast<Op>(-3)));
  EXPECT_TRUE(f.logger.hasError("unknown unary operation -3")) << f.logger.errors();
  f.logger.clear();

  EXPECT_FALSE(f.net().addUnary(Tensor(), Op::kEXP));
  EXPECT_TRUE(f.logger.hasError("input is a null tensor")) << f.logger.errors();
  f.logger.clear();

  NetworkFixture other;
  EXPECT_FALSE(f.net().addUnary(other.net().addInput("y", DataType::kFLOAT, Dims{1}), Op::kEXP));
  EXPECT_TRUE(f.logger.hasError("belongs to another network")) << f.logger.errors();

  EXPECT_EQ(f.net().nbLayers(), 0);
}

}  // namespace
}  // namespace kiln::test
