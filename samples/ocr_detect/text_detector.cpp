#include "text_detector.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iterator>

#include "kiln/parsers/onnx.h"

namespace ocr_demo {

DetectorSize detectorSize(int height, int width, int limitSide) {
  const int longer = std::max(height, width);
  const double ratio =
      longer > limitSide && limitSide > 0 ? static_cast<double>(limitSide) / longer : 1.0;
  auto multipleOf32 = [ratio](int extent) {
    const int scaled = static_cast<int>(extent * ratio);
    return std::max(static_cast<int>(std::lround(scaled / 32.0)) * 32, 32);
  };
  return {multipleOf32(height), multipleOf32(width)};
}

std::vector<float> toDetectorInput(const Image& rgb) {
  constexpr std::array<float, 3> kMean = {0.485f, 0.456f, 0.406f};
  constexpr std::array<float, 3> kStd = {0.229f, 0.224f, 0.225f};
  const std::size_t plane =
      static_cast<std::size_t>(rgb.width) * static_cast<std::size_t>(rgb.height);
  std::vector<float> input(3 * plane);
  for (std::size_t i = 0; i < plane; ++i) {
    for (std::size_t c = 0; c < 3; ++c) {
      const float value = rgb.pixels[i * 3 + (2 - c)] / 255.0f;  // plane c holds BGR channel c
      input[c * plane + i] = (value - kMean[c]) / kStd[c];
    }
  }
  return input;
}

namespace {

std::vector<std::byte> readBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> bytes(chars.size());
  std::transform(chars.begin(), chars.end(), bytes.begin(), [](char c) { return std::byte(c); });
  return bytes;
}

bool writeBytes(const std::filesystem::path& path, std::span<const std::byte> bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(out);
}

}  // namespace

bool buildDetector(const DetectorBuildOptions& options, kiln::Logger& logger,
                   DetectorEngine& result, std::string& error) {
  kiln::Builder builder(logger);
  auto network = builder.createNetwork();
  kiln::parsers::OnnxParser parser(*network, logger);
  parser.setInputShape(options.inputName,
                       kiln::Dims{1, 3, options.size.height, options.size.width});
  if (!parser.parseFromFile(options.model)) {
    error = "cannot parse " + options.model.string();
    for (int32_t i = 0; i < parser.nbErrors(); ++i) error += "\n  " + parser.error(i);
    return false;
  }
  result.networkLayers = network->nbLayers();

  auto config = builder.createBuilderConfig();
  // The detector binds host buffers, so it builds a CPU engine even where a GPU is present.
  config->setDeviceType(kiln::DeviceType::kCPU);
  config->setNbThreads(options.threads);
  config->setBuilderOptimizationLevel(options.optimizationLevel);
  std::unique_ptr<kiln::TimingCache> cache;
  if (!options.timingCacheFile.empty()) {
    std::vector<std::byte> blob;
    if (std::filesystem::exists(options.timingCacheFile)) blob = readBytes(options.timingCacheFile);
    cache = config->createTimingCache(blob);
    if (!cache) {
      error = options.timingCacheFile.string() + " is not a kiln timing cache";
      return false;
    }
    result.cachedLayersBefore = cache->size();
    config->setTimingCache(*cache, false);
  }

  const auto start = std::chrono::steady_clock::now();
  result.plan = builder.buildSerializedNetwork(*network, *config);
  result.buildMs =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (result.plan.empty()) {
    error = "cannot build an engine of " + options.model.string();
    return false;
  }
  if (cache) {
    result.cachedLayersAfter = cache->size();
    if (!writeBytes(options.timingCacheFile, cache->serialize())) {
      error = "cannot write " + options.timingCacheFile.string();
      return false;
    }
  }
  kiln::Runtime runtime(logger);
  runtime.setNbThreads(options.threads);
  result.engine = runtime.deserialize(result.plan);
  if (!result.engine) {
    error = "cannot load the plan just built";
    return false;
  }
  return true;
}

bool runDetector(kiln::Engine& engine, std::span<const float> input, std::vector<float>& output,
                 std::string& error) {
  if (engine.nbIOTensors() != 2) {
    error = "the detector should have one input and one output";
    return false;
  }
  const std::string inputName(engine.ioTensorName(0));
  const std::string outputName(engine.ioTensorName(1));
  std::size_t inputCount = 1, outputCount = 1;
  const kiln::Dims inputDims = engine.tensorShape(inputName);
  const kiln::Dims outputDims = engine.tensorShape(outputName);
  for (int i = 0; i < inputDims.nbDims; ++i) inputCount *= static_cast<std::size_t>(inputDims.d[i]);
  for (int i = 0; i < outputDims.nbDims; ++i) {
    outputCount *= static_cast<std::size_t>(outputDims.d[i]);
  }
  if (inputCount != input.size()) {
    error = "input '" + inputName + "' has " + std::to_string(inputCount) + " values, got " +
            std::to_string(input.size());
    return false;
  }
  output.assign(outputCount, 0.0f);
  auto context = engine.createExecutionContext();
  if (!context || !context->setInputTensorAddress(inputName, input.data()) ||
      !context->setTensorAddress(outputName, output.data()) || !context->enqueueV3()) {
    error = "inference failed";
    return false;
  }
  return true;
}

std::vector<TextRegion> findTextRegions(std::span<const float> prob, int height, int width,
                                        float threshold, int minArea) {
  std::vector<TextRegion> regions;
  if (height <= 0 || width <= 0 ||
      prob.size() < static_cast<std::size_t>(height) * static_cast<std::size_t>(width)) {
    return regions;
  }
  auto index = [width](int x, int y) {
    return static_cast<std::size_t>(y) * static_cast<std::size_t>(width) +
           static_cast<std::size_t>(x);
  };
  std::vector<uint8_t> visited(static_cast<std::size_t>(height) * static_cast<std::size_t>(width));
  std::vector<std::pair<int, int>> stack;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      if (visited[index(x, y)] || !(prob[index(x, y)] > threshold)) continue;
      TextRegion region{x, y, x, y, 0, 0.0};
      double scoreSum = 0.0;
      visited[index(x, y)] = 1;
      stack.assign(1, {x, y});
      while (!stack.empty()) {
        const auto [cx, cy] = stack.back();
        stack.pop_back();
        ++region.area;
        scoreSum += prob[index(cx, cy)];
        region.left = std::min(region.left, cx);
        region.right = std::max(region.right, cx);
        region.top = std::min(region.top, cy);
        region.bottom = std::max(region.bottom, cy);
        for (int ny = std::max(cy - 1, 0); ny <= std::min(cy + 1, height - 1); ++ny) {
          for (int nx = std::max(cx - 1, 0); nx <= std::min(cx + 1, width - 1); ++nx) {
            if (visited[index(nx, ny)] || !(prob[index(nx, ny)] > threshold)) continue;
            visited[index(nx, ny)] = 1;
            stack.emplace_back(nx, ny);
          }
        }
      }
      if (region.area < minArea) continue;
      region.meanScore = scoreSum / region.area;
      regions.push_back(region);
    }
  }
  return regions;
}

void sortReadingOrder(std::vector<TextRegion>& regions) {
  std::sort(regions.begin(), regions.end(),
            [](const TextRegion& a, const TextRegion& b) { return a.top < b.top; });
  for (auto line = regions.begin(); line != regions.end();) {
    const TextRegion first = *line;
    const auto end = std::find_if(line, regions.end(), [&first](const TextRegion& r) {
      const int middle = (r.top + r.bottom) / 2;
      return middle < first.top || middle > first.bottom;
    });
    std::sort(line, end, [](const TextRegion& a, const TextRegion& b) { return a.left < b.left; });
    line = end;
  }
}

Image probabilityImage(std::span<const float> prob, int height, int width) {
  Image image;
  image.width = width;
  image.height = height;
  image.channels = 1;
  image.pixels.resize(static_cast<std::size_t>(width) * static_cast<std::size_t>(height));
  for (std::size_t i = 0; i < image.pixels.size() && i < prob.size(); ++i) {
    const float p = std::isnan(prob[i]) ? 0.0f : std::clamp(prob[i], 0.0f, 1.0f);
    image.pixels[i] = static_cast<uint8_t>(std::lround(p * 255.0f));
  }
  return image;
}

bool writeNpy(const std::filesystem::path& path, std::span<const float> values,
              std::span<const int64_t> dims, std::string& error) {
  std::string shape;
  for (std::size_t i = 0; i < dims.size(); ++i) {
    shape += (i > 0 ? ", " : "") + std::to_string(dims[i]);
  }
  if (dims.size() == 1) shape += ',';  // a Python tuple of one: "(5,)"
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + shape + "), }";
  // Version 1.0: magic, version, 2-byte header length; the header ends in '\n' and pads the
  // data to a multiple of 64 bytes.
  const std::size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  out.write("\x93NUMPY\x01\x00", 8);
  const uint16_t length = static_cast<uint16_t>(header.size());
  const char lengthBytes[2] = {static_cast<char>(length & 0xff), static_cast<char>(length >> 8)};
  out.write(lengthBytes, 2);
  out << header;
  out.write(reinterpret_cast<const char*>(values.data()),
            static_cast<std::streamsize>(values.size() * sizeof(float)));
  if (!out) {
    error = "cannot write " + path.string();
    return false;
  }
  return true;
}

}  // namespace ocr_demo
