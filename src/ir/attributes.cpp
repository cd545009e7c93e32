#include "ir/attributes.h"

#include <sstream>

#include "core/error.h"

namespace kiln::ir {

namespace {
template <typename T>
const T* lookup(const std::map<std::string, Attribute, std::less<>>& map, std::string_view name,
                const char* typeName) {
  auto it = map.find(name);
  if (it == map.end()) return nullptr;
  const T* value = std::get_if<T>(&it->second);
  if (value == nullptr) {
    fail(ErrorCode::kINVALID_ARGUMENT, "attribute '", name, "' is not of type ", typeName);
  }
  return value;
}
}  // namespace

void Attributes::set(std::string_view name, const Dims& dims) {
  if (dims.nbDims < 0 || dims.nbDims > Dims::kMaxRank) {
    fail(ErrorCode::kINVALID_ARGUMENT, "attribute '", name, "': rank ", dims.nbDims,
         " is outside [0, ", Dims::kMaxRank, "]");
  }
  std::vector<int64_t> values(dims.d.begin(), dims.d.begin() + std::max(dims.nbDims, 0));
  set(name, std::move(values));
}

void Attributes::erase(std::string_view name) {
  auto it = map_.find(name);
  if (it != map_.end()) map_.erase(it);
}

int64_t Attributes::getInt(std::string_view name, int64_t fallback) const {
  const auto* v = lookup<int64_t>(map_, name, "int");
  return v ? *v : fallback;
}

double Attributes::getFloat(std::string_view name, double fallback) const {
  auto it = map_.find(name);
  if (it != map_.end()) {
    if (const auto* i = std::get_if<int64_t>(&it->second)) return static_cast<double>(*i);
  }
  const auto* v = lookup<double>(map_, name, "float");
  return v ? *v : fallback;
}

std::string Attributes::getString(std::string_view name, std::string_view fallback) const {
  const auto* v = lookup<std::string>(map_, name, "string");
  return v ? *v : std::string(fallback);
}

std::vector<int64_t> Attributes::getInts(std::string_view name,
                                         const std::vector<int64_t>& fallback) const {
  const auto* v = lookup<std::vector<int64_t>>(map_, name, "int list");
  return v ? *v : fallback;
}

std::vector<double> Attributes::getFloats(std::string_view name,
                                          const std::vector<double>& fallback) const {
  const auto* v = lookup<std::vector<double>>(map_, name, "float list");
  return v ? *v : fallback;
}

Dims Attributes::getDims(std::string_view name, const Dims& fallback) const {
  const auto* v = lookup<std::vector<int64_t>>(map_, name, "int list");
  if (v == nullptr) return fallback;
  if (v->size() > static_cast<std::size_t>(Dims::kMaxRank)) {
    fail(ErrorCode::kINVALID_ARGUMENT, "attribute '", name, "' has ", v->size(),
         " entries; at most ", Dims::kMaxRank, " are allowed");
  }
  Dims dims;
  for (int64_t e : *v) dims[dims.nbDims++] = e;
  return dims;
}

std::string toString(const Attributes& attributes) {
  std::ostringstream out;
  bool first = true;
  for (const auto& [name, value] : attributes.all()) {
    if (!first) out << ' ';
    first = false;
    out << name << '=';
    std::visit(
        [&out](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::vector<int64_t>> ||
                        std::is_same_v<T, std::vector<double>>) {
            out << '[';
            for (std::size_t i = 0; i < v.size(); ++i) out << (i ? "," : "") << v[i];
            out << ']';
          } else if constexpr (std::is_same_v<T, std::string>) {
            out << '"' << v << '"';
          } else {
            out << v;
          }
        },
        value);
  }
  return out.str();
}

}  // namespace kiln::ir
