#include "parsers/json/json_document.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

namespace kiln::parsers::netjson {

namespace {

// Follows the parser through the document to name where a repeated key sits ("layers[2]").
class DuplicateKeyFinder {
 public:
  explicit DuplicateKeyFinder(Diagnostics& diag) : diag_(diag) {}

  void onEvent(Json::parse_event_t event, const Json& parsed) {
    using Event = Json::parse_event_t;
    switch (event) {
      case Event::object_start:
        frames_.push_back(Frame{true, {}, {}, 0});
        break;
      case Event::array_start:
        frames_.push_back(Frame{false, {}, {}, 0});
        break;
      case Event::key:
        onKey(parsed.is_string() ? parsed.get<std::string>() : std::string());
        break;
      case Event::object_end:
      case Event::array_end:
        if (!frames_.empty()) frames_.pop_back();
        elementDone();
        break;
      case Event::value:
        elementDone();
        break;
    }
  }

 private:
  struct Frame {
    bool object;
    std::set<std::string> keys;
    std::string key;
    std::size_t index;
  };

  void onKey(std::string key) {
    if (frames_.empty() || !frames_.back().object) return;
    Frame& frame = frames_.back();
    if (!frame.keys.insert(key).second) {
      diag_.error(path(), "key '" + key + "' appears twice in one object");
    }
    frame.key = std::move(key);
  }

  void elementDone() {
    if (!frames_.empty() && !frames_.back().object) ++frames_.back().index;
  }

  // The path of the object holding the current key, without its own key.
  std::string path() const {
    std::string out;
    for (std::size_t i = 0; i + 1 < frames_.size(); ++i) {
      const Frame& frame = frames_[i];
      if (frame.object) {
        if (!out.empty()) out += '.';
        out += frame.key;
      } else {
        out += '[' + std::to_string(frame.index) + ']';
      }
    }
    return out.empty() ? "top level" : out;
  }

  Diagnostics& diag_;
  std::vector<Frame> frames_;
};

// Thrown from the parser's callback to stop at the first level too deep.
struct TooDeep {};

// nlohmann's message starts with "[json.exception.parse_error.101] parse error at line 1,
// column 2: "; we print our own position, so keep only the reason.
std::string parseErrorReason(const std::string& what) {
  const auto column = what.find("column ");
  if (column != std::string::npos) {
    const auto colon = what.find(": ", column);
    if (colon != std::string::npos) return what.substr(colon + 2);
  }
  const auto bracket = what.find("] ");
  return bracket == std::string::npos ? what : what.substr(bracket + 2);
}

}  // namespace

bool parseDocument(std::string_view text, Diagnostics& diag, Json& out, int32_t maxDepth) {
  const int32_t errorsBefore = diag.errorCount();
  DuplicateKeyFinder finder(diag);
  try {
    out = Json::parse(
        text.begin(), text.end(),
        [&finder, maxDepth](int depth, Json::parse_event_t event, Json& parsed) {
          // depth counts the enclosing arrays and objects; a start event opens one more.
          const bool opens = event == Json::parse_event_t::object_start ||
                             event == Json::parse_event_t::array_start;
          if (opens && depth >= maxDepth) throw TooDeep{};
          finder.onEvent(event, parsed);
          return true;
        },
        /*allow_exceptions=*/true, /*ignore_comments=*/false);
  } catch (const TooDeep&) {
    diag.error("", "arrays and objects nest deeper than " + std::to_string(maxDepth) +
                       " levels (ModelLimits::maxNestingDepth)");
    return false;
  } catch (const Json::parse_error& e) {
    // e.byte counts the characters read, the offending one included.
    const std::size_t offset = std::min<std::size_t>(e.byte > 0 ? e.byte - 1 : 0, text.size());
    const auto before = text.substr(0, offset);
    const std::size_t line =
        1 + static_cast<std::size_t>(std::count(before.begin(), before.end(), '\n'));
    const auto lineStart = before.rfind('\n');
    const std::size_t column =
        lineStart == std::string_view::npos ? offset + 1 : offset - lineStart;
    diag.error("line " + std::to_string(line) + ", column " + std::to_string(column),
               "invalid JSON: " + parseErrorReason(e.what()));
    return false;
  } catch (const std::exception& e) {
    diag.error("", std::string("invalid JSON: ") + e.what());
    return false;
  }
  return diag.errorCount() == errorsBefore;
}

std::string describe(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return value.get<bool>() ? "true" : "false";
    case Json::value_t::string: {
      std::string s = value.get<std::string>();
      if (s.size() > 40) s = s.substr(0, 37) + "...";
      return "string \"" + s + "\"";
    }
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return "number " + value.dump();
    case Json::value_t::array:
      return "an array";
    case Json::value_t::object:
      return "an object";
    default:
      return "a value of another kind";
  }
}

}  // namespace kiln::parsers::netjson
