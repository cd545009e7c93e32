// Images of the OCR demo: 8-bit pixels, row-major, channels interleaved. PNG files are read and
// written with libpng's simplified API.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace ocr_demo {

struct Image {
  int width = 0;
  int height = 0;
  int channels = 0;  //!< 3 (RGB) or 1 (gray)
  std::vector<uint8_t> pixels;

  const uint8_t* at(int x, int y) const {
    return pixels.data() + (static_cast<std::size_t>(y) * static_cast<std::size_t>(width) +
                            static_cast<std::size_t>(x)) *
                               static_cast<std::size_t>(channels);
  }
};

//! Any PNG as 8-bit RGB; transparent pixels are composed onto white (the paper of most scans).
//! False with @p error set when the file is missing or not a PNG.
bool readPngRgb(const std::filesystem::path& path, Image& image, std::string& error);

//! Writes a gray or RGB image as PNG. False with @p error set on failure.
bool writePng(const std::filesystem::path& path, const Image& image, std::string& error);

//! Bilinear resize with pixel centres aligned (OpenCV's INTER_LINEAR, which PaddleOCR uses).
Image resizeBilinear(const Image& image, int width, int height);

}  // namespace ocr_demo
