// Typed access to the fields of one JSON object of the network description. Every getter
// records the field name as known, so that finish() can report the fields nobody asked for:
// a typo ("strides") must be an error, never silently ignored.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/types.h"
#include "parsers/json/diagnostics.h"
#include "parsers/json/enum_names.h"
#include "parsers/json/json_document.h"

namespace kiln::parsers::netjson {

enum class Need { kOptional, kRequired };

class ObjectReader {
 public:
  //! @p object must be a JSON object. @p where names it in messages ("layer 3 'conv1' (...)");
  //! @p prefix is put before field names ("weights." for the weights of a layer).
  ObjectReader(const Json& object, Diagnostics& diag, std::string where, std::string prefix = {});

  void setWhere(std::string where) { where_ = std::move(where); }
  const std::string& where() const noexcept { return where_; }
  Diagnostics& diagnostics() noexcept { return diag_; }

  //! The raw value of @p key (JSON null included), or nullptr when absent.
  const Json* field(std::string_view key, Need need = Need::kOptional);

  std::optional<int64_t> integer(std::string_view key, Need need = Need::kOptional,
                                 int64_t min = std::numeric_limits<int64_t>::min(),
                                 int64_t max = std::numeric_limits<int64_t>::max());
  std::optional<double> number(std::string_view key, Need need = Need::kOptional);
  std::optional<bool> boolean(std::string_view key, Need need = Need::kOptional);
  std::optional<std::string> string(std::string_view key, Need need = Need::kOptional);
  //! An array of at most Dims::kMaxRank integers.
  std::optional<Dims> dims(std::string_view key, Need need = Need::kOptional);
  std::optional<std::vector<int64_t>> integers(std::string_view key, Need need = Need::kOptional);
  std::optional<std::vector<std::string>> strings(std::string_view key,
                                                  Need need = Need::kOptional);

  template <typename E>
  std::optional<E> enumeration(std::string_view key, std::span<const EnumName<E>> table,
                               Need need = Need::kOptional) {
    const auto text = string(key, need);
    if (!text) return std::nullopt;
    if (const auto value = lookup(table, *text)) return value;
    enumError(key, *text, names(table));
    return std::nullopt;
  }
  template <typename E>
  std::optional<std::vector<E>> enumerations(std::string_view key,
                                             std::span<const EnumName<E>> table,
                                             Need need = Need::kOptional) {
    const auto texts = strings(key, need);
    if (!texts) return std::nullopt;
    std::vector<E> values;
    for (const auto& text : *texts) {
      const auto value = lookup(table, text);
      if (!value) {
        enumError(key, text, names(table));
        return std::nullopt;
      }
      values.push_back(*value);
    }
    return values;
  }

  //! Reports a problem with field @p key: "<where>: field '<prefix><key>': <message>".
  void error(std::string_view key, std::string_view message);
  //! Reports a problem of the object as a whole: "<where>: <message>".
  void error(std::string_view message);

  //! Reports every field of the object that no getter asked for, naming @p kind's fields.
  //! Runs once; later calls do nothing.
  void finish(std::string_view kind);

 private:
  void enumError(std::string_view key, std::string_view text, std::vector<std::string_view> valid);
  std::string fieldName(std::string_view key) const;

  const Json& object_;
  Diagnostics& diag_;
  std::string where_;
  std::string prefix_;
  std::vector<std::string> known_;
  bool finished_ = false;
};

}  // namespace kiln::parsers::netjson
