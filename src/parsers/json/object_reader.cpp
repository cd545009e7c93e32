#include "parsers/json/object_reader.h"

#include <algorithm>

namespace kiln::parsers::netjson {

ObjectReader::ObjectReader(const Json& object, Diagnostics& diag, std::string where,
                           std::string prefix)
    : object_(object), diag_(diag), where_(std::move(where)), prefix_(std::move(prefix)) {}

std::string ObjectReader::fieldName(std::string_view key) const {
  return prefix_ + std::string(key);
}

void ObjectReader::error(std::string_view key, std::string_view message) {
  diag_.error(where_, "field '" + fieldName(key) + "': " + std::string(message));
}

void ObjectReader::error(std::string_view message) {
  diag_.error(where_, message);
}

const Json* ObjectReader::field(std::string_view key, Need need) {
  if (std::find(known_.begin(), known_.end(), key) == known_.end()) known_.emplace_back(key);
  const auto it = object_.find(key);
  if (it == object_.end()) {
    if (need == Need::kRequired) error("missing required field '" + fieldName(key) + "'");
    return nullptr;
  }
  return &*it;
}

namespace {
bool isInteger(const Json& v) {
  return v.is_number_integer() || v.is_number_unsigned();
}

// The integer value of @p v when it fits int64 (unsigned values above INT64_MAX do not).
std::optional<int64_t> asInt64(const Json& v) {
  if (v.is_number_unsigned()) {
    const auto u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  return v.get<int64_t>();
}
}  // namespace

std::optional<int64_t> ObjectReader::integer(std::string_view key, Need need, int64_t min,
                                             int64_t max) {
  const Json* v = field(key, need);
  if (v == nullptr) return std::nullopt;
  if (!isInteger(*v)) {
    error(key, "expected an integer, got " + describe(*v));
    return std::nullopt;
  }
  const auto value = asInt64(*v);
  if (!value || *value < min || *value > max) {
    std::string range = "must be ";
    if (min != std::numeric_limits<int64_t>::min() && max != std::numeric_limits<int64_t>::max()) {
      range += "in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
    } else if (min != std::numeric_limits<int64_t>::min()) {
      range += "at least " + std::to_string(min);
    } else {
      range += "at most " + std::to_string(max);
    }
    error(key, range + ", got " + v->dump());
    return std::nullopt;
  }
  return value;
}

std::optional<double> ObjectReader::number(std::string_view key, Need need) {
  const Json* v = field(key, need);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number()) {
    error(key, "expected a number, got " + describe(*v));
    return std::nullopt;
  }
  return v->get<double>();
}

std::optional<bool> ObjectReader::boolean(std::string_view key, Need need) {
  const Json* v = field(key, need);
  if (v == nullptr) return std::nullopt;
  if (!v->is_boolean()) {
    error(key, "expected true or false, got " + describe(*v));
    return std::nullopt;
  }
  return v->get<bool>();
}

std::optional<std::string> ObjectReader::string(std::string_view key, Need need) {
  const Json* v = field(key, need);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) {
    error(key, "expected a string, got " + describe(*v));
    return std::nullopt;
  }
  return v->get<std::string>();
}

std::optional<std::vector<int64_t>> ObjectReader::integers(std::string_view key, Need need) {
  const Json* v = field(key, need);
  if (v == nullptr) return std::nullopt;
  if (!v->is_array()) {
    error(key, "expected an array of integers, got " + describe(*v));
    return std::nullopt;
  }
  std::vector<int64_t> values;
  for (std::size_t i = 0; i < v->size(); ++i) {
    const Json& element = (*v)[i];
    const auto value = isInteger(element) ? asInt64(element) : std::nullopt;
    if (!value) {
      error(key, "element " + std::to_string(i) + " must be an integer (int64), got " +
                     describe(element));
      return std::nullopt;
    }
    values.push_back(*value);
  }
  return values;
}

std::optional<Dims> ObjectReader::dims(std::string_view key, Need need) {
  const auto values = integers(key, need);
  if (!values) return std::nullopt;
  if (values->size() > static_cast<std::size_t>(Dims::kMaxRank)) {
    error(key, "has " + std::to_string(values->size()) + " dimensions; at most " +
                   std::to_string(Dims::kMaxRank) + " are supported");
    return std::nullopt;
  }
  Dims dims;
  for (int64_t value : *values) dims[dims.nbDims++] = value;
  return dims;
}

std::optional<std::vector<std::string>> ObjectReader::strings(std::string_view key, Need need) {
  const Json* v = field(key, need);
  if (v == nullptr) return std::nullopt;
  if (!v->is_array()) {
    error(key, "expected an array of strings, got " + describe(*v));
    return std::nullopt;
  }
  std::vector<std::string> values;
  for (std::size_t i = 0; i < v->size(); ++i) {
    const Json& element = (*v)[i];
    if (!element.is_string()) {
      error(key, "element " + std::to_string(i) + " must be a string, got " + describe(element));
      return std::nullopt;
    }
    values.push_back(element.get<std::string>());
  }
  return values;
}

void ObjectReader::enumError(std::string_view key, std::string_view text,
                             std::vector<std::string_view> valid) {
  error(key, "unknown value '" + std::string(text) + "'" + didYouMean(text, valid) +
                 "; valid values: " + joinNames(valid));
}

void ObjectReader::finish(std::string_view kind) {
  if (finished_) return;
  finished_ = true;
  std::vector<std::string_view> known(known_.begin(), known_.end());
  for (auto it = object_.begin(); it != object_.end(); ++it) {
    if (std::find(known_.begin(), known_.end(), it.key()) != known_.end()) continue;
    std::string message =
        "unknown field '" + fieldName(it.key()) + "'" + didYouMean(it.key(), known);
    message +=
        "; " + std::string(kind) + " takes: " + (known.empty() ? "nothing" : joinNames(known));
    error(message);
  }
}

}  // namespace kiln::parsers::netjson
