// Weights of a JSON network description: a .npy file next to the JSON, an inline array, null
// (no weights, where a layer allows none), or absent — then random, so a network without
// trained weights can still be built, run and timed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/limits.h"
#include "kiln/types.h"
#include "parsers/json/json_document.h"
#include "parsers/json/npy_reader.h"
#include "parsers/json/object_reader.h"

namespace kiln::parsers::netjson {

struct WeightsSource {
  enum class Kind { kRandom, kNone, kInline, kFile };
  Kind kind = Kind::kRandom;
  std::vector<const Json*> elements;  //!< kInline: the numbers, nested arrays flattened
  NpyArray array;                     //!< kFile
  std::string file;                   //!< kFile: the path as the JSON gives it
};

//! Values ready for the network API; they must outlive the add* call that takes view().
struct WeightsBuffer {
  DataType type = DataType::kFLOAT;
  std::vector<std::byte> bytes;
  int64_t count = 0;
  bool none = false;

  Weights view() const {
    return none ? Weights{type, nullptr, 0} : Weights{type, bytes.data(), count};
  }
};

//! What a weights slot must hold, for sizing random values and for messages.
struct WeightsNeed {
  DataType type = DataType::kFLOAT;
  std::optional<int64_t> count;  //!< nullopt when the input shape does not tell
  std::string what;              //!< "the convolution kernel [20, 1, 5, 5]"
  double randomBound = 1.0;      //!< random values are uniform in [-bound, bound)
};

class WeightsReader {
 public:
  //! @p modelBytes: the size of the JSON text, which weight files add to (limits.maxModelBytes).
  WeightsReader(std::filesystem::path baseDir, uint32_t seed, const ModelLimits& limits,
                uint64_t modelBytes)
      : baseDir_(std::move(baseDir)), seed_(seed), limits_(limits), modelBytes_(modelBytes) {}

  //! Reads field @p key of @p fields. Absent: kRandom; null: kNone when @p allowNone.
  //! nullopt after reporting a problem (bad path, unreadable file, non-numeric array, ...).
  std::optional<WeightsSource> read(ObjectReader& fields, std::string_view key, bool allowNone);

  //! The values of @p source as @p need says, random ones keyed by @p layer and @p key so each
  //! layer's weights stay the same when other layers change. nullopt after reporting a problem.
  std::optional<WeightsBuffer> materialize(const WeightsSource& source, const WeightsNeed& need,
                                           ObjectReader& fields, std::string_view key,
                                           std::string_view layer);

  //! Layers that got at least one random weights slot, for the summary message.
  int32_t nbRandomLayers() const noexcept { return static_cast<int32_t>(randomLayers_.size()); }

 private:
  std::optional<WeightsSource> readFile(ObjectReader& fields, std::string_view key,
                                        const std::string& file);

  std::filesystem::path baseDir_;
  uint32_t seed_;
  ModelLimits limits_;
  uint64_t modelBytes_;  //!< the JSON text and the weight files read so far
  std::set<std::string, std::less<>> randomLayers_;
};

}  // namespace kiln::parsers::netjson
