// DFTLayer (ONNX DFT): forward and inverse transforms along any axis, real and complex input,
// onesided output, cut or zero-padded lengths, and the shape errors.
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <numbers>
#include <vector>

#include "support/test_util.h"

namespace kiln::test {
namespace {

// The textbook sum, for [outer, N, inner, parts] data.
std::vector<float> naiveDft(const std::vector<float>& x, int64_t outer, int64_t n, int64_t inner,
                            int64_t parts, int64_t length, int64_t outputs, bool inverse) {
  std::vector<float> y(static_cast<std::size_t>(outer * outputs * inner * 2));
  const double sign = inverse ? 1.0 : -1.0;
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      for (int64_t k = 0; k < outputs; ++k) {
        std::complex<double> sum = 0;
        for (int64_t t = 0; t < std::min(n, length); ++t) {
          const auto at = static_cast<std::size_t>(((o * n + t) * inner + i) * parts);
          const std::complex<double> v(x[at], parts == 2 ? x[at + 1] : 0.0);
          const double angle = sign * 2 * std::numbers::pi * static_cast<double>(k * t) /
                               static_cast<double>(length);
          sum += v * std::polar(1.0, angle);
        }
        if (inverse) sum /= static_cast<double>(length);
        const auto at = static_cast<std::size_t>(((o * outputs + k) * inner + i) * 2);
        y[at] = static_cast<float>(sum.real());
        y[at + 1] = static_cast<float>(sum.imag());
      }
    }
  }
  return y;
}

struct Case {
  Dims dims;
  int32_t axis;
  bool inverse = false;
  bool onesided = false;
  int64_t length = 0;
};

void check(const Case& c) {
  NetworkFixture f;
  Tensor x = f.net().addInput("x", DataType::kFLOAT, c.dims);
  DFTLayer layer = f.net().addDFT(x, c.axis, c.inverse);
  ASSERT_TRUE(layer);
  EXPECT_EQ(layer.type(), LayerType::kDFT);
  layer.setOnesided(c.onesided);
  layer.setLength(c.length);
  f.net().markOutput(layer.output(0));
  const HostTensor in = randomTensor(c.dims, 11);
  const auto out = f.run({in});
  ASSERT_EQ(out.size(), 1u) << f.logger.errors();
  const int32_t rank = c.dims.nbDims;
  const int32_t axis = c.axis < 0 ? c.axis + rank : c.axis;
  int64_t outer = 1;
  int64_t inner = 1;
  for (int32_t d = 0; d < axis; ++d) outer *= c.dims[d];
  for (int32_t d = axis + 1; d < rank - 1; ++d) inner *= c.dims[d];
  const int64_t length = c.length > 0 ? c.length : c.dims[axis];
  const int64_t outputs = c.onesided ? length / 2 + 1 : length;
  EXPECT_EQ(out[0].dims[axis], outputs);
  EXPECT_EQ(out[0].dims[rank - 1], 2);
  expectClose(out[0].floats(),
              naiveDft(in.floats(), outer, c.dims[axis], inner, c.dims[rank - 1], length, outputs,
                       c.inverse),
              1e-4, 1e-4);
}

TEST(DFT, MatchesTheSumOnOddShapes) {
  check({Dims{1, 10, 10, 1}, 1});
  check({Dims{2, 7, 3, 2}, 2});
  check({Dims{3, 5, 2}, -2, true});
  check({Dims{1, 9, 1}, 1, false, true});
  check({Dims{2, 8, 3, 1}, 1, false, true});
  check({Dims{1, 6, 2}, 1, false, false, 9});  // zero-padded
  check({Dims{1, 6, 2}, 1, true, false, 4});   // cut
  check({Dims{5, 1, 1}, 0});                   // the batch axis, length 1
}

TEST(DFT, InverseUndoesForward) {
  NetworkFixture f;
  Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{2, 11, 2});
  DFTLayer forward = f.net().addDFT(x, 1);
  DFTLayer back = f.net().addDFT(forward.output(0), 1, true);
  f.net().markOutput(back.output(0));
  const HostTensor in = randomTensor(Dims{2, 11, 2}, 5);
  const auto out = f.run({in});
  ASSERT_EQ(out.size(), 1u);
  expectClose(out[0].floats(), in.floats(), 1e-5, 1e-4);
}

TEST(DFT, ZeroSizeBatch) {
  NetworkFixture f;
  Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{0, 4, 1});
  DFTLayer layer = f.net().addDFT(x, 1);
  f.net().markOutput(layer.output(0));
  const auto out = f.run({HostTensor(DataType::kFLOAT, Dims{0, 4, 1})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, (Dims{0, 4, 2}));
}

TEST(DFT, RefusesBadSettings) {
  {
    NetworkFixture f;
    Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{2, 4, 3});
    expectInvalidLayer(f, f.net().addDFT(x, 1), "last dimension must be 1 (real) or 2");
  }
  {
    NetworkFixture f;
    Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{2, 4, 2});
    expectInvalidLayer(f, f.net().addDFT(x, 2), "axis 2 is outside");
  }
  {
    NetworkFixture f;
    Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{2, 4, 1});
    DFTLayer layer = f.net().addDFT(x, 1, true);
    layer.setOnesided(true);
    expectInvalidLayer(f, layer, "onesided and inverse");
  }
  {
    NetworkFixture f;
    Tensor x = f.net().addInput("x", DataType::kINT32, Dims{2, 4, 1});
    expectInvalidLayer(f, f.net().addDFT(x, 1), "must be float32");
  }
}

}  // namespace
}  // namespace kiln::test
