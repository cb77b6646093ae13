// The extended JSON parser: Boost.JSON's SAX parser reads the JSON grammar into a flat tape of
// tokens (so that an object's keys can be looked at before deciding whether it is a type
// wrapper, and number literals keep their text), then a converter walks the tape and appends to
// a bson::Builder.

#include "wire/extended_json.hpp"

// Boost.JSON in its header-only form: this is the one translation unit that compiles it.
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/src.hpp>

#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "wire/error.hpp"

namespace mongoslice::bson {
namespace {

// A key for an error message, quoted with ": the whole key shows, NULs and UTF-8 included.
std::string escaped(std::string_view text) {
  return escaped_for_message(text, '"');
}

constexpr std::size_t kMaxDepth = 1000;

// ---- The tape ----------------------------------------------------------------------------

enum class Kind : std::uint8_t {
  kObject,
  kArray,
  kKey,
  kString,
  kInt64,
  kUint64,
  kDouble,
  kBool,
  kNull
};

// One JSON value (or object key). A container is followed by its members (key, value, key,
// value, ...) or items; `end` is the index one past the last token of its subtree.
struct Token {
  Kind kind;
  bool boolean = false;
  std::uint32_t count = 0;   // members or items of a container
  std::uint32_t end = 0;     // one past this value's subtree
  std::uint32_t offset = 0;  // text (string, key, number literal) in the pool
  std::uint32_t length = 0;
  std::int64_t int64 = 0;
  std::uint64_t uint64 = 0;
};

struct Tape {
  std::vector<Token> tokens;
  std::string pool;
  std::string_view text(const Token& t) const { return {pool.data() + t.offset, t.length}; }
};

// Boost.JSON's SAX handler that records the tape.
class TapeHandler {
 public:
  static constexpr std::size_t max_array_size = std::numeric_limits<std::uint32_t>::max();
  static constexpr std::size_t max_object_size = std::numeric_limits<std::uint32_t>::max();
  static constexpr std::size_t max_string_size = std::numeric_limits<std::uint32_t>::max();
  static constexpr std::size_t max_key_size = std::numeric_limits<std::uint32_t>::max();
  using error_code = boost::json::error_code;
  using sv = boost::json::string_view;

  Tape tape;

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_array_begin(error_code&) { return open(Kind::kArray); }
  bool on_array_end(std::size_t n, error_code&) { return close(n); }
  bool on_object_begin(error_code&) { return open(Kind::kObject); }
  bool on_object_end(std::size_t n, error_code&) { return close(n); }
  bool on_string_part(sv s, std::size_t, error_code&) { return part(s); }
  bool on_string(sv s, std::size_t, error_code&) { return text_token(Kind::kString, s); }
  bool on_key_part(sv s, std::size_t, error_code&) { return part(s); }
  bool on_key(sv s, std::size_t, error_code&) { return text_token(Kind::kKey, s); }
  bool on_number_part(sv s, error_code&) { return part(s); }
  bool on_int64(std::int64_t i, sv s, error_code&) {
    text_token(Kind::kInt64, s);
    tape.tokens.back().int64 = i;
    return true;
  }
  bool on_uint64(std::uint64_t u, sv s, error_code&) {
    text_token(Kind::kUint64, s);
    tape.tokens.back().uint64 = u;
    return true;
  }
  bool on_double(double, sv s, error_code&) { return text_token(Kind::kDouble, s); }
  bool on_bool(bool b, error_code&) {
    scalar(Kind::kBool).boolean = b;
    return true;
  }
  bool on_null(error_code&) {
    scalar(Kind::kNull);
    return true;
  }
  bool on_comment_part(sv, error_code&) { return true; }
  bool on_comment(sv, error_code&) { return true; }

 private:
  Token& scalar(Kind kind) {
    auto& t = tape.tokens.emplace_back(Token{kind});
    t.end = static_cast<std::uint32_t>(tape.tokens.size());
    return t;
  }
  bool open(Kind kind) {
    open_.push_back(static_cast<std::uint32_t>(tape.tokens.size()));
    tape.tokens.push_back(Token{kind});
    return true;
  }
  bool close(std::size_t n) {
    Token& t = tape.tokens[open_.back()];
    open_.pop_back();
    t.count = static_cast<std::uint32_t>(n);
    t.end = static_cast<std::uint32_t>(tape.tokens.size());
    return true;
  }
  bool part(sv s) {
    if (!in_text_) {
      in_text_ = true;
      text_start_ = tape.pool.size();
    }
    tape.pool.append(s.data(), s.size());
    return true;
  }
  bool text_token(Kind kind, sv s) {
    part(s);
    in_text_ = false;
    Token& t = scalar(kind);
    t.offset = static_cast<std::uint32_t>(text_start_);
    t.length = static_cast<std::uint32_t>(tape.pool.size() - text_start_);
    return true;
  }

  std::vector<std::uint32_t> open_;
  bool in_text_ = false;
  std::size_t text_start_ = 0;
};

// ---- Small helpers -----------------------------------------------------------------------

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::kObject:
      return "an object";
    case Kind::kArray:
      return "an array";
    case Kind::kKey:
    case Kind::kString:
      return "a string";
    case Kind::kInt64:
    case Kind::kUint64:
    case Kind::kDouble:
      return "a number";
    case Kind::kBool:
      return "a boolean";
    case Kind::kNull:
      return "null";
  }
  return "a value";
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// "-?[0-9]+" into T.
template <typename T>
std::optional<T> parse_integer(std::string_view s) {
  if (!all_digits(s.substr(!s.empty() && s[0] == '-' ? 1 : 0))) return std::nullopt;
  T value{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

// A decimal number (optional '-', digits with an optional '.', an optional exponent) into the
// nearest double; nullopt when the text is not one or is beyond a double's range.
std::optional<double> parse_decimal_double(std::string_view s) {
  std::size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  std::size_t digits = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++digits;
  }
  if (digits == 0) return std::nullopt;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!all_digits(s.substr(i))) return std::nullopt;
    i = s.size();
  }
  if (i != s.size()) return std::nullopt;
  double value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

// Strict base64 (RFC 4648, with padding); nullopt for anything else.
std::optional<std::vector<std::uint8_t>> decode_base64(std::string_view s) {
  auto sextet = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (s.size() % 4 != 0) return std::nullopt;
  std::size_t padding = 0;
  if (!s.empty() && s.back() == '=') ++padding;
  if (s.size() >= 2 && s[s.size() - 2] == '=') ++padding;
  std::vector<std::uint8_t> out;
  out.reserve(s.size() / 4 * 3);
  for (std::size_t i = 0; i < s.size(); i += 4) {
    const bool last = i + 4 == s.size();
    const std::size_t pad = last ? padding : 0;
    std::uint32_t group = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      int v = 0;
      if (j < 4 - pad) {
        v = sextet(s[i + j]);
        if (v < 0) return std::nullopt;
      }
      group = group << 6 | static_cast<std::uint32_t>(v);
    }
    out.push_back(static_cast<std::uint8_t>(group >> 16));
    if (pad < 2) out.push_back(static_cast<std::uint8_t>(group >> 8));
    if (pad < 1) out.push_back(static_cast<std::uint8_t>(group));
  }
  return out;
}

// "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (hex) into 16 bytes.
std::optional<std::array<std::uint8_t, 16>> decode_uuid(std::string_view s) {
  if (s.size() != 36) return std::nullopt;
  std::array<std::uint8_t, 16> out{};
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size();) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return std::nullopt;
      ++i;
      continue;
    }
    const int hi = hex_digit(s[i]);
    const int lo = hex_digit(s[i + 1]);
    if (hi < 0 || lo < 0 || s[i + 1] == '-') return std::nullopt;
    out[n++] = static_cast<std::uint8_t>(hi << 4 | lo);
    i += 2;
  }
  return out;
}

// Days from 1970-01-01 to a proleptic Gregorian date.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM|+HHMM|-HHMM)" into milliseconds since the
// epoch (digits past the milliseconds are dropped).
std::optional<std::int64_t> parse_iso8601(std::string_view s) {
  auto number = [&](std::size_t at, std::size_t width) -> std::optional<unsigned> {
    if (at + width > s.size() || !all_digits(s.substr(at, width))) return std::nullopt;
    unsigned v = 0;
    for (std::size_t i = 0; i < width; ++i) v = v * 10 + static_cast<unsigned>(s[at + i] - '0');
    return v;
  };
  auto y = number(0, 4), mo = number(5, 2), d = number(8, 2), h = number(11, 2), mi = number(14, 2),
       sec = number(17, 2);
  if (!y || !mo || !d || !h || !mi || !sec || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
      s[13] != ':' || s[16] != ':') {
    return std::nullopt;
  }
  static constexpr unsigned kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (*y % 4 == 0 && *y % 100 != 0) || *y % 400 == 0;
  if (*mo < 1 || *mo > 12 || *d < 1 || *d > kDays[*mo - 1] || (*mo == 2 && *d == 29 && !leap) ||
      *h > 23 || *mi > 59 || *sec > 59) {
    return std::nullopt;
  }
  std::size_t i = 19;
  std::int64_t millis = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    const std::size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (i - start < 3) millis = millis * 10 + (s[i] - '0');
      ++i;
    }
    if (i == start) return std::nullopt;
    for (std::size_t k = i - start; k < 3; ++k) millis *= 10;
  }
  std::int64_t offset_minutes = 0;
  if (i < s.size() && s[i] == 'Z') {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    const bool negative = s[i] == '-';
    auto oh = number(i + 1, 2);
    std::optional<unsigned> om;
    if (i + 3 < s.size() && s[i + 3] == ':') {
      om = number(i + 4, 2);
      i += 6;
    } else {
      om = number(i + 3, 2);
      i += 5;
    }
    if (!oh || !om || *oh > 23 || *om > 59) return std::nullopt;
    offset_minutes = (negative ? -1 : 1) * static_cast<std::int64_t>(*oh * 60 + *om);
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  const std::int64_t days = days_from_civil(*y, *mo, *d);
  const std::int64_t seconds = ((days * 24 + *h) * 60 + *mi - offset_minutes) * 60 + *sec;
  return seconds * 1000 + millis;
}

void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

// Appends an element of a type the builder has no append for (or, for dates, whose range it
// does not take) from its value bytes: a document holding only that element is made and its
// element copied under `key`.
void append_raw(Builder& b, std::string_view key, Type type, std::span<const std::uint8_t> value) {
  std::vector<std::uint8_t> doc;
  doc.reserve(4 + 1 + 1 + value.size() + 1);
  put_u32(doc, static_cast<std::uint32_t>(4 + 1 + 1 + value.size() + 1));
  doc.push_back(static_cast<std::uint8_t>(type));
  doc.push_back(0);  // empty key
  doc.insert(doc.end(), value.begin(), value.end());
  doc.push_back(0);
  bson_t raw;
  bson_iter_t iter;
  if (!bson_init_static(&raw, doc.data(), doc.size()) || !bson_iter_init(&iter, &raw) ||
      !bson_iter_next(&iter)) {
    throw Error(errc::invalid_bson,
                "internal error: could not encode a " + std::string(type_name(type)) + " element");
  }
  b.append(key, Element(iter));
}

void append_string_value(std::vector<std::uint8_t>& out, std::string_view s) {
  put_u32(out, static_cast<std::uint32_t>(s.size() + 1));
  out.insert(out.end(), s.begin(), s.end());
  out.push_back(0);
}

// ---- The converter -----------------------------------------------------------------------

enum class Wrapper {
  kNone,
  kOid,
  kSymbol,
  kNumberInt,
  kNumberLong,
  kNumberDouble,
  kNumberDecimal,
  kBinary,
  kUuid,
  kCode,  // $code, with $scope or not
  kTimestamp,
  kRegularExpression,
  kLegacyRegex,
  kDbPointer,
  kDate,
  kMinKey,
  kMaxKey,
  kUndefined,
};

struct WrapperKey {
  std::string_view key;
  Wrapper wrapper;
};
constexpr WrapperKey kWrapperKeys[] = {
    {"$oid", Wrapper::kOid},
    {"$symbol", Wrapper::kSymbol},
    {"$numberInt", Wrapper::kNumberInt},
    {"$numberLong", Wrapper::kNumberLong},
    {"$numberDouble", Wrapper::kNumberDouble},
    {"$numberDecimal", Wrapper::kNumberDecimal},
    {"$binary", Wrapper::kBinary},
    {"$uuid", Wrapper::kUuid},
    {"$code", Wrapper::kCode},
    {"$scope", Wrapper::kCode},
    {"$timestamp", Wrapper::kTimestamp},
    {"$regularExpression", Wrapper::kRegularExpression},
    {"$dbPointer", Wrapper::kDbPointer},
    {"$date", Wrapper::kDate},
    {"$minKey", Wrapper::kMinKey},
    {"$maxKey", Wrapper::kMaxKey},
    {"$undefined", Wrapper::kUndefined},
};

class Converter {
 public:
  explicit Converter(const Tape& tape) : tape_(tape), tokens_(tape.tokens) {}

  Document run() {
    const Token& root = tokens_[0];
    Builder b;
    if (root.kind == Kind::kObject) {
      if (const Wrapper w = wrapper_of(0); w != Wrapper::kNone) {
        fail("the top level must be a document, not a " +
             std::string(w == Wrapper::kLegacyRegex ? "$regex" : key_of_wrapper(0)) + " value");
      }
      members(b, 0);
    } else if (root.kind == Kind::kArray) {
      items(b, 0);
    } else {
      fail(std::string("the top level must be an object or an array, not ") + kind_name(root.kind));
    }
    return b.build();
  }

 private:
  struct Segment {
    std::string_view key;
    std::uint32_t index;
    bool is_index;
  };

  std::string_view text(std::uint32_t i) const { return tape_.text(tokens_[i]); }

  [[noreturn]] void fail(const std::string& message) const {
    std::string where;
    for (const Segment& s : path_) {
      if (!where.empty()) where += '.';
      where += s.is_index ? std::to_string(s.index) : escaped(s.key);
    }
    throw Error(errc::invalid_bson, where.empty() ? "extended JSON: " + message
                                                  : "extended JSON \"" + where + "\": " + message);
  }

  // The members of object `obj`: calls f(key token, value token) for each.
  template <typename F>
  void for_each_member(std::uint32_t obj, F&& f) const {
    std::uint32_t i = obj + 1;
    for (std::uint32_t n = 0; n < tokens_[obj].count; ++n) {
      f(i, i + 1);
      i = tokens_[i + 1].end;
    }
  }

  std::string_view key_of_wrapper(std::uint32_t obj) const {
    std::string_view found;
    for_each_member(obj, [&](std::uint32_t k, std::uint32_t) {
      for (const auto& w : kWrapperKeys) {
        if (found.empty() && text(k) == w.key) found = w.key;
      }
    });
    return found;
  }

  // Which wrapper object `obj` is, if any. An object holding a wrapper key is that wrapper
  // (whose own check then refuses extra keys); {"$regex": <string>, "$options": ...} is the
  // legacy regex; anything else is a plain document.
  Wrapper wrapper_of(std::uint32_t obj) const {
    Wrapper found = Wrapper::kNone;
    bool regex = false, options = false, regex_is_string = false;
    for_each_member(obj, [&](std::uint32_t k, std::uint32_t v) {
      const std::string_view key = text(k);
      if (key.empty() || key[0] != '$' || found != Wrapper::kNone) return;
      for (const auto& w : kWrapperKeys) {
        if (key == w.key) {
          found = w.wrapper;
          return;
        }
      }
      if (key == "$regex") {
        regex = true;
        regex_is_string = tokens_[v].kind == Kind::kString;
      } else if (key == "$options") {
        options = true;
      }
    });
    if (found != Wrapper::kNone) return found;
    if (regex && options && regex_is_string) return Wrapper::kLegacyRegex;
    return Wrapper::kNone;
  }

  // Finds the members of wrapper object `obj` named in `names` (value token indexes, 0 when
  // absent); any other key, or a repeated one, is an error. Names in `optional` may be absent.
  template <std::size_t N>
  std::array<std::uint32_t, N> members_named(std::uint32_t obj,
                                             const std::array<std::string_view, N>& names,
                                             std::string_view what,
                                             std::uint32_t optional_mask = 0) const {
    std::array<std::uint32_t, N> found{};
    for_each_member(obj, [&](std::uint32_t k, std::uint32_t v) {
      const std::string_view key = text(k);
      for (std::size_t i = 0; i < N; ++i) {
        if (key == names[i]) {
          if (found[i] != 0) fail(std::string(what) + " repeats the key \"" + escaped(key) + "\"");
          found[i] = v;
          return;
        }
      }
      fail(std::string(what) + " has an unexpected key \"" + escaped(key) + "\"");
    });
    for (std::size_t i = 0; i < N; ++i) {
      if (found[i] == 0 && (optional_mask & (1u << i)) == 0) {
        fail(std::string(what) + " lacks the key \"" + std::string(names[i]) + "\"");
      }
    }
    return found;
  }

  std::string_view string_value(std::uint32_t v, std::string_view what) const {
    if (tokens_[v].kind != Kind::kString) {
      fail(std::string(what) + " must be a string, not " + kind_name(tokens_[v].kind));
    }
    return text(v);
  }

  void check_key(std::string_view key) const {
    if (key.find('\0') != std::string_view::npos) {
      fail("the key \"" + escaped(key) + "\" holds a NUL byte");
    }
  }

  void members(Builder& b, std::uint32_t obj) {
    const std::uint32_t count = tokens_[obj].count;
    std::unordered_set<std::string_view> seen;
    if (count > 8) seen.reserve(count);
    std::uint32_t first_key = obj + 1;
    for_each_member(obj, [&](std::uint32_t k, std::uint32_t v) {
      const std::string_view key = text(k);
      path_.push_back({key, 0, false});
      check_key(key);
      // Repeated keys: a scan of the earlier ones for small objects, a set for large ones.
      bool repeated = false;
      if (count <= 8) {
        for (std::uint32_t j = first_key; j != k; j = tokens_[j + 1].end) {
          if (text(j) == key) repeated = true;
        }
      } else {
        repeated = !seen.insert(key).second;
      }
      if (repeated) fail("the key is repeated in its object");
      value(b, key, v);
      path_.pop_back();
    });
  }

  void items(Builder& b, std::uint32_t array) {
    std::uint32_t i = array + 1;
    char index[16];
    for (std::uint32_t n = 0; n < tokens_[array].count; ++n) {
      auto [end, ec] = std::to_chars(index, index + sizeof index, n);
      (void)ec;
      path_.push_back({{}, n, true});
      value(b, std::string_view(index, static_cast<std::size_t>(end - index)), i);
      path_.pop_back();
      i = tokens_[i].end;
    }
  }

  double double_of(std::uint32_t v) const {
    auto d = parse_decimal_double(text(v));
    if (!d) fail("the number " + std::string(text(v)) + " is beyond the range of a double");
    return *d;
  }

  void value(Builder& b, std::string_view key, std::uint32_t v) {
    const Token& t = tokens_[v];
    switch (t.kind) {
      case Kind::kObject: {
        const Wrapper w = wrapper_of(v);
        if (w != Wrapper::kNone) {
          wrapped(b, key, v, w);
        } else {
          b.open_document(key);
          members(b, v);
          b.close();
        }
        break;
      }
      case Kind::kArray:
        b.open_array(key);
        items(b, v);
        b.close();
        break;
      case Kind::kString:
        b.append(key, text(v));
        break;
      case Kind::kInt64:
        if (t.int64 >= std::numeric_limits<std::int32_t>::min() &&
            t.int64 <= std::numeric_limits<std::int32_t>::max()) {
          b.append(key, static_cast<std::int32_t>(t.int64));
        } else {
          b.append(key, t.int64);
        }
        break;
      case Kind::kUint64:
        if (t.uint64 <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
          b.append(key, static_cast<std::int64_t>(t.uint64));
        } else {
          b.append(key, double_of(v));
        }
        break;
      case Kind::kDouble:
        b.append(key, double_of(v));
        break;
      case Kind::kBool:
        b.append(key, t.boolean);
        break;
      case Kind::kNull:
        b.append(key, nullptr);
        break;
      case Kind::kKey:
        fail("internal error: a key where a value belongs");
    }
  }

  void wrapped(Builder& b, std::string_view key, std::uint32_t obj, Wrapper w) {
    switch (w) {
      case Wrapper::kNone:
        break;
      case Wrapper::kOid: {
        auto [v] = members_named<1>(obj, {"$oid"}, "$oid");
        const std::string_view hex = string_value(v, "$oid");
        if (!bson_oid_is_valid(hex.data(), hex.size())) {
          fail("$oid must be 24 hexadecimal digits, not \"" + escaped(hex) + "\"");
        }
        bson_oid_t oid;
        const std::string terminated(hex);
        bson_oid_init_from_string(&oid, terminated.c_str());
        b.append(key, oid);
        break;
      }
      case Wrapper::kSymbol: {
        auto [v] = members_named<1>(obj, {"$symbol"}, "$symbol");
        std::vector<std::uint8_t> value;
        append_string_value(value, string_value(v, "$symbol"));
        append_raw(b, key, Type::kSymbol, value);
        break;
      }
      case Wrapper::kNumberInt: {
        auto [v] = members_named<1>(obj, {"$numberInt"}, "$numberInt");
        const std::string_view s = string_value(v, "$numberInt");
        auto n = parse_integer<std::int32_t>(s);
        if (!n) {
          fail("$numberInt must be a string holding a 32-bit integer, not \"" + escaped(s) + "\"");
        }
        b.append(key, *n);
        break;
      }
      case Wrapper::kNumberLong: {
        auto [v] = members_named<1>(obj, {"$numberLong"}, "$numberLong");
        b.append(key, number_long(v, "$numberLong"));
        break;
      }
      case Wrapper::kNumberDouble: {
        auto [v] = members_named<1>(obj, {"$numberDouble"}, "$numberDouble");
        const std::string_view s = string_value(v, "$numberDouble");
        std::optional<double> d;
        if (s == "Infinity") {
          d = std::numeric_limits<double>::infinity();
        } else if (s == "-Infinity") {
          d = -std::numeric_limits<double>::infinity();
        } else if (s == "NaN") {
          d = std::numeric_limits<double>::quiet_NaN();
        } else {
          d = parse_decimal_double(s);
        }
        if (!d) {
          fail(
              "$numberDouble must be a string holding a decimal number in a double's range, "
              "\"Infinity\", \"-Infinity\" or \"NaN\", not \"" +
              escaped(s) + "\"");
        }
        b.append(key, *d);
        break;
      }
      case Wrapper::kNumberDecimal: {
        auto [v] = members_named<1>(obj, {"$numberDecimal"}, "$numberDecimal");
        const std::string_view s = string_value(v, "$numberDecimal");
        bson_decimal128_t decimal;
        const std::string terminated(s);
        if (s.find('\0') != std::string_view::npos ||
            !bson_decimal128_from_string(terminated.c_str(), &decimal)) {
          fail(
              "$numberDecimal must be a string holding a Decimal128 number, \"Infinity\", "
              "\"-Infinity\" or \"NaN\", not \"" +
              escaped(s) + "\"");
        }
        b.append_decimal128(key, decimal);
        break;
      }
      case Wrapper::kBinary:
        binary(b, key, obj);
        break;
      case Wrapper::kUuid: {
        auto [v] = members_named<1>(obj, {"$uuid"}, "$uuid");
        const std::string_view s = string_value(v, "$uuid");
        auto uuid = decode_uuid(s);
        if (!uuid) {
          fail(
              "$uuid must be a string of 32 hexadecimal digits grouped 8-4-4-4-12 by hyphens, "
              "not \"" +
              escaped(s) + "\"");
        }
        b.append_binary(key, 4, *uuid);
        break;
      }
      case Wrapper::kCode: {
        auto [code, scope] = members_named<2>(obj, {"$code", "$scope"}, "$code", 0b10);
        const std::string_view text = string_value(code, "$code");
        if (scope == 0) {
          b.append_code(key, text);
          break;
        }
        if (tokens_[scope].kind != Kind::kObject || wrapper_of(scope) != Wrapper::kNone) {
          fail(std::string("$scope must be a document, not ") +
               (tokens_[scope].kind == Kind::kObject ? "a type wrapper"
                                                     : kind_name(tokens_[scope].kind)));
        }
        Builder scope_builder;
        path_.push_back({"$scope", 0, false});
        members(scope_builder, scope);
        path_.pop_back();
        b.append_code_with_scope(key, text, scope_builder.build());
        break;
      }
      case Wrapper::kTimestamp: {
        auto [v] = members_named<1>(obj, {"$timestamp"}, "$timestamp");
        if (tokens_[v].kind != Kind::kObject) {
          fail(std::string("$timestamp must be an object {\"t\": ..., \"i\": ...}, not ") +
               kind_name(tokens_[v].kind));
        }
        auto [t, i] = members_named<2>(v, {"t", "i"}, "$timestamp");
        b.append_timestamp(
            key, Timestamp{uint32_of(t, "$timestamp's \"t\""), uint32_of(i, "$timestamp's \"i\"")});
        break;
      }
      case Wrapper::kRegularExpression: {
        auto [v] = members_named<1>(obj, {"$regularExpression"}, "$regularExpression");
        if (tokens_[v].kind != Kind::kObject) {
          fail(std::string("$regularExpression must be an object {\"pattern\": ..., "
                           "\"options\": ...}, not ") +
               kind_name(tokens_[v].kind));
        }
        auto [pattern, options] = members_named<2>(v, {"pattern", "options"}, "$regularExpression");
        regex(b, key, string_value(pattern, "$regularExpression's \"pattern\""),
              string_value(options, "$regularExpression's \"options\""));
        break;
      }
      case Wrapper::kLegacyRegex: {
        auto [pattern, options] = members_named<2>(obj, {"$regex", "$options"}, "$regex");
        regex(b, key, string_value(pattern, "$regex"), string_value(options, "$options"));
        break;
      }
      case Wrapper::kDbPointer: {
        auto [v] = members_named<1>(obj, {"$dbPointer"}, "$dbPointer");
        if (tokens_[v].kind != Kind::kObject) {
          fail(std::string("$dbPointer must be an object {\"$ref\": ..., \"$id\": ...}, not ") +
               kind_name(tokens_[v].kind));
        }
        auto [ref, id] = members_named<2>(v, {"$ref", "$id"}, "$dbPointer");
        const std::string_view collection = string_value(ref, "$dbPointer's \"$ref\"");
        if (tokens_[id].kind != Kind::kObject || wrapper_of(id) != Wrapper::kOid) {
          fail("$dbPointer's \"$id\" must be an {\"$oid\": ...} object");
        }
        auto [oid_value] = members_named<1>(id, {"$oid"}, "$dbPointer's \"$id\"");
        const std::string_view hex = string_value(oid_value, "$oid");
        if (!bson_oid_is_valid(hex.data(), hex.size())) {
          fail("$oid must be 24 hexadecimal digits, not \"" + escaped(hex) + "\"");
        }
        bson_oid_t oid;
        const std::string terminated(hex);
        bson_oid_init_from_string(&oid, terminated.c_str());
        std::vector<std::uint8_t> value;
        append_string_value(value, collection);
        value.insert(value.end(), oid.bytes, oid.bytes + sizeof oid.bytes);
        append_raw(b, key, Type::kDbPointer, value);
        break;
      }
      case Wrapper::kDate: {
        auto [v] = members_named<1>(obj, {"$date"}, "$date");
        std::int64_t millis = 0;
        if (tokens_[v].kind == Kind::kObject) {
          auto [n] = members_named<1>(v, {"$numberLong"}, "$date");
          millis = number_long(n, "$date's $numberLong");
        } else if (tokens_[v].kind == Kind::kString) {
          auto parsed = parse_iso8601(text(v));
          if (!parsed) {
            fail(
                "$date must be an ISO-8601 date and time such as \"1970-01-01T00:00:00Z\", "
                "not \"" +
                escaped(text(v)) + "\"");
          }
          millis = *parsed;
        } else {
          fail(std::string("$date must be {\"$numberLong\": \"<milliseconds>\"} or an ISO-8601 "
                           "string, not ") +
               kind_name(tokens_[v].kind));
        }
        std::vector<std::uint8_t> value;
        for (int i = 0; i < 8; ++i) {
          value.push_back(static_cast<std::uint8_t>(static_cast<std::uint64_t>(millis) >> (8 * i)));
        }
        append_raw(b, key, Type::kDateTime, value);
        break;
      }
      case Wrapper::kMinKey:
      case Wrapper::kMaxKey: {
        const std::string_view name = w == Wrapper::kMinKey ? "$minKey" : "$maxKey";
        auto [v] = members_named<1>(obj, {name}, name);
        if (tokens_[v].kind != Kind::kInt64 || tokens_[v].int64 != 1) {
          fail(std::string(name) + " must be the number 1");
        }
        if (w == Wrapper::kMinKey) {
          b.append_min_key(key);
        } else {
          b.append_max_key(key);
        }
        break;
      }
      case Wrapper::kUndefined: {
        auto [v] = members_named<1>(obj, {"$undefined"}, "$undefined");
        if (tokens_[v].kind != Kind::kBool || !tokens_[v].boolean) {
          fail("$undefined must be true");
        }
        append_raw(b, key, Type::kUndefined, {});
        break;
      }
    }
  }

  std::int64_t number_long(std::uint32_t v, std::string_view what) const {
    const std::string_view s = string_value(v, what);
    auto n = parse_integer<std::int64_t>(s);
    if (!n) {
      fail(std::string(what) + " must be a string holding a 64-bit integer, not \"" + escaped(s) +
           "\"");
    }
    return *n;
  }

  std::uint32_t uint32_of(std::uint32_t v, std::string_view what) const {
    const Token& t = tokens_[v];
    if (t.kind == Kind::kInt64 && t.int64 >= 0 &&
        t.int64 <= std::numeric_limits<std::uint32_t>::max()) {
      return static_cast<std::uint32_t>(t.int64);
    }
    if (t.kind == Kind::kUint64 && t.uint64 <= std::numeric_limits<std::uint32_t>::max()) {
      return static_cast<std::uint32_t>(t.uint64);
    }
    fail(std::string(what) + " must be an integer from 0 to 4294967295, not " +
         (t.kind == Kind::kString ? "a string" : std::string(text(v))));
  }

  void binary(Builder& b, std::string_view key, std::uint32_t obj) {
    std::uint32_t data = 0;
    std::uint32_t subtype = 0;
    std::string_view subtype_name;
    std::uint32_t binary_value = 0;
    for_each_member(obj, [&](std::uint32_t k, std::uint32_t v) {
      if (text(k) == "$binary") binary_value = v;
    });
    if (tokens_[binary_value].kind == Kind::kString) {
      // Legacy: {"$binary": <base64>, "$type": <hex>}.
      auto [d, t] = members_named<2>(obj, {"$binary", "$type"}, "legacy $binary");
      data = d;
      subtype = t;
      subtype_name = "$type";
    } else if (tokens_[binary_value].kind == Kind::kObject) {
      members_named<1>(obj, {"$binary"}, "$binary");
      auto [d, t] = members_named<2>(binary_value, {"base64", "subType"}, "$binary");
      data = d;
      subtype = t;
      subtype_name = "$binary's \"subType\"";
    } else {
      fail(std::string("$binary must be an object {\"base64\": ..., \"subType\": ...}, not ") +
           kind_name(tokens_[binary_value].kind));
    }
    const std::string_view base64 = string_value(data, "$binary's base64");
    const std::string_view hex = string_value(subtype, subtype_name);
    auto bytes = decode_base64(base64);
    if (!bytes) fail("$binary's base64 is not valid base64: \"" + escaped(base64) + "\"");
    int type = -1;
    if (hex.size() == 1 || hex.size() == 2) {
      type = 0;
      for (char c : hex) {
        const int digit = hex_digit(c);
        if (digit < 0) {
          type = -1;
          break;
        }
        type = type << 4 | digit;
      }
    }
    if (type < 0) {
      fail(std::string(subtype_name) + " must be one or two hexadecimal digits, not \"" +
           escaped(hex) + "\"");
    }
    b.append_binary(key, static_cast<std::uint8_t>(type), *bytes);
  }

  void regex(Builder& b, std::string_view key, std::string_view pattern, std::string_view options) {
    if (pattern.find('\0') != std::string_view::npos) {
      fail("a regular expression's pattern cannot hold a NUL byte");
    }
    if (options.find('\0') != std::string_view::npos) {
      fail("a regular expression's options cannot hold a NUL byte");
    }
    b.append_regex(key, pattern, options);
  }

  const Tape& tape_;
  const std::vector<Token>& tokens_;
  std::vector<Segment> path_;
};

}  // namespace

Document parse_extended_json(std::string_view json) {
  if (json.size() > std::numeric_limits<std::int32_t>::max()) {
    throw Error(errc::invalid_bson, "extended JSON: the text is longer than 2 GiB");
  }
  boost::json::parse_options options;
  options.max_depth = kMaxDepth;
  boost::json::basic_parser<TapeHandler> parser(options);
  boost::json::error_code ec;
  const std::size_t consumed = parser.write_some(false, json.data(), json.size(), ec);
  if (ec) {
    throw Error(errc::invalid_bson,
                "invalid JSON at byte " + std::to_string(consumed) + ": " + ec.message());
  }
  // The parser stops after the first complete value: anything but white space after it is an
  // error.
  const std::size_t rest = json.find_first_not_of(" \t\r\n", consumed);
  if (rest != std::string_view::npos) {
    throw Error(errc::invalid_bson,
                "invalid JSON at byte " + std::to_string(rest) + ": text after the value");
  }
  try {
    return Converter(parser.handler().tape).run();
  } catch (const Error& e) {
    // The builder refuses what BSON cannot hold (a document past INT32_MAX bytes).
    if (e.code() == errc::invalid_bson) throw;
    throw Error(errc::invalid_bson, std::string("extended JSON: ") + e.what());
  }
}

}  // namespace mongoslice::bson
