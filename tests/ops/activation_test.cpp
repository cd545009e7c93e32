// Activation through the public API and the whole pipeline (build, plan round trip, run):
// every type, with its default and with custom alpha / beta, against the documented formulas.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <numbers>
#include <optional>
#include <ostream>
#include <vector>

#include "support/test_util.h"

namespace kiln::test {
namespace {

using AT = ActivationType;

// The formulas of include/kiln/network.h, written out independently of the kernel.
double expectedActivation(AT type, double x, double alpha, double beta) {
  switch (type) {
    case AT::kRELU:
      return std::max(x, 0.0);
    case AT::kSIGMOID:
      return 1 / (1 + std::exp(-x));
    case AT::kTANH:
      return std::tanh(x);
    case AT::kLEAKY_RELU:
      return x >= 0 ? x : alpha * x;
    case AT::kELU:
      return x >= 0 ? x : alpha * (std::exp(x) - 1);
    case AT::kSELU:
      return beta * (x >= 0 ? x : alpha * (std::exp(x) - 1));
    case AT::kSOFTSIGN:
      return x / (1 + std::abs(x));
    case AT::kSOFTPLUS:
      return alpha * std::log(std::exp(beta * x) + 1);
    case AT::kCLIP:
      return std::min(std::max(x, alpha), beta);
    case AT::kHARD_SIGMOID:
      return std::max(0.0, std::min(1.0, alpha * x + beta));
    case AT::kSCALED_TANH:
      return alpha * std::tanh(beta * x);
    case AT::kTHRESHOLDED_RELU:
      return x > alpha ? x : 0;
    case AT::kGELU_ERF:
      return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
    case AT::kGELU_TANH:
      return 0.5 * x *
             (1 + std::tanh(std::sqrt(2 / std::numbers::pi) * (x + 0.044715 * std::pow(x, 3))));
    case AT::kSILU:
      return x / (1 + std::exp(-x));
    case AT::kHARD_SWISH:
      return x * std::max(0.0, std::min(1.0, x / 6 + 0.5));
  }
  ADD_FAILURE() << "unknown type";
  return 0;
}

// TensorRT's documented defaults.
struct Defaults {
  double alpha;
  double beta;
};
Defaults defaultsOf(AT type) {
  switch (type) {
    case AT::kLEAKY_RELU:
      return {0.01, 0};
    case AT::kELU:
      return {1, 0};
    case AT::kSELU:
      return {1.6732632423543772, 1.0507009873554805};
    case AT::kSOFTPLUS:
      return {1, 1};
    case AT::kHARD_SIGMOID:
      return {0.2, 0.5};
    case AT::kSCALED_TANH:
      return {1, 1};
    case AT::kTHRESHOLDED_RELU:
      return {1, 0};
    default:
      return {0, 0};
  }
}

struct ActivationCase {
  AT type;
  std::optional<float> alpha = std::nullopt;  // unset: the default
  std::optional<float> beta = std::nullopt;
};

void PrintTo(const ActivationCase& c, std::ostream* os) {
  *os << "type " << static_cast<int>(c.type);
  if (c.alpha) *os << " alpha " << *c.alpha;
  if (c.beta) *os << " beta " << *c.beta;
}

// Random values in [-4, 4) with the interesting points (0, +-1 = default thresholds, +-0.5) first.
HostTensor activationInput() {
  const Dims dims{3, 5, 8};
  auto values = randomFloats(volume(dims), 51, -4.f, 4.f);
  const std::vector<float> special = {0.f, -0.f, 1.f, -1.f, 0.5f, -0.5f, 3.99f, -3.99f};
  std::copy(special.begin(), special.end(), values.begin());
  return HostTensor::fromFloats(dims, values);
}

class ActivationTypes : public ::testing::TestWithParam<ActivationCase> {};

TEST_P(ActivationTypes, MatchesFormula) {
  const ActivationCase& c = GetParam();
  const Defaults d = defaultsOf(c.type);
  const double alpha = c.alpha ? static_cast<double>(*c.alpha) : d.alpha;
  const double beta = c.beta ? static_cast<double>(*c.beta) : d.beta;

  NetworkFixture f;
  const auto in = activationInput();
  auto x = f.net().addInput("x", DataType::kFLOAT, in.dims);
  auto act = f.net().addActivation(x, c.type);
  ASSERT_TRUE(act) << f.logger.errors();
  EXPECT_EQ(act.activationType(), c.type);
  EXPECT_FLOAT_EQ(act.alpha(), static_cast<float>(d.alpha));
  EXPECT_FLOAT_EQ(act.beta(), static_cast<float>(d.beta));
  if (c.alpha) act.setAlpha(*c.alpha);
  if (c.beta) act.setBeta(*c.beta);
  EXPECT_FLOAT_EQ(act.alpha(), static_cast<float>(alpha));
  EXPECT_FLOAT_EQ(act.beta(), static_cast<float>(beta));
  f.net().markOutput(act.output(0));

  const auto out = f.run({in});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, in.dims);
  std::vector<float> expected;
  for (float v : in.floats()) {
    expected.push_back(static_cast<float>(expectedActivation(c.type, v, alpha, beta)));
  }
  expectClose(out[0].floats(), expected, 1e-6, 1e-5);
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();
}

INSTANTIATE_TEST_SUITE_P(
    Defaults, ActivationTypes,
    ::testing::Values(ActivationCase{AT::kRELU}, ActivationCase{AT::kSIGMOID},
                      ActivationCase{AT::kTANH}, ActivationCase{AT::kLEAKY_RELU},
                      ActivationCase{AT::kELU}, ActivationCase{AT::kSELU},
                      ActivationCase{AT::kSOFTSIGN}, ActivationCase{AT::kSOFTPLUS},
                      ActivationCase{AT::kCLIP}, ActivationCase{AT::kHARD_SIGMOID},
                      ActivationCase{AT::kSCALED_TANH}, ActivationCase{AT::kTHRESHOLDED_RELU},
                      ActivationCase{AT::kGELU_ERF}, ActivationCase{AT::kGELU_TANH},
                      ActivationCase{AT::kSILU}, ActivationCase{AT::kHARD_SWISH}));

// alpha / beta are ignored by the types that take none; they must stay ignored.
INSTANTIATE_TEST_SUITE_P(
    Custom, ActivationTypes,
    ::testing::Values(
        ActivationCase{AT::kRELU, 0.7f, 2.f}, ActivationCase{AT::kSIGMOID, 0.7f, 2.f},
        ActivationCase{AT::kTANH, 0.7f, 2.f}, ActivationCase{AT::kLEAKY_RELU, 0.3f, std::nullopt},
        ActivationCase{AT::kELU, 0.4f, std::nullopt}, ActivationCase{AT::kSELU, 1.2f, 0.9f},
        ActivationCase{AT::kSELU, std::nullopt, 2.f}, ActivationCase{AT::kSOFTSIGN, 0.7f, 2.f},
        ActivationCase{AT::kSOFTPLUS, 0.5f, 2.f},
        ActivationCase{AT::kSOFTPLUS, std::nullopt, 0.25f}, ActivationCase{AT::kCLIP, -0.5f, 0.75f},
        ActivationCase{AT::kCLIP, -6.f, 6.f}, ActivationCase{AT::kHARD_SIGMOID, 0.3f, 0.4f},
        ActivationCase{AT::kSCALED_TANH, 1.7159f, 0.6667f},
        ActivationCase{AT::kTHRESHOLDED_RELU, 0.5f, std::nullopt},
        ActivationCase{AT::kTHRESHOLDED_RELU, -1.f, std::nullopt},
        ActivationCase{AT::kGELU_ERF, 0.7f, 2.f}, ActivationCase{AT::kGELU_TANH, 0.7f, 2.f},
        ActivationCase{AT::kSILU, 0.7f, 2.f}, ActivationCase{AT::kHARD_SWISH, 0.7f, 2.f}));

// Runs one activation on @p values (shape [n]) and returns the output.
std::vector<float> runOne(AT type, const std::vector<float>& values,
                          std::optional<float> alpha = {}, std::optional<float> beta = {}) {
  NetworkFixture f;
  const Dims dims{static_cast<int64_t>(values.size())};
  auto x = f.net().addInput("x", DataType::kFLOAT, dims);
  auto act = f.net().addActivation(x, type);
  EXPECT_TRUE(act) << f.logger.errors();
  if (!act) return {};
  if (alpha) act.setAlpha(*alpha);
  if (beta) act.setBeta(*beta);
  f.net().markOutput(act.output(0));
  const auto out = f.run({HostTensor::fromFloats(dims, values)});
  return out.size() == 1 ? out[0].floats() : std::vector<float>{};
}

TEST(Activation, SaturatingInputsGiveLimits) {
  const std::vector<float> big = {-1000.f, 1000.f, -1e30f, 1e30f};
  expectClose(runOne(AT::kSIGMOID, big), std::vector<float>{0, 1, 0, 1});
  expectClose(runOne(AT::kTANH, big), std::vector<float>{-1, 1, -1, 1});
  expectClose(runOne(AT::kSOFTSIGN, big), std::vector<float>{-1000.f / 1001, 1000.f / 1001, -1, 1});
  // softplus(x) -> x for large x (exp(x) alone would overflow to inf).
  expectClose(runOne(AT::kSOFTPLUS, big), std::vector<float>{0, 1000, 0, 1e30f});
  expectClose(runOne(AT::kSOFTPLUS, big, 2.f, 3.f), std::vector<float>{0, 6000, 0, 6e30f});
  expectClose(runOne(AT::kGELU_ERF, big), std::vector<float>{0, 1000, 0, 1e30f});
  expectClose(runOne(AT::kHARD_SIGMOID, big), std::vector<float>{0, 1, 0, 1});
}

TEST(Activation, EmptyAndScalarInputs) {
  NetworkFixture f;
  auto e = f.net().addInput("e", DataType::kFLOAT, Dims{2, 0});
  auto s = f.net().addInput("s", DataType::kFLOAT, Dims{});
  auto ae = f.net().addActivation(e, AT::kTANH);
  auto as = f.net().addActivation(s, AT::kRELU);
  ASSERT_TRUE(ae && as) << f.logger.errors();
  f.net().markOutput(ae.output(0));
  f.net().markOutput(as.output(0));
  const std::vector<float> sv = {-2.5f};
  const auto out =
      f.run({HostTensor(DataType::kFLOAT, Dims{2, 0}), HostTensor::fromFloats(Dims{}, sv)});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].dims, (Dims{2, 0}));
  EXPECT_EQ(out[0].count(), 0);
  EXPECT_EQ(out[1].dims, Dims{});
  expectClose(out[1].floats(), std::vector<float>{0});
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();
}

TEST(Activation, ChangingTheTypeChangesDefaultsAndResult) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{3});
  auto act = f.net().addActivation(x, AT::kRELU);
  ASSERT_TRUE(act) << f.logger.errors();
  act.setActivationType(AT::kHARD_SIGMOID);
  EXPECT_EQ(act.activationType(), AT::kHARD_SIGMOID);
  EXPECT_FLOAT_EQ(act.alpha(), 0.2f);
  EXPECT_FLOAT_EQ(act.beta(), 0.5f);
  f.net().markOutput(act.output(0));
  const std::vector<float> in = {-1, 0, 1};
  const auto out = f.run({HostTensor::fromFloats(Dims{3}, in)});
  ASSERT_EQ(out.size(), 1u);
  expectClose(out[0].floats(), std::vector<float>{0.3f, 0.5f, 0.7f});
}

TEST(Activation, RejectsBadInputsAndTypesNamingTheLayer) {
  {
    // A shape-level problem: the layer may be kept (a later setInput could fix it), but its
    // shapes are invalid and the error names it.
    NetworkFixture ints;
    auto xi = ints.net().addInput("xi", DataType::kINT32, Dims{4});
    expectInvalidLayer(ints, ints.net().addActivation(xi, AT::kRELU),
                       "layer 'Activation_0' (Activation)");
    EXPECT_TRUE(ints.logger.hasError("float32")) << ints.logger.errors();
    EXPECT_TRUE(ints.logger.hasError("addCast")) << ints.logger.errors();
  }

  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{4});
  EXPECT_FALSE(f.net().addActivation(x, static_cast<AT>(42)));
  EXPECT_TRUE(f.logger.hasError("unknown activation type 42")) << f.logger.errors();
  f.logger.clear();
  EXPECT_FALSE(f.net().addActivation(x, static_cast<AT>(-1)));
  EXPECT_TRUE(f.logger.hasError("unknown activation type -1")) << f.logger.errors();
  f.logger.clear();

  EXPECT_FALSE(f.net().addActivation(Tensor(), AT::kRELU));
  EXPECT_TRUE(f.logger.hasError("null")) << f.logger.errors();
  f.logger.clear();

  NetworkFixture other;
  EXPECT_FALSE(
      f.net().addActivation(other.net().addInput("y", DataType::kFLOAT, Dims{2}), AT::kRELU));
  EXPECT_TRUE(f.logger.hasError("another network")) << f.logger.errors();
  EXPECT_EQ(f.net().nbLayers(), 0);
  f.logger.clear();

  // A bad type set after creation fails the build, naming the layer.
  auto act = f.net().addActivation(x, AT::kRELU);
  ASSERT_TRUE(act) << f.logger.errors();
  act.setName("act");
  act.setActivationType(static_cast<AT>(99));
  f.net().markOutput(act.output(0));
  auto config = f.builder.createBuilderConfig();
  EXPECT_TRUE(f.builder.buildSerializedNetwork(f.net(), *config).empty());
  EXPECT_TRUE(f.logger.hasError("layer 'act' (Activation): unknown activation type 99"))
      << f.logger.errors();
}

TEST(Activation, NullLayerHandleIsHarmless) {
  ActivationLayer act;
  EXPECT_FALSE(act);
  act.setAlpha(1.f);
  act.setActivationType(AT::kELU);
  EXPECT_EQ(act.activationType(), AT::kRELU);
  EXPECT_FLOAT_EQ(act.alpha(), 0.f);
}

}  // namespace
}  // namespace kiln::test
