#include "parsers/json/weights.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <random>
#include <system_error>

namespace kiln::parsers::netjson {

namespace fs = std::filesystem;

namespace {

constexpr int kMaxNesting = Dims::kMaxRank;

// Collects the leaves of nested arrays in row-major order; false on a non-array leaf deeper
// than kMaxNesting (which also bounds the recursion on hostile input).
bool flatten(const Json& value, int depth, std::vector<const Json*>& out) {
  if (!value.is_array()) {
    out.push_back(&value);
    return true;
  }
  if (depth >= kMaxNesting) return false;
  for (const Json& element : value) {
    if (!flatten(element, depth + 1, out)) return false;
  }
  return true;
}

uint32_t fnv1a(std::string_view text) {
  uint32_t hash = 2166136261u;
  for (char c : text) {
    hash ^= static_cast<uint8_t>(c);
    hash *= 16777619u;
  }
  return hash;
}

std::string countText(int64_t count) {
  return std::to_string(count) + (count == 1 ? " value" : " values");
}

template <typename T>
void append(std::vector<std::byte>& bytes, T value) {
  const auto at = bytes.size();
  bytes.resize(at + sizeof(T));
  std::memcpy(bytes.data() + at, &value, sizeof(T));
}

}  // namespace

std::optional<WeightsSource> WeightsReader::read(ObjectReader& fields, std::string_view key,
                                                 bool allowNone) {
  const Json* value = fields.field(key);
  WeightsSource source;
  if (value == nullptr) return source;
  if (value->is_null()) {
    if (!allowNone) {
      fields.error(key,
                   "may not be null; give a .npy path or an array, or leave it out for "
                   "random values");
      return std::nullopt;
    }
    source.kind = WeightsSource::Kind::kNone;
    return source;
  }
  if (value->is_string()) return readFile(fields, key, value->get<std::string>());
  if (value->is_array()) {
    source.kind = WeightsSource::Kind::kInline;
    if (!flatten(*value, 0, source.elements)) {
      fields.error(key, "arrays nest deeper than " + std::to_string(kMaxNesting) + " levels");
      return std::nullopt;
    }
    for (std::size_t i = 0; i < source.elements.size(); ++i) {
      const Json& element = *source.elements[i];
      if (!element.is_number() && !element.is_boolean()) {
        fields.error(
            key, "element " + std::to_string(i) + " must be a number, got " + describe(element));
        return std::nullopt;
      }
    }
    return source;
  }
  fields.error(key, "expected a .npy file path or an array of numbers" +
                        std::string(allowNone ? " (or null for none)" : "") + ", got " +
                        describe(*value));
  return std::nullopt;
}

std::optional<WeightsSource> WeightsReader::readFile(ObjectReader& fields, std::string_view key,
                                                     const std::string& file) {
  if (file.empty()) {
    fields.error(key, "the weights file path is empty");
    return std::nullopt;
  }
  const fs::path given(file);
  if (given.is_absolute() || given.has_root_name() || given.has_root_directory()) {
    fields.error(key, "weights file '" + file +
                          "' is an absolute path; give it relative to the folder of the JSON file");
    return std::nullopt;
  }
  const fs::path normal = given.lexically_normal();
  if (normal.empty() || *normal.begin() == "..") {
    fields.error(key, "weights file '" + file +
                          "' leaves the folder of the JSON file; keep weights in that folder or "
                          "below it");
    return std::nullopt;
  }
  const fs::path full = baseDir_ / normal;
  std::error_code ec;
  const auto status = fs::status(full, ec);
  if (!fs::exists(status)) {
    const bool missing = !ec || ec == std::errc::no_such_file_or_directory;
    fields.error(key, "weights file '" + file + "' " +
                          (missing ? "not found" : "cannot be accessed (" + ec.message() + ")") +
                          " (looked for '" + full.string() + "')");
    return std::nullopt;
  }
  if (!fs::is_regular_file(status)) {
    fields.error(key,
                 "weights file '" + file + "' is not a regular file ('" + full.string() + "')");
    return std::nullopt;
  }
  // A symbolic link inside the folder may still point out of it (a model unpacked from an
  // archive); the resolved path must stay inside the folder too.
  const fs::path resolved = fs::canonical(full, ec);
  const fs::path folder = ec ? fs::path() : fs::canonical(baseDir_, ec);
  if (ec) {
    fields.error(key, "cannot resolve weights file '" + file + "' ('" + full.string() +
                          "'): " + ec.message());
    return std::nullopt;
  }
  if (std::mismatch(folder.begin(), folder.end(), resolved.begin(), resolved.end()).first !=
      folder.end()) {
    fields.error(key, "weights file '" + file + "' resolves to '" + resolved.string() +
                          "', outside the folder of the JSON file ('" + folder.string() +
                          "'); keep weights in that folder or below it");
    return std::nullopt;
  }
  // Sized before reading: a weights file never makes the model exceed its cap.
  const uint64_t fileBytes = fs::file_size(full, ec);
  if (ec) {
    fields.error(
        key, "cannot read weights file '" + file + "' ('" + full.string() + "'): " + ec.message());
    return std::nullopt;
  }
  if (fileBytes > limits_.maxModelBytes || modelBytes_ > limits_.maxModelBytes - fileBytes) {
    fields.error(key, "weights file '" + file + "' has " + std::to_string(fileBytes) +
                          " bytes, which takes the model past the limit of " +
                          std::to_string(limits_.maxModelBytes) +
                          " bytes (ModelLimits::maxModelBytes)");
    return std::nullopt;
  }
  modelBytes_ += fileBytes;
  std::ifstream in(full, std::ios::binary);
  std::vector<char> raw;
  if (in) raw.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (!in && !in.eof()) {
    fields.error(key, "cannot read weights file '" + file + "' ('" + full.string() + "')");
    return std::nullopt;
  }
  WeightsSource source;
  source.kind = WeightsSource::Kind::kFile;
  source.file = file;
  std::string error;
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(raw.data()),
                                         raw.size());
  if (!parseNpy(bytes, source.array, error)) {
    fields.error(key, "weights file '" + file + "': " + error);
    return std::nullopt;
  }
  return source;
}

std::optional<WeightsBuffer> WeightsReader::materialize(const WeightsSource& source,
                                                        const WeightsNeed& need,
                                                        ObjectReader& fields, std::string_view key,
                                                        std::string_view layer) {
  WeightsBuffer buffer;
  buffer.type = need.type;
  if (need.count && source.kind != WeightsSource::Kind::kNone) {
    if (*need.count < 0 ||
        static_cast<uint64_t>(*need.count) > limits_.maxTensorBytes / elementSize(need.type)) {
      fields.error(key, need.what + " needs " + std::to_string(*need.count) + " " +
                            toString(need.type) + " values, more than the limit of " +
                            std::to_string(limits_.maxTensorBytes) +
                            " bytes (ModelLimits::maxTensorBytes)");
      return std::nullopt;
    }
  }
  switch (source.kind) {
    case WeightsSource::Kind::kNone:
      buffer.none = true;
      return buffer;

    case WeightsSource::Kind::kRandom: {
      if (!need.count) {
        fields.error(key, "cannot size random values for " + need.what +
                              " (the input shape does not tell); give the weights");
        return std::nullopt;
      }
      // Far above any real layer; keeps a typo like "num_output": 5000000 from eating memory.
      constexpr int64_t kMaxRandomValues = int64_t{1} << 28;
      if (*need.count > kMaxRandomValues) {
        fields.error(key, need.what + " needs " + std::to_string(*need.count) +
                              " values, more than the " + std::to_string(kMaxRandomValues) +
                              " kiln makes up at random; give the weights");
        return std::nullopt;
      }
      if (need.type != DataType::kFLOAT) {
        fields.error(key, toString(need.type) + " values cannot be random; give them");
        return std::nullopt;
      }
      // mt19937 and seed_seq are specified exactly by the standard, unlike the distributions,
      // so the same seed gives the same weights everywhere.
      const std::string keyText(key);
      std::seed_seq seq{seed_, fnv1a(layer), fnv1a(keyText)};
      std::mt19937 rng(seq);
      const auto bound = static_cast<float>(need.randomBound);
      buffer.count = *need.count;
      randomLayers_.emplace(layer);
      buffer.bytes.reserve(static_cast<std::size_t>(buffer.count) * sizeof(float));
      for (int64_t i = 0; i < buffer.count; ++i) {
        const float unit = static_cast<float>(rng() >> 8) * (1.0f / 16777216.0f);
        append(buffer.bytes, (2.0f * unit - 1.0f) * bound);
      }
      return buffer;
    }

    case WeightsSource::Kind::kFile: {
      const NpyArray& array = source.array;
      const std::string origin =
          "weights file '" + source.file + "' (shape " + shapeText(array.shape) + ")";
      if (array.type != need.type) {
        fields.error(key, origin + " holds " + array.descr + " values; " + need.what + " needs " +
                              toString(need.type));
        return std::nullopt;
      }
      if (need.count && array.count() != *need.count) {
        fields.error(key, origin + " holds " + countText(array.count()) + "; " + need.what +
                              " needs " + std::to_string(*need.count));
        return std::nullopt;
      }
      if (array.data.size() > limits_.maxTensorBytes) {
        fields.error(key, origin + " holds " + std::to_string(array.data.size()) +
                              " bytes, more than the limit of " +
                              std::to_string(limits_.maxTensorBytes) +
                              " (ModelLimits::maxTensorBytes)");
        return std::nullopt;
      }
      buffer.count = array.count();
      buffer.bytes = array.data;
      return buffer;
    }

    case WeightsSource::Kind::kInline: {
      const auto count = static_cast<int64_t>(source.elements.size());
      if (static_cast<uint64_t>(count) * elementSize(need.type) > limits_.maxTensorBytes) {
        fields.error(key, "the inline array holds " + countText(count) +
                              ", more than the limit of " + std::to_string(limits_.maxTensorBytes) +
                              " bytes (ModelLimits::maxTensorBytes)");
        return std::nullopt;
      }
      if (need.count && count != *need.count) {
        fields.error(key, "the inline array holds " + countText(count) + "; " + need.what +
                              " needs " + std::to_string(*need.count));
        return std::nullopt;
      }
      for (std::size_t i = 0; i < source.elements.size(); ++i) {
        const Json& v = *source.elements[i];
        const auto bad = [&](std::string_view expected) {
          fields.error(key, "element " + std::to_string(i) + " must be " + std::string(expected) +
                                " for " + toString(need.type) + " values, got " + describe(v));
        };
        if (need.type == DataType::kFLOAT) {
          if (!v.is_number()) {
            bad("a number");
            return std::nullopt;
          }
          const double d = v.get<double>();
          if (std::fabs(d) > std::numeric_limits<float>::max()) {
            {
              bad("within the float32 range");
              return std::nullopt;
            }
          }
          append(buffer.bytes, static_cast<float>(d));
        } else if (need.type == DataType::kINT32) {
          const bool fits =
              (v.is_number_integer() && v.get<int64_t>() >= std::numeric_limits<int32_t>::min() &&
               v.get<int64_t>() <= std::numeric_limits<int32_t>::max()) ||
              (v.is_number_unsigned() &&
               v.get<uint64_t>() <= uint64_t{std::numeric_limits<int32_t>::max()});
          if (!fits) {
            bad("an integer within the int32 range");
            return std::nullopt;
          }
          append(buffer.bytes, static_cast<int32_t>(v.get<int64_t>()));
        } else if (need.type == DataType::kBOOL) {
          const bool isBit = v.is_boolean() || ((v.is_number_integer() || v.is_number_unsigned()) &&
                                                (v.get<int64_t>() == 0 || v.get<int64_t>() == 1));
          if (!isBit) {
            bad("true, false, 0 or 1");
            return std::nullopt;
          }
          const bool bit = v.is_boolean() ? v.get<bool>() : v.get<int64_t>() == 1;
          append(buffer.bytes, static_cast<uint8_t>(bit ? 1 : 0));
        } else {
          fields.error(key, "inline " + toString(need.type) + " values are not supported");
          return std::nullopt;
        }
      }
      buffer.count = count;
      return buffer;
    }
  }
  return std::nullopt;
}

}  // namespace kiln::parsers::netjson
