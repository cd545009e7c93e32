// PaddleOCR's pretrained PP-OCRv4 text detector (the model of `make demo`) on the demo's image,
// against ONNX Runtime: the probability map's 64x64 block means and the text regions that
// ORT 1.30.0 gives for the same input (samples/ocr_detect/compare_with_ort.js prints them).
// The model is fetched into build/downloads by scripts/fetch-demo-model (install-deps runs it);
// KILN_OCR_DET_MODEL names another copy. Without it, the tests skip.
#include <gtest/gtest.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "image.h"
#include "support/test_util.h"
#include "text_detector.h"

namespace ocr_demo {
namespace {

namespace fs = std::filesystem;

fs::path modelPath() {
  const char* env = std::getenv("KILN_OCR_DET_MODEL");
  if (env != nullptr && *env != '\0') return env;
  return KILN_SOURCE_DIR "/build/downloads/ch_PP-OCRv4_det_infer.onnx";
}

// ORT's map on samples/ocr_detect/text.png (1x1x320x640), mean of each 64x64 block.
constexpr std::array<double, 50> kOrtBlockMeans = {
    0.0745283, 0.1623308, 0.1634440, 0.1803571, 0.1687964, 0.1719009, 0.0285477, 0.0000000,
    0.0000000, 0.0000000, 0.0747212, 0.1460444, 0.1500979, 0.1448960, 0.1471804, 0.1407093,
    0.1407643, 0.0597127, 0.0000000, 0.0000000, 0.0900822, 0.1278891, 0.0000000, 0.0000000,
    0.0000000, 0.0000000, 0.0007167, 0.1657044, 0.1538252, 0.0000000, 0.0700558, 0.1408819,
    0.1428834, 0.1446075, 0.1473835, 0.1401705, 0.0599751, 0.0000000, 0.0000000, 0.0000000,
    0.0709375, 0.1409009, 0.0941243, 0.1307722, 0.1253694, 0.0422294, 0.0000000, 0.0000000,
    0.0000000, 0.0000000};

// ORT's regions (threshold 0.3, at least 16 pixels) in scan order: left, top, right, bottom.
constexpr std::array<std::array<int, 4>, 8> kOrtRegions = {{{36, 33, 395, 45},
                                                            {32, 95, 476, 104},
                                                            {29, 149, 109, 161},
                                                            {447, 150, 575, 160},
                                                            {32, 210, 411, 221},
                                                            {252, 270, 337, 280},
                                                            {31, 271, 152, 280},
                                                            {162, 271, 248, 280}}};

class PaddleOcrDet : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(modelPath())) {
      GTEST_SKIP() << modelPath() << " is absent (scripts/fetch-demo-model fetches it)";
    }
  }
};

TEST_F(PaddleOcrDet, MatchesOnnxRuntimeOnTheDemoImage) {
  Image image;
  std::string error;
  ASSERT_TRUE(readPngRgb(KILN_SOURCE_DIR "/samples/ocr_detect/text.png", image, error)) << error;
  const DetectorSize size = detectorSize(image.height, image.width, 960);
  ASSERT_EQ(size.height, 320);
  ASSERT_EQ(size.width, 640);

  kiln::test::CapturingLogger logger;
  DetectorBuildOptions options;
  options.model = modelPath();
  options.size = size;
  options.optimizationLevel = 0;  // heuristics only: no tactic timing, the same engine every run
  DetectorEngine detector;
  ASSERT_TRUE(buildDetector(options, logger, detector, error)) << error;
  std::vector<float> prob;
  ASSERT_TRUE(runDetector(*detector.engine, toDetectorInput(image), prob, error)) << error;
  ASSERT_EQ(prob.size(), 320u * 640u);

  for (int by = 0; by < 5; ++by) {
    for (int bx = 0; bx < 10; ++bx) {
      double sum = 0.0;
      for (int y = by * 64; y < by * 64 + 64; ++y) {
        for (int x = bx * 64; x < bx * 64 + 64; ++x)
          sum += prob[static_cast<std::size_t>(y * 640 + x)];
      }
      EXPECT_NEAR(sum / (64 * 64), kOrtBlockMeans[static_cast<std::size_t>(by * 10 + bx)], 1e-5)
          << "block at y " << by * 64 << ", x " << bx * 64;
    }
  }

  const auto regions = findTextRegions(prob, 320, 640, 0.3f, 16);
  ASSERT_EQ(regions.size(), kOrtRegions.size());
  for (std::size_t i = 0; i < regions.size(); ++i) {
    EXPECT_EQ(
        (std::array<int, 4>{regions[i].left, regions[i].top, regions[i].right, regions[i].bottom}),
        kOrtRegions[i])
        << "region " << i;
    EXPECT_GT(regions[i].meanScore, 0.9) << "region " << i;
  }
}

TEST_F(PaddleOcrDet, SecondBuildReusesTheTimingCacheFile) {
  const fs::path dir = fs::temp_directory_path() / "kiln_paddleocr_det_test_cache";
  fs::remove_all(dir);
  fs::create_directories(dir);
  kiln::test::CapturingLogger logger;
  DetectorBuildOptions options;
  options.model = modelPath();
  options.size = {32, 64};  // small: tactic timing of the whole network stays quick
  options.timingCacheFile = dir / "det.timing";
  std::string error;
  DetectorEngine first;
  ASSERT_TRUE(buildDetector(options, logger, first, error)) << error;
  EXPECT_EQ(first.cachedLayersBefore, 0u);
  EXPECT_GT(first.cachedLayersAfter, 0u);
  ASSERT_TRUE(fs::exists(options.timingCacheFile));
  DetectorEngine second;
  ASSERT_TRUE(buildDetector(options, logger, second, error)) << error;
  EXPECT_EQ(second.cachedLayersBefore, first.cachedLayersAfter);
  EXPECT_EQ(second.cachedLayersAfter, first.cachedLayersAfter);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace ocr_demo
