// Text detection with PaddleOCR's pretrained PP-OCRv4 detector (ch_PP-OCRv4_det_infer.onnx),
// built and run by kiln: what `make demo` shows.
//
//   ocr_detect --model=ch_PP-OCRv4_det_infer.onnx --image=IN.png [--out=PROB.png]
//              [--timingCacheFile=FILE] [--saveEngine=FILE] [--saveInput=FILE.npy]
//              [--saveOutput=FILE.npy] [--threads=N] [--builderOptimizationLevel=0..5]
//              [--limitSide=960] [--threshold=0.3] [--minArea=16]
//
// Reads the image, preprocesses it as PaddleOCR does, builds an engine for its size from the
// ONNX model (a timing cache file makes later builds skip the tactic timing), runs it, writes
// the text-probability map as a gray PNG beside the image (IN_prob.png unless --out), and
// lists the text regions: connected components of the map above the threshold.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "image.h"
#include "kiln/kiln.h"
#include "text_detector.h"

namespace {

struct Options {
  std::filesystem::path model;
  std::filesystem::path image;
  std::filesystem::path out;
  std::filesystem::path timingCacheFile;
  std::filesystem::path saveEngine;
  std::filesystem::path saveInput;
  std::filesystem::path saveOutput;
  int threads = 0;
  int optimizationLevel = 3;
  int limitSide = 960;
  float threshold = 0.3f;
  int minArea = 16;
};

constexpr const char* kUsage =
    "usage: ocr_detect --model=MODEL.onnx --image=IN.png [--out=PROB.png]\n"
    "                  [--timingCacheFile=FILE] [--saveEngine=FILE] [--saveInput=FILE.npy]\n"
    "                  [--saveOutput=FILE.npy] [--threads=N] [--builderOptimizationLevel=N]\n"
    "                  [--limitSide=960] [--threshold=0.3] [--minArea=16]\n";

bool parseOptions(int argc, char** argv, Options& options) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const auto eq = arg.find('=');
    const std::string_view key = arg.substr(0, eq);
    const std::string value(eq == arg.npos ? std::string_view{} : arg.substr(eq + 1));
    if (eq == arg.npos || value.empty()) {
      std::fprintf(stderr, "%s[E] expected --name=value, got '%s'\n", kUsage, argv[i]);
      return false;
    }
    if (key == "--model") {
      options.model = value;
    } else if (key == "--image") {
      options.image = value;
    } else if (key == "--out") {
      options.out = value;
    } else if (key == "--timingCacheFile") {
      options.timingCacheFile = value;
    } else if (key == "--saveEngine") {
      options.saveEngine = value;
    } else if (key == "--saveInput") {
      options.saveInput = value;
    } else if (key == "--saveOutput") {
      options.saveOutput = value;
    } else if (key == "--threads") {
      options.threads = std::atoi(value.c_str());
    } else if (key == "--builderOptimizationLevel") {
      options.optimizationLevel = std::atoi(value.c_str());
    } else if (key == "--limitSide") {
      options.limitSide = std::atoi(value.c_str());
    } else if (key == "--threshold") {
      options.threshold = std::strtof(value.c_str(), nullptr);
    } else if (key == "--minArea") {
      options.minArea = std::atoi(value.c_str());
    } else {
      std::fprintf(stderr, "%s[E] unknown option '%s'\n", kUsage, argv[i]);
      return false;
    }
  }
  if (options.model.empty() || options.image.empty()) {
    std::fprintf(stderr, "%s[E] --model and --image are required\n", kUsage);
    return false;
  }
  if (options.out.empty()) {
    options.out = options.image.parent_path() / (options.image.stem().string() + "_prob.png");
  }
  return true;
}

int fail(const std::string& message) {
  std::fprintf(stderr, "[E] %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
  }
  Options options;
  if (!parseOptions(argc, argv, options)) return 2;
  if (!std::filesystem::exists(options.model)) {
    return fail(options.model.string() +
                " is absent: scripts/fetch-demo-model downloads it (make demo runs it)");
  }
  std::string error;

  ocr_demo::Image image;
  if (!ocr_demo::readPngRgb(options.image, image, error)) return fail(error);
  const ocr_demo::DetectorSize size =
      ocr_demo::detectorSize(image.height, image.width, options.limitSide);
  const ocr_demo::Image resized = size.width == image.width && size.height == image.height
                                      ? image
                                      : ocr_demo::resizeBilinear(image, size.width, size.height);
  const std::vector<float> input = ocr_demo::toDetectorInput(resized);
  std::printf("[I] Image '%s': %dx%d; detector input x: 1x3x%dx%d (%s, BGR, ImageNet mean/std)\n",
              options.image.string().c_str(), image.width, image.height, size.height, size.width,
              resized.width == image.width && resized.height == image.height
                  ? "sides already multiples of 32"
                  : "resized to multiples of 32");
  const std::vector<int64_t> inputDims = {1, 3, size.height, size.width};
  if (!options.saveInput.empty() &&
      !ocr_demo::writeNpy(options.saveInput, input, inputDims, error)) {
    return fail(error);
  }

  kiln::ConsoleLogger logger(kiln::Severity::kWARNING);
  ocr_demo::DetectorBuildOptions buildOptions;
  buildOptions.model = options.model;
  buildOptions.size = size;
  buildOptions.timingCacheFile = options.timingCacheFile;
  buildOptions.threads = options.threads;
  buildOptions.optimizationLevel = options.optimizationLevel;
  ocr_demo::DetectorEngine detector;
  if (!ocr_demo::buildDetector(buildOptions, logger, detector, error)) return fail(error);
  std::printf("[I] Parsed '%s': %d network layers\n", options.model.string().c_str(),
              detector.networkLayers);
  std::printf("[I] Built an engine of %d layers in %.0f ms (plan: %zu bytes)\n",
              detector.engine->nbLayers(), detector.buildMs, detector.plan.size());
  if (!options.timingCacheFile.empty()) {
    std::printf("[I] Timing cache '%s': %zu layer timings reused, %zu saved\n",
                options.timingCacheFile.string().c_str(), detector.cachedLayersBefore,
                detector.cachedLayersAfter);
  }
  if (!options.saveEngine.empty()) {
    std::FILE* file = std::fopen(options.saveEngine.c_str(), "wb");
    const bool written =
        file != nullptr &&
        std::fwrite(detector.plan.data(), 1, detector.plan.size(), file) == detector.plan.size();
    if (file != nullptr && std::fclose(file) != 0) return fail("cannot write the engine");
    if (!written) return fail("cannot write " + options.saveEngine.string());
    std::printf("[I] Saved the engine to '%s'\n", options.saveEngine.string().c_str());
  }

  std::vector<float> prob;
  const auto start = std::chrono::steady_clock::now();
  if (!ocr_demo::runDetector(*detector.engine, input, prob, error)) return fail(error);
  const double inferMs =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::printf("[I] Inference: %.1f ms (one run; the report below times many)\n", inferMs);
  if (!options.saveOutput.empty()) {
    const std::vector<int64_t> outputDims = {1, 1, size.height, size.width};
    if (!ocr_demo::writeNpy(options.saveOutput, prob, outputDims, error)) return fail(error);
  }
  if (!ocr_demo::writePng(options.out, ocr_demo::probabilityImage(prob, size.height, size.width),
                          error)) {
    return fail(error);
  }
  std::printf("[I] Text-probability map (%dx%d) written to '%s'\n", size.width, size.height,
              options.out.string().c_str());

  auto regions =
      ocr_demo::findTextRegions(prob, size.height, size.width, options.threshold, options.minArea);
  ocr_demo::sortReadingOrder(regions);
  std::printf(
      "[I] Found %zu text regions (probability > %.2f, 8-connected, at least %d pixels), "
      "in reading order; boxes in image pixels:\n",
      regions.size(), static_cast<double>(options.threshold), options.minArea);
  const double sx = static_cast<double>(image.width) / size.width;
  const double sy = static_cast<double>(image.height) / size.height;
  for (std::size_t i = 0; i < regions.size(); ++i) {
    const auto& r = regions[i];
    std::printf("[I]   %2zu: x %4.0f..%-4.0f y %4.0f..%-4.0f %6d px, mean probability %.3f\n",
                i + 1, r.left * sx, (r.right + 1) * sx - 1, r.top * sy, (r.bottom + 1) * sy - 1,
                r.area, r.meanScore);
  }
  return regions.empty() ? 1 : 0;
}
