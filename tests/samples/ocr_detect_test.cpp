// The pieces of the OCR sample (samples/ocr_detect) that need no model: PaddleOCR's resize
// rule, the input normalization, bilinear resize, text regions, PNG and .npy files.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "image.h"
#include "text_detector.h"

namespace ocr_demo {
namespace {

namespace fs = std::filesystem;

fs::path scratchDir() {
  const fs::path dir =
      fs::temp_directory_path() /
      ("kiln_ocr_detect_test_" +
       std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
  fs::create_directories(dir);
  return dir;
}

Image rgb(int width, int height, std::vector<uint8_t> pixels) {
  return Image{width, height, 3, std::move(pixels)};
}

TEST(DetectorSize, RoundsEachSideToAMultipleOf32) {
  EXPECT_EQ(detectorSize(320, 640, 960).height, 320);
  EXPECT_EQ(detectorSize(320, 640, 960).width, 640);
  EXPECT_EQ(detectorSize(100, 50, 960).height, 96);  // 3.125 -> 3
  EXPECT_EQ(detectorSize(100, 50, 960).width, 64);   // 1.5625 -> 2
  EXPECT_EQ(detectorSize(5, 1, 960).height, 32);     // never below 32
  EXPECT_EQ(detectorSize(5, 1, 960).width, 32);
}

TEST(DetectorSize, ScalesTheLongerSideDownToTheLimit) {
  const DetectorSize size = detectorSize(1000, 2000, 960);
  EXPECT_EQ(size.width, 960);
  EXPECT_EQ(size.height, 480);
  EXPECT_EQ(detectorSize(1000, 2000, 0).width, 2016);  // no limit
}

TEST(DetectorInput, IsBgrPlanesNormalizedWithImageNetStatistics) {
  // Two pixels: pure red, then white.
  const std::vector<float> input = toDetectorInput(rgb(2, 1, {255, 0, 0, 255, 255, 255}));
  ASSERT_EQ(input.size(), 6u);
  const float mean[3] = {0.485f, 0.456f, 0.406f};
  const float stdDev[3] = {0.229f, 0.224f, 0.225f};
  // Plane 0 is blue, plane 2 red.
  EXPECT_FLOAT_EQ(input[0], (0.0f - mean[0]) / stdDev[0]);
  EXPECT_FLOAT_EQ(input[1], (1.0f - mean[0]) / stdDev[0]);
  EXPECT_FLOAT_EQ(input[2], (0.0f - mean[1]) / stdDev[1]);
  EXPECT_FLOAT_EQ(input[4], (1.0f - mean[2]) / stdDev[2]);
  EXPECT_FLOAT_EQ(input[5], (1.0f - mean[2]) / stdDev[2]);
}

TEST(ResizeBilinear, SameSizeIsAnIdentityAndUpsamplingInterpolates) {
  const Image image = rgb(2, 1, {0, 100, 200, 200, 100, 0});
  EXPECT_EQ(resizeBilinear(image, 2, 1).pixels, image.pixels);
  const Image wide = resizeBilinear(image, 4, 2);
  ASSERT_EQ(wide.pixels.size(), 24u);
  // Centres at source x = -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1); both rows alike.
  const std::vector<uint8_t> row = {0, 100, 200, 50, 100, 150, 150, 100, 50, 200, 100, 0};
  EXPECT_EQ(std::vector<uint8_t>(wide.pixels.begin(), wide.pixels.begin() + 12), row);
  EXPECT_EQ(std::vector<uint8_t>(wide.pixels.begin() + 12, wide.pixels.end()), row);
}

TEST(ResizeBilinear, OddSizesKeepAConstantImageConstant) {
  const Image gray = rgb(3, 5, std::vector<uint8_t>(45, 77));
  const Image resized = resizeBilinear(gray, 7, 2);
  EXPECT_EQ(resized.pixels, std::vector<uint8_t>(42, 77));
}

// A 6x8 map: a 2x2 blob, a diagonal pair (one 8-connected region), a single pixel, and a
// pixel exactly at the threshold (not above it).
std::vector<float> sampleMap() {
  std::vector<float> map(48, 0.0f);
  auto set = [&map](int x, int y, float p) { map[static_cast<std::size_t>(y * 8 + x)] = p; };
  set(5, 0, 0.9f);
  set(6, 0, 0.8f);
  set(5, 1, 0.7f);
  set(6, 1, 0.6f);
  set(1, 3, 0.5f);
  set(2, 4, 0.5f);
  set(7, 5, 0.4f);
  set(0, 0, 0.3f);
  return map;
}

TEST(FindTextRegions, CountsEightConnectedComponentsAboveTheThreshold) {
  const auto regions = findTextRegions(sampleMap(), 6, 8, 0.3f, 1);
  ASSERT_EQ(regions.size(), 3u);
  EXPECT_EQ(regions[0].left, 5);
  EXPECT_EQ(regions[0].right, 6);
  EXPECT_EQ(regions[0].top, 0);
  EXPECT_EQ(regions[0].bottom, 1);
  EXPECT_EQ(regions[0].area, 4);
  EXPECT_NEAR(regions[0].meanScore, 0.75, 1e-6);
  EXPECT_EQ(regions[1].area, 2);  // the diagonal pair
  EXPECT_EQ(regions[1].left, 1);
  EXPECT_EQ(regions[1].bottom, 4);
  EXPECT_EQ(regions[2].area, 1);
}

TEST(FindTextRegions, DropsRegionsBelowTheMinimumArea) {
  EXPECT_EQ(findTextRegions(sampleMap(), 6, 8, 0.3f, 2).size(), 2u);
  EXPECT_EQ(findTextRegions(sampleMap(), 6, 8, 0.3f, 5).size(), 0u);
}

TEST(FindTextRegions, EmptyNanAndUndersizedMapsGiveNoRegions) {
  EXPECT_TRUE(findTextRegions({}, 0, 0, 0.3f, 1).empty());
  const std::vector<float> nan(4, std::numeric_limits<float>::quiet_NaN());
  EXPECT_TRUE(findTextRegions(nan, 2, 2, 0.3f, 1).empty());
  EXPECT_TRUE(findTextRegions(nan, 3, 3, 0.3f, 1).empty());  // fewer values than pixels
}

TEST(SortReadingOrder, LinesTopToBottomEachLeftToRight) {
  std::vector<TextRegion> regions = {
      {300, 52, 400, 60, 1, 1.0}, {10, 50, 100, 62, 1, 1.0}, {10, 10, 300, 20, 1, 1.0}};
  sortReadingOrder(regions);
  EXPECT_EQ(regions[0].top, 10);
  EXPECT_EQ(regions[1].left, 10);
  EXPECT_EQ(regions[2].left, 300);
}

TEST(ProbabilityImage, MapsZeroToOneOntoBlackToWhite) {
  const std::vector<float> prob = {0.0f, 0.5f,  1.0f,
                                   2.0f, -1.0f, std::numeric_limits<float>::quiet_NaN()};
  const Image image = probabilityImage(prob, 2, 3);
  EXPECT_EQ(image.channels, 1);
  EXPECT_EQ(image.pixels, (std::vector<uint8_t>{0, 128, 255, 255, 0, 0}));
}

TEST(Png, GrayAndRgbRoundTripAndReadBackAsRgb) {
  const fs::path dir = scratchDir();
  std::string error;
  const Image color = rgb(3, 2, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18});
  ASSERT_TRUE(writePng(dir / "color.png", color, error)) << error;
  Image back;
  ASSERT_TRUE(readPngRgb(dir / "color.png", back, error)) << error;
  EXPECT_EQ(back.width, 3);
  EXPECT_EQ(back.height, 2);
  EXPECT_EQ(back.pixels, color.pixels);

  const Image gray{2, 1, 1, {0, 200}};
  ASSERT_TRUE(writePng(dir / "gray.png", gray, error)) << error;
  ASSERT_TRUE(readPngRgb(dir / "gray.png", back, error)) << error;
  EXPECT_EQ(back.pixels, (std::vector<uint8_t>{0, 0, 0, 200, 200, 200}));
  fs::remove_all(dir);
}

TEST(Png, MissingOrBadFilesAndBadImagesAreErrors) {
  const fs::path dir = scratchDir();
  std::string error;
  Image image;
  EXPECT_FALSE(readPngRgb(dir / "absent.png", image, error));
  EXPECT_NE(error.find("absent.png"), std::string::npos);
  std::ofstream(dir / "text.png") << "not a png";
  error.clear();
  EXPECT_FALSE(readPngRgb(dir / "text.png", image, error));
  EXPECT_FALSE(error.empty());
  EXPECT_FALSE(writePng(dir / "bad.png", Image{2, 2, 1, {0}}, error));
  EXPECT_FALSE(writePng(dir / "bad.png", Image{1, 1, 2, {0, 0}}, error));
  fs::remove_all(dir);
}

TEST(Png, TheBundledDemoImageIsReadable) {
  Image image;
  std::string error;
  ASSERT_TRUE(readPngRgb(KILN_SOURCE_DIR "/samples/ocr_detect/text.png", image, error)) << error;
  EXPECT_EQ(image.width, 640);
  EXPECT_EQ(image.height, 320);
}

TEST(Npy, WritesAVersion1HeaderPaddedTo64Bytes) {
  const fs::path dir = scratchDir();
  std::string error;
  const std::vector<float> values = {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f};
  const std::vector<int64_t> dims = {1, 2, 3};
  ASSERT_TRUE(writeNpy(dir / "a.npy", values, dims, error)) << error;
  std::ifstream in(dir / "a.npy", std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 10u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  const std::size_t headerLength =
      static_cast<unsigned char>(bytes[8]) |
      (static_cast<std::size_t>(static_cast<unsigned char>(bytes[9])) << 8);
  EXPECT_EQ((10 + headerLength) % 64, 0u);
  const std::string header = bytes.substr(10, headerLength);
  EXPECT_NE(header.find("'shape': (1, 2, 3)"), std::string::npos) << header;
  EXPECT_EQ(header.back(), '\n');
  ASSERT_EQ(bytes.size(), 10 + headerLength + sizeof(float) * 6);
  float last = 0.0f;
  std::memcpy(&last, bytes.data() + bytes.size() - sizeof(float), sizeof(float));
  EXPECT_EQ(last, 6.0f);

  const std::vector<int64_t> flat = {6};
  ASSERT_TRUE(writeNpy(dir / "b.npy", values, flat, error)) << error;
  std::ifstream inFlat(dir / "b.npy", std::ios::binary);
  const std::string flatBytes((std::istreambuf_iterator<char>(inFlat)),
                              std::istreambuf_iterator<char>());
  EXPECT_NE(flatBytes.find("'shape': (6,)"), std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace ocr_demo
