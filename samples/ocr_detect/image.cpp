#include "image.h"

#include <png.h>

#include <algorithm>
#include <cmath>

namespace ocr_demo {

bool readPngRgb(const std::filesystem::path& path, Image& image, std::string& error) {
  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&png, path.c_str())) {
    error = path.string() + ": " + png.message;
    return false;
  }
  png.format = PNG_FORMAT_RGB;
  Image result;
  result.width = static_cast<int>(png.width);
  result.height = static_cast<int>(png.height);
  result.channels = 3;
  result.pixels.resize(PNG_IMAGE_SIZE(png));
  const png_color white{255, 255, 255};
  if (!png_image_finish_read(&png, &white, result.pixels.data(), 0, nullptr)) {
    error = path.string() + ": " + png.message;
    png_image_free(&png);
    return false;
  }
  image = std::move(result);
  return true;
}

bool writePng(const std::filesystem::path& path, const Image& image, std::string& error) {
  if ((image.channels != 1 && image.channels != 3) || image.width <= 0 || image.height <= 0 ||
      image.pixels.size() != static_cast<std::size_t>(image.width) *
                                 static_cast<std::size_t>(image.height) *
                                 static_cast<std::size_t>(image.channels)) {
    error = path.string() + ": not a gray or RGB image of consistent size";
    return false;
  }
  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  png.width = static_cast<png_uint_32>(image.width);
  png.height = static_cast<png_uint_32>(image.height);
  png.format = image.channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  if (!png_image_write_to_file(&png, path.c_str(), 0, image.pixels.data(), 0, nullptr)) {
    error = path.string() + ": " + png.message;
    return false;
  }
  return true;
}

Image resizeBilinear(const Image& image, int width, int height) {
  Image out;
  out.width = width;
  out.height = height;
  out.channels = image.channels;
  out.pixels.resize(static_cast<std::size_t>(width) * static_cast<std::size_t>(height) *
                    static_cast<std::size_t>(image.channels));
  if (width <= 0 || height <= 0 || image.width <= 0 || image.height <= 0) return out;
  const double scaleX = static_cast<double>(image.width) / width;
  const double scaleY = static_cast<double>(image.height) / height;
  // The source position of an output pixel centre, split into the left/top neighbour and the
  // weight of the right/bottom one; positions outside the image clamp to its border.
  auto source = [](int dst, double scale, int extent, int& lo, int& hi, double& weight) {
    const double pos = std::clamp((dst + 0.5) * scale - 0.5, 0.0, extent - 1.0);
    lo = static_cast<int>(std::floor(pos));
    hi = std::min(lo + 1, extent - 1);
    weight = pos - lo;
  };
  uint8_t* dst = out.pixels.data();
  for (int y = 0; y < height; ++y) {
    int y0 = 0, y1 = 0;
    double wy = 0.0;
    source(y, scaleY, image.height, y0, y1, wy);
    for (int x = 0; x < width; ++x) {
      int x0 = 0, x1 = 0;
      double wx = 0.0;
      source(x, scaleX, image.width, x0, x1, wx);
      for (int c = 0; c < image.channels; ++c) {
        const double top = image.at(x0, y0)[c] * (1.0 - wx) + image.at(x1, y0)[c] * wx;
        const double bottom = image.at(x0, y1)[c] * (1.0 - wx) + image.at(x1, y1)[c] * wx;
        *dst++ = static_cast<uint8_t>(std::lround(top * (1.0 - wy) + bottom * wy));
      }
    }
  }
  return out;
}

}  // namespace ocr_demo
