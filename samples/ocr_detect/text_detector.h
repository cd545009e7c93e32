// PaddleOCR's DB text detector (PP-OCRv4 det) on kiln: the preprocessing the model was trained
// with, the engine build (with a timing cache file), inference, and text regions from the
// probability map.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "image.h"
#include "kiln/kiln.h"

namespace ocr_demo {

//! Height and width the detector gets for an image of @p height x @p width: PaddleOCR's
//! DetResizeForTest (limit_type "max"): scaled down so that the longer side is at most
//! @p limitSide, then each side rounded to a multiple of 32 (at least 32).
struct DetectorSize {
  int height = 0;
  int width = 0;
};
DetectorSize detectorSize(int height, int width, int limitSide);

//! 1x3xHxW float input of an RGB image already at detector size: channels in BGR order (the
//! model was trained on OpenCV's BGR images), x / 255 normalized with ImageNet's mean and std.
std::vector<float> toDetectorInput(const Image& rgb);

struct DetectorBuildOptions {
  std::filesystem::path model;
  std::string inputName = "x";
  DetectorSize size;
  std::filesystem::path
      timingCacheFile;  //!< read if present, written after the build; may be empty
  int32_t threads = 0;
  int32_t optimizationLevel = 3;
};

struct DetectorEngine {
  std::unique_ptr<kiln::Engine> engine;
  std::vector<std::byte> plan;
  int32_t networkLayers = 0;
  double buildMs = 0.0;
  std::size_t cachedLayersBefore = 0;  //!< layer timings the cache file held before the build
  std::size_t cachedLayersAfter = 0;
};

//! Parses the ONNX model with the input fixed at the detector size and builds an engine. False
//! with @p error set on failure (the details are also logged).
bool buildDetector(const DetectorBuildOptions& options, kiln::Logger& logger,
                   DetectorEngine& result, std::string& error);

//! Runs the engine (one input, one output) and returns its output, the probability map.
bool runDetector(kiln::Engine& engine, std::span<const float> input, std::vector<float>& output,
                 std::string& error);

struct TextRegion {
  int left = 0, top = 0, right = 0, bottom = 0;  //!< inclusive bounds, in map pixels
  int area = 0;                                  //!< pixels above the threshold
  double meanScore = 0.0;                        //!< mean probability over those pixels
};

//! Regions of the map @p prob (height x width, row-major): 8-connected components of pixels
//! with probability above @p threshold, of at least @p minArea pixels, in scan order of their
//! first pixel (top to bottom, left to right).
std::vector<TextRegion> findTextRegions(std::span<const float> prob, int height, int width,
                                        float threshold, int minArea);

//! @p regions in reading order: grouped into lines (a region whose vertical middle lies within
//! the first region of a line belongs to it), lines top to bottom, each line left to right.
void sortReadingOrder(std::vector<TextRegion>& regions);

//! The probability map as a gray image (0 -> black, 1 -> white).
Image probabilityImage(std::span<const float> prob, int height, int width);

//! Writes float32 values of shape @p dims as .npy (what `kiln exec --loadInputs` reads).
bool writeNpy(const std::filesystem::path& path, std::span<const float> values,
              std::span<const int64_t> dims, std::string& error);

}  // namespace ocr_demo
