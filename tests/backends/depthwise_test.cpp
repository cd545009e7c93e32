// Depthwise convolution tactics (cpu.conv.depthwise.*, the AVX-512 one included where the host has
// it) against the reference kernel: widths around the 16-lane vector (masked tails, taps leaving
// the row on both sides), stride 1 and 2 (the permuted loads), asymmetric and zero padding, a
// taller stride, 5x5 and 7x7 windows, the dilated and stride-3 fallbacks, batches, tiny planes
// done on one thread and large ones shared, and the fused epilogue with a residual.
#include <gtest/gtest.h>

#include "backends/tactic.h"
#include "ops/activation.h"
#include "tactic_check.h"

namespace kiln::test {
namespace {

struct DwCase {
  Dims x;
  Dims kernel;
  Dims stride{};
  Dims dilation{};
  Dims pre{};
  Dims post{};
};

ir::Attributes dwAttrs(const DwCase& c) {
  ir::Attributes a;
  a.set("num_output", c.x[1]);
  a.set("kernel", c.kernel);
  a.set("groups", c.x[1]);
  if (c.stride.nbDims > 0) a.set("stride", c.stride);
  if (c.dilation.nbDims > 0) a.set("dilation", c.dilation);
  if (c.pre.nbDims > 0) a.set("pre_padding", c.pre);
  if (c.post.nbDims > 0) a.set("post_padding", c.post);
  return a;
}

std::vector<CheckInput> dwInputs(const DwCase& c, uint32_t seed, bool constant, bool bias) {
  Dims w;
  w.nbDims = c.kernel.nbDims + 2;
  w[0] = c.x[1];
  w[1] = 1;
  for (int32_t i = 0; i < c.kernel.nbDims; ++i) w[2 + i] = c.kernel[i];
  std::vector<CheckInput> in = {randomInput(c.x, seed), randomInput(w, seed + 1, constant)};
  if (bias) in.push_back(randomInput(shape({c.x[1]}), seed + 2, true));
  return in;
}

int32_t depthwiseTacticsHere() {
  int32_t n = 0;
  for (const auto* t :
       backends::TacticRegistry::instance().candidates("Convolution", DeviceType::kCPU)) {
    n += t->name().find("depthwise") != std::string_view::npos && tacticRunsHere(*t);
  }
  return n;
}

TEST(DepthwiseTactics, ShapesStridesAndPadding) {
  const Dims one = shape({1, 1});
  const Dims two = shape({2, 2});
  const DwCase cases[] = {
      {shape({1, 3, 7, 7}), shape({3, 3}), Dims{}, Dims{}, one, one},
      {shape({1, 5, 14, 14}), shape({3, 3}), Dims{}, Dims{}, one, one},
      {shape({2, 3, 9, 16}), shape({3, 3}), Dims{}, Dims{}, one, one},
      {shape({1, 4, 6, 17}), shape({3, 3}), Dims{}, Dims{}, one, one},
      {shape({1, 2, 5, 40}), shape({3, 3}), Dims{}, Dims{}, one, one},
      {shape({1, 3, 14, 14}), shape({3, 3}), two, Dims{}, one, one},
      {shape({1, 3, 15, 15}), shape({3, 3}), two, Dims{}, one, one},
      {shape({1, 2, 12, 66}), shape({3, 3}), two, Dims{}, one, one},
      {shape({1, 2, 9, 35}), shape({3, 3}), two, Dims{}, shape({0, 0}), shape({1, 1})},
      {shape({1, 3, 8, 19}), shape({3, 3}), Dims{}, Dims{}, shape({0, 2}), shape({2, 0})},
      {shape({1, 2, 8, 20}), shape({3, 3})},
      {shape({1, 2, 11, 21}), shape({3, 3}), shape({3, 1}), Dims{}, one, one},
      {shape({1, 3, 12, 23}), shape({5, 5}), Dims{}, Dims{}, two, two},
      {shape({1, 3, 13, 37}), shape({5, 5}), two, Dims{}, two, two},
      {shape({1, 2, 10, 18}), shape({7, 7}), Dims{}, Dims{}, shape({3, 3}), shape({3, 3})},
      {shape({1, 2, 10, 18}), shape({7, 7}), two, Dims{}, shape({3, 3}), shape({3, 3})},
      {shape({1, 2, 9, 13}), shape({3, 3}), Dims{}, two, two, two},
      {shape({1, 2, 9, 20}), shape({3, 3}), shape({3, 3}), Dims{}, one, one},
      {shape({1, 2, 1, 1}), shape({3, 3}), Dims{}, Dims{}, one, one},
      {shape({1, 3, 2, 3}), shape({1, 1})},
      {shape({1, 4, 30}), shape({3}), shape({2}), Dims{}, shape({1}), shape({1})},
      {shape({0, 3, 5, 5}), shape({3, 3}), Dims{}, Dims{}, one, one},
      // The register-direct 3x3 kernel: masks for padding wider than a tap, none, one-sided;
      // stride-2 rows whose last kept column ends a load, narrow (8-lane) and single-column.
      {shape({1, 2, 6, 16}), shape({3, 3}), Dims{}, Dims{}, two, two},
      {shape({1, 2, 7, 33}), shape({3, 3}), two, Dims{}, shape({0, 2}), shape({2, 0})},
      {shape({1, 2, 9, 32}), shape({3, 3}), two, Dims{}, one, one},
      {shape({1, 2, 9, 17}), shape({3, 3}), two, Dims{}, Dims{}, Dims{}},
      {shape({1, 3, 5, 9}), shape({3, 3}), two, Dims{}, two, two},
      {shape({1, 2, 4, 1}), shape({3, 3}), two, Dims{}, one, one},
      {shape({1, 2, 3, 3}), shape({3, 3})},
      // Square-ish planes of 16 rows, a single row, and padding rows all on one side.
      {shape({1, 2, 16, 16}), shape({3, 3}), Dims{}, Dims{}, one, one},
      {shape({1, 2, 15, 17}), shape({3, 3}), Dims{}, Dims{}, one, one},
      {shape({1, 3, 1, 9}), shape({3, 3}), Dims{}, Dims{}, one, one},
      {shape({1, 2, 5, 6}), shape({3, 3}), Dims{}, Dims{}, shape({2, 1}), shape({0, 1})},
      // Channel blocks of 8 (cpu.conv.depthwise.c8): a partial last block, several blocks and
      // images, rows of whole and partial 8-pixel groups, windows of 5 and 7.
      {shape({1, 13, 7, 7}), shape({3, 3}), Dims{}, Dims{}, one, one},
      {shape({2, 20, 14, 14}), shape({3, 3}), two, Dims{}, one, one},
      {shape({1, 9, 11, 27}), shape({3, 3}), two, Dims{}, shape({0, 0}), shape({1, 1})},
      {shape({1, 17, 10, 16}), shape({5, 5}), Dims{}, Dims{}, two, two},
      {shape({1, 8, 13, 19}), shape({5, 5}), two, Dims{}, two, shape({1, 1})},
      {shape({1, 11, 12, 12}), shape({7, 7}), Dims{}, Dims{}, shape({3, 3}), shape({3, 3})},
      {shape({1, 8, 4, 4}), shape({3, 3}), Dims{}, Dims{}, shape({3, 2}), shape({3, 2})},
      {shape({1, 10, 5, 3}), shape({3, 3}), Dims{}, Dims{}, one, one},
      {shape({1, 12, 9, 2}), shape({3, 3}), two, Dims{}, one, one},
      // Enough work that the planes are shared among the threads.
      {shape({1, 64, 28, 28}), shape({3, 3}), Dims{}, Dims{}, one, one},
      {shape({2, 48, 30, 30}), shape({3, 3}), two, Dims{}, one, one},
  };
  uint32_t seed = 1;
  for (const auto& c : cases) {
    for (bool bias : {true, false}) {
      SCOPED_TRACE(toString(c.x));
      const auto r = checkTactics("Convolution", dwAttrs(c), dwInputs(c, seed, !bias, bias));
      seed += 3;
      EXPECT_GE(r.tactics, 1);
    }
  }
  EXPECT_GE(depthwiseTacticsHere(), 1);
}

TEST(DepthwiseTactics, FusedEpilogue) {
  for (auto type : {ActivationType::kRELU, ActivationType::kLEAKY_RELU, ActivationType::kCLIP,
                    ActivationType::kSIGMOID}) {
    for (int64_t stride : {int64_t{1}, int64_t{2}}) {
      for (int64_t width : {int64_t{21}, int64_t{7}}) {  // 16-lane rows and 8-lane ones
        const DwCase c{shape({2, 5, 9, width}), shape({3, 3}), shape({stride, stride}), Dims{},
                       shape({1, 1}),           shape({1, 1})};
        const ir::Attributes plain = dwAttrs(c);
        ir::Attributes attrs = plain;
        attrs.set("epilogue.activation", type);
        attrs.set("epilogue.alpha", type == ActivationType::kCLIP ? 0.0 : 0.1);
        attrs.set("epilogue.beta", 0.6);
        attrs.set("epilogue.residual", int64_t{3});
        auto in = dwInputs(c, 11, true, true);
        const int64_t oh = stride == 1 ? 9 : 5;
        const int64_t ow = (width - 1) / stride + 1;
        in.push_back(randomInput(shape({2, 5, oh, ow}), 97));
        const auto residual = in[3].values;
        const double alpha = type == ActivationType::kCLIP ? 0.0 : 0.1;
        const auto r =
            checkTactics("Convolution", attrs, in, 2, &plain, [&](std::vector<float>& y) {
              for (std::size_t i = 0; i < y.size(); ++i) {
                y[i] =
                    static_cast<float>(ops::applyActivation(type, y[i] + residual[i], alpha, 0.6));
              }
            });
        EXPECT_GE(r.tactics, 1);
      }
    }
  }
}

}  // namespace
}  // namespace kiln::test
