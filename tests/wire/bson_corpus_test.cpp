// Runs the BSON corpus (bson-corpus/tests from the spec tests): one gtest per file, each case of
// the file checked in turn. For every `valid` case: canonical_bson passes our validator, libbson
// renders it as canonical_extjson (and relaxed_extjson when given), and parsing the extended JSON
// back gives canonical_bson again (unless the case is lossy); degenerate_bson and converted_bson
// pass the validator too. Every `decodeErrors` case is refused by our validator, with a reason;
// every `parseErrors` case makes bson::Document::from_json (our strict extended JSON parser,
// wire/extended_json.hpp) throw errc::invalid_bson. The extended JSON is rendered by libbson; the
// one case its rendering gets wrong is listed below with its reason and printed when the tests
// run, with the counts. The folders can be replaced through $MONGOSLICE_BSON_CORPUS_DIRS (a
// ':'-separated list).

#include <bson/bson.h>
#include <gtest/gtest.h>

#include <atomic>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "support/spec_test_files.hpp"
#include "wire/bson.hpp"
#include "wire/bson_validate.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

using test::SpecFile;

// No whole file is out of scope; add "file.json" -> "reason" here if one is.
const std::map<std::string, std::string> kFileExclusions = {};

// Cases whose extended JSON libbson 1.23 (Debian 12) renders wrongly, keyed "<file>: <case
// description>". Each was seen failing in this runner, and the reason names libbson's behaviour.
const std::map<std::string, std::string> kCaseExclusions = {
    {"datetime.json: Y10K",
     "libbson renders a date after year 9999 in relaxed extended JSON as an ISO-8601 string, "
     "not as {\"$numberLong\": ...}"},
};

std::vector<SpecFile> corpus_files() {
  static const std::vector<SpecFile> files = test::spec_files(
      test::spec_folders("MONGOSLICE_BSON_CORPUS_DIRS", {"bson-corpus/tests"}), kFileExclusions);
  return files;
}

// Totals over the files run, printed at the end.
struct Counts {
  std::atomic<int> files{0};
  std::atomic<int> valid_passed{0};
  std::atomic<int> decode_errors_rejected{0};
  std::atomic<int> parse_errors_rejected{0};
  std::atomic<int> excluded{0};
};
Counts counts;

class CorpusCountsPrinter : public ::testing::Environment {
 public:
  void SetUp() override {
    for (const auto& [name, reason] : kCaseExclusions) {
      std::cout << "[bson-corpus]   excluded case " << name << ": " << reason << "\n";
    }
  }
  void TearDown() override {
    std::cout << "[bson-corpus] " << counts.files << " files: " << counts.valid_passed
              << " valid cases passed, " << counts.decode_errors_rejected
              << " decodeErrors rejected, " << counts.parse_errors_rejected
              << " parseErrors rejected, " << counts.excluded << " cases excluded\n";
  }
};

[[maybe_unused]] auto* const kCounts =
    ::testing::AddGlobalTestEnvironment(new test::SpecCountsPrinter("bson-corpus", corpus_files()));
[[maybe_unused]] auto* const kCaseCounts =
    ::testing::AddGlobalTestEnvironment(new CorpusCountsPrinter());

std::vector<std::uint8_t> from_hex(std::string_view hex) {
  auto nibble = [&](char c) -> std::uint8_t {
    if (c >= '0' && c <= '9') return static_cast<std::uint8_t>(c - '0');
    if (c >= 'a' && c <= 'f') return static_cast<std::uint8_t>(c - 'a' + 10);
    if (c >= 'A' && c <= 'F') return static_cast<std::uint8_t>(c - 'A' + 10);
    throw std::runtime_error("bad hex digit in " + std::string(hex));
  };
  if (hex.size() % 2 != 0) throw std::runtime_error("odd hex length: " + std::string(hex));
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
  }
  return out;
}

std::string to_hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (std::uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 0xf];
  }
  return out;
}

// JSON text in one spelling, so that two texts compare equal when they parse to the same value:
// no whitespace, strings with escapes decoded and re-escaped one way, numbers and key order kept
// as written (the corpus's canonical forms fix both). Throws std::runtime_error on bad JSON.
class JsonNormalizer {
 public:
  explicit JsonNormalizer(std::string_view text) : text_(text) {}

  std::string run() {
    std::string out;
    value(out);
    skip_space();
    if (pos_ != text_.size()) error("text after the value");
    return out;
  }

 private:
  [[noreturn]] void error(const char* what) const {
    throw std::runtime_error(std::string("JSON: ") + what + " at " + std::to_string(pos_) + " in " +
                             std::string(text_));
  }
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' ||
                                   text_[pos_] == '\r' || text_[pos_] == '\t')) {
      ++pos_;
    }
  }
  char peek() {
    skip_space();
    if (pos_ >= text_.size()) error("unexpected end");
    return text_[pos_];
  }
  void expect(char c) {
    if (peek() != c) error("unexpected character");
    ++pos_;
  }

  void value(std::string& out) {
    const char c = peek();
    if (c == '{') {
      ++pos_;
      out += '{';
      if (peek() == '}') {
        ++pos_;
        out += '}';
        return;
      }
      for (;;) {
        const std::size_t key_start = out.size();
        string(out);
        last_key_ = out.substr(key_start);
        expect(':');
        out += ':';
        value(out);
        if (peek() == ',') {
          ++pos_;
          out += ',';
          continue;
        }
        expect('}');
        out += '}';
        return;
      }
    }
    if (c == '[') {
      ++pos_;
      out += '[';
      if (peek() == ']') {
        ++pos_;
        out += ']';
        return;
      }
      for (;;) {
        value(out);
        if (peek() == ',') {
          ++pos_;
          out += ',';
          continue;
        }
        expect(']');
        out += ']';
        return;
      }
    }
    if (c == '"') {
      // The text of a $numberDouble is a number too, spelled as libbson or the corpus likes.
      if (last_key_ == "\"$numberDouble\"") {
        std::string quoted;
        string(quoted);
        out += '"' + double_spelling(quoted.substr(1, quoted.size() - 2)) + '"';
        return;
      }
      return string(out);
    }
    // A number, true, false or null. Integers are kept as written; a number with a fraction or
    // an exponent is a double, written in one spelling ("1.2345678921232E+18" and
    // "1234567892123200000.0" are the same double).
    const std::size_t start = pos_;
    while (pos_ < text_.size() &&
           std::string_view(",}] \n\r\t").find(text_[pos_]) == std::string_view::npos) {
      ++pos_;
    }
    if (pos_ == start) error("empty value");
    const std::string token(text_.substr(start, pos_ - start));
    out += token.find_first_of(".eE") == std::string::npos ? token : double_spelling(token);
  }

  // The shortest spelling that reads back as the same double, with ".0" when it has neither a
  // fraction nor an exponent; text that is no finite number ("Infinity", "NaN") is kept.
  static std::string double_spelling(const std::string& text) {
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(value)) return text;
    char buffer[64];
    auto [stop, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    std::string out(buffer, stop);
    if (out.find_first_of(".e") == std::string::npos) out += ".0";
    return out;
  }

  unsigned hex4() {
    if (pos_ + 4 > text_.size()) error("short \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
      const char h = text_[pos_++];
      v <<= 4;
      if (h >= '0' && h <= '9') {
        v |= static_cast<unsigned>(h - '0');
      } else if (h >= 'a' && h <= 'f') {
        v |= static_cast<unsigned>(h - 'a' + 10);
      } else if (h >= 'A' && h <= 'F') {
        v |= static_cast<unsigned>(h - 'A' + 10);
      } else {
        error("bad \\u escape");
      }
    }
    return v;
  }

  static void put_utf8(std::string& bytes, unsigned cp) {
    if (cp < 0x80) {
      bytes += static_cast<char>(cp);
    } else if (cp < 0x800) {
      bytes += static_cast<char>(0xC0 | (cp >> 6));
      bytes += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      bytes += static_cast<char>(0xE0 | (cp >> 12));
      bytes += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      bytes += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      bytes += static_cast<char>(0xF0 | (cp >> 18));
      bytes += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      bytes += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      bytes += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  // Decodes the string at pos_ into UTF-8 bytes, then writes it with only '"', '\\' and control
  // characters escaped (as \u00XX).
  void string(std::string& out) {
    expect('"');
    std::string bytes;
    for (;;) {
      if (pos_ >= text_.size()) error("unterminated string");
      const char c = text_[pos_++];
      if (c == '"') break;
      if (c != '\\') {
        bytes += c;
        continue;
      }
      if (pos_ >= text_.size()) error("unterminated escape");
      const char e = text_[pos_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          bytes += e;
          break;
        case 'b':
          bytes += '\b';
          break;
        case 'f':
          bytes += '\f';
          break;
        case 'n':
          bytes += '\n';
          break;
        case 'r':
          bytes += '\r';
          break;
        case 't':
          bytes += '\t';
          break;
        case 'u': {
          unsigned cp = hex4();
          if (cp >= 0xD800 && cp < 0xDC00 && text_.substr(pos_, 2) == "\\u") {
            pos_ += 2;
            const unsigned low = hex4();
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          put_utf8(bytes, cp);
          break;
        }
        default:
          error("unknown escape");
      }
    }
    static constexpr char kHex[] = "0123456789abcdef";
    out += '"';
    for (char c : bytes) {
      const auto b = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        out += '\\';
        out += c;
      } else if (b < 0x20) {
        out += "\\u00";
        out += kHex[b >> 4];
        out += kHex[b & 0xf];
      } else {
        out += c;
      }
    }
    out += '"';
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::string last_key_;  // the latest key read, quoted as written to the output
};

std::string normalized(std::string_view json) {
  return JsonNormalizer(json).run();
}

enum class ExtJson { kCanonical, kRelaxed };

// libbson's extended JSON of validated bytes.
std::string extjson_of(const std::vector<std::uint8_t>& bytes, ExtJson form) {
  bson_t doc;
  if (!bson_init_static(&doc, bytes.data(), bytes.size())) return "<libbson refused the bytes>";
  std::size_t length = 0;
  char* json = form == ExtJson::kCanonical ? bson_as_canonical_extended_json(&doc, &length)
                                           : bson_as_relaxed_extended_json(&doc, &length);
  if (json == nullptr) return "<libbson could not render the bytes>";
  std::string text(json, length);
  bson_free(json);
  return text;
}

std::vector<std::uint8_t> bytes_of(const bson::Document& doc) {
  return {doc.data(), doc.data() + doc.size()};
}

std::optional<std::string> string_field(bson::View c, std::string_view key) {
  auto element = c.find(key);
  if (!element) return std::nullopt;
  return std::string(element->get_string());
}

bool bool_field(bson::View c, std::string_view key) {
  auto element = c.find(key);
  return element && element->as_bool();
}

// The failed assertions of the running test so far (gtest records only failures and skips).
int failures_so_far() {
  return ::testing::UnitTest::GetInstance()->current_test_info()->result()->total_part_count();
}

class BsonCorpus : public ::testing::TestWithParam<SpecFile> {};

// Runs one valid case; each failure names the case.
void run_valid(bson::View c, const std::string& name) {
  SCOPED_TRACE(name);
  const auto canonical_bson = from_hex(c["canonical_bson"].get_string());
  const std::string canonical_extjson(c["canonical_extjson"].get_string());
  const bool lossy = bool_field(c, "lossy");

  bson::ValidationError error;
  ASSERT_FALSE(bson::validate(canonical_bson, error)) << error.describe();
  EXPECT_EQ(normalized(extjson_of(canonical_bson, ExtJson::kCanonical)),
            normalized(canonical_extjson));
  if (auto relaxed = string_field(c, "relaxed_extjson")) {
    EXPECT_EQ(normalized(extjson_of(canonical_bson, ExtJson::kRelaxed)), normalized(*relaxed));
    // relaxed -> native -> relaxed gives the relaxed form again.
    EXPECT_EQ(normalized(bson::Document::from_json(*relaxed).to_json()), normalized(*relaxed));
  }
  if (!lossy) {
    EXPECT_EQ(to_hex(bytes_of(bson::Document::from_json(canonical_extjson))),
              to_hex(canonical_bson));
    if (auto degenerate = string_field(c, "degenerate_extjson")) {
      EXPECT_EQ(to_hex(bytes_of(bson::Document::from_json(*degenerate))), to_hex(canonical_bson))
          << "degenerate_extjson " << *degenerate;
    }
  }
  if (auto degenerate = string_field(c, "degenerate_bson")) {
    const auto bytes = from_hex(*degenerate);
    ASSERT_FALSE(bson::validate(bytes, error)) << "degenerate_bson: " << error.describe();
    EXPECT_EQ(normalized(extjson_of(bytes, ExtJson::kCanonical)), normalized(canonical_extjson))
        << "degenerate_bson";
  }
  if (auto converted = string_field(c, "converted_bson")) {
    const auto bytes = from_hex(*converted);
    ASSERT_FALSE(bson::validate(bytes, error)) << "converted_bson: " << error.describe();
    if (auto converted_extjson = string_field(c, "converted_extjson")) {
      EXPECT_EQ(normalized(extjson_of(bytes, ExtJson::kCanonical)), normalized(*converted_extjson))
          << "converted_bson";
    }
  }
}

TEST_P(BsonCorpus, Cases) {
  const SpecFile& file = GetParam();
  if (!file.excluded_because.empty()) GTEST_SKIP() << file.excluded_because;
  const bson::Document spec = bson::Document::from_json(test::read_text_file(file.path));
  const std::string file_name = file.path.filename().string();
  ++counts.files;
  auto excluded = [&](const std::string& description) {
    if (kCaseExclusions.count(file_name + ": " + description) == 0) return false;
    ++counts.excluded;
    return true;
  };

  int cases = 0;
  if (auto valid = spec.find("valid")) {
    for (const auto& element : valid->get_array()) {
      const bson::View c = element.get_document();
      const std::string description(c["description"].get_string());
      ++cases;
      if (excluded(description)) continue;
      const int failures_before = failures_so_far();
      run_valid(c, "valid: " + description);
      if (failures_so_far() == failures_before) ++counts.valid_passed;
    }
  }
  if (auto decode_errors = spec.find("decodeErrors")) {
    for (const auto& element : decode_errors->get_array()) {
      const bson::View c = element.get_document();
      const std::string description(c["description"].get_string());
      ++cases;
      if (excluded(description)) continue;
      const auto bytes = from_hex(c["bson"].get_string());
      bson::ValidationError error;
      const std::error_code ec = bson::validate(bytes, error);
      EXPECT_EQ(ec, errc::invalid_bson) << "decodeErrors: " << description << " accepted";
      if (ec) {
        EXPECT_STRNE(error.reason, "") << "decodeErrors: " << description;
        ++counts.decode_errors_rejected;
      }
    }
  }
  if (auto parse_errors = spec.find("parseErrors")) {
    const bool decimal =
        spec.view().contains("bson_type") && spec["bson_type"].get_string() == "0x13";
    for (const auto& element : parse_errors->get_array()) {
      const bson::View c = element.get_document();
      const std::string description(c["description"].get_string());
      ++cases;
      if (excluded(description)) continue;
      std::string text(c["string"].get_string());
      // In the decimal128 files the string is a Decimal128 literal, not a document.
      if (decimal) text = R"({"d": {"$numberDecimal": ")" + text + R"("}})";
      try {
        auto parsed = bson::Document::from_json(text);
        ADD_FAILURE() << "parseErrors: " << description << " parsed as " << parsed.to_json();
      } catch (const Error& e) {
        EXPECT_EQ(e.code(), errc::invalid_bson) << description;
        ++counts.parse_errors_rejected;
      }
    }
  }
  EXPECT_GT(cases, 0) << "a corpus file without cases";
}

INSTANTIATE_TEST_SUITE_P(Files, BsonCorpus, ::testing::ValuesIn(corpus_files()),
                         test::SpecFileName{});

}  // namespace
}  // namespace mongoslice
