#include "parsers/json/diagnostics.h"

#include <algorithm>
#include <vector>

namespace kiln::parsers::netjson {

void Diagnostics::error(std::string_view where, std::string_view message) {
  ++errors_;
  std::string text = source_ + ": ";
  if (!where.empty()) text.append(where).append(": ");
  text.append(message);
  logger_.log(Severity::kERROR, text);
}

void Diagnostics::info(std::string_view message) {
  logger_.log(Severity::kINFO, source_ + ": " + std::string(message));
}

namespace {
// Edits (insert, delete, substitute, swap two neighbours) between @p a and @p b: swapped letters
// are the commonest typo ("rleu"), so they count as one edit.
std::size_t editDistance(std::string_view a, std::string_view b) {
  const std::size_t n = a.size(), m = b.size();
  std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1));
  for (std::size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= n; ++i) {
    for (std::size_t j = 1; j <= m; ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[n][m];
}
}  // namespace

std::string didYouMean(std::string_view word, std::span<const std::string_view> candidates) {
  // Short words are within two edits of too much; scale the tolerance with the length.
  const std::size_t tolerance = word.size() <= 4 ? 1 : 2;
  std::string_view best;
  std::size_t bestDistance = tolerance + 1;
  for (std::string_view candidate : candidates) {
    const std::size_t d = editDistance(word, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  if (best.empty()) return {};
  return " (did you mean '" + std::string(best) + "'?)";
}

std::string joinNames(std::span<const std::string_view> names) {
  std::string out;
  for (std::string_view name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

}  // namespace kiln::parsers::netjson
