// Node attributes: a small typed dictionary that every op, pass, tactic and the plan share.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "kiln/types.h"

namespace kiln::ir {

//! One attribute value. Enums are stored as int64; Dims as a vector of int64.
using Attribute =
    std::variant<int64_t, double, std::string, std::vector<int64_t>, std::vector<double>>;

class Attributes {
 public:
  void set(std::string_view name, int64_t value) { map_[std::string(name)] = value; }
  void set(std::string_view name, int32_t value) { set(name, static_cast<int64_t>(value)); }
  void set(std::string_view name, bool value) { set(name, static_cast<int64_t>(value)); }
  void set(std::string_view name, double value) { map_[std::string(name)] = value; }
  void set(std::string_view name, float value) { set(name, static_cast<double>(value)); }
  void set(std::string_view name, std::string value) { map_[std::string(name)] = std::move(value); }
  void set(std::string_view name, std::vector<int64_t> value) {
    map_[std::string(name)] = std::move(value);
  }
  void set(std::string_view name, std::vector<double> value) {
    map_[std::string(name)] = std::move(value);
  }
  void set(std::string_view name, const Dims& dims);
  template <typename Enum>
  requires std::is_enum_v<Enum>
  void set(std::string_view name, Enum value) { set(name, static_cast<int64_t>(value)); }

  bool has(std::string_view name) const { return map_.find(name) != map_.end(); }
  void erase(std::string_view name);

  //! Typed getters: the default when absent; kINVALID_ARGUMENT when present with another type.
  int64_t getInt(std::string_view name, int64_t fallback = 0) const;
  double getFloat(std::string_view name, double fallback = 0.0) const;
  std::string getString(std::string_view name, std::string_view fallback = {}) const;
  std::vector<int64_t> getInts(std::string_view name,
                               const std::vector<int64_t>& fallback = {}) const;
  std::vector<double> getFloats(std::string_view name,
                                const std::vector<double>& fallback = {}) const;
  //! A vector of int64 as Dims (rank = length); @p fallback when absent.
  Dims getDims(std::string_view name, const Dims& fallback = Dims{}) const;
  template <typename Enum>
  requires std::is_enum_v<Enum> Enum getEnum(std::string_view name, Enum fallback)
  const { return static_cast<Enum>(getInt(name, static_cast<int64_t>(fallback))); }

  const std::map<std::string, Attribute, std::less<>>& all() const noexcept { return map_; }
  friend bool operator==(const Attributes&, const Attributes&) = default;

 private:
  std::map<std::string, Attribute, std::less<>> map_;
};

//! A human-readable rendering ("stride=[2,2] group=1 ...") for logs and inspect.
std::string toString(const Attributes& attributes);

}  // namespace kiln::ir
