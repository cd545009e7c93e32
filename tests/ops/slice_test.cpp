// SliceLayer through the whole pipeline (build, plan round trip, run).
#include <gtest/gtest.h>

#include <initializer_list>
#include <string_view>
#include <vector>

#include "support/test_util.h"

namespace kiln::test {
namespace {

bool buildFails(NetworkFixture& f) {
  auto config = f.builder.createBuilderConfig();
  return f.builder.buildEngine(f.net(), *config) == nullptr;
}

// Naive strided slice of a row-major float tensor.
std::vector<float> sliceNaive(const HostTensor& in, const Dims& start, const Dims& size,
                              const Dims& stride) {
  const auto x = in.floats();
  const int32_t rank = in.dims.nbDims;
  std::vector<int64_t> strides(static_cast<std::size_t>(rank), 1);
  for (int32_t k = rank - 1; k > 0; --k) {
    strides[static_cast<std::size_t>(k - 1)] = strides[static_cast<std::size_t>(k)] * in.dims[k];
  }
  std::vector<float> out;
  const int64_t count = volume(size);
  for (int64_t i = 0; i < count; ++i) {
    int64_t rest = i;
    int64_t offset = 0;
    for (int32_t k = rank - 1; k >= 0; --k) {
      const int64_t o = rest % size[k];
      rest /= size[k];
      offset += (start[k] + o * stride[k]) * strides[static_cast<std::size_t>(k)];
    }
    out.push_back(x[static_cast<std::size_t>(offset)]);
  }
  return out;
}

TEST(Slice, HandComputed) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{3, 4});
  auto layer = f.net().addSlice(x, Dims{1, 0}, Dims{2, 2}, Dims{1, 2});
  ASSERT_TRUE(layer);
  f.net().markOutput(layer.output(0));
  std::vector<float> in(12);
  for (int i = 0; i < 12; ++i) in[static_cast<std::size_t>(i)] = static_cast<float>(i);
  auto out = f.run({HostTensor::fromFloats(Dims{3, 4}, in)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, (Dims{2, 2}));
  EXPECT_EQ(out[0].floats(), (std::vector<float>{4, 6, 8, 10}));
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();
}

TEST(Slice, NegativeAndZeroStrides) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{5});
  auto reversed = f.net().addSlice(x, Dims{4}, Dims{5}, Dims{-1});
  auto repeated = f.net().addSlice(x, Dims{2}, Dims{3}, Dims{0});
  auto everyOther = f.net().addSlice(x, Dims{4}, Dims{3}, Dims{-2});
  f.net().markOutput(reversed.output(0));
  f.net().markOutput(repeated.output(0));
  f.net().markOutput(everyOther.output(0));
  auto out = f.run({HostTensor::fromFloats(Dims{5}, std::vector<float>{10, 11, 12, 13, 14})});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].floats(), (std::vector<float>{14, 13, 12, 11, 10}));
  EXPECT_EQ(out[1].floats(), (std::vector<float>{12, 12, 12}));
  EXPECT_EQ(out[2].floats(), (std::vector<float>{14, 12, 10}));
}

TEST(Slice, RandomOddShapesMixedStrides) {
  NetworkFixture f;
  const Dims shape{3, 7, 5, 2};
  const Dims start{2, 1, 4, 0};
  const Dims size{2, 3, 3, 2};
  const Dims stride{-1, 2, -2, 1};
  auto x = f.net().addInput("x", DataType::kFLOAT, shape);
  auto layer = f.net().addSlice(x, Dims{0, 0, 0, 0}, Dims{1, 1, 1, 1}, Dims{1, 1, 1, 1});
  // Settings changed after creation are what the build uses.
  layer.setStart(start);
  layer.setSize(size);
  layer.setStride(stride);
  EXPECT_EQ(layer.start(), start);
  EXPECT_EQ(layer.size(), size);
  EXPECT_EQ(layer.stride(), stride);
  f.net().markOutput(layer.output(0));
  const auto in = randomTensor(shape, 7);
  auto out = f.run({in});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, size);
  EXPECT_EQ(out[0].floats(), sliceNaive(in, start, size, stride));
}

TEST(Slice, HalfAndInt64DataAndEmptySize) {
  NetworkFixture f;
  auto h = f.net().addInput("h", DataType::kHALF, Dims{2, 3});
  auto l = f.net().addInput("l", DataType::kINT64, Dims{4});
  auto hs = f.net().addSlice(h, Dims{1, 2}, Dims{1, 2}, Dims{-1, -2});
  auto ls = f.net().addSlice(l, Dims{1}, Dims{2}, Dims{2});
  auto empty = f.net().addSlice(l, Dims{7}, Dims{0}, Dims{1});  // size 0 reads nothing
  f.net().markOutput(hs.output(0));
  f.net().markOutput(ls.output(0));
  f.net().markOutput(empty.output(0));
  HostTensor hin(DataType::kHALF, Dims{2, 3});
  const std::vector<uint16_t> halfs{0x3c00, 0x4000, 0x4200, 0x4400, 0x4500, 0x4600};
  for (std::size_t i = 0; i < halfs.size(); ++i) hin.as<uint16_t>()[i] = halfs[i];
  HostTensor lin(DataType::kINT64, Dims{4});
  const std::vector<int64_t> longs{1, -(int64_t{1} << 40), 3, int64_t{1} << 62};
  for (std::size_t i = 0; i < longs.size(); ++i) lin.as<int64_t>()[i] = longs[i];
  auto out = f.run({hin, lin});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].dims, (Dims{1, 2}));
  EXPECT_EQ(out[0].as<uint16_t>()[0], 0x4600);
  EXPECT_EQ(out[0].as<uint16_t>()[1], 0x4400);
  EXPECT_EQ(out[1].as<int64_t>()[0], -(int64_t{1} << 40));
  EXPECT_EQ(out[1].as<int64_t>()[1], int64_t{1} << 62);
  EXPECT_EQ(out[2].dims, (Dims{0}));
}

TEST(Slice, OutOfBoundsNamesLayerAndDimension) {
  // Shape problems (which later settings may fix): the layer is invalid, and the error names
  // it, the dimension and the bad index (one network each, so that each error is the only one).
  auto expectInvalid = [](const Dims& start, const Dims& size, const Dims& stride,
                          std::initializer_list<std::string_view> texts) {
    SCOPED_TRACE(toString(start) + " / " + toString(size) + " / " + toString(stride));
    NetworkFixture f;
    auto x = f.net().addInput("x", DataType::kFLOAT, Dims{4, 5});
    expectInvalidLayer(f, f.net().addSlice(x, start, size, stride), "layer 'Slice_0' (Slice): ");
    for (std::string_view text : texts) {
      EXPECT_TRUE(f.logger.hasError(text)) << text << " not in:\n" << f.logger.errors();
    }
  };
  expectInvalid(Dims{0, 3}, Dims{2, 2}, Dims{1, 2}, {"(Slice): dimension 1", "reads index 5"});
  expectInvalid(Dims{-1, 0}, Dims{1, 1}, Dims{1, 1}, {"(Slice): dimension 0", "reads index -1"});
  expectInvalid(Dims{3, 0}, Dims{3, 1}, Dims{-2, 1}, {"(Slice): dimension 0", "reads index -1"});
  expectInvalid(Dims{0}, Dims{1}, Dims{1}, {"the slice start has 1 entries", "rank 2"});
  expectInvalid(Dims{0, 0}, Dims{1, -1}, Dims{1, 1}, {"size -1 in dimension 1 is negative"});
  // Huge strides must not overflow the bounds check.
  expectInvalid(Dims{0, 0}, Dims{3, 1}, Dims{int64_t{1} << 62, 1},
                {"(Slice): dimension 0", "reads index beyond the 64-bit range"});

  // A setting changed after creation is checked when the network is built.
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{4, 5});
  auto layer = f.net().addSlice(x, Dims{0, 0}, Dims{1, 1}, Dims{1, 1});
  ASSERT_TRUE(layer);
  layer.setName("cut");
  layer.setStart(Dims{4, 0});
  f.net().markOutput(layer.output(0));
  EXPECT_TRUE(buildFails(f));
  EXPECT_TRUE(f.logger.hasError("layer 'cut' (Slice): dimension 0")) << f.logger.errors();
}

}  // namespace
}  // namespace kiln::test
